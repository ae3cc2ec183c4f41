#include "state_backend_level.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "common/strings.h"
#include "json_writer.h"
#include "simdjson.h"

namespace sluice::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Keys: the key number times an odd constant modulo 2^48, a bijection on [0, 2^48) whose inverse
// turns an output row's key back into its number.
constexpr uint64_t kKeyMask = (uint64_t{1} << 48) - 1;
constexpr uint64_t kKeyMultiplier = 0x9E3779B97F4A7C15ull & kKeyMask;  // odd

}  // namespace

uint64_t StateLevelKey(uint64_t number) {
  return (number * kKeyMultiplier) & kKeyMask;
}

namespace {

uint64_t KeyOf(uint64_t number) {
  return StateLevelKey(number);
}

uint64_t InverseMultiplier() {
  // Newton's iteration for the inverse modulo 2^64 (each step doubles the correct low bits).
  uint64_t inverse = kKeyMultiplier;
  for (int i = 0; i < 6; ++i) inverse *= 2 - kKeyMultiplier * inverse;
  return inverse;
}

}  // namespace

int64_t StateLevelQuantity(uint64_t record) {
  uint64_t x = record + 0x632BE59BD9B4E019ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  return 1 + static_cast<int64_t>(x % 1000);
}

namespace {

int64_t QuantityOf(uint64_t record) {
  return StateLevelQuantity(record);
}

absl::Status WriteData(const std::string& path, uint64_t keys, uint64_t records) {
  const std::string partial = path + ".partial";
  std::FILE* out = std::fopen(partial.c_str(), "w");
  if (out == nullptr)
    return absl::InternalError(StrCat("cannot write ", partial, ": ", std::strerror(errno)));
  std::string buffer;
  buffer.reserve(1 << 20);
  for (uint64_t i = 0; i < records; ++i) {
    StrAppend(&buffer, "{\"k\":", KeyOf(i % keys), ",\"q\":", QuantityOf(i), "}\n");
    if (buffer.size() > (1 << 20) - 64) {
      std::fwrite(buffer.data(), 1, buffer.size(), out);
      buffer.clear();
    }
  }
  std::fwrite(buffer.data(), 1, buffer.size(), out);
  if (std::fclose(out) != 0) return absl::InternalError(StrCat("cannot write ", partial));
  std::error_code error;
  std::filesystem::rename(partial, path, error);
  if (error) return absl::InternalError(StrCat("cannot rename ", partial, ": ", error.message()));
  return absl::OkStatus();
}

// A memory cgroup for one command: v2 when this process may create a child of its own cgroup
// with a memory.max, else v1's memory hierarchy. Removed when the object dies.
class MemoryCgroup {
 public:
  // Creates the cgroup with `limit` bytes, or says why it cannot.
  static absl::StatusOr<std::unique_ptr<MemoryCgroup>> Create(uint64_t limit) {
    const std::string name = StrCat("sluice-bench-state-", getpid());
    std::string problems;
    // cgroup v2: this process's cgroup, from /proc/self/cgroup's "0::/path" line.
    std::ifstream self("/proc/self/cgroup");
    std::string line;
    while (std::getline(self, line)) {
      if (line.rfind("0::", 0) != 0) continue;
      for (const std::string root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
        if (!std::filesystem::exists(root + "/cgroup.controllers")) continue;
        const std::string dir = StrCat(root, line.substr(3), "/", name);
        auto made = Make(dir, "memory.max", limit, "cgroup v2");
        if (made.ok()) return made;
        StrAppend(&problems, made.status().message(), "; ");
      }
    }
    if (std::filesystem::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes")) {
      auto made = Make(StrCat("/sys/fs/cgroup/memory/", name), "memory.limit_in_bytes", limit, "cgroup v1");
      if (made.ok()) return made;
      StrAppend(&problems, made.status().message(), "; ");
    }
    if (problems.empty()) problems = "no cgroup memory controller on this machine";
    return absl::UnavailableError(problems);
  }

  ~MemoryCgroup() { rmdir(dir_.c_str()); }

  const std::string& description() const { return description_; }
  // Moves the calling process in (a forked child, before exec). Async-signal-safe.
  bool JoinSelf() const {
    const int fd = open(procs_.c_str(), O_WRONLY);
    if (fd < 0) return false;
    char text[24];
    const int length = std::snprintf(text, sizeof text, "%d", static_cast<int>(getpid()));
    const bool ok = write(fd, text, static_cast<size_t>(length)) == length;
    close(fd);
    return ok;
  }
  // The cgroup's peak usage (v1's memory.max_usage_in_bytes, v2's memory.peak), or 0.
  uint64_t PeakBytes() const {
    for (const char* file : {"memory.max_usage_in_bytes", "memory.peak"}) {
      std::ifstream in(StrCat(dir_, "/", file));
      uint64_t bytes = 0;
      if (in >> bytes) return bytes;
    }
    return 0;
  }

 private:
  static absl::StatusOr<std::unique_ptr<MemoryCgroup>> Make(const std::string& dir, const char* limit_file,
                                                            uint64_t limit, const char* kind) {
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
      return absl::UnavailableError(StrCat(kind, ": cannot create ", dir, ": ", std::strerror(errno)));
    auto cgroup = std::unique_ptr<MemoryCgroup>(new MemoryCgroup());
    cgroup->dir_ = dir;
    cgroup->procs_ = StrCat(dir, "/cgroup.procs");
    std::ofstream out(StrCat(dir, "/", limit_file));
    out << limit;
    out.close();
    if (!out) return absl::UnavailableError(StrCat(kind, ": cannot write ", dir, "/", limit_file));
    // v1 without swap accounting limits memory alone; with it, memory and swap together too.
    if (std::filesystem::exists(StrCat(dir, "/memory.memsw.limit_in_bytes"))) {
      std::ofstream swap(StrCat(dir, "/memory.memsw.limit_in_bytes"));
      swap << limit;
    }
    if (std::filesystem::exists(StrCat(dir, "/memory.swap.max"))) {
      std::ofstream swap(StrCat(dir, "/memory.swap.max"));
      swap << 0;
    }
    cgroup->description_ = StrCat(kind, " ", dir);
    return cgroup;
  }

  std::string dir_;
  std::string procs_;
  std::string description_;
};

}  // namespace

std::string CheckStateLevelOutput(const std::string& output, uint64_t keys, uint64_t records, uint64_t* rows,
                                  bool* ok) {
  *ok = false;
  *rows = 0;
  std::ifstream in(output);
  if (!in) return StrCat("no output file ", output);
  const uint64_t inverse = InverseMultiplier();
  std::vector<uint64_t> seen((keys + 63) / 64, 0);
  simdjson::ondemand::parser parser;
  std::string line;
  uint64_t mismatches = 0;
  std::string first_problem;
  auto problem = [&](const std::string& text) {
    if (mismatches++ == 0) first_problem = text;
  };
  while (std::getline(in, line)) {
    ++*rows;
    simdjson::padded_string padded(line);
    simdjson::ondemand::document doc;
    int64_t k = 0, n = 0, total = 0, low = 0, high = 0;
    if (parser.iterate(padded).get(doc) || doc["k"].get_int64().get(k) || doc["n"].get_int64().get(n) ||
        doc["total"].get_int64().get(total) || doc["low"].get_int64().get(low) ||
        doc["high"].get_int64().get(high)) {
      problem(StrCat("row ", *rows, " does not parse: ", line));
      continue;
    }
    const uint64_t number = (static_cast<uint64_t>(k) * inverse) & kKeyMask;
    if (k < 0 || number >= keys || KeyOf(number) != static_cast<uint64_t>(k)) {
      problem(StrCat("row ", *rows, ": key ", k, " was never written"));
      continue;
    }
    if (seen[number / 64] & (uint64_t{1} << (number % 64))) {
      problem(StrCat("row ", *rows, ": key ", k, " a second time"));
      continue;
    }
    seen[number / 64] |= uint64_t{1} << (number % 64);
    int64_t expected_n = 0, expected_total = 0, expected_low = INT64_MAX, expected_high = INT64_MIN;
    for (uint64_t record = number; record < records; record += keys) {
      const int64_t q = QuantityOf(record);
      ++expected_n;
      expected_total += q;
      expected_low = std::min(expected_low, q);
      expected_high = std::max(expected_high, q);
    }
    if (n != expected_n || total != expected_total || low != expected_low || high != expected_high) {
      problem(StrCat("key ", k, ": n ", n, " total ", total, " low ", low, " high ", high, "; expected ",
                     expected_n, " ", expected_total, " ", expected_low, " ", expected_high));
    }
  }
  const uint64_t expected_rows = std::min(keys, records);
  if (*rows != expected_rows && mismatches == 0) problem(StrCat(*rows, " rows, ", expected_rows, " keys"));
  if (mismatches > 0) return StrCat(mismatches, " problem(s); the first: ", first_problem);
  *ok = true;
  return StrCat("every one of the ", expected_rows, " keys once, with its count, sum, min and max");
}

namespace {

// Runs `arguments` (argv[0] the command), in `cgroup` when given, with TMPDIR=`tmpdir`; waits.
StateLevelRun RunCommand(const std::vector<std::string>& arguments, const MemoryCgroup* cgroup,
                         const std::string& tmpdir, const std::string& log) {
  StateLevelRun run;
  const auto start = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    run.error = "cannot fork";
    return run;
  }
  if (pid == 0) {
    if (cgroup != nullptr && !cgroup->JoinSelf()) _exit(126);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    setenv("TMPDIR", tmpdir.c_str(), 1);
    std::vector<char*> argv;
    for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  run.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  run.peak_rss_bytes = static_cast<uint64_t>(usage.ru_maxrss) * 1024;
  if (WIFSIGNALED(status)) {
    run.error =
        StrCat("killed by signal ", WTERMSIG(status),
               WTERMSIG(status) == SIGKILL && cgroup != nullptr ? " (the memory cgroup's limit)" : "");
  } else if (WEXITSTATUS(status) == 126) {
    run.error = "could not join the memory cgroup";
  } else if (WEXITSTATUS(status) != 0) {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.size() > 600) text = text.substr(0, 600);
    run.error = StrCat("exit code ", WEXITSTATUS(status), ": ", text);
  }
  return run;
}

}  // namespace

absl::StatusOr<StateLevelResult> RunStateLevel(const StateLevelOptions& options) {
  StateLevelResult result;
  result.keys = options.keys;
  result.records = options.records;
  std::error_code error;
  std::filesystem::create_directories(options.work_dir, error);
  if (error) return absl::InternalError(StrCat("cannot create ", options.work_dir, ": ", error.message()));
  const std::string data = StrCat(options.work_dir, "/events-", options.keys, "-", options.records, ".jsonl");
  if (!std::filesystem::exists(data)) {
    std::fprintf(stderr, "state level: writing %llu records over %llu keys to %s\n",
                 static_cast<unsigned long long>(options.records),
                 static_cast<unsigned long long>(options.keys), data.c_str());
    SLUICE_RETURN_IF_ERROR(WriteData(data, options.keys, options.records));
  }
  const std::string job = StrCat(options.source_dir, "/scenarios/state_backends/job.sql");
  for (const std::string backend : {"memory", "rocksdb"}) {
    const std::string output = StrCat(options.work_dir, "/per_key-", backend, ".jsonl");
    const std::string summary = StrCat(options.work_dir, "/summary-", backend, ".json");
    std::filesystem::remove(output, error);
    std::filesystem::remove(summary, error);
    std::unique_ptr<MemoryCgroup> cgroup;
    std::string cap = "none";
    if (backend == "rocksdb") {
      auto made = MemoryCgroup::Create(options.memory_cap_bytes);
      if (made.ok()) {
        cgroup = std::move(*made);
        cap = cgroup->description();
      } else {
        cap = StrCat("not capped: ", made.status().message());
      }
    }
    std::fprintf(stderr, "state level: %s backend (memory cap: %s)\n", backend.c_str(), cap.c_str());
    StateLevelRun run =
        RunCommand({options.sluice_binary, "run", job, "--parallelism", "1", "--quiet", "--summary-json",
                    summary, "--set", StrCat("DATA=", data), "--set", StrCat("OUTPUT=", output), "--set",
                    StrCat("STATE_BACKEND=", backend)},
                   cgroup.get(), options.work_dir, StrCat(options.work_dir, "/log-", backend, ".txt"));
    run.backend = backend;
    run.cap = cap;
    run.memory_cap_bytes = cgroup != nullptr ? options.memory_cap_bytes : 0;
    if (cgroup != nullptr) run.cgroup_peak_bytes = cgroup->PeakBytes();
    if (run.error.empty()) {
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      double rate = 0;
      uint64_t peak = 0;
      if (!parser.load(summary).get(doc)) {
        if (!doc["records_per_second"].get_double().get(rate)) run.records_per_second = rate;
        // The command's own peak since its exec: wait4's counts this process's pages too (the
        // child is a fork of it until the exec), gigabytes after the other levels' data.
        if (!doc["peak_rss_bytes"].get_uint64().get(peak) && peak > 0) run.peak_rss_bytes = peak;
      }
      run.check =
          CheckStateLevelOutput(output, options.keys, options.records, &run.output_rows, &run.check_ok);
    }
    std::filesystem::remove(output, error);  // up to gigabytes
    if (run.error.empty()) {
      std::fprintf(stderr, "state level: %s: %.0f rec/s, peak RSS %llu MiB, %.1f s; check: %s\n",
                   backend.c_str(), run.records_per_second,
                   static_cast<unsigned long long>(run.peak_rss_bytes >> 20), run.wall_seconds,
                   run.check.c_str());
    } else {
      std::fprintf(stderr, "state level: %s: FAILED: %s\n", backend.c_str(), run.error.c_str());
    }
    result.runs.push_back(std::move(run));
  }
  return result;
}

std::string StateLevelJson(const StateLevelResult& result, const std::string& run_id) {
  JsonWriter json;
  json.BeginObject()
      .String("run_id", run_id)
      .String("level", "state")
      .Integer("keys", static_cast<int64_t>(result.keys))
      .Integer("records", static_cast<int64_t>(result.records))
      .BeginArray("runs");
  for (const StateLevelRun& run : result.runs) {
    json.BeginObject()
        .String("backend", run.backend)
        .Integer("memory_cap_bytes", static_cast<int64_t>(run.memory_cap_bytes))
        .String("cap", run.cap)
        .Number("wall_seconds", run.wall_seconds)
        .Number("records_per_second", run.records_per_second)
        .Integer("peak_rss_bytes", static_cast<int64_t>(run.peak_rss_bytes))
        .Integer("cgroup_peak_bytes", static_cast<int64_t>(run.cgroup_peak_bytes))
        .Integer("output_rows", static_cast<int64_t>(run.output_rows))
        .Bool("check_ok", run.check_ok)
        .String("check", run.check)
        .String("error", run.error)
        .EndObject();
  }
  json.EndArray().EndObject();
  return json.text();
}

}  // namespace sluice::bench
