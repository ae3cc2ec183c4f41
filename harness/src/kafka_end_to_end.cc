#include "kafka_end_to_end.h"

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "common/strings.h"
#include "dataset.h"
#include "json_output_check.h"
#include "types/logical_type.h"

namespace sluice::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Runs `command` through the shell; its stderr goes to `log`. Returns the exit status.
int Shell(const std::string& command, const std::string& log) {
  const int status = std::system(StrCat(command, " 2>'", log, "'").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string LastLines(const std::string& path) {
  std::ifstream in(path);
  std::string line, out;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  for (size_t i = lines.size() > 5 ? lines.size() - 5 : 0; i < lines.size(); ++i)
    StrAppend(&out, lines[i], "\n");
  return out;
}

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// `sluice datagen` flags that reproduce the scenario's data profile.
std::string DatagenFlags(const DataProfile& data) {
  const TradeGeneratorOptions& t = data.trades;
  std::string flags = StrCat("--kind ", data.kind == DataKind::kMarketData ? "market" : "trades", " --seed ",
                             t.seed, " --symbols ", t.symbols, " --rate ", Number(t.events_per_second));
  if (data.kind == DataKind::kTrades)
    StrAppend(&flags, " --traders ", t.traders, " --categories ", t.categories);
  if (t.distribution == KeyDistribution::kZipf)
    StrAppend(&flags, " --zipf-exponent ", Number(t.zipf_exponent));
  if (t.out_of_order_fraction > 0) {
    StrAppend(&flags, " --out-of-order ", Number(t.out_of_order_fraction), " --max-delay ",
              t.max_delay_millis);
  }
  return flags;
}

// "... (first record after 3.019 s; 1,121,417 records/s after it)" -> both numbers.
void ParseSummary(const std::string& log, EndToEndRun& run) {
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    const size_t first = line.find("first record after ");
    if (first == std::string::npos) continue;
    run.startup_seconds = std::strtod(line.c_str() + first + 19, nullptr);
    const size_t semicolon = line.find("; ", first);
    if (semicolon == std::string::npos) continue;
    std::string rate;
    for (size_t i = semicolon + 2;
         i < line.size() && (std::isdigit(static_cast<unsigned char>(line[i])) || line[i] == ','); ++i) {
      if (line[i] != ',') rate += line[i];
    }
    run.records_per_second_after_first = std::strtod(rate.c_str(), nullptr);
  }
}

// Partitions of each output topic.
constexpr int kOutputPartitions = 4;

// Reads every message of `topic` (partitions 0..partitions-1) from the beginning to its end
// with a plain librdkafka consumer (assigned partitions, no consumer group, nothing committed)
// and hands each value to `check`. Returns the messages read.
absl::StatusOr<uint64_t> ConsumeTopic(const std::string& bootstrap, const std::string& topic, int partitions,
                                      JsonOutputCheck& check) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [name, value] : std::vector<std::pair<const char*, std::string>>{
           {"bootstrap.servers", bootstrap},
           {"group.id", "sluice-bench-check"},  // required by the consumer API; no group is joined
           {"enable.partition.eof", "true"},
           {"enable.auto.commit", "false"},
           {"auto.offset.reset", "earliest"}}) {
    if (rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InternalError(StrCat("consumer setting ", name, ": ", error));
    }
  }
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (consumer == nullptr) return absl::InternalError(StrCat("cannot create a Kafka consumer: ", error));
  std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> owner(consumer, [](rd_kafka_t* k) {
    rd_kafka_consumer_close(k);
    rd_kafka_destroy(k);
  });
  rd_kafka_poll_set_consumer(consumer);
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  const rd_kafka_resp_err_t assigned = rd_kafka_assign(consumer, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  if (assigned != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(StrCat("cannot assign '", topic, "': ", rd_kafka_err2str(assigned)));
  }
  std::vector<bool> at_end(static_cast<size_t>(partitions), false);
  int ended = 0;
  uint64_t messages = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (ended < partitions) {
    if (Clock::now() > deadline) {
      return absl::DeadlineExceededError(StrCat("reading '", topic, "' back: ", ended, " of ", partitions,
                                                " partitions at their end after 120 s"));
    }
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 500);
    if (message == nullptr) continue;
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> held(message,
                                                                            rd_kafka_message_destroy);
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      const size_t p = static_cast<size_t>(message->partition);
      if (p < at_end.size() && !at_end[p]) {
        at_end[p] = true;
        ++ended;
      }
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::InternalError(StrCat("reading '", topic, "' back: ", rd_kafka_message_errstr(message)));
    }
    ++messages;
    check.AddRecord(std::string_view(static_cast<const char*>(message->payload), message->len));
  }
  return messages;
}

// The mock cluster: a child process whose first stdout line names the bootstrap servers.
class MockCluster {
 public:
  ~MockCluster() { Stop(); }

  absl::Status Start(const std::string& binary, const std::vector<std::string>& topics,
                     const std::string& out_file) {
    std::remove(out_file.c_str());  // a previous run's line must not be read as this one's
    pid_ = fork();
    if (pid_ < 0) return absl::InternalError("cannot fork the mock cluster");
    if (pid_ == 0) {
      std::FILE* out = std::freopen(out_file.c_str(), "w", stdout);
      (void)out;
      std::freopen("/dev/null", "w", stderr);
      std::vector<std::string> args = {binary, "kafka-mock", "--brokers", "1"};
      for (const std::string& topic : topics) {
        args.push_back("--topic");
        args.push_back(topic);
      }
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      std::ifstream in(out_file);
      std::string line;
      if (std::getline(in, line) && StartsWith(line, "bootstrap.servers=")) {
        bootstrap_ = line.substr(18);
        return absl::OkStatus();
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return absl::InternalError("`sluice kafka-mock` exited before printing bootstrap.servers");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return absl::DeadlineExceededError("`sluice kafka-mock` printed no bootstrap.servers within 20 s");
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  const std::string& bootstrap() const { return bootstrap_; }

 private:
  pid_t pid_ = -1;
  std::string bootstrap_;
};

}  // namespace

absl::StatusOr<std::vector<EndToEndRun>> RunKafkaEndToEnd(const Scenario& scenario,
                                                          const EndToEndOptions& options) {
  SLUICE_RETURN_IF_ERROR(MakeDirectories(options.work_dir));
  const std::string& sluice = options.sluice_binary;
  // Input topic: 256 partitions. The mock keeps only 5 MiB per partition and silently drops
  // older messages; the records are keyed by symbol, so with 64 partitions a partition holding
  // three symbols (~5.7 MB of a million trades) lost records. One output topic per run.
  std::vector<std::string> topics = {"bench_in:256"};
  for (int run = 0; run < options.runs; ++run) {
    topics.push_back(StrCat("bench_out_", run, ":", kOutputPartitions));
  }
  MockCluster mock;
  SLUICE_RETURN_IF_ERROR(mock.Start(sluice, topics, StrCat(options.work_dir, "/mock.txt")));
  const std::string log = StrCat(options.work_dir, "/command.log");
  const std::string produce = StrCat("'", sluice, "' datagen ", DatagenFlags(scenario.data), " --count ",
                                     options.records, " --kafka ", mock.bootstrap(), " --topic bench_in");
  if (Shell(produce, log) != 0) {
    return absl::InternalError(StrCat("producing the input failed: ", produce, "\n", LastLines(log)));
  }
  Schema output;
  for (size_t c = 0; c < options.output_types.size(); ++c) {
    output.Add(Field{options.output_names[c], options.output_types[c]});
  }

  std::vector<EndToEndRun> runs;
  for (int r = 0; r < options.runs; ++r) {
    EndToEndRun run;
    const std::string command =
        StrCat("'", sluice, "' run '", options.kafka_job, "' --set BOOTSTRAP=", mock.bootstrap(),
               " --set STOP_AT_END=true --set GROUP=bench_", r,
               " --set INPUT_TOPIC=bench_in --set OUTPUT_TOPIC=bench_out_", r);
    const auto start = Clock::now();
    if (Shell(command, log) != 0)
      return absl::InternalError(StrCat("the job failed: ", command, "\n", LastLines(log)));
    run.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    ParseSummary(log, run);
    // Read the output back with the harness's own consumer and parser.
    JsonOutputCheck check(output, options.changelog_key);
    SLUICE_ASSIGN_OR_RETURN(
        run.output_rows, ConsumeTopic(mock.bootstrap(), StrCat("bench_out_", r), kOutputPartitions, check));
    run.json_error = check.error();
    run.checksum = check.Value();
    runs.push_back(std::move(run));
  }
  mock.Stop();
  return runs;
}

}  // namespace sluice::bench
