#include "job_test_harness.h"

#include <pthread.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "plan/binder.h"
#include "sql/parser.h"

namespace sluice::testing {

TemporaryDirectory::TemporaryDirectory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "sluice_test_XXXXXX").string();
  char* made = mkdtemp(pattern.data());
  SLUICE_CHECK(made != nullptr);
  path_ = made;
}

TemporaryDirectory::~TemporaryDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void RunOnThreadWithStack(size_t bytes, const std::function<void()>& body) {
  pthread_attr_t attributes;
  SLUICE_CHECK(pthread_attr_init(&attributes) == 0);
  SLUICE_CHECK(pthread_attr_setstacksize(&attributes, bytes * kSanitizerStackFactor) == 0);
  auto trampoline = [](void* argument) -> void* {
    (*static_cast<const std::function<void()>*>(argument))();
    return nullptr;
  };
  pthread_t thread;
  SLUICE_CHECK(pthread_create(&thread, &attributes, trampoline, const_cast<std::function<void()>*>(&body)) ==
               0);
  SLUICE_CHECK(pthread_join(thread, nullptr) == 0);
  pthread_attr_destroy(&attributes);
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
  SLUICE_CHECK(out.good());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

absl::StatusOr<BoundJob> BindJobText(const std::string& job_text,
                                     const std::map<std::string, std::string>& variables) {
  SLUICE_ASSIGN_OR_RETURN(ParsedJob parsed, ParseJob(job_text));
  BindOptions options;
  options.substitution.variables = variables;
  options.substitution.use_environment = false;
  return BindJob(std::move(parsed), options);
}

JobResult RunBoundJob(const BoundJob& job, const RunOptions& options) {
  JobResult result;
  auto runner = JobRunner::Create(job, options);
  if (!runner.ok()) {
    result.status = runner.status();
    return result;
  }
  result.status = (*runner)->Run();
  result.counters = (*runner)->counters();
  return result;
}

JobResult RunJobText(const std::string& job_text, const std::map<std::string, std::string>& variables,
                     size_t batch_size, bool strict, int parallelism, const std::atomic<bool>* cancel) {
  absl::StatusOr<BoundJob> job = BindJobText(job_text, variables);
  if (!job.ok()) return JobResult{job.status(), {}};
  RunOptions options;
  options.batch_size = batch_size;
  options.parallelism = parallelism;
  options.strict = strict;
  options.cancel = cancel;
  return RunBoundJob(*job, options);
}

}  // namespace sluice::testing
