// sluice-bench: the benchmark lab's harness. See `sluice-bench --help` and README.md
// ("Benchmarks").
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench_runner.h"
#include "common/strings.h"

namespace {

constexpr const char* kUsage =
    R"(usage: sluice-bench [options]

Runs the scenarios of scenarios/ on Sluice at core level (columnar batches from memory),
codec level (JSON Lines file -> decode -> query -> JSON encode) and latency level (a paced
source at half the measured core rate), checks every run's output against SQLite's result on
the same data, runs the reference engine (DuckDB, one thread) on the same data, runs the state
and nexmark levels, and writes one JSON file per measurement (and one per state or nexmark
level) to <results>/<UTC time>-<commit>/ (printed on stdout at the end).
Exit status: 0 when every check passed, 1 when a run failed its check or could not run, 2 on
a usage error.

options:
  --scenarios LIST    comma-separated scenario folders (default: all)
  --levels LIST       core,codec,latency,e2e,checkpoint,metrics,state,nexmark (default: what
                      each scenario.json lists, state and nexmark); e2e is Kafka -> query ->
                      Kafka on the local mock cluster (sluice kafka-mock); checkpoint is the
                      core level with and without durable checkpoints; metrics the core level
                      with and without a scraped /metrics; state a GROUP BY over 50M keys (1M
                      with --quick) with the in-memory and the RocksDB state backend, the
                      second in a capped memory cgroup (scenarios/state_backends/, run as the
                      scenario state_backends); nexmark every query of
                      scenarios/nexmark/flink/ that binds, on one core, on 10M events (200K
                      with --quick; --records N: N), with its ratio to Flink's published
                      per-core figure (run as the scenario nexmark)
  --threads LIST      thread counts for the core level (default: each scenario's)
  --quick             the scenarios' quick record counts (default: their default counts)
  --scale X           multiply record counts by X (also BENCH_SCALE in the environment)
  --records N         run every scenario on exactly N records
  --runs N            timed runs per measurement (default 5), after --warmup N (default 1)
  --batch-size N      rows per batch (default 1024)
  --no-peer           skip the reference engine
  --source-dir DIR    the repository (default .): scenarios/, harness/peers/, git commit
  --results DIR       where run folders go (default <source-dir>/results)
  --data-dir DIR      generated data and cached expected results (default build/bench-data)
  --gate              for `make gate`: each scenario once, core level, one thread, checked
                      against SQLite, no result files; prints one `gate ...` line per scenario
                      (output and expected row counts, check passed/FAILED); callgrind counts
                      only the query's run, without the checking sink's work
  --help              this help
)";

bool ParseList(const std::string& text, std::vector<std::string>& out) {
  for (std::string_view item : sluice::StrSplit(text, ',', /*skip_blank=*/true)) out.emplace_back(item);
  return !out.empty();
}

bool ParsePositive(const std::string& text, long long& out) {
  char* end = nullptr;
  out = std::strtoll(text.c_str(), &end, 10);
  return !text.empty() && *end == '\0' && out > 0;
}

int Usage(const std::string& error) {
  std::fprintf(stderr, "sluice-bench: %s\n\n%s", error.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  sluice::bench::BenchOptions options;
  bool results_set = false;
  if (const char* scale = std::getenv("BENCH_SCALE"); scale != nullptr && *scale != '\0') {
    char* end = nullptr;
    options.scale = std::strtod(scale, &end);
    if (*end != '\0' || !(options.scale > 0))
      return Usage(sluice::StrCat("BENCH_SCALE='", scale, "' is not a positive number"));
  }
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string text;
    long long number = 0;
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (flag == "--scenarios") {
      if (!value(text) || !ParseList(text, options.scenarios))
        return Usage("--scenarios needs a list of names");
    } else if (flag == "--levels") {
      if (!value(text) || !ParseList(text, options.levels))
        return Usage("--levels needs core, codec, latency, e2e, checkpoint, metrics, state and/or nexmark");
      for (const std::string& level : options.levels) {
        if (level != "core" && level != "codec" && level != "latency" && level != "e2e" &&
            level != "checkpoint" && level != "metrics" && level != "state" && level != "nexmark") {
          return Usage(sluice::StrCat("unknown level '", level,
                                      "' (core, codec, latency, e2e, checkpoint, metrics, state, nexmark)"));
        }
      }
    } else if (flag == "--threads") {
      std::vector<std::string> items;
      if (!value(text) || !ParseList(text, items)) return Usage("--threads needs a list of counts");
      for (const std::string& item : items) {
        if (!ParsePositive(item, number) || number > 1024)
          return Usage(sluice::StrCat("bad thread count '", item, "'"));
        options.threads.push_back(static_cast<int>(number));
      }
    } else if (flag == "--quick") {
      options.quick = true;
    } else if (flag == "--scale") {
      char* end = nullptr;
      if (!value(text)) return Usage("--scale needs a number");
      options.scale = std::strtod(text.c_str(), &end);
      if (*end != '\0' || !(options.scale > 0))
        return Usage(sluice::StrCat("--scale '", text, "' is not a positive number"));
    } else if (flag == "--records") {
      if (!value(text) || !ParsePositive(text, number)) return Usage("--records needs a positive count");
      options.records = static_cast<uint64_t>(number);
    } else if (flag == "--runs") {
      if (!value(text) || !ParsePositive(text, number) || number > 1000)
        return Usage("--runs needs a count (1-1000)");
      options.runs = static_cast<int>(number);
    } else if (flag == "--warmup") {
      if (!value(text)) return Usage("--warmup needs a count");
      options.warmup_runs = std::atoi(text.c_str());
      if (options.warmup_runs < 0 || options.warmup_runs > 100)
        return Usage("--warmup needs a count (0-100)");
    } else if (flag == "--batch-size") {
      if (!value(text) || !ParsePositive(text, number) || number > 1 << 20)
        return Usage("--batch-size needs 1..1048576");
      options.batch_size = static_cast<size_t>(number);
    } else if (flag == "--no-peer") {
      options.peer = false;
    } else if (flag == "--source-dir") {
      if (!value(options.source_dir)) return Usage("--source-dir needs a folder");
    } else if (flag == "--results") {
      if (!value(options.results_dir)) return Usage("--results needs a folder");
      results_set = true;
    } else if (flag == "--data-dir") {
      if (!value(options.data_dir)) return Usage("--data-dir needs a folder");
    } else if (flag == "--gate") {
      options.gate = true;
    } else {
      return Usage(sluice::StrCat("unknown option '", flag, "'"));
    }
  }
  options.scenarios_dir = options.source_dir + "/scenarios";
  if (!results_set) options.results_dir = options.source_dir + "/results";
  std::string run_dir;
  const int status = sluice::bench::RunBenchmarks(options, &run_dir);
  if (!run_dir.empty()) std::printf("%s\n", run_dir.c_str());
  return status;
}
