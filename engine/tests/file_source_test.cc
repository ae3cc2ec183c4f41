// FileSource on awkward input: CSV records whose quoted fields span lines and chunk
// boundaries, an unterminated quote at the end of the file, and the line numbers that dead
// letters carry. Each input is read with tiny chunks (records cross every boundary) as well as
// the default 4 MiB, and at several batch sizes: the results must not change.
#include "connectors/file/file_source.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/strings.h"
#include "job_test_harness.h"

namespace sluice::testing {
namespace {

struct DeadLetter {
  uint64_t line = 0;
  std::string reason;
  std::string record;  // "record" or "record_prefix" (with `length`), base64 decoded
  uint64_t length = 0;

  bool operator==(const DeadLetter&) const = default;
};

std::ostream& operator<<(std::ostream& out, const DeadLetter& letter) {
  return out << "{line " << letter.line << ", reason '" << letter.reason << "', record '" << letter.record
             << "', length " << letter.length << "}";
}

struct ReadResult {
  absl::Status status;
  std::vector<std::string> rows;  // the schema's columns joined by '|', strings as they are
  std::vector<DeadLetter> dead_letters;
};

// Reads `contents` as the file of source `src` with the given WITH properties (besides type,
// path and dead_letter.path), `chunk` bytes at a time.
ReadResult ReadSource(const std::string& contents, const std::string& properties, size_t chunk,
                      size_t batch_size, bool strict = false) {
  TemporaryDirectory directory;
  WriteFile(directory.File("in"), contents);
  auto job = BindJobText(StrCat("CREATE STREAM result AS SELECT * FROM src WITH ('src.type' = 'file_source', "
                                "'src.path' = '${dir}/in', 'src.dead_letter.path' = '${dir}/bad.jsonl', ",
                                properties, ")"),
                         {{"dir", directory.path()}});
  ReadResult result;
  if (!job.ok()) {
    result.status = job.status();
    return result;
  }
  const SourceDefinition& definition = job->sources[0];
  auto writer = std::make_shared<DeadLetterWriter>("src", directory.File("bad.jsonl"));
  auto source = FileSource::Create(definition, directory.File("in"), writer, batch_size, strict);
  source->set_read_chunk_bytes(chunk);
  result.status = source->Open();
  Batch batch;
  while (result.status.ok()) {
    absl::StatusOr<bool> more = source->Next(batch);
    if (!more.ok()) result.status = more.status();
    if (!more.ok() || !*more) break;
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      std::string text;
      for (size_t c = 0; c < definition.decoder.schema.size(); ++c) {
        if (c > 0) text += "|";
        const Column& column = batch.column(c);
        if (column.validity()[row] == 0) {
          text += "NULL";
        } else if (column.type() == TypeId::kString) {
          text += column.data<std::string_view>()[row];
        } else {
          text += column.GetValue(row).ToSql();
        }
      }
      result.rows.push_back(std::move(text));
    }
  }
  EXPECT_TRUE(source->Close().ok());
  if (!std::filesystem::exists(directory.File("bad.jsonl"))) return result;
  simdjson::dom::parser parser;
  for (const std::string& line : ReadLines(directory.File("bad.jsonl"))) {
    simdjson::dom::element letter;
    EXPECT_EQ(parser.parse(line).get(letter), simdjson::SUCCESS) << line;
    DeadLetter dead;
    int64_t number = 0;
    std::string_view text;
    EXPECT_EQ(letter["line"].get(number), simdjson::SUCCESS) << line;
    dead.line = static_cast<uint64_t>(number);
    EXPECT_EQ(letter["reason"].get(text), simdjson::SUCCESS) << line;
    dead.reason = std::string(text);
    for (const char* key : {"record", "record_prefix"}) {
      if (letter[key].get(text) == simdjson::SUCCESS) dead.record = std::string(text);
      if (letter[StrCat(key, "_base64")].get(text) == simdjson::SUCCESS) {
        EXPECT_TRUE(absl::Base64Unescape(absl::string_view(text.data(), text.size()), &dead.record)) << line;
      }
    }
    if (letter["length"].get(number) == simdjson::SUCCESS) dead.length = static_cast<uint64_t>(number);
    result.dead_letters.push_back(std::move(dead));
  }
  return result;
}

// Chunk sizes from one byte (every record crosses boundaries) to the default.
constexpr size_t kChunkSizes[] = {1, 2, 3, 5, 7, 16, 64, 4 << 20};

TEST(FileSourceTest, QuotedCsvFieldsSpanLinesAndChunkBoundaries) {
  const std::string input =
      "id,note\n"
      "1,\"line one\nline two\"\n"             // lines 2-3
      "2,\"crlf\r\ninside\"\r\n"               // lines 4-5, CRLF inside and after
      "3,\"say \"\"hi\"\"\n\"\"again\"\"\"\n"  // lines 6-7, doubled quotes around a line break
      "x,\"bad id\nspanning\nlines\"\n"        // lines 8-10: dead-lettered, numbered 8
      "4,plain\n"                              // line 11
      "5,\"a,b\n,c\"\n"                        // lines 12-13
      "\n"                                     // line 14, blank
      "6,x\"y\n"                               // line 15: a quote inside an unquoted field
      "7,\"\"\n"                               // line 16: the empty string
      "8,\"\n\n\"\n"                           // lines 17-19: nothing but line breaks
      "y,bad\n"                                // line 20: dead-lettered
      "9,last\"\"";                            // line 21, no final newline
  const std::vector<std::string> expected_rows = {"1|line one\nline two",
                                                  "2|crlf\r\ninside",
                                                  "3|say \"hi\"\n\"again\"",
                                                  "4|plain",
                                                  "5|a,b\n,c",
                                                  "6|x\"y",
                                                  "7|",
                                                  "8|\n\n",
                                                  "9|last\"\""};
  for (size_t chunk : kChunkSizes) {
    for (size_t batch_size : {1, 3, 1024}) {
      const ReadResult result = ReadSource(
          input, "'src.format' = 'csv', 'src.schema' = 'id BIGINT, note STRING'", chunk, batch_size);
      ASSERT_TRUE(result.status.ok()) << result.status.message();
      EXPECT_EQ(result.rows, expected_rows) << "chunk " << chunk << ", batch size " << batch_size;
      ASSERT_EQ(result.dead_letters.size(), 2u) << "chunk " << chunk << ", batch size " << batch_size;
      EXPECT_EQ(result.dead_letters[0].line, 8u);
      EXPECT_EQ(result.dead_letters[0].record, "x,\"bad id\nspanning\nlines\"");
      EXPECT_EQ(result.dead_letters[1].line, 20u) << "chunk " << chunk << ", batch size " << batch_size;
    }
  }
}

// A header whose quoted name holds a line break is one record too, and so is every record of
// the sample that schema inference reads.
TEST(FileSourceTest, SchemaInferenceSplitsCsvRecordsAsTheSourceDoes) {
  const std::string input = "id,\"two\nline name\"\n1,\"a\nb\"\n2,c\n";
  const ReadResult result = ReadSource(input, "'src.format' = 'csv'", 3, 1024);
  ASSERT_TRUE(result.status.ok()) << result.status.message();
  EXPECT_EQ(result.rows, (std::vector<std::string>{"1|a\nb", "2|c"}));
  EXPECT_TRUE(result.dead_letters.empty());
}

TEST(FileSourceTest, AnUnterminatedQuoteAtTheEndOfTheFileIsDeadLettered) {
  const std::string input = "id,note\n1,ok\n2,\"open\nstill open\n3,x\n";
  for (size_t chunk : kChunkSizes) {
    const ReadResult result =
        ReadSource(input, "'src.format' = 'csv', 'src.schema' = 'id BIGINT, note STRING'", chunk, 2);
    ASSERT_TRUE(result.status.ok()) << result.status.message();
    EXPECT_EQ(result.rows, (std::vector<std::string>{"1|ok"})) << "chunk " << chunk;
    const DeadLetter expected{3, "malformed CSV: a quoted field is not closed before the end of the file",
                              "2,\"open\nstill open\n3,x\n"};
    EXPECT_EQ(result.dead_letters, std::vector<DeadLetter>{expected}) << "chunk " << chunk;
  }
  const ReadResult strict = ReadSource(input, "'src.format' = 'csv', 'src.schema' = 'id BIGINT, note STRING'",
                                       5, 2, /*strict=*/true);
  EXPECT_FALSE(strict.status.ok());
  EXPECT_NE(strict.status.message().find(
                " line 3: malformed CSV: a quoted field is not closed before the end of the file (--strict)"),
            std::string::npos)
      << strict.status.message();
}

// JSON Lines stays split at every newline: a quote does not join lines.
TEST(FileSourceTest, JsonLinesAreSplitAtEveryNewlineWhateverTheQuotes) {
  const std::string input = "{\"s\":\"a\n\"}\n{\"s\":\"ok\"}\n";
  for (size_t chunk : kChunkSizes) {
    const ReadResult result =
        ReadSource(input, "'src.format' = 'json', 'src.schema' = 's STRING'", chunk, 1024);
    ASSERT_TRUE(result.status.ok()) << result.status.message();
    EXPECT_EQ(result.rows, (std::vector<std::string>{"ok"})) << "chunk " << chunk;
    ASSERT_EQ(result.dead_letters.size(), 2u) << "chunk " << chunk;
    EXPECT_EQ(result.dead_letters[0].line, 1u);
    EXPECT_EQ(result.dead_letters[0].record, "{\"s\":\"a");
    EXPECT_EQ(result.dead_letters[1].line, 2u);
    EXPECT_EQ(result.dead_letters[1].record, "\"}");
  }
}

// JSON Lines of exactly `length` bytes: {"id":N,"pad":"xxx..."}.
std::string JsonRecord(int id, size_t length) {
  std::string record = StrCat("{\"id\":", id, ",\"pad\":\"");
  const size_t closing = 2;  // "}
  record.append(length - record.size() - closing, 'x');
  return record + "\"}";
}

std::string TooLongReason(uint64_t length) {
  return StrCat("record too long: ", length, " bytes, over the limit of 100 ('src.max.record.bytes')");
}

// Records over '<source>.max.record.bytes' are dead-lettered with their line, length and first
// bytes, whether they are seen whole in a chunk or skipped across many; the line break (LF or
// CRLF) does not count; the records after them are read as usual.
TEST(FileSourceTest, RecordsOverTheLimitAreDeadLetteredAndTheSourceGoesOn) {
  const std::string input = JsonRecord(1, 40) + "\n" +         // line 1
                            JsonRecord(2, 150) + "\n" +        // line 2: too long
                            JsonRecord(3, 100) + "\n" +        // line 3: at the limit
                            JsonRecord(4, 101) + "\r\n" +      // line 4: one over, CRLF
                            JsonRecord(5, 100) + "\r\n" +      // line 5: the CR does not count
                            JsonRecord(6, 5000) + "\n" +       // line 6: many chunks long
                            "\n" +                             // line 7: blank
                            JsonRecord(8, 20) + "\n" +         // line 8
                            std::string(300, '\xc3') + "\n" +  // line 9: too long and not UTF-8
                            JsonRecord(10, 30) + "\n" +        // line 10
                            JsonRecord(11, 300);               // line 11: too long, at the end
  const std::vector<DeadLetter> expected = {
      {2, TooLongReason(150), JsonRecord(2, 150).substr(0, 100), 150},
      {4, TooLongReason(101), JsonRecord(4, 101).substr(0, 100), 101},
      {6, TooLongReason(5000), JsonRecord(6, 5000).substr(0, 100), 5000},
      {9, TooLongReason(300), std::string(100, '\xc3'), 300},  // in record_prefix_base64
      {11, TooLongReason(300), JsonRecord(11, 300).substr(0, 100), 300},
  };
  for (size_t chunk : kChunkSizes) {
    for (size_t batch_size : {1, 2, 1024}) {
      const ReadResult result = ReadSource(
          input, "'src.format' = 'json', 'src.schema' = 'id BIGINT', 'src.max.record.bytes' = '100'", chunk,
          batch_size);
      ASSERT_TRUE(result.status.ok()) << result.status.message();
      EXPECT_EQ(result.rows, (std::vector<std::string>{"1", "3", "5", "8", "10"}))
          << "chunk " << chunk << ", batch size " << batch_size;
      EXPECT_EQ(result.dead_letters, expected) << "chunk " << chunk << ", batch size " << batch_size;
    }
  }
  const ReadResult strict =
      ReadSource(input, "'src.format' = 'json', 'src.schema' = 'id BIGINT', 'src.max.record.bytes' = '100'",
                 7, 1024, true);
  EXPECT_FALSE(strict.status.ok());
  EXPECT_NE(strict.status.message().find(StrCat(" line 2: ", TooLongReason(150), " (--strict)")),
            std::string::npos)
      << strict.status.message();
}

// A CSV record over the limit may span lines: it is numbered by its first line, and the lines
// after it keep their numbers. A record's prefix never ends inside a character.
TEST(FileSourceTest, AnOverLongCsvRecordSpanningLinesKeepsTheLineNumbersRight) {
  const std::string long_field =
      std::string(60, 'a') + "\n" + std::string(60, 'b') + "\n" + std::string(60, 'c');
  std::string accented;  // 'é' x 75: 150 bytes
  for (int i = 0; i < 75; ++i) accented += "\xc3\xa9";
  const std::string input =
      "id,note\n"  // line 1
      "1,short\n"  // line 2
      "2,\"" +
      long_field + "\"\n" +         // lines 3-5: too long
      "3,\"fits\non two lines\"\n"  // lines 6-7
      "x,bad\n"                     // line 8: not a number
      "4," +
      accented + "\n" +  // line 9: too long
      "5,end\n";         // line 10
  for (size_t chunk : kChunkSizes) {
    const ReadResult result = ReadSource(
        input,
        "'src.format' = 'csv', 'src.schema' = 'id BIGINT, note STRING', 'src.max.record.bytes' = '100'",
        chunk, 1024);
    ASSERT_TRUE(result.status.ok()) << result.status.message();
    EXPECT_EQ(result.rows, (std::vector<std::string>{"1|short", "3|fits\non two lines", "5|end"}))
        << "chunk " << chunk;
    ASSERT_EQ(result.dead_letters.size(), 3u) << "chunk " << chunk;
    EXPECT_EQ(result.dead_letters[0],
              (DeadLetter{3, TooLongReason(186), ("2,\"" + long_field).substr(0, 100), 186}))
        << "chunk " << chunk;
    EXPECT_EQ(result.dead_letters[1].line, 8u) << "chunk " << chunk;
    // 100 bytes would end inside an 'é' (2 + 98 + 1): the prefix stops before it.
    EXPECT_EQ(result.dead_letters[2], (DeadLetter{9, TooLongReason(152), "4," + accented.substr(0, 98), 152}))
        << "chunk " << chunk;
  }
}

}  // namespace
}  // namespace sluice::testing
