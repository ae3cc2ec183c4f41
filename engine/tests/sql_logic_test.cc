// Runs the SQL logic tests in engine/tests/sql/*.test (format: engine/tests/sql/README.md),
// each file at batch sizes 1, 7 and 1024 (results must not depend on batch boundaries), each
// at parallelism 1 (the task graph fused on one thread), 2 and 4 (worker threads): results
// must not depend on parallelism either.
// With several workers, rows of different keys reach the sink in any order (each key's rows
// keep theirs), so those runs compare every query's rows as a sorted multiset.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/strings.h"
#include "job_test_harness.h"

namespace sluice::testing {
namespace {

struct SourceBlock {
  std::string name;
  std::string format;
  std::vector<std::pair<std::string, std::string>> properties;
  std::string records;
};

struct TestCase {
  std::string path;
  size_t batch_size;
  int parallelism;
};

std::string Describe(const TestCase& test, size_t line) {
  return StrCat(test.path, ":", line, " (batch size ", test.batch_size, ", parallelism ", test.parallelism,
                ")");
}

class SqlLogicTest : public ::testing::TestWithParam<TestCase> {};

bool IsWordChar(char c) {
  return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '_';
}

// True when `word` occurs in `text` as a whole identifier.
bool MentionsWord(const std::string& text, const std::string& word) {
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    const bool starts = at == 0 || !IsWordChar(text[at - 1]);
    const bool ends = at + word.size() == text.size() || !IsWordChar(text[at + word.size()]);
    if (starts && ends) return true;
  }
  return false;
}

// Reads lines until a blank line or the end of the file.
std::vector<std::string> ReadBlock(const std::vector<std::string>& lines, size_t& i) {
  std::vector<std::string> block;
  while (i < lines.size() && !StripWhitespace(lines[i]).empty()) block.push_back(lines[i++]);
  return block;
}

TEST_P(SqlLogicTest, Passes) {
  const TestCase& test = GetParam();
  const std::vector<std::string> lines = ReadLines(test.path);
  ASSERT_FALSE(lines.empty()) << "cannot read " << test.path;
  TemporaryDirectory directory;
  std::vector<SourceBlock> sources;
  std::map<std::string, std::string> variables;
  int queries = 0;
  size_t i = 0;
  while (i < lines.size()) {
    const std::string_view line = StripWhitespace(lines[i]);
    if (line.empty() || line[0] == '#') {
      ++i;
      continue;
    }
    const size_t header_line = i + 1;
    std::vector<std::string_view> words = StrSplit(line, ' ', true);
    const std::string directive(words[0]);
    ++i;
    if (directive == "source") {
      ASSERT_EQ(words.size(), 3u) << Describe(test, header_line) << ": expected 'source NAME json|csv'";
      SourceBlock source;
      source.name = std::string(words[1]);
      source.format = std::string(words[2]);
      for (const std::string& record : ReadBlock(lines, i)) {
        if (StartsWith(record, "@")) {
          const size_t space = record.find(' ');
          source.properties.emplace_back(record.substr(1, space - 1), record.substr(space + 1));
        } else {
          StrAppend(&source.records, record, "\n");
        }
      }
      const std::string path = directory.File(source.name + "." + source.format);
      WriteFile(path, source.records);
      variables[source.name + "_path"] = path;
      sources.erase(std::remove_if(sources.begin(), sources.end(),
                                   [&](const SourceBlock& s) { return s.name == source.name; }),
                    sources.end());
      sources.push_back(std::move(source));
      continue;
    }
    ASSERT_TRUE(directive == "query" || directive == "error")
        << Describe(test, header_line) << ": unknown directive '" << directive << "'";
    bool rowsort = false;
    int64_t expected_dead_letters = -1;
    for (size_t w = 1; w < words.size(); ++w) {
      if (words[w] == "rowsort") {
        rowsort = true;
      } else if (StartsWith(words[w], "dead_letters=")) {
        expected_dead_letters = std::stoll(std::string(words[w].substr(13)));
      } else {
        FAIL() << Describe(test, header_line) << ": unknown option '" << words[w] << "'";
      }
    }
    std::string sql;
    while (i < lines.size() && lines[i] != "----") StrAppend(&sql, lines[i++], "\n");
    ASSERT_LT(i, lines.size()) << Describe(test, header_line) << ": missing ----";
    ++i;
    std::vector<std::string> expected = ReadBlock(lines, i);
    // "==== SUFFIX" lines split off the expected lines of the sinks at ${output}SUFFIX.
    std::map<std::string, std::vector<std::string>> expected_by_file;
    std::string section;
    for (const std::string& expected_line : expected) {
      if (StartsWith(expected_line, "==== ")) {
        section = expected_line.substr(5);
        const bool fresh = expected_by_file.try_emplace(section).second;
        ASSERT_TRUE(fresh && !section.empty()) << Describe(test, header_line) << ": sink '" << section
                                               << "' checked twice, or no suffix";
      } else {
        // Copied, not moved: an error block checks `expected` itself, fragment by fragment.
        expected_by_file[section].push_back(expected_line);
      }
    }
    const std::string output = directory.File(StrCat("output_", ++queries, ".jsonl"));
    variables["output"] = output;
    std::string job = std::string(StripWhitespace(sql));
    if (!job.empty() && job.back() == ';') job.pop_back();
    if (StartsWithIgnoreCase(job, "SELECT") || StartsWithIgnoreCase(job, "WITH ")) {
      // Wrap a bare query: declare every source and send the result to ${output}.
      std::vector<std::string> properties;
      for (const auto& source : sources) {
        // Only the sources the query reads: their '@.' lines set job-wide properties.
        if (!MentionsWord(job, source.name)) continue;
        properties.push_back(StrCat("'", source.name, ".type' = 'file_source'"));
        properties.push_back(StrCat("'", source.name, ".path' = '${", source.name, "_path}'"));
        properties.push_back(StrCat("'", source.name, ".format' = '", source.format, "'"));
        for (const auto& [key, value] : source.properties) {
          properties.push_back(
              StrCat("'", key.find('.') == 0 ? key.substr(1) : source.name + "." + key, "' = '", value, "'"));
        }
      }
      properties.push_back("'result.type' = 'file_sink'");
      properties.push_back("'result.path' = '${output}'");
      job = StrCat("CREATE STREAM result AS\n", job, "\nWITH (", StrJoin(properties, ", "), ")");
    }
    const JobResult result = RunJobText(job, variables, test.batch_size, /*strict=*/false, test.parallelism);
    if (directive == "error") {
      ASSERT_FALSE(result.status.ok()) << Describe(test, header_line) << ": expected an error";
      const std::string message(result.status.message());
      for (const auto& fragment : expected) {
        EXPECT_NE(message.find(fragment), std::string::npos)
            << Describe(test, header_line) << ": error message lacks '" << fragment << "':\n"
            << message;
      }
      continue;
    }
    ASSERT_TRUE(result.status.ok()) << Describe(test, header_line) << ": " << result.status.message();
    // Every file the query wrote at ${output}* is compared: a sink no section checks fails.
    const std::string output_name = std::filesystem::path(output).filename().string();
    for (const auto& entry : std::filesystem::directory_iterator(directory.path())) {
      const std::string name = entry.path().filename().string();
      if (StartsWith(name, output_name)) {
        EXPECT_TRUE(expected_by_file.count(name.substr(output_name.size())))
            << Describe(test, header_line) << ": the query wrote ${output}" << name.substr(output_name.size())
            << " but no '==== " << name.substr(output_name.size()) << "' section checks it";
      }
    }
    for (auto& [suffix, expected_lines] : expected_by_file) {
      std::vector<std::string> actual = ReadLines(output + suffix);
      if (!suffix.empty()) {
        EXPECT_TRUE(std::filesystem::exists(output + suffix))
            << Describe(test, header_line) << ": no sink wrote ${output}" << suffix;
      }
      if (rowsort || test.parallelism > 1) {
        std::sort(actual.begin(), actual.end());
        std::sort(expected_lines.begin(), expected_lines.end());
      }
      EXPECT_EQ(StrJoin(actual, "\n"), StrJoin(expected_lines, "\n"))
          << Describe(test, header_line) << (suffix.empty() ? "" : StrCat(": sink ${output}", suffix));
    }
    if (expected_dead_letters >= 0) {
      EXPECT_EQ(result.counters.dead_lettered, static_cast<uint64_t>(expected_dead_letters))
          << Describe(test, header_line);
    }
  }
  EXPECT_GT(queries, 0) << test.path << " has no query";
}

std::vector<TestCase> AllTestCases() {
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(SLUICE_SOURCE_DIR "/engine/tests/sql")) {
    if (entry.path().extension() == ".test") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<TestCase> cases;
  for (const auto& file : files) {
    for (int parallelism : {1, 2, 4}) {
      for (size_t batch_size : {1, 7, 1024}) cases.push_back({file, batch_size, parallelism});
    }
  }
  return cases;
}

std::string TestName(const ::testing::TestParamInfo<TestCase>& info) {
  std::string name = std::filesystem::path(info.param.path).stem().string();
  for (char& c : name) {
    if (!IsAsciiAlpha(c) && !IsAsciiDigit(c)) c = '_';
  }
  return StrCat(name, "_batch", info.param.batch_size,
                info.param.parallelism > 1 ? StrCat("_p", info.param.parallelism) : std::string());
}

INSTANTIATE_TEST_SUITE_P(Files, SqlLogicTest, ::testing::ValuesIn(AllTestCases()), TestName);

}  // namespace
}  // namespace sluice::testing
