#include "cli/cli.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/strings.h"
#include "plan/binder.h"
#include "runtime/job_runner.h"
#include "sql/parser.h"

namespace sluice {
namespace {

constexpr const char* kMainUsage = R"(usage: sluice <command> [options]

Streaming SQL over files (and, later, Kafka).

commands:
  run JOB.sql        run every statement of the job until its sources are exhausted
  explain JOB.sql    print the logical and physical plans
  validate JOB.sql   parse and bind the job; print errors, run nothing

options:
  --help             this help (also: sluice <command> --help)
  --version          print the version
)";

constexpr const char* kRunUsage = R"(usage: sluice run JOB.sql [options]

Runs every statement of JOB.sql until its bounded sources are exhausted (Ctrl-C stops
cleanly: sinks are flushed). Progress goes to stderr once a second when stderr is a terminal;
a summary is printed at the end.

options:
  --set KEY=VALUE    value for ${KEY} / ${KEY:default} in WITH properties (repeatable)
  --batch-size N     rows per batch (default 1024, 1..1048576)
  --strict           fail on the first malformed record instead of dead-lettering it
  --quiet            no progress line and no summary
  --help             this help
)";

constexpr const char* kExplainUsage = R"(usage: sluice explain JOB.sql [--set KEY=VALUE]... [--batch-size N]

Prints each statement's logical plan and the physical plan (sources, operators, sinks).
)";

constexpr const char* kValidateUsage = R"(usage: sluice validate JOB.sql [--set KEY=VALUE]...

Parses and binds JOB.sql (names, types, properties, sources). Exit 0 when valid; otherwise
prints each error with its line and column.
)";

std::atomic<bool> g_interrupted{false};

void OnInterrupt(int) {
  g_interrupted.store(true);
}

struct CommandOptions {
  std::string job_path;
  std::map<std::string, std::string> variables;
  size_t batch_size = 1024;
  bool strict = false;
  bool quiet = false;
};

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

absl::StatusOr<BoundJob> LoadJob(const CommandOptions& options) {
  std::ifstream in(options.job_path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot read job file '", options.job_path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  SLUICE_ASSIGN_OR_RETURN(ParsedJob parsed, ParseJob(text.str()));
  BindOptions bind_options;
  bind_options.substitution.variables = options.variables;
  return BindJob(std::move(parsed), bind_options);
}

int ReportError(const CommandOptions& options, const absl::Status& status) {
  std::fprintf(stderr, "%s: error: %s\n", options.job_path.c_str(), std::string(status.message()).c_str());
  return 1;
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
  return out;
}

int Run(const CommandOptions& options) {
  auto job = LoadJob(options);
  if (!job.ok()) return ReportError(options, job.status());
  RunOptions run_options;
  run_options.batch_size = options.batch_size;
  run_options.strict = options.strict;
  run_options.cancel = &g_interrupted;
  auto runner = JobRunner::Create(*job, run_options);
  if (!runner.ok()) return ReportError(options, runner.status());
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  const bool terminal = isatty(STDERR_FILENO) != 0 && !options.quiet;
  auto progress = [&](const JobCounters& c) {
    std::fprintf(stderr, "\r%s ", Summary(c).c_str());
    std::fflush(stderr);
  };
  absl::Status status =
      (*runner)->Run(terminal ? std::function<void(const JobCounters&)>(progress) : nullptr);
  const JobCounters counters = (*runner)->counters();
  if (terminal) std::fputc('\n', stderr);
  if (!options.quiet || !status.ok()) {
    std::fprintf(stderr, "%s%s\n", counters.cancelled ? "interrupted; " : "", Summary(counters).c_str());
    for (const auto& file : counters.dead_letter_files) {
      std::fprintf(stderr, "dead-letter records written to %s\n", file.c_str());
    }
  }
  if (!status.ok()) return ReportError(options, status);
  return counters.cancelled ? 130 : 0;
}

int Explain(const CommandOptions& options) {
  auto job = LoadJob(options);
  if (!job.ok()) return ReportError(options, job.status());
  for (size_t i = 0; i < job->statements.size(); ++i) {
    const BoundStatement& statement = job->statements[i];
    std::printf("statement %zu: %s\n", i + 1, statement.name.c_str());
    std::printf("logical plan:\n%s", statement.plan->ToString(1).c_str());
  }
  RunOptions run_options;
  run_options.batch_size = options.batch_size;
  auto runner = JobRunner::Create(*job, run_options);
  if (!runner.ok()) return ReportError(options, runner.status());
  std::printf("physical plan:\n%s", (*runner)->Explain().c_str());
  return 0;
}

int Validate(const CommandOptions& options) {
  auto job = LoadJob(options);
  if (!job.ok()) return ReportError(options, job.status());
  std::printf("%s: ok (%zu statement%s)\n", options.job_path.c_str(), job->statements.size(),
              job->statements.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace

int CommandLineMain(int argc, char** argv) {
  if (argc < 2) return Usage(kMainUsage, "missing a command");
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") return Usage(kMainUsage, "");
  if (command == "--version" || command == "version") {
    std::printf("sluice %s\n", SLUICE_VERSION);
    return 0;
  }
  CommandOptions options;
  if (command == "run") {
    if (auto code = ParseOptions(argc, argv, 2, kRunUsage, true, options)) return *code;
    return Run(options);
  }
  if (command == "explain") {
    if (auto code = ParseOptions(argc, argv, 2, kExplainUsage, true, options)) return *code;
    return Explain(options);
  }
  if (command == "validate") {
    if (auto code = ParseOptions(argc, argv, 2, kValidateUsage, false, options)) return *code;
    return Validate(options);
  }
  return Usage(kMainUsage, StrCat("unknown command '", command, "'"));
}

}  // namespace sluice
