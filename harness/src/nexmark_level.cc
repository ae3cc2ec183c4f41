#include "nexmark_level.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "bench_sources.h"
#include "catalog/connector_registry.h"
#include "common/strings.h"
#include "connectors/dead_letter_writer.h"
#include "json_writer.h"
#include "machine.h"
#include "nexmark_generator.h"
#include "plan/binder.h"
#include "runtime/job_runner.h"
#include "simdjson.h"
#include "sql/parser.h"

namespace sluice::bench {

absl::StatusOr<FlinkPublished> ParseFlinkPublished(const std::string& json_text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto error = parser.parse(json_text).get(doc); error)
    return absl::InvalidArgumentError(StrCat("not JSON: ", simdjson::error_message(error)));
  FlinkPublished published;
  simdjson::dom::object source;
  if (doc["source"].get_object().get(source))
    return absl::InvalidArgumentError("no \"source\" object (where the figures come from)");
  std::string_view text;
  std::string repository, commit, file, section;
  if (!source["repository"].get_string().get(text)) repository = text;
  if (!source["commit"].get_string().get(text)) commit = text;
  if (!source["file"].get_string().get(text)) file = text;
  if (!source["section"].get_string().get(text)) section = text;
  if (repository.empty() || commit.empty())
    return absl::InvalidArgumentError("\"source\" must name the repository and the commit");
  published.source = StrCat(repository, " at ", commit, ", ", file, ", '", section, "'");
  if (!source["flink_version"].get_string().get(text)) published.flink_version = text;
  if (!source["machines"].get_string().get(text)) published.machines = text;
  simdjson::dom::object queries;
  if (doc["queries"].get_object().get(queries)) return absl::InvalidArgumentError("no \"queries\" object");
  for (auto [name, value] : queries) {
    FlinkFigure figure;
    int64_t events = 0;
    std::string_view printed;
    if (value["events"].get_int64().get(events) || value["cores"].get_double().get(figure.cores) ||
        value["seconds"].get_double().get(figure.seconds) || events <= 0 || !(figure.cores > 0) ||
        !(figure.seconds > 0)) {
      return absl::InvalidArgumentError(
          StrCat("query '", name, "' needs positive \"events\", \"cores\" and \"seconds\""));
    }
    figure.events = static_cast<uint64_t>(events);
    if (!value["throughput_per_core_as_printed"].get_string().get(printed)) figure.printed_per_core = printed;
    published.queries[std::string(name)] = figure;
  }
  simdjson::dom::object missing;
  if (!doc["not_published"].get_object().get(missing)) {
    for (auto [name, value] : missing) {
      std::string_view why;
      published.not_published[std::string(name)] = value.get_string().get(why) ? "" : std::string(why);
    }
  }
  return published;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::optional<double> RatioToFlink(double sluice_per_core, const FlinkFigure* flink) {
  if (flink == nullptr || !(flink->PerCore() > 0)) return std::nullopt;
  return sluice_per_core / flink->PerCore();
}

absl::StatusOr<std::vector<std::string>> ListNexmarkQueries(const std::string& directory) {
  std::error_code error;
  std::vector<std::pair<long, std::string>> found;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    const std::string stem = entry.path().stem().string();
    if (entry.path().extension() != ".sql" || stem.size() < 2 || stem[0] != 'q') continue;
    if (!std::all_of(stem.begin() + 1, stem.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    found.emplace_back(std::stol(stem.substr(1)), stem);
  }
  if (error) return absl::NotFoundError(StrCat("cannot list ", directory, ": ", error.message()));
  if (found.empty()) return absl::NotFoundError(StrCat("no qN.sql files in ", directory));
  std::sort(found.begin(), found.end());
  std::vector<std::string> names;
  for (auto& [number, name] : found) names.push_back(std::move(name));
  return names;
}

bool NexmarkLevelResult::ok() const {
  return std::none_of(queries.begin(), queries.end(),
                      [](const NexmarkQueryResult& query) { return query.outcome == "failed"; });
}

namespace {

using Clock = std::chrono::steady_clock;

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string HumanRate(double rate) {
  char text[32];
  if (rate >= 1e6) {
    std::snprintf(text, sizeof text, "%.2fM", rate / 1e6);
  } else if (rate >= 1e3) {
    std::snprintf(text, sizeof text, "%.1fK", rate / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.0f", rate);
  }
  return text;
}

// Writes persons/auctions/bids/side_input.jsonl for `options` into `directory`, unless a
// previous run left them there complete (a marker file is written last).
absl::Status GenerateEvents(const NexmarkLevelOptions& options, const std::string& directory) {
  const std::string done = directory + "/complete";
  if (std::filesystem::exists(done)) return absl::OkStatus();
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) return absl::InternalError(StrCat("cannot create ", directory, ": ", error.message()));
  NexmarkGeneratorOptions generator_options;
  generator_options.count = options.events;
  generator_options.events_per_second = options.events_per_second;
  SLUICE_RETURN_IF_ERROR(NexmarkGenerator::Validate(generator_options));
  NexmarkGenerator generator(generator_options);
  std::ofstream persons(directory + "/persons.jsonl", std::ios::binary);
  std::ofstream auctions(directory + "/auctions.jsonl", std::ios::binary);
  std::ofstream bids(directory + "/bids.jsonl", std::ios::binary);
  std::string person_text, auction_text, bid_text;
  while (generator.AppendJsonLines(65536, person_text, auction_text, bid_text) > 0) {
    persons << person_text;
    auctions << auction_text;
    bids << bid_text;
    person_text.clear();
    auction_text.clear();
    bid_text.clear();
  }
  std::string side_input;
  NexmarkGenerator::AppendSideInputJsonLines(side_input);
  std::ofstream(directory + "/side_input.jsonl", std::ios::binary) << side_input;
  persons.close();
  auctions.close();
  bids.close();
  if (!persons || !auctions || !bids)
    return absl::InternalError(StrCat("cannot write the events to ", directory));
  std::ofstream(done) << options.events << "\n";
  return absl::OkStatus();
}

// A sink that counts the rows it receives and drops them: Flink's 'blackhole'.
class BlackholeSink final : public SinkOperator {
 public:
  absl::Status Open() override { return absl::OkStatus(); }
  absl::Status Push(const Batch& batch) override {
    rows_ += batch.active_rows();
    return absl::OkStatus();
  }
  uint64_t rows_written() const override { return rows_; }
  std::string Describe() const override { return "BlackholeSink"; }

 private:
  uint64_t rows_ = 0;
};

// A source's decoded batches, per partition (file), kept in memory for every run.
struct DecodedSource {
  std::vector<std::vector<Batch>> batches;      // per partition
  std::vector<std::vector<BatchSlice>> slices;  // per partition, over `batches`
  uint64_t records = 0;
};

// The decoded files of every source read so far, by its files and schema: the queries declare
// the same tables, decoded once.
class DecodedInputs {
 public:
  // The batches of `source`, decoding its files with its own connector on first use.
  absl::StatusOr<const DecodedSource*> Get(const SourceDefinition& source, size_t batch_size) {
    const std::string key = StrCat(StrJoin(source.partitions, ","), "|", source.format, "|",
                                   source.schema.ToString(), "|", source.max_out_of_orderness_millis);
    auto found = cache_.find(key);
    if (found != cache_.end()) return found->second.get();
    const SourceConnector* connector = ConnectorRegistry::Default().FindSource(source.type);
    if (connector == nullptr || !connector->create)
      return absl::InvalidArgumentError(StrCat("source '", source.name, "' has no connector"));
    auto decoded = std::make_unique<DecodedSource>();
    for (size_t p = 0; p < source.partitions.size(); ++p) {
      // Strict: a record the decoder rejects fails here instead of being dead-lettered.
      std::unique_ptr<SourcePartition> reader = connector->create(
          source, p, std::make_shared<DeadLetterWriter>(source.name, source.dead_letter_path),
          SourceReaderOptions{batch_size, /*strict=*/true, {}, nullptr});
      SLUICE_RETURN_IF_ERROR(reader->Open());
      std::vector<Batch>& batches = decoded->batches.emplace_back();
      Batch batch;
      while (true) {
        SLUICE_ASSIGN_OR_RETURN(const bool more, reader->Next(batch));
        if (!more) break;
        if (batch.has_selection() || batch.has_row_kinds())
          return absl::InternalError(StrCat("source '", source.name, "': a decoded batch with a selection"));
        if (batch.num_rows() == 0) continue;
        decoded->records += batch.num_rows();
        batches.emplace_back().ShareColumns(batch);  // holds the columns: the reader takes new ones
        batch.Release();
      }
      SLUICE_RETURN_IF_ERROR(reader->Close());
    }
    for (const std::vector<Batch>& batches : decoded->batches) {
      std::vector<BatchSlice>& slices = decoded->slices.emplace_back();
      for (const Batch& batch : batches) slices.push_back(BatchSlice{&batch, {}});
    }
    return (cache_[key] = std::move(decoded)).get();
  }

 private:
  std::map<std::string, std::unique_ptr<DecodedSource>> cache_;
};

struct RunOutcome {
  absl::Status status;
  double seconds = 0;
  JobCounters counters;
  uint64_t output_rows = 0;
};

// One run of `job`. `decoded` null: the job's own sources (its files, decoded in the run); else
// the decoded batches of every source it holds.
RunOutcome RunOnce(const BoundJob& job, const std::map<std::string, const DecodedSource*>* decoded,
                   const NexmarkLevelOptions& options) {
  RunOutcome outcome;
  RunOptions run_options;
  run_options.batch_size = options.batch_size;
  run_options.parallelism = 1;
  std::vector<BlackholeSink*> sinks;
  run_options.make_sink = [&sinks](const BoundStatement&) -> std::unique_ptr<SinkOperator> {
    auto sink = std::make_unique<BlackholeSink>();
    sinks.push_back(sink.get());
    return sink;
  };
  if (decoded != nullptr) {
    run_options.make_source =
        [decoded, &options](
            const SourceDefinition& source, size_t partition,
            std::shared_ptr<DeadLetterWriter> dead_letters) -> std::unique_ptr<SourcePartition> {
      auto found = decoded->find(source.name);
      if (found != decoded->end()) {
        return std::make_unique<MemorySource>(&found->second->slices[partition],
                                              source.max_out_of_orderness_millis);
      }
      // No event-time field: its time is when the record is read, so the file is read in the run.
      return ConnectorRegistry::Default()
          .FindSource(source.type)
          ->create(source, partition, std::move(dead_letters),
                   SourceReaderOptions{options.batch_size, false, {}, nullptr});
    };
  }
  auto runner = JobRunner::Create(job, run_options);
  if (!runner.ok()) {
    outcome.status = runner.status();
    return outcome;
  }
  std::optional<ScopedThreadPin> pin;
  if (options.cpu >= 0) pin.emplace(options.cpu);
  const auto start = Clock::now();
  outcome.status = (*runner)->Run();
  outcome.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  outcome.counters = (*runner)->counters();
  for (const BlackholeSink* sink : sinks) outcome.output_rows += sink->rows_written();
  return outcome;
}

void Summarize(uint64_t events, const std::optional<FlinkFigure>& flink, NexmarkRate& rate) {
  std::vector<double> rates;
  for (double seconds : rate.seconds) rates.push_back(static_cast<double>(events) / seconds);
  rate.median = Median(rates);
  rate.min = *std::min_element(rates.begin(), rates.end());
  rate.max = *std::max_element(rates.begin(), rates.end());
  if (flink) rate.ratio = RatioToFlink(rate.median, &*flink);
}

// Runs one bound query: rounds of a file run and a memory run (warm-up rounds first), each run
// checked for failure, dead letters, late drops, and its row and event counts against the first.
void MeasureQuery(const BoundJob& job, const std::map<std::string, const DecodedSource*>& decoded,
                  const NexmarkLevelOptions& options, NexmarkQueryResult& result) {
  std::optional<uint64_t> rows, events;
  const int rounds = options.warmup_runs + options.runs;
  for (int round = 0; round < rounds; ++round) {
    for (const bool from_memory : {false, true}) {
      const RunOutcome outcome = RunOnce(job, from_memory ? &decoded : nullptr, options);
      const std::string which = StrCat(from_memory ? "memory" : "file", " run ", round + 1, " of ", rounds);
      std::string problem;
      if (!outcome.status.ok()) {
        problem = StrCat(which, " failed: ", outcome.status.message());
      } else if (outcome.counters.dead_lettered > 0) {
        problem = StrCat(which, " dead-lettered ", outcome.counters.dead_lettered, " records");
      } else if (outcome.counters.late_dropped > 0) {
        problem = StrCat(which, " dropped ", outcome.counters.late_dropped, " rows as late");
      } else if (rows && (*rows != outcome.output_rows || *events != outcome.counters.records_in)) {
        problem = StrCat(which, " wrote ", outcome.output_rows, " rows from ", outcome.counters.records_in,
                         " events; the first file run wrote ", *rows, " from ", *events);
      } else if (outcome.counters.records_in == 0) {
        problem = StrCat(which, " read no events");
      }
      if (!problem.empty()) {
        result.outcome = "failed";
        result.message = problem;
        return;
      }
      rows = outcome.output_rows;
      events = outcome.counters.records_in;
      if (round >= options.warmup_runs)
        (from_memory ? result.memory : result.file).seconds.push_back(outcome.seconds);
    }
  }
  result.outcome = "ran";
  result.events = *events;
  result.output_rows = *rows;
  Summarize(result.events, result.flink, result.file);
  Summarize(result.events, result.flink, result.memory);
}

}  // namespace

absl::StatusOr<NexmarkLevelResult> RunNexmarkLevel(const NexmarkLevelOptions& options) {
  NexmarkLevelResult result;
  result.generated_events = options.events;
  result.events_per_second = options.events_per_second;
  result.runs = options.runs;
  result.warmup_runs = options.warmup_runs;
  result.batch_size = options.batch_size;
  const std::string nexmark_dir = StrCat(options.source_dir, "/scenarios/nexmark");
  const std::string figures_path = StrCat(nexmark_dir, "/flink_published.json");
  if (!std::filesystem::exists(figures_path)) return absl::NotFoundError(StrCat("no ", figures_path));
  auto figures = ParseFlinkPublished(ReadText(figures_path));
  if (!figures.ok())
    return absl::InvalidArgumentError(StrCat(figures_path, ": ", figures.status().message()));
  result.flink = std::move(*figures);
  SLUICE_ASSIGN_OR_RETURN(const std::vector<std::string> names, ListNexmarkQueries(nexmark_dir + "/flink"));

  const std::string data_dir = StrCat(options.work_dir, "/events-", options.events, "-rate-",
                                      static_cast<uint64_t>(options.events_per_second));
  const auto generate_start = Clock::now();
  SLUICE_RETURN_IF_ERROR(GenerateEvents(options, data_dir));
  std::fprintf(
      stderr, "nexmark level: %llu events (%.0f/s of event time) in %s (%.1f s); Flink's figures: %s\n",
      static_cast<unsigned long long>(options.events), options.events_per_second, data_dir.c_str(),
      std::chrono::duration<double>(Clock::now() - generate_start).count(), result.flink.source.c_str());

  DecodedInputs inputs;
  for (const std::string& name : names) {
    NexmarkQueryResult& query = result.queries.emplace_back();
    query.query = name;
    if (auto found = result.flink.queries.find(name); found != result.flink.queries.end())
      query.flink = found->second;
    const std::string path = StrCat(nexmark_dir, "/flink/", name, ".sql");
    BindOptions bind_options;
    bind_options.substitution.use_environment = false;
    bind_options.substitution.variables["NEXMARK"] = data_dir;
    bind_options.substitution.variables["OUTPUT"] = StrCat(options.work_dir, "/unused-output-", name);
    absl::StatusOr<BoundJob> job = [&]() -> absl::StatusOr<BoundJob> {
      SLUICE_ASSIGN_OR_RETURN(ParsedJob parsed, ParseJob(ReadText(path)));
      return BindJob(std::move(parsed), bind_options);
    }();
    if (!job.ok()) {
      query.outcome = "refused";
      query.message = std::string(job.status().message());
      std::string first_line = query.message.substr(0, query.message.find('\n'));
      std::fprintf(stderr, "nexmark %-4s refused at bind: %s\n", name.c_str(), first_line.c_str());
      continue;
    }
    std::map<std::string, const DecodedSource*> decoded;
    std::vector<std::string> modes;
    bool decode_failed = false;
    for (const SourceDefinition& source : job->sources) {
      if (!source.has_event_time) {
        modes.push_back(StrCat(source.name, ": file (no event time)"));
        continue;
      }
      auto batches = inputs.Get(source, options.batch_size);
      if (!batches.ok()) {
        query.outcome = "failed";
        query.message = StrCat("decoding source '", source.name, "': ", batches.status().message());
        decode_failed = true;
        break;
      }
      decoded[source.name] = *batches;
      modes.push_back(StrCat(source.name, ": memory"));
    }
    query.memory_sources = StrJoin(modes, ", ");
    if (!decode_failed) MeasureQuery(*job, decoded, options, query);
    if (query.outcome == "failed") {
      std::fprintf(stderr, "nexmark %-4s FAILED: %s\n", name.c_str(), query.message.c_str());
      continue;
    }
    auto describe = [&](const NexmarkRate& rate) {
      std::string text =
          StrCat(HumanRate(rate.median), " (", HumanRate(rate.min), "-", HumanRate(rate.max), ")");
      if (rate.ratio) {
        char ratio[32];
        std::snprintf(ratio, sizeof ratio, " %.1fx", *rate.ratio);
        text += ratio;
      }
      return text;
    };
    std::fprintf(
        stderr,
        "nexmark %-4s events/s per core, median of %d: file %s, memory %s; %s; %llu events, %llu rows "
        "out\n",
        name.c_str(), options.runs, describe(query.file).c_str(), describe(query.memory).c_str(),
        query.flink ? StrCat("Flink ", HumanRate(query.flink->PerCore()), "/core").c_str()
                    : "Flink published no figure",
        static_cast<unsigned long long>(query.events), static_cast<unsigned long long>(query.output_rows));
  }
  int ran = 0, refused = 0, failed = 0;
  for (const NexmarkQueryResult& query : result.queries) {
    ran += query.outcome == "ran";
    refused += query.outcome == "refused";
    failed += query.outcome == "failed";
  }
  std::fprintf(stderr, "nexmark level: %d of %zu queries ran, %d refused at bind, %d failed; %.1f s\n", ran,
               result.queries.size(), refused, failed,
               std::chrono::duration<double>(Clock::now() - generate_start).count());
  return result;
}

std::string NexmarkLevelJson(const NexmarkLevelResult& result, const std::string& run_id) {
  JsonWriter json;
  json.BeginObject()
      .String("run_id", run_id)
      .String("level", "nexmark")
      .Integer("generated_events", static_cast<int64_t>(result.generated_events))
      .Number("event_time_events_per_second", result.events_per_second)
      .Integer("parallelism", 1)
      .Integer("runs", result.runs)
      .Integer("warmup_runs", result.warmup_runs)
      .Integer("batch_size", static_cast<int64_t>(result.batch_size));
  json.BeginObject("flink")
      .String("source", result.flink.source)
      .String("flink_version", result.flink.flink_version)
      .String("machines", result.flink.machines)
      .EndObject();
  json.BeginArray("queries");
  for (const NexmarkQueryResult& query : result.queries) {
    json.BeginObject()
        .String("query", query.query)
        .String("outcome", query.outcome)
        .String("message", query.message);
    if (query.outcome == "ran") {
      json.Integer("events", static_cast<int64_t>(query.events))
          .Integer("output_rows", static_cast<int64_t>(query.output_rows))
          .String("memory_sources", query.memory_sources);
      for (const auto& [key, rate] : {std::pair<const char*, const NexmarkRate*>{"file", &query.file},
                                      std::pair<const char*, const NexmarkRate*>{"memory", &query.memory}}) {
        json.BeginObject(key);
        json.BeginArray("seconds");
        for (double seconds : rate->seconds) json.Number("", seconds);
        json.EndArray();
        json.BeginObject("events_per_second_per_core")
            .Number("median", rate->median)
            .Number("min", rate->min)
            .Number("max", rate->max)
            .EndObject();
        json.OptionalNumber("ratio_to_flink", rate->ratio);
        json.EndObject();
      }
    }
    if (query.flink) {
      json.BeginObject("flink_published")
          .Integer("events", static_cast<int64_t>(query.flink->events))
          .Number("cores", query.flink->cores)
          .Number("seconds", query.flink->seconds)
          .Number("events_per_second_per_core", query.flink->PerCore())
          .String("printed", query.flink->printed_per_core)
          .EndObject();
    } else {
      auto why = result.flink.not_published.find(query.query);
      json.Null("flink_published")
          .String("flink_missing",
                  why != result.flink.not_published.end() ? why->second : "not in Flink's published table");
    }
    json.EndObject();
  }
  json.EndArray().EndObject();
  return json.text();
}

}  // namespace sluice::bench
