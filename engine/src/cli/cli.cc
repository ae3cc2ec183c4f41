#include "cli/cli.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "catalog/connector_registry.h"
#include "common/log.h"
#include "common/strings.h"
#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_mock_cluster.h"
#include "nexmark_generator.h"
#include "order_generator.h"
#include "plan/binder.h"
#include "plan/job_properties.h"
#include "runtime/file_checkpoint_store.h"
#include "runtime/job_runner.h"
#include "runtime/topology.h"
#include "server/http_server.h"
#include "server/job_server.h"
#include "server/metrics_endpoint.h"
#include "server/server_config.h"
#include "sql/parser.h"
#include "trade_generator.h"

namespace sluice {
namespace {

constexpr const char* kMainUsage = R"(usage: sluice <command> [options]

Streaming SQL over files and Kafka.

commands:
  run JOB.sql        run every statement of the job until its sources are exhausted
  explain JOB.sql    print the logical and physical plans
  connectors [TYPE]  list the connectors ('<name>.type' in WITH) with every key, its default
                     and what it does (also: sluice explain --connectors [TYPE])
  validate JOB.sql   parse and bind the job; print errors, run nothing
  datagen --kind trades|orders|market|nexmark --count N
                     write deterministic synthetic data (JSON Lines or CSV, or to Kafka)
  serve --config FILE
                     run the job server: a REST API to submit, watch, stop and cancel
                     jobs, Prometheus metrics at /metrics (see sluice serve --help)
  kafka-mock [--brokers N] [--topic NAME:PARTITIONS]...
                     run a local Kafka cluster (librdkafka's mock) until Ctrl-C
  topology [--parallelism N] [--placement compact|spread]
                     print the CPUs, cores and NUMA nodes and where N workers would run

options:
  --help             this help (also: sluice <command> --help)
  --version          print the version
)";

constexpr const char* kConnectorsUsage = R"(usage: sluice connectors [TYPE]
       sluice explain --connectors [TYPE]

Lists the registered connectors: the source and sink types that '<name>.type' names in WITH, and
for each the keys it accepts after '<name>.', with their defaults and what they do. TYPE (e.g.
kafka_source) lists that connector only.
)";

constexpr const char* kRunUsage = R"(usage: sluice run JOB.sql [options]

Runs every statement of JOB.sql until its bounded sources are exhausted (Ctrl-C stops
cleanly: sinks are flushed). Progress goes to stderr (see --progress);
a summary is printed at the end.

options:
  --set KEY=VALUE    value for ${KEY} / ${KEY:default} in WITH properties (repeatable)
  --batch-size N     rows per batch (default 1024, 1..1048576)
  --parallelism N    worker threads, each pinned to a core (default: the cores available;
                     1 runs the job's task graph fused on the main thread; a job reading
                     stdin or a FIFO always does)
  --strict           fail on the first malformed record instead of dead-lettering it
  --memory-limit SIZE  the most bytes of state (windows, groups, ROWS buffers) the job may
                     hold, e.g. 512MB or 2GiB; past it the job fails naming the operator
                     (overrides the job's 'state.max.bytes'; default: no limit)
  --progress auto|always|never
                     progress on stderr: auto (the default) redraws one line once a second on
                     a terminal and prints a status line every 10 s otherwise; always does so
                     even with --quiet; never prints none
  --checkpoint-dir DIR
                     take durable checkpoints in DIR and, when DIR holds one of this job,
                     resume from the latest intact one: sources from their read positions,
                     operators from their state, file sinks exactly once (overrides the
                     job's 'checkpoint.dir'; see the README's Fault tolerance section)
  --savepoint-on-stop DIR
                     on SIGTERM or Ctrl-C, take a savepoint into DIR (the job's state and read
                     positions where it stopped; no window is closed early), then exit 0
  --from-savepoint DIR
                     resume from the latest savepoint in DIR (the same job and parallelism);
                     takes precedence over a checkpoint directory's checkpoints
  --checkpoint-interval DURATION
                     time between checkpoints, e.g. 500ms or 10s (overrides the job's
                     'checkpoint.interval'; default 10s)
  --summary-json FILE
                     also write the final summary as one JSON object to FILE
  --metrics-port N   serve Prometheus metrics at http://ADDRESS:N/metrics (and /healthz) while
                     the job runs; 0 picks a free port; the URL is printed on stderr. With
                     SLUICE_TOKEN set, /metrics needs 'Authorization: Bearer <token>'
  --metrics-address ADDRESS
                     the address to serve metrics on (default 127.0.0.1); one that is not
                     loopback needs SLUICE_TOKEN
  --quiet            no progress line and no summary (SIGTERM stops the job gracefully:
                     sinks flushed, exit 0; Ctrl-C / SIGINT exits 130)
  --log-level trace|debug|info|warn|error|off
                     the diagnostic log on stderr (checkpoints restored, restarts, Kafka
                     errors, librdkafka's own lines at their level; debug adds Kafka
                     assignments, revocations, commits and checkpoints taken); default info.
                     The progress line, the summary and SQL errors are not log lines
  --log-format text|json
                     log lines as text (default) or as JSON lines: one object per line with
                     ts, level, logger and msg
  --help             this help
)";

constexpr const char* kExplainUsage =
    R"(usage: sluice explain JOB.sql [--set KEY=VALUE]... [--batch-size N] [--parallelism N]
       sluice explain --connectors [TYPE]

Prints each statement's logical plan and the physical plan (sources, operators, sinks).
With --connectors, lists the connectors and their WITH keys instead (as sluice connectors).
)";

constexpr const char* kValidateUsage = R"(usage: sluice validate JOB.sql [--set KEY=VALUE]...

Parses and binds JOB.sql (names, types, properties, sources). Exit 0 when valid; otherwise
prints every error (up to 20), each as JOB.sql:LINE:COLUMN: error: MESSAGE followed by the
line and a caret under the column, then their count, and exits 1.
)";

constexpr const char* kDatagenUsage =
    R"(usage: sluice datagen --kind trades|orders|market|nexmark --count N [options]

Writes N records of deterministic synthetic data: the same options and seed give the same
bytes. Records stream out in chunks; any count fits in memory.

kinds:
  trades   trade_id, trader_id, symbol, category, price, quantity, side, venue, trade_time
  orders   order_id, customer_id, order_date, total_amount (Scenario 0)
  market   symbol, price, bid, ask, volume, timestamp (Scenario 1 market data)
  nexmark  the Nexmark benchmark's events (N in all: persons, auctions and bids 1:3:46), as
           three JSON Lines files in the --output directory: persons.jsonl (id, name,
           emailAddress, creditCard, city, state, dateTime, extra), auctions.jsonl (id,
           itemName, description, initialBid, reserve, dateTime, expires, seller, category,
           extra) and bids.jsonl (auction, bidder, price, channel, url, dateTime, extra), and
           side_input.jsonl (key, value: 10,000 rows, the side input of Nexmark's q13)
Times are epoch milliseconds, event time starting at 2026-01-01T00:00:00Z (orders: 2024-01-01).

options:
  --format json|csv        JSON Lines (default) or CSV with a header line
  --output PATH            write to PATH (default: stdout)
  --seed S                 random seed (default 42)
  --rate EVENTS_PER_SECOND event-time rate: event i is at start + i * 1000 / rate ms
                           (default 1000; orders 100; nexmark 10000, Nexmark's own default)
  --events-per-second N    the same as --rate
  --rate-limit N           pace the output at N records per second of wall time, flushed in
                           small chunks (default: as fast as possible)
  --kafka BOOTSTRAP        produce the records to Kafka at BOOTSTRAP (host:port,...) instead,
                           one message per record (CSV without a header line), keyed by
                           symbol (trades, market) or customer_id (orders); needs --topic
  --topic NAME             the topic to produce to (it must exist)
  --kafka-property K=V     a librdkafka producer property, e.g. linger.ms=50 (repeatable)
  --help                   this help
trades and market:
  --symbols N              distinct symbols (default 100)
  --distribution uniform|zipf
                           how keys (symbols, traders, categories) are drawn (default uniform)
  --zipf-exponent X        Zipf: P(k-th most frequent key) ~ 1/k^X, 0 < X <= 10 (default 1;
                           implies --distribution zipf)
  --out-of-order FRACTION  share of events that arrive late, 0..1 (default 0)
  --max-delay MILLIS       a late event is delayed by 1..MILLIS ms of event time (default 5000)
  --bound-delay-every K    every K-th event is delayed by exactly --max-delay, arriving after
                           the events up to that time (default 0: none)
trades only:
  --traders N              distinct trader_ids (default 1000)
  --trader-ids short|long  TR<k>, or 32..48-byte names, some multi-byte UTF-8 (default short)
  --categories N           distinct categories (default 10)
orders only:
  --customers N            distinct customer_ids (default 10000)
nexmark:
  --output DIR             the directory of its four files, created if missing (required);
                           --seed and --rate apply, no other option does
)";

constexpr const char* kServeUsage = R"(usage: sluice serve --config FILE

Runs the job server until SIGTERM or Ctrl-C: a REST API to submit jobs (their SQL), list and
watch them, stop them with a savepoint and cancel them, and every job's Prometheus metrics at
/metrics. Submitted jobs, their checkpoints and savepoints are kept in the data directory; a
server started again on it resumes the jobs that were running or stopped. On SIGTERM every
running job is stopped with a savepoint first. Prints "listening on URL" on stderr once it
serves.

FILE is YAML, one mapping of these keys (an unknown key is an error):
  data_dir: DIR               required: the jobs, checkpoints and savepoints
  address: 127.0.0.1          listen address (default 127.0.0.1)
  port: 8081                  listen port (default 8081; 0: a free one, printed)
  token: SECRET               bearer token every request but /healthz must carry
                              (default: the SLUICE_TOKEN environment variable)
  allow_unauthenticated: false  listen on a non-loopback address without a token
  tls_cert: FILE              PEM certificate and private key: serve HTTPS
  tls_key: FILE
  max_body_bytes: 1048576     larger request bodies get 413
  max_running_jobs: 16        more running jobs get 429
  default_parallelism: 1      workers of a job submitted without ?parallelism=N
  log:                        the diagnostic log on stderr (also as flat keys log.level and
    level: info               log.format): trace, debug, info, warn, error or off;
    format: text              text or json (JSON lines: ts, level, logger, msg)
  jobs:                       jobs submitted at start unless the data directory holds them
    - name: volume            required, unique: the job's key across restarts
      sql: volume.sql         required: its SQL file
      checkpoint_dir: DIR     its checkpoints (default: under data_dir); a new job resumes
                              from the latest of this job found there
      parallelism: 2          default: default_parallelism
      properties:             ${KEY} values in the SQL, as sluice run --set
        KEY: VALUE

API (see the README's "Running in production"):
  GET /healthz, GET /metrics, POST /jobs (body: SQL; ?parallelism=N), GET /jobs,
  GET /jobs/ID, GET /jobs/ID/plan, POST /jobs/ID/stop, DELETE /jobs/ID

options:
  --config FILE      the configuration file
  --log-level trace|debug|info|warn|error|off
                     the diagnostic log on stderr (jobs started, finished, failed and
                     resumed, checkpoints, Kafka errors, librdkafka's own lines); overrides
                     the file's log.level; default info
  --log-format text|json
                     log lines as text or JSON lines (ts, level, logger, msg); overrides the
                     file's log.format; default text
  --help             this help
)";

constexpr const char* kKafkaMockUsage = R"(usage: sluice kafka-mock [--brokers N] [--topic NAME:PARTITIONS]...

Runs librdkafka's mock Kafka cluster on this machine: brokers that speak the real Kafka protocol
on loopback ports and keep messages in memory (nothing is persisted). The first line printed is
bootstrap.servers=HOST:PORT,... ; any Kafka client on this machine (sluice, kcat) can use it.
Runs until Ctrl-C or SIGTERM. Topics produced to without being created get 4 partitions.

options:
  --brokers N              brokers (default 3, at most 64)
  --topic NAME:PARTITIONS  create a topic with PARTITIONS partitions (default 4); repeatable
  --help                   this help
)";

constexpr const char* kTopologyUsage =
    R"(usage: sluice topology [--parallelism N] [--placement compact|spread]

Prints the CPUs this process may run on (after taskset or a cgroup cpuset), their physical
cores and NUMA nodes, then where N parallel workers would be pinned, one line per worker:
`worker 0 -> cpu 0 (node 0)`. Every physical core gets a worker before any hyperthread sibling
does; workers beyond the number of CPUs wrap around and are marked oversubscribed.

options:
  --parallelism N              workers to place, 1..1024 (default: the number of CPUs available)
  --placement compact|spread   compact fills NUMA node 0's CPUs first, then node 1, ...; spread
                               deals workers across the nodes in turn (default compact)
  --help                       this help
)";

std::atomic<bool> g_interrupted{false};
std::atomic<bool> g_terminated{false};  // the stop was SIGTERM's: graceful, exit 0

void OnInterrupt(int signal) {
  if (signal == SIGTERM) g_terminated.store(true);
  g_interrupted.store(true);
}

struct CommandOptions {
  std::string job_path;
  std::map<std::string, std::string> variables;
  size_t batch_size = 1024;
  int parallelism = 0;  // 0: the cores available
  bool strict = false;
  bool quiet = false;
  std::optional<uint64_t> memory_limit;  // --memory-limit: over 'state.max.bytes'
  enum class Progress { kAuto, kAlways, kNever } progress = Progress::kAuto;
  std::string summary_json;                           // --summary-json FILE
  std::string checkpoint_dir;                         // --checkpoint-dir: over 'checkpoint.dir'
  std::optional<int64_t> checkpoint_interval_millis;  // --checkpoint-interval
  std::string savepoint_on_stop;                      // --savepoint-on-stop DIR
  std::string from_savepoint;                         // --from-savepoint DIR
  std::optional<int> metrics_port;                    // --metrics-port
  std::string metrics_address = "127.0.0.1";          // --metrics-address
  spdlog::level::level_enum log_level = spdlog::level::info;  // --log-level
  LogFormat log_format = LogFormat::kText;                    // --log-format
};

// Worker threads for --parallelism's default: the CPUs this process may run on.
int AvailableCores() {
  const absl::StatusOr<CpuTopology> topology = DetectTopology();
  if (topology.ok() && !topology->cpus.empty()) return static_cast<int>(topology->cpus.size());
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int Usage(const char* usage, const std::string& error) {
  if (!error.empty()) std::fprintf(stderr, "sluice: %s\n\n", error.c_str());
  std::fputs(usage, error.empty() ? stdout : stderr);
  return error.empty() ? 0 : 2;
}

// Parses the options of a subcommand; returns an exit code when the command must stop now.
std::optional<int> ParseOptions(int argc, char** argv, int first, const char* usage, bool allow_run_flags,
                                CommandOptions& options) {
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value_of = [&](const std::string& flag) -> std::optional<std::string> {
      if (arg.rfind(flag + "=", 0) == 0) return arg.substr(flag.size() + 1);
      if (arg == flag && i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    if (arg == "--help" || arg == "-h") return Usage(usage, "");
    if (arg == "--set" || arg.rfind("--set=", 0) == 0) {
      auto value = value_of("--set");
      const size_t equals = value ? value->find('=') : std::string::npos;
      if (!value || equals == std::string::npos || equals == 0) return Usage(usage, "--set needs KEY=VALUE");
      options.variables[value->substr(0, equals)] = value->substr(equals + 1);
    } else if (allow_run_flags && (arg == "--batch-size" || arg.rfind("--batch-size=", 0) == 0)) {
      auto value = value_of("--batch-size");
      uint64_t size = 0;
      if (!value || !absl::SimpleAtoi(*value, &size) || size < 1 || size > (1u << 20)) {
        return Usage(usage, "--batch-size needs a whole number from 1 to 1048576");
      }
      options.batch_size = size;
    } else if (allow_run_flags && (arg == "--parallelism" || arg.rfind("--parallelism=", 0) == 0)) {
      auto value = value_of("--parallelism");
      int64_t workers = 0;
      if (!value || !absl::SimpleAtoi(*value, &workers) || workers < 1 || workers > 1024) {
        return Usage(usage, "--parallelism needs a whole number from 1 to 1024");
      }
      options.parallelism = static_cast<int>(workers);
    } else if (allow_run_flags && (arg == "--memory-limit" || arg.rfind("--memory-limit=", 0) == 0)) {
      auto value = value_of("--memory-limit");
      options.memory_limit = value ? ParseByteSize(*value) : std::nullopt;
      if (!options.memory_limit) {
        return Usage(usage,
                     "--memory-limit needs a size, a number of bytes with an optional unit (512MB, 2GiB)");
      }
    } else if (allow_run_flags && (arg == "--progress" || arg.rfind("--progress=", 0) == 0)) {
      const auto value = value_of("--progress");
      if (value == "auto") {
        options.progress = CommandOptions::Progress::kAuto;
      } else if (value == "always") {
        options.progress = CommandOptions::Progress::kAlways;
      } else if (value == "never") {
        options.progress = CommandOptions::Progress::kNever;
      } else {
        return Usage(usage, "--progress needs auto, always or never");
      }
    } else if (allow_run_flags && (arg == "--summary-json" || arg.rfind("--summary-json=", 0) == 0)) {
      const auto value = value_of("--summary-json");
      if (!value || value->empty()) return Usage(usage, "--summary-json needs a file name");
      options.summary_json = *value;
    } else if (allow_run_flags && (arg == "--checkpoint-dir" || arg.rfind("--checkpoint-dir=", 0) == 0)) {
      const auto value = value_of("--checkpoint-dir");
      if (!value || value->empty()) return Usage(usage, "--checkpoint-dir needs a directory");
      options.checkpoint_dir = *value;
    } else if (allow_run_flags && (arg == "--savepoint-on-stop" || arg.rfind("--savepoint-on-stop=", 0) == 0)) {
      const auto value = value_of("--savepoint-on-stop");
      if (!value || value->empty()) return Usage(usage, "--savepoint-on-stop needs a directory");
      options.savepoint_on_stop = *value;
    } else if (allow_run_flags && (arg == "--from-savepoint" || arg.rfind("--from-savepoint=", 0) == 0)) {
      const auto value = value_of("--from-savepoint");
      if (!value || value->empty()) return Usage(usage, "--from-savepoint needs a directory");
      options.from_savepoint = *value;
    } else if (allow_run_flags &&
               (arg == "--checkpoint-interval" || arg.rfind("--checkpoint-interval=", 0) == 0)) {
      const auto value = value_of("--checkpoint-interval");
      options.checkpoint_interval_millis = value ? ParseDurationText(*value) : std::nullopt;
      if (!options.checkpoint_interval_millis || *options.checkpoint_interval_millis <= 0) {
        return Usage(usage, "--checkpoint-interval needs a positive duration, e.g. 500ms or 10s");
      }
    } else if (allow_run_flags && (arg == "--metrics-port" || arg.rfind("--metrics-port=", 0) == 0)) {
      const auto value = value_of("--metrics-port");
      int64_t port = -1;
      if (!value || !absl::SimpleAtoi(*value, &port) || port < 0 || port > 65535) {
        return Usage(usage, "--metrics-port needs a port number from 0 to 65535 (0: a free port)");
      }
      options.metrics_port = static_cast<int>(port);
    } else if (allow_run_flags && (arg == "--metrics-address" || arg.rfind("--metrics-address=", 0) == 0)) {
      const auto value = value_of("--metrics-address");
      if (!value || value->empty()) return Usage(usage, "--metrics-address needs an address");
      options.metrics_address = *value;
    } else if (allow_run_flags && (arg == "--log-level" || arg.rfind("--log-level=", 0) == 0)) {
      const auto value = value_of("--log-level");
      const absl::StatusOr<spdlog::level::level_enum> level =
          value ? ParseLogLevel(*value) : absl::InvalidArgumentError("missing");
      if (!level.ok()) return Usage(usage, "--log-level needs trace, debug, info, warn, error or off");
      options.log_level = *level;
    } else if (allow_run_flags && (arg == "--log-format" || arg.rfind("--log-format=", 0) == 0)) {
      const auto value = value_of("--log-format");
      const absl::StatusOr<LogFormat> format =
          value ? ParseLogFormat(*value) : absl::InvalidArgumentError("missing");
      if (!format.ok()) return Usage(usage, "--log-format needs text or json");
      options.log_format = *format;
    } else if (allow_run_flags && arg == "--strict") {
      options.strict = true;
    } else if (allow_run_flags && arg == "--quiet") {
      options.quiet = true;
    } else if (!arg.empty() && arg[0] == '-') {
      return Usage(usage, StrCat("unknown option '", arg, "'"));
    } else if (options.job_path.empty()) {
      options.job_path = arg;
    } else {
      return Usage(usage, StrCat("unexpected argument '", arg, "' (one job file at a time)"));
    }
  }
  if (options.job_path.empty()) return Usage(usage, "missing the job file (JOB.sql)");
  return std::nullopt;
}

int ReportError(const CommandOptions& options, const absl::Status& status) {
  std::fprintf(stderr, "%s: error: %s\n", options.job_path.c_str(), std::string(status.message()).c_str());
  return 1;
}

// Reads, parses and binds the job file. On errors, prints each (up to SqlErrorList's limit) as
// `file:line:column: error: message` with the line and a caret, then their count, and returns
// nullopt.
std::optional<BoundJob> LoadJob(const CommandOptions& options, std::string* job_text = nullptr) {
  std::ifstream in(options.job_path, std::ios::binary);
  if (!in) {
    ReportError(options, absl::NotFoundError(StrCat("cannot read job file '", options.job_path, "'")));
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  const SourceText source(text.str());
  if (job_text != nullptr) *job_text = source.text();
  SqlErrorList errors;
  ParsedJob parsed = ParseJob(source.text(), errors);
  std::optional<BoundJob> job;
  // Syntax errors leave statements out of the job: binding the rest would report errors that
  // only follow from them (a stream no longer created, properties no longer set).
  if (errors.empty()) {
    BindOptions bind_options;
    bind_options.substitution.variables = options.variables;
    job = BindJob(std::move(parsed), bind_options, errors);
  }
  if (!errors.empty()) {
    std::fputs(errors.Format(source, options.job_path).c_str(), stderr);
    return std::nullopt;
  }
  return job;
}

// What a Flink job means in Sluice that its text does not say (a FLOAT column read as a
// DOUBLE), on stderr: `job.sql:3:10: note: column 'ratio' FLOAT is a DOUBLE`.
void PrintDialectNotes(const CommandOptions& options, const BoundJob& job) {
  if (options.quiet) return;
  for (const std::string& note : job.parsed.dialect_notes) {
    const size_t at = note.find(": ");
    std::fprintf(stderr, "%s:%s: note: %s\n", options.job_path.c_str(), note.substr(0, at).c_str(),
                 note.substr(at + 2).c_str());
  }
}

std::string FormatCount(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Summary(const JobCounters& c) {
  const double rate = c.elapsed_seconds > 0 ? static_cast<double>(c.records_in) / c.elapsed_seconds : 0;
  std::string out =
      absl::StrFormat("records in: %s, out: %s, dead-lettered: %s, elapsed: %.3f s, %s records/s",
                      FormatCount(c.records_in), FormatCount(c.records_out), FormatCount(c.dead_lettered),
                      c.elapsed_seconds, FormatCount(static_cast<uint64_t>(rate)));
  // A long wait for the first record (a Kafka consumer group forming) would hide the rate.
  if (c.first_record_seconds >= 1.0 && c.elapsed_seconds > c.first_record_seconds) {
    out += absl::StrFormat(
        " (first record after %.3f s; %s records/s after it)", c.first_record_seconds,
        FormatCount(static_cast<uint64_t>(c.records_in / (c.elapsed_seconds - c.first_record_seconds))));
  }
  if (c.late_dropped > 0) out += StrCat(", late: ", FormatCount(c.late_dropped));
  if (c.invalid_utf8_replaced > 0)
    out += StrCat(", invalid UTF-8 replaced: ", FormatCount(c.invalid_utf8_replaced));
  if (c.state_evicted > 0) out += StrCat(", state evicted by TTL: ", FormatCount(c.state_evicted));
  return out;
}

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += absl::StrFormat("\\u%04x", byte);
    } else {
      out += c;
    }
  }
  out += '"';
}

// This process's peak resident memory since its exec (VmHWM), or 0 when /proc cannot tell.
// Not getrusage's ru_maxrss: that counts the pages of the process this one was forked from too.
uint64_t PeakResidentBytes() {
  std::FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return 0;
  char line[256];
  unsigned long long kib = 0;
  while (std::fgets(line, sizeof line, status) != nullptr) {
    if (std::sscanf(line, "VmHWM: %llu kB", &kib) == 1) break;
  }
  std::fclose(status);
  return static_cast<uint64_t>(kib) * 1024;
}

// The final summary as one JSON object (--summary-json), for scripts and CI.
absl::Status WriteSummaryJson(const std::string& path, const JobCounters& c, const absl::Status& status,
                              bool terminated, int exit_code, const FileCheckpointStore* checkpoints,
                              std::optional<uint64_t> resumed_from) {
  std::string out = "{\"status\":";
  AppendJsonString(out, !status.ok()  ? "failed"
                        : terminated  ? "stopped"
                        : c.cancelled ? "interrupted"
                                      : "finished");
  out += absl::StrFormat(
      ",\"exit_code\":%d,\"records_in\":%u,\"records_out\":%u,\"dead_lettered\":%u,\"late\":%u,"
      "\"invalid_utf8_replaced\":%u,\"state_evicted\":%u,\"state_keys\":%u,\"state_bytes\":%u,\"bytes_in\":%"
      "u,\"elapsed_seconds\":%.6f,"
      "\"records_per_second\":%.1f,\"workers\":%d,\"checkpoints_completed\":%u,\"peak_rss_bytes\":%u",
      exit_code, c.records_in, c.records_out, c.dead_lettered, c.late_dropped, c.invalid_utf8_replaced,
      c.state_evicted, c.state_keys, c.state_bytes, c.bytes_in, c.elapsed_seconds,
      c.elapsed_seconds > 0 ? static_cast<double>(c.records_in) / c.elapsed_seconds : 0.0, c.workers,
      c.checkpoints_completed, PeakResidentBytes());
  out += ",\"dead_letter_files\":[";
  for (size_t i = 0; i < c.dead_letter_files.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(out, c.dead_letter_files[i]);
  }
  out += "],\"savepoint\":";
  out += c.savepoint != 0 ? absl::StrFormat("%u", c.savepoint) : "null";
  out += ",\"checkpoints\":";
  if (checkpoints == nullptr) {
    out += "null";
  } else {
    out += "{\"directory\":";
    AppendJsonString(out, checkpoints->directory());
    out += resumed_from ? absl::StrFormat(",\"resumed_from\":%u", *resumed_from) : ",\"resumed_from\":null";
    if (const std::optional<uint64_t> last = checkpoints->last_completed()) {
      out += absl::StrFormat(",\"latest\":%u,\"latest_state_bytes\":%u,\"latest_write_seconds\":%.6f", *last,
                             checkpoints->last_state_bytes(), checkpoints->last_write_seconds());
    } else {
      out += ",\"latest\":null";
    }
    out += "}";
  }
  out += ",\"error\":";
  if (status.ok()) {
    out += "null";
  } else {
    AppendJsonString(out, std::string(status.message()));
  }
  out += "}\n";
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << out;
  file.close();
  if (!file) return absl::UnavailableError(StrCat("cannot write the summary to '", path, "'"));
  return absl::OkStatus();
}

// The stores a run checkpoints into, takes its savepoint into and resumes from.
struct RunStores {
  std::unique_ptr<FileCheckpointStore> checkpoints;  // --checkpoint-dir / 'checkpoint.dir'
  std::unique_ptr<FileCheckpointStore> savepoint;    // --savepoint-on-stop
  std::unique_ptr<FileCheckpointStore> restored;     // --from-savepoint
};

// Opens the stores the options and the job ask for, finds the checkpoint or savepoint to resume
// from and says so on stderr.
absl::StatusOr<RunStores> SetUpCheckpoints(const CommandOptions& options, const BoundJob& job,
                                           const std::string& job_text, RunOptions& run_options) {
  RunStores stores;
  // The job's identity: its text and the values substituted into it, and its parallelism.
  std::string identity_text = job_text;
  for (const auto& [key, value] : options.variables) StrAppend(&identity_text, "\n--set ", key, "=", value);
  const CheckpointJobIdentity identity = CheckpointJobIdentity::Of(identity_text, run_options.parallelism);
  auto describe = [&run_options](const CheckpointInfo& info) {
    const std::time_t seconds = static_cast<std::time_t>(info.completed_unix_millis / 1000);
    char when[32];
    std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&seconds));
    std::string text = StrCat(info.id, " (", info.path, ", completed ", when, ", ",
                              FormatCount(info.state_bytes), " bytes of state)");
    if (info.parallelism != run_options.parallelism) {
      StrAppend(&text, "\nrescaling: taken at parallelism ", info.parallelism, ", restored at parallelism ",
                run_options.parallelism, "; keyed state moves to its key groups' new workers");
    }
    return text;
  };
  const std::string directory = !options.checkpoint_dir.empty() ? options.checkpoint_dir : job.checkpoint_dir;
  if (!directory.empty()) {
    SLUICE_ASSIGN_OR_RETURN(stores.checkpoints,
                            FileCheckpointStore::Open(directory, identity, job.checkpoint_retained));
    run_options.checkpoint_store = stores.checkpoints.get();
    run_options.checkpoint_interval_millis =
        options.checkpoint_interval_millis.value_or(job.checkpoint_interval_millis);
  }
  if (!options.savepoint_on_stop.empty()) {
    SLUICE_ASSIGN_OR_RETURN(stores.savepoint, FileCheckpointStore::Open(options.savepoint_on_stop, identity, 1000));
    run_options.savepoint_store = stores.savepoint.get();
  }
  std::vector<std::string> notes;
  if (!options.from_savepoint.empty()) {
    if (!std::filesystem::is_directory(options.from_savepoint)) {
      return absl::NotFoundError(StrCat("--from-savepoint: '", options.from_savepoint, "' is not a directory"));
    }
    // A savepoint may restore a changed query: its operators check their own state.
    CheckpointJobIdentity changed_text_allowed = identity;
    changed_text_allowed.same_text = false;
    SLUICE_ASSIGN_OR_RETURN(stores.restored,
                            FileCheckpointStore::Open(options.from_savepoint, changed_text_allowed, 1000));
    SLUICE_ASSIGN_OR_RETURN(std::optional<CheckpointInfo> savepoint, stores.restored->Recover(&notes));
    for (const std::string& note : notes) Log(LogComponent::kRuntime).warn("{}", note);
    if (!savepoint) {
      return absl::NotFoundError(
          StrCat("--from-savepoint: '", options.from_savepoint, "' holds no intact savepoint"));
    }
    run_options.restore_store = stores.restored.get();
    run_options.restore_checkpoint = savepoint->id;
    Log(LogComponent::kRuntime).info("resuming from savepoint {}", describe(*savepoint));
    return stores;
  }
  if (stores.checkpoints == nullptr) return stores;
  SLUICE_ASSIGN_OR_RETURN(std::optional<CheckpointInfo> recovered, stores.checkpoints->Recover(&notes));
  for (const std::string& note : notes) Log(LogComponent::kRuntime).warn("{}", note);
  if (recovered) {
    run_options.restore_checkpoint = recovered->id;
    Log(LogComponent::kRuntime).info("resuming from checkpoint {}", describe(*recovered));
  } else {
    Log(LogComponent::kRuntime)
        .info("no checkpoint to resume from in {}: starting from the beginning", directory);
  }
  return stores;
}

int Run(const CommandOptions& options) {
  ConfigureLogging(options.log_level, options.log_format);
  std::string job_text;
  std::optional<BoundJob> job = LoadJob(options, &job_text);
  if (!job) return 1;
  PrintDialectNotes(options, *job);
  RunOptions run_options;
  run_options.batch_size = options.batch_size;
  run_options.parallelism = options.parallelism > 0 ? options.parallelism : AvailableCores();
  run_options.strict = options.strict;
  run_options.state_max_bytes = options.memory_limit;
  run_options.cancel = &g_interrupted;
  if (job->restart_attempts > 0 && options.checkpoint_dir.empty() && job->checkpoint_dir.empty()) {
    return ReportError(
        options, absl::InvalidArgumentError(
                     "'restart.strategy' = 'fixed-delay' needs a checkpoint directory ('checkpoint.dir' "
                     "or --checkpoint-dir): a restart resumes from the latest checkpoint"));
  }
  auto checkpoints = SetUpCheckpoints(options, *job, job_text, run_options);
  if (!checkpoints.ok()) return ReportError(options, checkpoints.status());
  auto runner = JobRunner::Create(*job, run_options);
  if (!runner.ok()) return ReportError(options, runner.status());
  if (options.metrics_address != "127.0.0.1" && !options.metrics_port) {
    return Usage(kRunUsage, "--metrics-address needs --metrics-port");
  }
  // --metrics-port: the latest counters, served from the HTTP server's threads.
  std::unique_ptr<MetricsEndpoint> metrics;
  if (options.metrics_port) {
    const char* token = std::getenv("SLUICE_TOKEN");
    HttpServerOptions server_options;
    server_options.address = options.metrics_address;
    server_options.port = *options.metrics_port;
    server_options.token = token != nullptr ? token : "";
    auto endpoint =
        MetricsEndpoint::Start(server_options, "run", std::filesystem::path(options.job_path).stem());
    if (!endpoint.ok()) return ReportError(options, endpoint.status());
    metrics = std::move(*endpoint);
    std::fprintf(stderr, "metrics: %s/metrics\n", metrics->url().c_str());
  }
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  using Progress = CommandOptions::Progress;
  const bool show_progress =
      options.progress == Progress::kAlways || (options.progress == Progress::kAuto && !options.quiet);
  const bool terminal = show_progress && isatty(STDERR_FILENO) != 0;
  // The runner reports once a second: a terminal's line is redrawn each time; a log (stderr
  // not a terminal) gets a status line every 10 s.
  auto last_line = std::chrono::steady_clock::now();
  auto progress = [&](const JobCounters& c) {
    if (metrics) {
      metrics->Update("running", c, checkpoints->checkpoints.get());
      if (!show_progress) return;
    }
    if (terminal) {
      std::fprintf(stderr, "\r%s ", Summary(c).c_str());
    } else {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_line < std::chrono::seconds(10)) return;
      last_line = now;
      std::fprintf(stderr, "progress: %s\n", Summary(c).c_str());
    }
    std::fflush(stderr);
  };
  // 'restart.strategy' = 'fixed-delay': a failed run restarts from the latest checkpoint (or
  // what it resumed from, if it completed none) after the delay, at most restart_attempts times.
  absl::Status status;
  JobCounters counters;
  for (int restarts = 0;; ++restarts) {
    status = (*runner)->Run(show_progress || metrics ? std::function<void(const JobCounters&)>(progress)
                                                     : nullptr);
    counters = (*runner)->counters();
    if (status.ok() || counters.cancelled || g_interrupted.load() || restarts == job->restart_attempts) break;
    if (terminal) std::fputc('\n', stderr);
    Log(LogComponent::kRuntime).error("the run failed: {}", std::string(status.message()));
    Log(LogComponent::kRuntime)
        .warn("restarting in {} ms (restart {} of {})", job->restart_delay_millis, restarts + 1,
              job->restart_attempts);
    const auto resume_at =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(job->restart_delay_millis);
    while (std::chrono::steady_clock::now() < resume_at && !g_interrupted.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (g_interrupted.load()) break;  // a signal during the delay: the failure stands
    // A new runner over new stores: the checkpoint directory is recovered again.
    CommandOptions restart_options = options;
    if (checkpoints->checkpoints && checkpoints->checkpoints->last_completed())
      restart_options.from_savepoint.clear();
    runner->reset();
    *checkpoints = RunStores();
    run_options.checkpoint_store = run_options.savepoint_store = run_options.restore_store = nullptr;
    run_options.restore_checkpoint.reset();
    checkpoints = SetUpCheckpoints(restart_options, *job, job_text, run_options);
    if (!checkpoints.ok()) return ReportError(options, checkpoints.status());
    runner = JobRunner::Create(*job, run_options);
    if (!runner.ok()) return ReportError(options, runner.status());
  }
  if (metrics) {
    metrics->Update(!status.ok()         ? "failed"
                    : counters.cancelled ? "stopped"
                                         : "finished",
                    counters, checkpoints->checkpoints.get());
  }
  const bool terminated = counters.cancelled && g_terminated.load();
  const int exit_code = !status.ok() ? 1 : counters.cancelled && !terminated ? 130 : 0;
  if (!options.summary_json.empty()) {
    if (absl::Status written =
            WriteSummaryJson(options.summary_json, counters, status, terminated, exit_code,
                             checkpoints->checkpoints.get(),
                             run_options.restore_checkpoint);
        !written.ok() && status.ok()) {
      status = written;
    }
  }
  if (terminal) std::fputc('\n', stderr);
  if (!options.quiet || !status.ok()) {
    std::fprintf(stderr, "%s%s\n",
                 terminated           ? "stopped by SIGTERM; "
                 : counters.cancelled ? "interrupted; "
                                      : "",
                 Summary(counters).c_str());
    for (const auto& task : counters.tasks) {
      const double total = task.busy_seconds + task.idle_seconds + task.backpressured_seconds;
      if (total <= 0) continue;
      std::fprintf(stderr, "  %s, %s: busy %.0f%%, idle %.0f%%, backpressured %.0f%%\n", task.task.c_str(),
                   task.placement.c_str(), 100 * task.busy_seconds / total, 100 * task.idle_seconds / total,
                   100 * task.backpressured_seconds / total);
    }
    for (const auto& file : counters.dead_letter_files) {
      std::fprintf(stderr, "dead-letter records written to %s\n", file.c_str());
    }
    if (const FileCheckpointStore* store = checkpoints->checkpoints.get(); store != nullptr) {
      if (const std::optional<uint64_t> last = store->last_completed()) {
        std::fprintf(stderr,
                     "checkpoints: %llu completed in this run; the latest is %llu in %s (%s bytes of state, "
                     "written in %.1f ms)\n",
                     static_cast<unsigned long long>(counters.checkpoints_completed),
                     static_cast<unsigned long long>(*last), store->directory().c_str(),
                     FormatCount(store->last_state_bytes()).c_str(), 1000 * store->last_write_seconds());
      }
    }
  }
  if (const FileCheckpointStore* savepoint = checkpoints->savepoint.get(); savepoint != nullptr && status.ok()) {
    if (counters.savepoint != 0) {
      std::fprintf(stderr, "savepoint %llu written to %s/chk-%010llu (%s bytes of state); resume with --from-savepoint %s\n",
                   static_cast<unsigned long long>(savepoint->last_completed().value_or(0)),
                   savepoint->directory().c_str(),
                   static_cast<unsigned long long>(savepoint->last_completed().value_or(0)),
                   FormatCount(savepoint->last_state_bytes()).c_str(), savepoint->directory().c_str());
    } else if (counters.cancelled) {
      std::fprintf(stderr, "no savepoint was taken\n");
    }
  }
  if (!status.ok()) return ReportError(options, status);
  return exit_code;
}

int Explain(const CommandOptions& options) {
  std::optional<BoundJob> job = LoadJob(options);
  if (!job) return 1;
  std::printf("dialect: %s (%s)\n", job->parsed.dialect == Dialect::kFlink ? "flink" : "sluice",
              job->parsed.dialect_reason.c_str());
  for (const std::string& note : job->parsed.dialect_notes) std::printf("note: %s\n", note.c_str());
  for (size_t i = 0; i < job->statements.size(); ++i) {
    const BoundStatement& statement = job->statements[i];
    if (statement.lowered_from.empty()) {
      std::printf("statement %zu: %s\n", i + 1, statement.name.c_str());
    } else {
      std::printf("statement %zu: %s (%s)\n", i + 1, statement.name.c_str(), statement.lowered_from.c_str());
    }
    std::printf("logical plan:\n%s", statement.plan->ToString(1).c_str());
  }
  RunOptions run_options;
  run_options.batch_size = options.batch_size;
  run_options.parallelism = options.parallelism > 0 ? options.parallelism : AvailableCores();
  auto runner = JobRunner::Create(*job, run_options);
  if (!runner.ok()) return ReportError(options, runner.status());
  std::printf("physical plan:\n%s", (*runner)->Explain().c_str());
  return 0;
}

// The main usage, then the registered connectors.
std::string MainUsage() {
  return StrCat(kMainUsage, "\nconnectors ('<name>.type' in WITH; their keys: sluice connectors TYPE):\n",
                ConnectorRegistry::Default().DescribeBriefly());
}

// `sluice connectors [TYPE]` and `sluice explain --connectors [TYPE]`; `first` is the index of
// the first argument after the command (and the flag).
int Connectors(int argc, char** argv, int first) {
  std::string type;
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return Usage(kConnectorsUsage, "");
    if (!arg.empty() && arg[0] == '-') return Usage(kConnectorsUsage, StrCat("unknown option '", arg, "'"));
    if (!type.empty())
      return Usage(kConnectorsUsage, StrCat("unexpected argument '", arg, "' (one type at a time)"));
    type = arg;
  }
  const ConnectorRegistry& registry = ConnectorRegistry::Default();
  if (type.empty()) {
    std::fputs(registry.Describe().c_str(), stdout);
    return 0;
  }
  const std::optional<std::string> described = registry.DescribeType(type);
  if (!described) {
    return Usage(kConnectorsUsage,
                 StrCat("unknown connector type '", type, "' (sources: ", registry.SourceTypeList(),
                        "; sinks: ", registry.SinkTypeList(), ")"));
  }
  std::fputs(described->c_str(), stdout);
  return 0;
}

int Validate(const CommandOptions& options) {
  std::optional<BoundJob> job = LoadJob(options);
  if (!job) return 1;
  PrintDialectNotes(options, *job);
  std::printf("%s: ok (%zu statement%s)\n", options.job_path.c_str(), job->statements.size(),
              job->statements.size() == 1 ? "" : "s");
  return 0;
}

// --- datagen ----------------------------------------------------------------------------

enum class DatagenKind { kTrades, kOrders, kMarket, kNexmark };

struct DatagenOptions {
  DatagenKind kind = DatagenKind::kTrades;
  uint64_t count = 0;
  bool csv = false;
  std::string output;  // empty: stdout
  double rate_limit = 0;
  std::string kafka;  // bootstrap servers; empty: write text
  std::string topic;
  std::vector<std::pair<std::string, std::string>> kafka_properties;
  TradeGeneratorOptions trades;
  OrderGeneratorOptions orders;
  NexmarkGeneratorOptions nexmark;
};

// Parses the datagen flags; returns an exit code when the command must stop now.
std::optional<int> ParseDatagenOptions(int argc, char** argv, DatagenOptions& options) {
  std::optional<std::string> kind, count, distribution;
  std::vector<std::string> trade_flags, trade_only_flags, order_only_flags;  // set, by kind
  std::vector<std::string> text_flags;  // set; they need a single text output (not nexmark)
  bool rate_set = false;
  double rate = 0;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    std::optional<std::string> inline_value;
    if (const size_t equals = arg.find('='); StartsWith(arg, "--") && equals != std::string::npos) {
      inline_value = arg.substr(equals + 1);
      arg.resize(equals);
    }
    if (arg == "--help" || arg == "-h") return Usage(kDatagenUsage, "");
    static const char* const kFlags[] = {"--kind",
                                         "--count",
                                         "--format",
                                         "--output",
                                         "--seed",
                                         "--symbols",
                                         "--traders",
                                         "--categories",
                                         "--customers",
                                         "--distribution",
                                         "--zipf-exponent",
                                         "--rate",
                                         "--out-of-order",
                                         "--max-delay",
                                         "--rate-limit",
                                         "--kafka",
                                         "--topic",
                                         "--kafka-property",
                                         "--trader-ids",
                                         "--bound-delay-every",
                                         "--events-per-second"};
    if (std::find(std::begin(kFlags), std::end(kFlags), arg) == std::end(kFlags)) {
      if (!arg.empty() && arg[0] == '-') return Usage(kDatagenUsage, StrCat("unknown option '", arg, "'"));
      return Usage(kDatagenUsage, StrCat("unexpected argument '", arg, "'"));
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Usage(kDatagenUsage, StrCat(arg, " needs a value"));
    }
    auto whole = [&](int64_t min, int64_t max, auto& target) -> std::optional<int> {
      int64_t number = 0;
      if (!absl::SimpleAtoi(value, &number) || number < min || number > max) {
        return Usage(kDatagenUsage, StrCat(arg, " needs a whole number from ", min, " to ", max));
      }
      target = number;
      return std::nullopt;
    };
    auto real = [&](double& target) -> bool {
      return absl::SimpleAtod(value, &target) && std::isfinite(target);
    };
    std::optional<int> error;
    if (arg == "--kind") {
      kind = value;
    } else if (arg == "--count") {
      count = value;
    } else if (arg == "--format") {
      if (value != "json" && value != "csv") return Usage(kDatagenUsage, "--format must be json or csv");
      options.csv = value == "csv";
      if (options.csv) text_flags.push_back(arg);
    } else if (arg == "--output") {
      options.output = value == "-" ? "" : value;
    } else if (arg == "--seed") {
      uint64_t seed = 0;
      if (!absl::SimpleAtoi(value, &seed)) return Usage(kDatagenUsage, "--seed needs a whole number");
      options.trades.seed = options.orders.seed = options.nexmark.seed = seed;
    } else if (arg == "--symbols") {
      error = whole(1, TradeGeneratorOptions::kMaxCardinality, options.trades.symbols);
      trade_flags.push_back(arg);
    } else if (arg == "--traders") {
      error = whole(1, TradeGeneratorOptions::kMaxCardinality, options.trades.traders);
      trade_only_flags.push_back(arg);
    } else if (arg == "--categories") {
      error = whole(1, TradeGeneratorOptions::kMaxCardinality, options.trades.categories);
      trade_only_flags.push_back(arg);
    } else if (arg == "--customers") {
      error = whole(1, TradeGeneratorOptions::kMaxCardinality, options.orders.customers);
      order_only_flags.push_back(arg);
    } else if (arg == "--distribution") {
      if (value != "uniform" && value != "zipf") {
        return Usage(kDatagenUsage, "--distribution must be uniform or zipf");
      }
      distribution = value;
      trade_flags.push_back(arg);
    } else if (arg == "--zipf-exponent") {
      if (!real(options.trades.zipf_exponent) || options.trades.zipf_exponent <= 0 ||
          options.trades.zipf_exponent > 10) {
        return Usage(kDatagenUsage, "--zipf-exponent needs a number greater than 0 and at most 10");
      }
      trade_flags.push_back(arg);
    } else if (arg == "--rate" || arg == "--events-per-second") {
      if (!real(rate) || rate <= 0 || rate > 1e9) {
        return Usage(kDatagenUsage,
                     StrCat(arg, " needs a number of events per second, greater than 0 and at most 1e9"));
      }
      rate_set = true;
    } else if (arg == "--out-of-order") {
      double& fraction = options.trades.out_of_order_fraction;
      if (!real(fraction) || fraction < 0 || fraction > 1) {
        return Usage(kDatagenUsage, "--out-of-order needs a fraction from 0 to 1");
      }
      trade_flags.push_back(arg);
    } else if (arg == "--max-delay") {
      error = whole(0, UINT32_MAX, options.trades.max_delay_millis);
      trade_flags.push_back(arg);
    } else if (arg == "--bound-delay-every") {
      int64_t every = 0;
      error = whole(0, TradeGeneratorOptions::kMaxCardinality, every);
      options.trades.bound_delay_every = static_cast<uint64_t>(every);
      trade_flags.push_back(arg);
    } else if (arg == "--trader-ids") {
      if (value != "short" && value != "long")
        return Usage(kDatagenUsage, "--trader-ids must be short or long");
      options.trades.trader_id_format = value == "long" ? TraderIdFormat::kLong : TraderIdFormat::kShort;
      trade_only_flags.push_back(arg);
    } else if (arg == "--rate-limit") {
      if (!real(options.rate_limit) || options.rate_limit <= 0) {
        return Usage(kDatagenUsage, "--rate-limit needs a number of records per second greater than 0");
      }
      text_flags.push_back(arg);
    } else if (arg == "--kafka") {
      if (value.empty() || value[0] == '-') {
        return Usage(kDatagenUsage, "--kafka needs the bootstrap servers (host:port,...)");
      }
      options.kafka = value;
      text_flags.push_back(arg);
    } else if (arg == "--topic") {
      if (value.empty() || value[0] == '-') return Usage(kDatagenUsage, "--topic needs a topic name");
      options.topic = value;
    } else if (arg == "--kafka-property") {
      const size_t equals = value.find('=');
      if (equals == std::string::npos || equals == 0) {
        return Usage(kDatagenUsage, "--kafka-property needs KEY=VALUE (a librdkafka producer property)");
      }
      const std::string key = value.substr(0, equals), setting = value.substr(equals + 1);
      if (absl::Status valid = CheckKafkaProperty(KafkaClientRole::kProducer, key, setting); !valid.ok()) {
        return Usage(kDatagenUsage, StrCat("--kafka-property ", value, ": ", std::string(valid.message())));
      }
      options.kafka_properties.emplace_back(key, setting);
    }
    if (error) return error;
  }

  if (!kind) return Usage(kDatagenUsage, "missing --kind (trades, orders, market or nexmark)");
  if (*kind == "trades") {
    options.kind = DatagenKind::kTrades;
  } else if (*kind == "orders") {
    options.kind = DatagenKind::kOrders;
  } else if (*kind == "market") {
    options.kind = DatagenKind::kMarket;
  } else if (*kind == "nexmark") {
    options.kind = DatagenKind::kNexmark;
  } else {
    return Usage(kDatagenUsage, StrCat("unknown kind '", *kind, "' (trades, orders, market or nexmark)"));
  }
  if (!count) return Usage(kDatagenUsage, "missing --count");
  if (!options.kafka.empty() && options.topic.empty()) return Usage(kDatagenUsage, "--kafka needs --topic");
  if (options.kafka.empty() && !options.topic.empty()) return Usage(kDatagenUsage, "--topic needs --kafka");
  if (options.kafka.empty() && !options.kafka_properties.empty()) {
    return Usage(kDatagenUsage, "--kafka-property needs --kafka");
  }
  if (!options.kafka.empty() && !options.output.empty()) {
    return Usage(kDatagenUsage, "--output and --kafka exclude each other");
  }
  if (!absl::SimpleAtoi(*count, &options.count)) return Usage(kDatagenUsage, "--count needs a whole number");

  // A flag that does not apply to the kind is a mistake worth reporting, not ignoring.
  std::vector<std::string> misplaced;
  if (options.kind == DatagenKind::kOrders) misplaced = trade_flags;
  if (options.kind != DatagenKind::kTrades) {
    misplaced.insert(misplaced.end(), trade_only_flags.begin(), trade_only_flags.end());
  }
  if (options.kind != DatagenKind::kOrders) {
    misplaced.insert(misplaced.end(), order_only_flags.begin(), order_only_flags.end());
  }
  if (options.kind == DatagenKind::kNexmark) {
    // Three files of JSON Lines: no CSV, no single stream to pace or to produce to Kafka.
    misplaced = trade_flags;
    misplaced.insert(misplaced.end(), text_flags.begin(), text_flags.end());
    misplaced.insert(misplaced.end(), trade_only_flags.begin(), trade_only_flags.end());
    misplaced.insert(misplaced.end(), order_only_flags.begin(), order_only_flags.end());
  }
  if (!misplaced.empty()) {
    return Usage(kDatagenUsage, StrCat(misplaced.front(), " does not apply to --kind ", *kind));
  }

  options.trades.kind =
      options.kind == DatagenKind::kMarket ? TradeDataKind::kMarketData : TradeDataKind::kTrades;
  options.trades.count = options.count;
  const bool exponent_set =
      std::find(trade_flags.begin(), trade_flags.end(), "--zipf-exponent") != trade_flags.end();
  if (distribution == "uniform" && exponent_set) {
    return Usage(kDatagenUsage, "--zipf-exponent needs --distribution zipf");
  }
  options.trades.distribution =
      distribution == "zipf" || exponent_set ? KeyDistribution::kZipf : KeyDistribution::kUniform;
  if (rate_set) {
    options.trades.events_per_second = options.orders.events_per_second = options.nexmark.events_per_second =
        rate;
  }
  if (options.kind == DatagenKind::kNexmark) {
    if (options.output.empty()) {
      return Usage(kDatagenUsage,
                   "--kind nexmark writes persons.jsonl, auctions.jsonl, bids.jsonl and side_input.jsonl "
                   "into a directory: --output DIR is required");
    }
    options.nexmark.count = options.count;
    if (absl::Status valid = NexmarkGenerator::Validate(options.nexmark); !valid.ok()) {
      return Usage(kDatagenUsage, std::string(valid.message()));
    }
    return std::nullopt;
  }
  if (absl::Status valid = TradeGenerator::Validate(options.trades); !valid.ok()) {
    return Usage(kDatagenUsage, std::string(valid.message()));
  }
  return std::nullopt;
}

// The message key of one generated record: symbol (trades, market) or customer_id (orders).
// The generators never quote or escape these values.
std::string_view RecordKey(DatagenKind kind, bool csv, std::string_view record) {
  if (csv) {
    const size_t field = kind == DatagenKind::kTrades ? 2 : kind == DatagenKind::kOrders ? 1 : 0;
    size_t begin = 0;
    for (size_t f = 0; f < field; ++f) begin = record.find(',', begin) + 1;
    const size_t end = record.find(',', begin);
    return record.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
  }
  const std::string_view name = kind == DatagenKind::kOrders ? "\"customer_id\":\"" : "\"symbol\":\"";
  const size_t at = record.find(name);
  if (at == std::string_view::npos) return {};
  const size_t begin = at + name.size();
  return record.substr(begin, record.find('"', begin) - begin);
}

// --kind nexmark: the events into DIR/persons.jsonl, auctions.jsonl and bids.jsonl, 65,536
// events at a time, and q13's side input into DIR/side_input.jsonl.
int DatagenNexmark(const DatagenOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(options.output, error);
  if (error) {
    std::fprintf(stderr, "sluice datagen: cannot create the directory '%s': %s\n", options.output.c_str(),
                 error.message().c_str());
    return 1;
  }
  struct Output {
    std::string path;
    std::FILE* file = nullptr;
    std::string text;
  };
  Output outputs[4];
  const char* const kNames[4] = {"persons.jsonl", "auctions.jsonl", "bids.jsonl", "side_input.jsonl"};
  bool ok = true;
  for (int i = 0; i < 4; ++i) {
    outputs[i].path = (std::filesystem::path(options.output) / kNames[i]).string();
    outputs[i].file = std::fopen(outputs[i].path.c_str(), "wb");
    if (outputs[i].file == nullptr) {
      std::fprintf(stderr, "sluice datagen: cannot open '%s' for writing: %s\n", outputs[i].path.c_str(),
                   std::strerror(errno));
      ok = false;
    }
  }
  NexmarkGenerator generator(options.nexmark);
  std::string failed_path;
  int saved_errno = 0;
  if (ok) {  // q13's side input first: it does not depend on the events
    NexmarkGenerator::AppendSideInputJsonLines(outputs[3].text);
    if (std::fwrite(outputs[3].text.data(), 1, outputs[3].text.size(), outputs[3].file) !=
        outputs[3].text.size()) {
      ok = false;
      saved_errno = errno;
      failed_path = outputs[3].path;
    }
  }
  while (ok && !generator.done() && !g_interrupted.load()) {
    for (Output& output : outputs) output.text.clear();
    generator.AppendJsonLines(65536, outputs[0].text, outputs[1].text, outputs[2].text);
    for (Output& output : outputs) {
      if (ok && std::fwrite(output.text.data(), 1, output.text.size(), output.file) != output.text.size()) {
        ok = false;
        saved_errno = errno;
        failed_path = output.path;
      }
    }
  }
  for (Output& output : outputs) {
    if (output.file == nullptr) continue;
    if (std::fflush(output.file) != 0 && ok) {
      ok = false;
      saved_errno = errno;
      failed_path = output.path;
    }
    if (std::fclose(output.file) != 0 && ok) {
      ok = false;
      saved_errno = errno;
      failed_path = output.path;
    }
  }
  if (!ok) {
    if (!failed_path.empty()) {
      std::fprintf(stderr, "sluice datagen: write error on %s: %s\n", failed_path.c_str(),
                   std::strerror(saved_errno));
    }
    return 1;
  }
  return g_interrupted.load() ? 130 : 0;
}

// Writes the records chunk by chunk: 16,384 at a time, or with --rate-limit about 10 ms
// worth, each written once its last record is due and flushed. With --kafka each record is a
// message instead.
int Datagen(const DatagenOptions& options) {
  if (options.kind == DatagenKind::kNexmark) return DatagenNexmark(options);
  std::unique_ptr<KafkaProducer> producer;
  if (!options.kafka.empty()) {
    KafkaProducerOptions producer_options;
    producer_options.client.bootstrap_servers = options.kafka;
    producer_options.client.properties = options.kafka_properties;
    producer_options.topic = options.topic;
    producer_options.description = "sluice datagen";
    auto created = KafkaProducer::Create(producer_options);
    absl::Status status = created.ok() ? (*created)->Connect() : created.status();
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
      return 1;
    }
    producer = std::move(*created);
  }
  std::FILE* out = stdout;
  if (!options.output.empty() && producer == nullptr) {
    out = std::fopen(options.output.c_str(), "wb");
    if (out == nullptr) {
      std::fprintf(stderr, "sluice datagen: cannot open '%s' for writing: %s\n", options.output.c_str(),
                   std::strerror(errno));
      return 1;
    }
  }
  std::unique_ptr<TradeGenerator> trades;
  std::unique_ptr<OrderGenerator> orders;
  if (options.kind == DatagenKind::kOrders) {
    orders = std::make_unique<OrderGenerator>(options.orders);
  } else {
    trades = std::make_unique<TradeGenerator>(options.trades);
  }
  uint64_t chunk = 16384;
  if (options.rate_limit > 0) {
    chunk = static_cast<uint64_t>(std::clamp(options.rate_limit / 100, 1.0, 65536.0));
  }
  const auto start = std::chrono::steady_clock::now();
  std::string text;
  bool header = options.csv && producer == nullptr;  // a message is one record: no header line
  bool ok = true;
  uint64_t written = 0;
  do {  // at least once, so that a CSV of zero records still has its header
    const size_t records = static_cast<size_t>(std::min(chunk, options.count - written));
    text.clear();
    if (orders != nullptr) {
      if (options.csv) {
        orders->AppendCsv(records, text, header);
      } else {
        orders->AppendJsonLines(records, text);
      }
    } else if (options.csv) {
      trades->AppendCsv(records, text, header);
    } else {
      trades->AppendJsonLines(records, text);
    }
    header = false;
    written += records;
    if (options.rate_limit > 0) {
      const auto due =
          start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::chrono::duration<double>(static_cast<double>(written) / options.rate_limit));
      std::this_thread::sleep_until(due);
    }
    if (producer != nullptr) {
      std::string_view rest = text;
      while (!rest.empty()) {
        const size_t newline = rest.find('\n');
        const std::string_view record = rest.substr(0, newline);
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        const std::string_view key = RecordKey(options.kind, options.csv, record);
        absl::Status produced = producer->Produce(key.data(), key.size(), record.data(), record.size());
        if (!produced.ok()) {
          std::fprintf(stderr, "%s\n", std::string(produced.message()).c_str());
          return 1;
        }
      }
      producer->Poll();
      if (!g_interrupted.load()) continue;
      break;
    }
    ok = std::fwrite(text.data(), 1, text.size(), out) == text.size();
    if (ok && options.rate_limit > 0) ok = std::fflush(out) == 0;
  } while (written < options.count && ok);
  if (producer != nullptr) {
    absl::Status flushed = producer->Flush(false);
    if (!flushed.ok()) {
      std::fprintf(stderr, "%s\n", std::string(flushed.message()).c_str());
      return 1;
    }
    std::fprintf(stderr, "produced %s records to topic '%s'\n", FormatCount(producer->delivered()).c_str(),
                 options.topic.c_str());
    return g_interrupted.load() ? 130 : 0;
  }
  if (ok) ok = std::fflush(out) == 0;
  const int saved_errno = errno;
  if (out != stdout && std::fclose(out) != 0) ok = false;
  if (!ok) {
    std::fprintf(stderr, "sluice datagen: write error on %s: %s\n",
                 options.output.empty() ? "stdout" : options.output.c_str(), std::strerror(saved_errno));
    return 1;
  }
  return 0;
}

// --- flags of the kafka-mock and topology commands ---------------------------------------

// Walks the arguments of a command whose flags all take a value (`--flag value` or
// `--flag=value`), calling `on_flag(flag, value)` for each; it returns an exit code to stop
// the command. Help, unknown flags, positional arguments and a missing value print `usage`.
std::optional<int> ForEachValueFlag(
    int argc, char** argv, const char* usage, std::initializer_list<std::string_view> flags,
    const std::function<std::optional<int>(const std::string& flag, const std::string& value)>& on_flag) {
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    std::optional<std::string> value;
    if (const size_t equals = arg.find('='); StartsWith(arg, "--") && equals != std::string::npos) {
      value = arg.substr(equals + 1);
      arg.resize(equals);
    }
    if (arg == "--help" || arg == "-h") return Usage(usage, "");
    if (std::find(flags.begin(), flags.end(), arg) == flags.end()) {
      if (!arg.empty() && arg[0] == '-') return Usage(usage, StrCat("unknown option '", arg, "'"));
      return Usage(usage, StrCat("unexpected argument '", arg, "'"));
    }
    if (!value) {
      if (i + 1 >= argc) return Usage(usage, StrCat(arg, " needs a value"));
      value = argv[++i];
    }
    if (std::optional<int> exit = on_flag(arg, *value)) return exit;
  }
  return std::nullopt;
}

// --- serve -------------------------------------------------------------------------------

int Serve(int argc, char** argv) {
  std::string config_path;
  std::optional<spdlog::level::level_enum> log_level;
  std::optional<LogFormat> log_format;
  const std::optional<int> exit = ForEachValueFlag(
      argc, argv, kServeUsage, {"--config", "--log-level", "--log-format"},
      [&](const std::string& flag, const std::string& value) -> std::optional<int> {
        if (flag == "--log-level") {
          const absl::StatusOr<spdlog::level::level_enum> level = ParseLogLevel(value);
          if (!level.ok())
            return Usage(kServeUsage, "--log-level needs trace, debug, info, warn, error or off");
          log_level = *level;
          return std::nullopt;
        }
        if (flag == "--log-format") {
          const absl::StatusOr<LogFormat> format = ParseLogFormat(value);
          if (!format.ok()) return Usage(kServeUsage, "--log-format needs text or json");
          log_format = *format;
          return std::nullopt;
        }
        if (value.empty()) return Usage(kServeUsage, "--config needs a file");
        config_path = value;
        return std::nullopt;
      });
  if (exit) return *exit;
  if (config_path.empty()) return Usage(kServeUsage, "missing --config FILE");
  const char* environment_token = std::getenv("SLUICE_TOKEN");
  const absl::StatusOr<ServerConfig> config =
      ServerConfig::Load(config_path, environment_token != nullptr ? environment_token : "");
  if (!config.ok()) {
    std::fprintf(stderr, "sluice serve: %s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  // The command line over the file.
  ConfigureLogging(log_level.value_or(config->log_level), log_format.value_or(config->log_format));
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  const absl::Status status = RunServer(*config, g_interrupted, [](const std::string& line) {
    std::fprintf(stderr, "sluice serve: %s\n", line.c_str());
    std::fflush(stderr);
  });
  if (!status.ok()) {
    std::fprintf(stderr, "sluice serve: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}

// --- kafka-mock ---------------------------------------------------------------------------

int KafkaMock(int argc, char** argv) {
  int brokers = 3;
  std::vector<std::pair<std::string, int>> topics;
  const std::optional<int> exit = ForEachValueFlag(
      argc, argv, kKafkaMockUsage, {"--brokers", "--topic"},
      [&](const std::string& flag, const std::string& value) -> std::optional<int> {
        if (flag == "--brokers") {
          if (!absl::SimpleAtoi(value, &brokers) || brokers < 1 || brokers > 64) {
            return Usage(kKafkaMockUsage, "--brokers needs a whole number from 1 to 64");
          }
          return std::nullopt;
        }
        const size_t colon = value.rfind(':');
        std::string name = value.substr(0, colon);
        int partitions = 4;
        if (colon != std::string::npos && (!absl::SimpleAtoi(value.substr(colon + 1), &partitions) ||
                                           partitions < 1 || partitions > 10000)) {
          return Usage(kKafkaMockUsage,
                       StrCat("--topic needs NAME or NAME:PARTITIONS (1 to 10000), not '", value, "'"));
        }
        if (name.empty()) return Usage(kKafkaMockUsage, "--topic needs a topic name");
        topics.emplace_back(std::move(name), partitions);
        return std::nullopt;
      });
  if (exit) return *exit;
  auto cluster = KafkaMockCluster::Start(brokers);
  if (!cluster.ok()) {
    std::fprintf(stderr, "sluice kafka-mock: %s\n", std::string(cluster.status().message()).c_str());
    return 1;
  }
  for (const auto& [name, partitions] : topics) {
    if (absl::Status created = (*cluster)->CreateTopic(name, partitions); !created.ok()) {
      std::fprintf(stderr, "sluice kafka-mock: %s\n", std::string(created.message()).c_str());
      return 1;
    }
  }
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  std::printf("bootstrap.servers=%s\n", (*cluster)->bootstrap_servers().c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "mock Kafka cluster: %d broker%s", brokers, brokers == 1 ? "" : "s");
  for (const auto& [name, partitions] : topics)
    std::fprintf(stderr, ", topic %s (%d partitions)", name.c_str(), partitions);
  std::fprintf(stderr, "; Ctrl-C stops it\n");
  while (!g_interrupted.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return 0;
}

// --- topology -----------------------------------------------------------------------------

int Topology(int argc, char** argv) {
  std::optional<int> parallelism;
  Placement placement = Placement::kCompact;
  const std::optional<int> exit = ForEachValueFlag(
      argc, argv, kTopologyUsage, {"--parallelism", "--placement"},
      [&](const std::string& flag, const std::string& value) -> std::optional<int> {
        if (flag == "--parallelism") {
          int workers = 0;
          if (!absl::SimpleAtoi(value, &workers) || workers < 1 || workers > 1024) {
            return Usage(kTopologyUsage, "--parallelism needs a whole number from 1 to 1024");
          }
          parallelism = workers;
          return std::nullopt;
        }
        auto parsed = ParsePlacement(value);
        if (!parsed.ok())
          return Usage(kTopologyUsage, StrCat("--placement: ", std::string(parsed.status().message())));
        placement = *parsed;
        return std::nullopt;
      });
  if (exit) return *exit;
  auto topology = DetectTopology();
  if (!topology.ok()) {
    std::fprintf(stderr, "sluice topology: %s\n", std::string(topology.status().message()).c_str());
    return 1;
  }
  const int workers = parallelism.value_or(static_cast<int>(topology->cpus.size()));
  std::fputs(topology->Describe().c_str(), stdout);
  std::fputs(DescribePlacement(PlaceWorkers(*topology, workers, placement), placement).c_str(), stdout);
  return 0;
}

}  // namespace

int CommandLineMain(int argc, char** argv) {
  if (argc < 2) return Usage(MainUsage().c_str(), "missing a command");
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") return Usage(MainUsage().c_str(), "");
  if (command == "--version" || command == "version") {
    std::printf("sluice %s\n", SLUICE_VERSION);
    return 0;
  }
  CommandOptions options;
  if (command == "run") {
    if (auto code = ParseOptions(argc, argv, 2, kRunUsage, true, options)) return *code;
    return Run(options);
  }
  if (command == "connectors") return Connectors(argc, argv, 2);
  if (command == "explain") {
    if (argc >= 3 && std::string(argv[2]) == "--connectors") return Connectors(argc, argv, 3);
    if (auto code = ParseOptions(argc, argv, 2, kExplainUsage, true, options)) return *code;
    return Explain(options);
  }
  if (command == "validate") {
    if (auto code = ParseOptions(argc, argv, 2, kValidateUsage, false, options)) return *code;
    return Validate(options);
  }
  if (command == "datagen") {
    DatagenOptions datagen;
    if (auto code = ParseDatagenOptions(argc, argv, datagen)) return *code;
    if (!datagen.kafka.empty()) {
      std::signal(SIGINT, OnInterrupt);
      std::signal(SIGTERM, OnInterrupt);
    }
    return Datagen(datagen);
  }
  if (command == "kafka-mock") return KafkaMock(argc, argv);
  if (command == "serve") return Serve(argc, argv);
  if (command == "topology") return Topology(argc, argv);
  return Usage(MainUsage().c_str(), StrCat("unknown command '", command, "'"));
}

}  // namespace sluice
