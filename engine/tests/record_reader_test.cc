// RecordReader, driven directly as a partition drives it: the same text handed over in pieces of
// any size, and taken in rounds of any size, gives the same rows and the same dead letters,
// numbered by the line each record begins on (the CSV header and a blank line skipped, a quoted
// line break, a record too long, a bad value, a quote still open at the end).
#include "connectors/record_reader.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "job_test_harness.h"

namespace sluice::testing {
namespace {

struct Read {
  std::vector<std::string> rows;          // id|note
  std::vector<std::string> dead_letters;  // line: reason
};

// Hands `input` to a reader `piece` bytes at a time, as EmbeddedSource hands it an embedding's
// text, and decodes rounds of `batch_size` records.
Read ReadInPieces(const SourceDefinition& definition, const std::string& input, size_t piece,
                  size_t batch_size, const std::string& dead_letter_path) {
  auto writer = std::make_shared<DeadLetterWriter>("src", dead_letter_path);
  RecordReader reader(
      definition, writer,
      RecordReaderOptions{.batch_size = batch_size, .max_record_bytes = 20, .input_name = "file"});
  EXPECT_TRUE(reader.Open(/*records_padded=*/false).ok());
  Read read;
  std::string text;
  size_t start = 0;
  size_t scan_end = 0;
  size_t offset = 0;  // of input handed over
  Batch batch;
  bool end = false;
  while (!end) {
    reader.StartRound();
    while (!reader.full()) {
      const RecordReader::Take take = reader.TakeRecord(text, start, scan_end, offset == input.size());
      if (take == RecordReader::Take::kEnd) {
        end = true;
        break;
      }
      if (take == RecordReader::Take::kRecord) continue;
      if (!reader.empty()) break;  // decode these before moving the text
      text.erase(0, start);
      scan_end -= start;
      start = 0;
      text += input.substr(offset, piece);
      offset = std::min(offset + piece, input.size());
    }
    absl::StatusOr<size_t> rows = reader.Decode(batch);
    EXPECT_TRUE(rows.ok()) << rows.status().message();
    if (!rows.ok()) break;
    for (size_t row = 0; row < *rows; ++row) {
      read.rows.push_back(
          StrCat(batch.column(0).data<int64_t>()[row], "|", batch.column(1).data<std::string_view>()[row]));
    }
  }
  EXPECT_TRUE(writer->Flush().ok());
  simdjson::dom::parser parser;
  for (const std::string& line : ReadLines(dead_letter_path)) {
    simdjson::dom::element letter;
    EXPECT_EQ(parser.parse(line).get(letter), simdjson::SUCCESS) << line;
    int64_t number = 0;
    std::string_view reason;
    EXPECT_EQ(letter["line"].get(number), simdjson::SUCCESS) << line;
    EXPECT_EQ(letter["reason"].get(reason), simdjson::SUCCESS) << line;
    read.dead_letters.push_back(StrCat(number, ": ", reason));
  }
  return read;
}

TEST(RecordReaderTest, TextInAnyPiecesGivesTheSameRowsAndDeadLetters) {
  TemporaryDirectory directory;
  WriteFile(directory.File("in"), "");
  auto job = BindJobText(StrCat("CREATE STREAM result AS SELECT * FROM src WITH ('src.type' = 'file_source', "
                                "'src.path' = '${dir}/in', 'src.format' = 'csv', "
                                "'src.schema' = 'id BIGINT, note STRING')"),
                         {{"dir", directory.path()}});
  ASSERT_TRUE(job.ok()) << job.status().message();
  const std::string input =
      "id,note\n"                             // line 1: the header
      "1,a\n"                                 // line 2
      " \t\n"                                 // line 3: blank
      "2,\"b\nc\"\r\n"                        // lines 4-5: a quoted line break, then CRLF
      "3,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"  // line 6: 32 bytes, over the limit of 20
      "z,bad\n"                               // line 7: not a BIGINT
      "5,e\n"                                 // line 8
      "6,\"open";                             // line 9: the quote is never closed
  const std::vector<std::string> expected_rows = {"1|a", "2|b\nc", "5|e"};
  const std::vector<std::string> expected_dead_letters = {
      "6: record too long: 32 bytes, over the limit of 20 ('src.max.record.bytes')",
      "9: malformed CSV: a quoted field is not closed before the end of the file"};
  int round = 0;
  for (size_t piece : {1, 2, 5, 1000}) {
    for (size_t batch_size : {1, 2, 1024}) {
      SCOPED_TRACE(StrCat("piece ", piece, ", batch size ", batch_size));
      const Read read = ReadInPieces(job->sources[0], input, piece, batch_size,
                                     directory.File(StrCat("bad", ++round, ".jsonl")));
      EXPECT_EQ(read.rows, expected_rows);
      ASSERT_EQ(read.dead_letters.size(), 3u);
      EXPECT_EQ(read.dead_letters[0], expected_dead_letters[0]);
      EXPECT_TRUE(StartsWith(read.dead_letters[1], "7: ")) << read.dead_letters[1];
      EXPECT_EQ(read.dead_letters[2], expected_dead_letters[1]);
    }
  }
}

}  // namespace
}  // namespace sluice::testing
