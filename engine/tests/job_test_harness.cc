#include "job_test_harness.h"

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

JobResult RunJobText(const std::string& job_text, const std::map<std::string, std::string>& variables,
                     size_t batch_size, bool strict, int parallelism) {
  JobResult result;
  auto parsed = ParseJob(job_text);
  if (!parsed.ok()) {
    result.status = parsed.status();
    return result;
  }
  BindOptions options;
  options.substitution.variables = variables;
  options.substitution.use_environment = false;
  auto job = BindJob(std::move(*parsed), options);
  if (!job.ok()) {
    result.status = job.status();
    return result;
  }
  RunOptions run_options;
  run_options.batch_size = batch_size;
  run_options.parallelism = parallelism;
  run_options.strict = strict;
  auto runner = JobRunner::Create(*job, run_options);
  if (!runner.ok()) {
    result.status = runner.status();
    return result;
  }
  result.status = (*runner)->Run();
  result.counters = (*runner)->counters();
  return result;
}

}  // namespace sluice::testing
