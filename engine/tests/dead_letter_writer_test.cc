// The dead-letter output: every line is valid JSON in UTF-8, and a record's exact bytes can be
// recovered from it, whatever they were.
#include "connectors/dead_letter_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "formats/utf8.h"
#include "job_test_harness.h"

namespace sluice::testing {
namespace {

// The string `key` of a JSON object line, or "<absent>".
std::string Field(const std::string& json_line, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  EXPECT_EQ(parser.parse(json_line).get(element), simdjson::SUCCESS) << json_line;
  std::string_view value;
  if (element[key].get(value) != simdjson::SUCCESS) return "<absent>";
  return std::string(value);
}

TEST(DeadLetterWriterTest, ARecordOfInvalidUtf8IsWrittenAsBase64OfItsExactBytes) {
  TemporaryDirectory directory;
  const std::string path = directory.File("bad.jsonl");
  const std::vector<std::string> records = {
      "plain \"text\" with a tab\t",   // valid: "record"
      "caf\xc3\xa9 \xe2\x82\xac",      // valid UTF-8, not ASCII: "record"
      std::string("c\xff,1\x00z", 6),  // invalid, with a NUL byte: "record_base64"
      "\xed\xa0\x80 surrogate",        // invalid
      "",                              // valid and empty
  };
  {
    DeadLetterWriter writer("src", path);
    for (size_t i = 0; i < records.size(); ++i) {
      ASSERT_TRUE(writer.Write(RecordError{i + 1, "field 'x': 'c\xff' is not a BIGINT", records[i]}).ok());
    }
    ASSERT_TRUE(writer.WriteMessage("topic", 2, 815, RecordError{0, "bad", records[2]}).ok());
    ASSERT_TRUE(writer.Flush().ok());
    EXPECT_EQ(writer.count(), records.size() + 1);
  }
  const std::vector<std::string> lines = ReadLines(path);
  ASSERT_EQ(lines.size(), records.size() + 1);
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_TRUE(IsValidUtf8(lines[i])) << lines[i];
    const std::string& original = records[i < records.size() ? i : 2];
    const std::string record = Field(lines[i], "record");
    const std::string base64 = Field(lines[i], "record_base64");
    if (IsValidUtf8(original)) {
      EXPECT_EQ(record, original) << lines[i];
      EXPECT_EQ(base64, "<absent>") << lines[i];
    } else {
      EXPECT_EQ(record, "<absent>") << lines[i];
      std::string decoded;
      ASSERT_TRUE(absl::Base64Unescape(absl::string_view(base64.data(), base64.size()), &decoded)) << base64;
      EXPECT_EQ(decoded, original) << lines[i];
    }
    if (i < records.size()) {
      // The reason quotes the bad value: its invalid byte shows as U+FFFD.
      EXPECT_EQ(Field(lines[i], "reason"), "field 'x': 'c\xef\xbf\xbd' is not a BIGINT");
    }
  }
  EXPECT_EQ(lines[2],
            "{\"source\":\"src\",\"line\":3,\"reason\":\"field 'x': 'c\xef\xbf\xbd' is not a BIGINT\","
            "\"record_base64\":\"Y/8sMQB6\"}");
  EXPECT_EQ(lines.back(),
            "{\"source\":\"src\",\"topic\":\"topic\",\"partition\":2,\"offset\":815,\"reason\":\"bad\","
            "\"record_base64\":\"Y/8sMQB6\"}");
}

}  // namespace
}  // namespace sluice::testing
