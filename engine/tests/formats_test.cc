// Record formats and number formats: JSON Lines and CSV decoding (values, NULLs, errors with
// line numbers, event time), schema inference, encoders (exact text and decode(encode(batch))
// round trips), and the text forms of doubles, integers and timestamps.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "formats/json_string.h"
#include "formats/record_format.h"
#include "formats/record_splitter.h"
#include "formats/utf8.h"
#include "types/number_format.h"

namespace sluice {
namespace {

// --- helpers ----------------------------------------------------------------------------

struct Decoded {
  std::vector<std::string> rows;  // "v1|v2|..." with each value in SQL literal form
  std::vector<RecordError> errors;
};

std::string RowText(const Batch& batch, size_t row) {
  std::string text;
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    if (c > 0) text += "|";
    text += batch.column(c).GetValue(row).ToSql();
  }
  return text;
}

std::vector<std::string> RowsOf(const Batch& batch) {
  std::vector<std::string> rows;
  for (size_t i = 0; i < batch.active_rows(); ++i) rows.push_back(RowText(batch, batch.ActiveRow(i)));
  return rows;
}

std::vector<std::string_view> Views(const std::vector<std::string>& lines) {
  return std::vector<std::string_view>(lines.begin(), lines.end());
}

Decoded DecodeWith(RecordDecoder& decoder, const std::vector<std::string>& lines, uint64_t first_line = 1) {
  Decoded result;
  Batch batch;
  const std::vector<std::string_view> views = Views(lines);
  decoder.Decode(views, first_line, batch, result.errors);
  for (size_t c = 0; c < batch.num_columns(); ++c) EXPECT_EQ(batch.column(c).size(), batch.num_rows());
  result.rows = RowsOf(batch);
  return result;
}

std::unique_ptr<RecordDecoder> JsonDecoder(const DecoderOptions& options) {
  auto decoder = MakeJsonDecoder(options);
  EXPECT_TRUE(decoder.ok()) << decoder.status().message();
  return decoder.ok() ? std::move(*decoder) : nullptr;
}

std::unique_ptr<RecordDecoder> CsvDecoder(const DecoderOptions& options) {
  auto decoder = MakeCsvDecoder(options);
  EXPECT_TRUE(decoder.ok()) << decoder.status().message();
  return decoder.ok() ? std::move(*decoder) : nullptr;
}

DecoderOptions Options(Schema schema) {
  DecoderOptions options;
  options.schema = std::move(schema);
  return options;
}

Decoded DecodeJson(const Schema& schema, const std::vector<std::string>& lines, uint64_t first_line = 1) {
  auto decoder = JsonDecoder(Options(schema));
  return DecodeWith(*decoder, lines, first_line);
}

Decoded DecodeCsv(const Schema& schema, const std::vector<std::string>& lines, char delimiter = ',') {
  DecoderOptions options = Options(schema);
  options.csv_delimiter = delimiter;
  auto decoder = CsvDecoder(options);
  return DecodeWith(*decoder, lines);
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Bytes as hex, for failure messages about binary text.
std::string Hex(std::string_view bytes) {
  std::string out;
  char digits[4];
  for (unsigned char c : bytes) {
    std::snprintf(digits, sizeof(digits), "%02x ", c);
    out += digits;
  }
  return out;
}

int64_t Millis(std::string_view text) {
  const std::optional<int64_t> millis = ParseTimestamp(text);
  EXPECT_TRUE(millis.has_value()) << text;
  return millis.value_or(0);
}

const Schema kOrders({{"id", TypeId::kInt64, false},
                      {"name", TypeId::kString, false},
                      {"amount", TypeId::kDouble, false},
                      {"paid", TypeId::kBoolean, false},
                      {"at", TypeId::kTimestamp, false}});

// --- JSON decoding ----------------------------------------------------------------------

TEST(JsonDecoderTest, DecodesEveryTypeAndReportsBadRecordsWithTheirLineNumbers) {
  const Decoded decoded =
      DecodeJson(kOrders,
                 {R"({"id":1,"name":"ann","amount":10.5,"paid":true,"at":1709294400000})",
                  R"({"id":2,"name":"bob","amount":7,"paid":false,"at":"2024-03-01T12:00:00.250Z"})",
                  "not json at all", R"({"id":3,"amount":"ten"})", R"([1,2,3])", R"({"id":4,"name":"cy"})"},
                 /*first_line=*/20);
  EXPECT_EQ(decoded.rows, (std::vector<std::string>{
                              "1|'ann'|10.5|TRUE|TIMESTAMP '2024-03-01T12:00:00Z'",
                              "2|'bob'|7|FALSE|TIMESTAMP '2024-03-01T12:00:00.250Z'",
                              "4|'cy'|NULL|NULL|NULL",
                          }));
  ASSERT_EQ(decoded.errors.size(), 3u);
  EXPECT_EQ(decoded.errors[0].line, 22u);
  EXPECT_EQ(decoded.errors[0].raw, "not json at all");
  EXPECT_EQ(decoded.errors[0].reason.rfind("malformed JSON", 0), 0u) << decoded.errors[0].reason;
  EXPECT_EQ(decoded.errors[1].line, 23u);
  EXPECT_EQ(decoded.errors[1].reason, "field 'amount': 'ten' is not a DOUBLE");
  EXPECT_EQ(decoded.errors[1].raw, R"({"id":3,"amount":"ten"})");
  EXPECT_EQ(decoded.errors[2].line, 24u);
  EXPECT_EQ(decoded.errors[2].reason, "malformed JSON: the record is not an object");
}

TEST(JsonDecoderTest, MalformedRecordsAreErrorsNotRows) {
  const Schema schema({{"a", TypeId::kInt64, false}});
  const Decoded decoded = DecodeJson(schema, {R"({"a":1})", R"({"a":2)", R"({"a":3,})", R"({"a":4} {"a":5})",
                                              R"({"a":6} x)", "", R"("text")", R"({"a":7})"});
  EXPECT_EQ(decoded.rows, (std::vector<std::string>{"1", "7"}));
  ASSERT_EQ(decoded.errors.size(), 6u);
  for (size_t i = 0; i < decoded.errors.size(); ++i) {
    EXPECT_EQ(decoded.errors[i].line, i + 2);
    EXPECT_EQ(decoded.errors[i].reason.rfind("malformed JSON", 0), 0u) << decoded.errors[i].reason;
  }
  EXPECT_EQ(decoded.errors[2].reason, "malformed JSON: trailing content after the object");
}

TEST(JsonDecoderTest, MissingFieldsAreNullAndUnknownFieldsAreIgnored) {
  const Schema schema({{"id", TypeId::kInt64, false}, {"name", TypeId::kString, false}});
  const Decoded decoded = DecodeJson(
      schema, {R"({"id":1})", R"({"name":"x","extra":[1,{"a":2}]})", "{}", R"({"id":null,"name":null})"});
  EXPECT_TRUE(decoded.errors.empty());
  EXPECT_EQ(decoded.rows, (std::vector<std::string>{"1|NULL", "NULL|'x'", "NULL|NULL", "NULL|NULL"}));
}

TEST(JsonDecoderTest, TypeMismatchReasonNamesTheFieldTheValueAndTheType) {
  const Decoded decoded = DecodeJson(
      kOrders, {R"({"id":1.5})", R"({"id":"4"})", R"({"id":99999999999999999999})", R"({"paid":1})",
                R"({"at":"yesterday"})", R"({"at":1.5})", R"({"amount":{"x":1}})", R"({"id":[1]})"});
  EXPECT_TRUE(decoded.rows.empty());
  std::vector<std::string> reasons;
  for (const RecordError& error : decoded.errors) reasons.push_back(error.reason);
  EXPECT_EQ(reasons, (std::vector<std::string>{
                         "field 'id': 1.5 is not a BIGINT",
                         "field 'id': '4' is not a BIGINT",
                         "field 'id': 99999999999999999999 is not a BIGINT",
                         "field 'paid': 1 is not a BOOLEAN",
                         "field 'at': 'yesterday' is not a TIMESTAMP",
                         "field 'at': 1.5 is not a TIMESTAMP",
                         "field 'amount': an object is not a DOUBLE",
                         "field 'id': an array is not a BIGINT",
                     }));
}

TEST(JsonDecoderTest, DoubleColumnsAcceptIntegersAndLargeNumbers) {
  const Schema schema({{"x", TypeId::kDouble, false}});
  const Decoded decoded =
      DecodeJson(schema, {R"({"x":3})", R"({"x":-0.25})", R"({"x":1e300})", R"({"x":99999999999999999999})"});
  EXPECT_TRUE(decoded.errors.empty());
  EXPECT_EQ(decoded.rows, (std::vector<std::string>{"3", "-0.25", "1e+300", "1e+20"}));
}

TEST(JsonDecoderTest, NestedAndNonStringValuesAreKeptAsJsonTextInStringColumns) {
  const Schema schema({{"s", TypeId::kString, false}});
  const Decoded decoded =
      DecodeJson(schema, {R"({"s":{"a": [1, 2], "b": {"c": null}}})", R"({"s":[1,"two",3.0]})",
                          R"({"s":12.50 })", R"({"s":true})", R"({"s":-7})", R"({"s":""})", R"({"s":null})"});
  EXPECT_TRUE(decoded.errors.empty());
  EXPECT_EQ(decoded.rows,
            (std::vector<std::string>{R"('{"a": [1, 2], "b": {"c": null}}')", R"('[1,"two",3.0]')", "'12.50'",
                                      "'true'", "'-7'", "''", "NULL"}));
}

TEST(JsonDecoderTest, EscapedStringsAndKeysAreUnescaped) {
  const Schema schema({{"s", TypeId::kString, false}, {"k\"ey", TypeId::kInt64, false}});
  auto decoder = JsonDecoder(Options(schema));
  Batch batch;
  std::vector<RecordError> errors;
  const std::vector<std::string> lines = {R"({"s":"a\"b\\c\nd\te\u00e9\ud83d\ude00/\/","k\"ey":1})",
                                          R"({"\u0073":"by escaped key","k\u0022ey":2})"};
  const std::vector<std::string_view> views = Views(lines);
  decoder->Decode(views, 1, batch, errors);
  ASSERT_TRUE(errors.empty()) << errors[0].reason;
  ASSERT_EQ(batch.num_rows(), 2u);
  EXPECT_EQ(batch.column(0).data<std::string_view>()[0], "a\"b\\c\nd\te\xc3\xa9\xf0\x9f\x98\x80//");
  EXPECT_EQ(batch.column(1).data<int64_t>()[0], 1);
  EXPECT_EQ(batch.column(0).data<std::string_view>()[1], "by escaped key");
  EXPECT_EQ(batch.column(1).data<int64_t>()[1], 2);
}

// Strings without escapes are taken from the input as they are: spaces around tokens, an empty
// string, raw UTF-8 and spaces inside the value; the same whether records are copied first or
// parsed where they lie in a padded buffer (as a file source's lines are).
TEST(JsonDecoderTest, PlainStringsDecodeTheSameCopiedOrInPlace) {
  const Schema schema({{"s", TypeId::kString, false}, {"n", TypeId::kInt64, false}});
  const std::vector<std::string> lines = {R"({ "s" : "plain" , "n" : 1 })",
                                          R"({"s":"","n":2})",
                                          "{\"s\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\",\"n\":3}",
                                          R"({"s":"  spaced  "  ,"n":4})",
                                          R"({"s":"esc\"aped","n":5})",
                                          R"({"n":6,"s":7.5})"};
  // One buffer, lines separated by newlines and followed by kRecordPadding spare bytes.
  std::string buffer;
  std::vector<std::string_view> in_place;
  for (const std::string& line : lines) buffer += line + "\n";
  buffer.append(kRecordPadding, 'x');
  for (size_t start = 0, i = 0; i < lines.size(); start += lines[i].size() + 1, ++i) {
    in_place.emplace_back(buffer.data() + start, lines[i].size());
  }
  for (const bool padded : {false, true}) {
    DecoderOptions options = Options(schema);
    options.records_padded = padded;
    auto decoder = JsonDecoder(options);
    Batch batch;
    std::vector<RecordError> errors;
    const std::vector<std::string_view> copied = Views(lines);
    decoder->Decode(padded ? in_place : copied, 1, batch, errors);
    ASSERT_TRUE(errors.empty()) << errors[0].reason;
    ASSERT_EQ(batch.num_rows(), 6u);
    const std::string_view* strings = batch.column(0).data<std::string_view>();
    EXPECT_EQ(strings[0], "plain");
    EXPECT_EQ(strings[1], "");
    EXPECT_EQ(strings[2], "caf\xc3\xa9 \xf0\x9f\x98\x80");
    EXPECT_EQ(strings[3], "  spaced  ");
    EXPECT_EQ(strings[4], "esc\"aped");
    EXPECT_EQ(strings[5], "7.5");
    // The values live in the column's own heap, not in the input.
    for (size_t row = 0; row < 6; ++row) {
      EXPECT_FALSE(strings[row].data() >= buffer.data() &&
                   strings[row].data() < buffer.data() + buffer.size());
    }
  }
}

TEST(JsonDecoderTest, KeysMatchInAnyOrderAndCaseInsensitively) {
  const Schema schema(
      {{"a", TypeId::kInt64, false}, {"b", TypeId::kString, false}, {"c", TypeId::kBoolean, false}});
  const Decoded decoded = DecodeJson(schema, {
                                                 R"({"a":1,"b":"x","c":true})",
                                                 R"({"c":false,"a":2,"b":"y"})",
                                                 R"({"z":0,"b":"z","a":3})",
                                                 R"({"z":0,"bb":"no","a":4})",
                                                 R"({"A":5,"B":"upper"})",
                                                 R"({"a":6,"b":"x","c":true})",
                                             });
  EXPECT_TRUE(decoded.errors.empty());
  EXPECT_EQ(decoded.rows, (std::vector<std::string>{"1|'x'|TRUE", "2|'y'|FALSE", "3|'z'|NULL", "4|NULL|NULL",
                                                    "5|'upper'|NULL", "6|'x'|TRUE"}));
}

TEST(JsonDecoderTest, ARejectedRecordLeavesNoTraceInTheNextRow) {
  const Schema schema({{"a", TypeId::kInt64, false}, {"b", TypeId::kString, false}});
  const Decoded decoded = DecodeJson(schema, {R"({"a":1,"b":"kept","a":"bad"})", R"({})"});
  ASSERT_EQ(decoded.errors.size(), 1u);
  EXPECT_EQ(decoded.rows, (std::vector<std::string>{"NULL|NULL"}));
}

TEST(JsonDecoderTest, LongRecordsAndManyBatchesReuseTheDecoder) {
  const Schema schema({{"id", TypeId::kInt64, false}, {"text", TypeId::kString, false}});
  auto decoder = JsonDecoder(Options(schema));
  const std::string long_text(100000, 'x');
  Batch batch;
  const Column* first_ids = nullptr;
  for (int round = 0; round < 3; ++round) {
    const std::vector<std::string> lines = {R"({"id":1,"text":"short"})",
                                            R"({"id":2,"text":")" + long_text + R"("})",
                                            R"({"id":3,"text":"after"})"};
    const std::vector<std::string_view> views = Views(lines);
    std::vector<RecordError> errors;
    decoder->Decode(views, 1, batch, errors);
    ASSERT_TRUE(errors.empty());
    ASSERT_EQ(batch.num_rows(), 3u);
    EXPECT_EQ(batch.column(1).data<std::string_view>()[1].size(), long_text.size());
    EXPECT_EQ(batch.column(1).data<std::string_view>()[2], "after");
    // The caller may append columns (the source adds ingestion time); the next call resets.
    batch.AddColumn(batch.shared_column(0));
    if (first_ids == nullptr) first_ids = &batch.column(0);
  }
  // Released batches hand their columns back to the decoder's pools.
  EXPECT_EQ(&batch.column(0), first_ids);
}

TEST(JsonDecoderTest, EventTimeFromEpochMillisIsAnExtraTimestampColumn) {
  DecoderOptions options = Options(Schema({{"id", TypeId::kInt64, false}, {"ts", TypeId::kInt64, false}}));
  options.event_time_field = 1;
  options.event_time_format = EventTimeFormat::kEpochMillis;
  auto decoder = JsonDecoder(options);
  const Decoded decoded =
      DecodeWith(*decoder, {R"({"id":1,"ts":1709294400000})", R"({"id":2,"ts":"1709294400250"})",
                            R"({"id":3})", R"({"id":4,"ts":null})", R"({"id":5,"ts":1.5})"});
  EXPECT_EQ(decoded.rows, (std::vector<std::string>{"1|1709294400000|TIMESTAMP '2024-03-01T12:00:00Z'"}));
  ASSERT_EQ(decoded.errors.size(), 4u);
  // The column's own type still applies: a BIGINT field does not take a numeric string.
  EXPECT_EQ(decoded.errors[0].reason, "field 'ts': '1709294400250' is not a BIGINT");
  EXPECT_EQ(decoded.errors[1].reason, "missing or invalid event time in field 'ts'");
  EXPECT_EQ(decoded.errors[1].line, 3u);
  EXPECT_EQ(decoded.errors[2].reason, "missing or invalid event time in field 'ts'");
  EXPECT_EQ(decoded.errors[3].reason, "field 'ts': 1.5 is not a BIGINT");
}

// A TIMESTAMP event-time column stores the event time parsed once from an integer token; a
// token that is not a JSON integer (a leading zero, a fraction) is still checked as before.
TEST(JsonDecoderTest, EventTimeInATimestampColumnIsParsedOnceAndStillValidated) {
  for (const EventTimeFormat format : {EventTimeFormat::kAuto, EventTimeFormat::kEpochMillis}) {
    DecoderOptions options =
        Options(Schema({{"id", TypeId::kInt64, false}, {"ts", TypeId::kTimestamp, false}}));
    options.event_time_field = 1;
    options.event_time_format = format;
    auto decoder = JsonDecoder(options);
    const Decoded decoded =
        DecodeWith(*decoder, {R"({"id":1,"ts":1709294400000})", R"({"id":2,"ts":0})", R"({"id":3,"ts":-5 })",
                              R"({"id":4,"ts":0123})", R"({"id":5,"ts":1.5})"});
    EXPECT_EQ(decoded.rows,
              (std::vector<std::string>{
                  "1|TIMESTAMP '2024-03-01T12:00:00Z'|TIMESTAMP '2024-03-01T12:00:00Z'",
                  "2|TIMESTAMP '1970-01-01T00:00:00Z'|TIMESTAMP '1970-01-01T00:00:00Z'",
                  "3|TIMESTAMP '1969-12-31T23:59:59.995Z'|TIMESTAMP '1969-12-31T23:59:59.995Z'"}));
    ASSERT_EQ(decoded.errors.size(), 2u);
    EXPECT_EQ(decoded.errors[0].line, 4u);
    EXPECT_EQ(decoded.errors[1].line, 5u);
  }
}

TEST(JsonDecoderTest, EventTimeFromANumericStringInAStringColumn) {
  DecoderOptions options = Options(Schema({{"ts", TypeId::kString, false}}));
  options.event_time_field = 0;
  options.event_time_format = EventTimeFormat::kEpochMillis;
  auto decoder = JsonDecoder(options);
  const Decoded decoded = DecodeWith(*decoder, {R"({"ts":"1709294400250"})", R"({"ts":"2024-03-01"})"});
  EXPECT_EQ(decoded.rows, (std::vector<std::string>{"'1709294400250'|TIMESTAMP '2024-03-01T12:00:00.250Z'"}));
  ASSERT_EQ(decoded.errors.size(), 1u);
  EXPECT_EQ(decoded.errors[0].reason, "missing or invalid event time in field 'ts'");
}

TEST(JsonDecoderTest, EventTimeFromIso8601StringsWithOffsets) {
  DecoderOptions options = Options(Schema({{"id", TypeId::kInt64, false}, {"at", TypeId::kString, false}}));
  options.event_time_field = 1;
  options.event_time_format = EventTimeFormat::kIso8601;
  auto decoder = JsonDecoder(options);
  const Decoded decoded =
      DecodeWith(*decoder, {R"({"id":1,"at":"2024-03-01T12:00:00Z"})",
                            R"({"id":2,"at":"2024-03-01T12:00:00.250+01:00"})",
                            R"({"id":3,"at":"yesterday"})", R"({"id":4})", R"({"id":5,"at":1709294400000})"});
  ASSERT_EQ(decoded.rows.size(), 2u);
  EXPECT_EQ(decoded.rows[0], "1|'2024-03-01T12:00:00Z'|TIMESTAMP '2024-03-01T12:00:00Z'");
  EXPECT_EQ(decoded.rows[1], "2|'2024-03-01T12:00:00.250+01:00'|TIMESTAMP '2024-03-01T11:00:00.250Z'");
  ASSERT_EQ(decoded.errors.size(), 3u);
  for (const RecordError& error : decoded.errors) {
    EXPECT_EQ(error.reason, "missing or invalid event time in field 'at'");
  }
}

TEST(JsonDecoderTest, EventTimeFromEpochSecondsAndAuto) {
  DecoderOptions options = Options(Schema({{"t", TypeId::kString, false}}));
  options.event_time_field = 0;
  options.event_time_format = EventTimeFormat::kEpochSeconds;
  auto seconds = JsonDecoder(options);
  Decoded decoded =
      DecodeWith(*seconds, {R"({"t":1709294400})", R"({"t":1709294400.25})", R"({"t":"1709294400"})"});
  ASSERT_TRUE(decoded.errors.empty());
  EXPECT_EQ(decoded.rows, (std::vector<std::string>{"'1709294400'|TIMESTAMP '2024-03-01T12:00:00Z'",
                                                    "'1709294400.25'|TIMESTAMP '2024-03-01T12:00:00.250Z'",
                                                    "'1709294400'|TIMESTAMP '2024-03-01T12:00:00Z'"}));
  options.event_time_format = EventTimeFormat::kAuto;
  auto automatic = JsonDecoder(options);
  decoded =
      DecodeWith(*automatic, {R"({"t":1709294400000})", R"({"t":"2024-03-01 12:00:00"})", R"({"t":true})"});
  EXPECT_EQ(decoded.rows,
            (std::vector<std::string>{"'1709294400000'|TIMESTAMP '2024-03-01T12:00:00Z'",
                                      "'2024-03-01 12:00:00'|TIMESTAMP '2024-03-01T12:00:00Z'"}));
  ASSERT_EQ(decoded.errors.size(), 1u);
  EXPECT_EQ(decoded.errors[0].reason, "missing or invalid event time in field 't'");
}

TEST(JsonDecoderTest, AnEventTimeFieldOutOfRangeIsRejected) {
  DecoderOptions options = Options(Schema({{"t", TypeId::kInt64, false}}));
  options.event_time_field = 1;
  EXPECT_FALSE(MakeJsonDecoder(options).ok());
  EXPECT_FALSE(MakeCsvDecoder(options).ok());
}

// --- CSV decoding -----------------------------------------------------------------------

TEST(CsvDecoderTest, QuotedFieldsMayHoldDelimitersAndDoubledQuotes) {
  const Schema schema({{"symbol", TypeId::kString, false},
                       {"price", TypeId::kDouble, false},
                       {"qty", TypeId::kInt64, false},
                       {"note", TypeId::kString, false}});
  const Decoded decoded = DecodeCsv(schema, {"AAPL,187.5,100,plain", R"(MSFT,410.25,5,"with, comma")",
                                             R"("GOOG",140,20,"say ""hi""")", R"(X, 1.5 ,+3,""""",")"});
  EXPECT_TRUE(decoded.errors.empty());
  EXPECT_EQ(decoded.rows,
            (std::vector<std::string>{"'AAPL'|187.5|100|'plain'", "'MSFT'|410.25|5|'with, comma'",
                                      "'GOOG'|140|20|'say \"hi\"'", "'X'|1.5|3|'\"\",'"}));
}

TEST(CsvDecoderTest, EmptyFieldsAreNullAndQuotedEmptyIsTheEmptyString) {
  const Schema schema(
      {{"a", TypeId::kString, false}, {"b", TypeId::kInt64, false}, {"c", TypeId::kString, false}});
  const Decoded decoded = DecodeCsv(schema, {",,", R"("","",x)", R"(a,1,)"});
  EXPECT_TRUE(decoded.errors.empty());
  EXPECT_EQ(decoded.rows, (std::vector<std::string>{"NULL|NULL|NULL", "''|NULL|'x'", "'a'|1|NULL"}));
}

TEST(CsvDecoderTest, WrongFieldCountAndBadValuesAreErrors) {
  const Schema schema({{"symbol", TypeId::kString, false}, {"price", TypeId::kDouble, false}});
  const Decoded decoded =
      DecodeCsv(schema, {"A,1", "B", "C,2,extra", "D,n/a", R"("E,3)", R"("F"x,4)", "G,5"});
  EXPECT_EQ(decoded.rows, (std::vector<std::string>{"'A'|1", "'G'|5"}));
  ASSERT_EQ(decoded.errors.size(), 5u);
  EXPECT_EQ(decoded.errors[0].reason, "expected 2 fields, found 1");
  EXPECT_EQ(decoded.errors[0].line, 2u);
  EXPECT_EQ(decoded.errors[0].raw, "B");
  EXPECT_EQ(decoded.errors[1].reason, "expected 2 fields, found 3");
  EXPECT_EQ(decoded.errors[2].reason, "field 'price': 'n/a' is not a DOUBLE");
  EXPECT_EQ(decoded.errors[3].reason.rfind("malformed CSV: unterminated quoted field", 0), 0u);
  EXPECT_EQ(decoded.errors[4].reason.rfind("malformed CSV: unexpected character after the closing quote", 0),
            0u);
}

TEST(CsvDecoderTest, ConvertsEveryTypeWithAnyDelimiter) {
  const Decoded decoded = DecodeCsv(
      kOrders, {"1;ann;2.5;TRUE;1709294400000", "2;b,c;-1e3;0;2024-03-01 12:00:00.250", "3;;;;"}, ';');
  EXPECT_TRUE(decoded.errors.empty());
  EXPECT_EQ(decoded.rows,
            (std::vector<std::string>{"1|'ann'|2.5|TRUE|TIMESTAMP '2024-03-01T12:00:00Z'",
                                      "2|'b,c'|-1000|FALSE|TIMESTAMP '2024-03-01T12:00:00.250Z'",
                                      "3|NULL|NULL|NULL|NULL"}));
}

TEST(CsvDecoderTest, EventTimeColumnAndMissingEventTime) {
  DecoderOptions options = Options(Schema({{"id", TypeId::kInt64, false}, {"at", TypeId::kString, false}}));
  options.event_time_field = 1;
  auto decoder = CsvDecoder(options);  // kAuto: integers are epoch millis, text is ISO-8601
  const Decoded decoded = DecodeWith(*decoder, {"1,2024-03-01T12:00:00Z", "2,1709294400250", "3,", "4,soon"});
  EXPECT_EQ(decoded.rows,
            (std::vector<std::string>{"1|'2024-03-01T12:00:00Z'|TIMESTAMP '2024-03-01T12:00:00Z'",
                                      "2|'1709294400250'|TIMESTAMP '2024-03-01T12:00:00.250Z'"}));
  ASSERT_EQ(decoded.errors.size(), 2u);
  EXPECT_EQ(decoded.errors[0].reason, "missing or invalid event time in field 'at'");
  EXPECT_EQ(decoded.errors[1].line, 4u);
}

// --- schema inference -------------------------------------------------------------------

TEST(SchemaInferenceTest, JsonFieldTypesFollowTheirValues) {
  const std::vector<std::string> lines = {
      R"({"id":1,"price":2,"flag":true,"name":"a","nested":{"x":1},"empty":null,"mixed":1})",
      "not json",
      R"({"id":2,"price":2.5,"flag":false,"name":"b","nested":[1],"mixed":"one","late":5})",
      R"({"id":null,"big":99999999999999999999})",
  };
  const std::vector<std::string_view> views = Views(lines);
  auto schema = InferJsonSchema(views);
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  EXPECT_EQ(schema->ToString(),
            "id BIGINT, price DOUBLE, flag BOOLEAN, name STRING, nested STRING, empty STRING, mixed STRING, "
            "late BIGINT, big DOUBLE");
}

// A stray value of another kind does not turn a numeric field into STRING: the majority wins
// and the stray value is dead-lettered when decoded.
TEST(SchemaInferenceTest, MajorityKindWinsOverStrayValues) {
  const std::vector<std::string> lines = {
      R"({"amount":1,"ok":true,"code":"a"})", R"({"amount":2.5,"ok":false,"code":"b"})",
      R"({"amount":"lots","ok":"yes","code":3})", R"({"amount":4,"ok":true,"code":"d"})"};
  const std::vector<std::string_view> views = Views(lines);
  auto schema = InferJsonSchema(views);
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  EXPECT_EQ(schema->ToString(), "amount DOUBLE, ok BOOLEAN, code STRING");
}

TEST(SchemaInferenceTest, JsonWithoutAUsableRecordIsAnError) {
  const std::vector<std::string> lines = {"not json", "[1,2]", R"({"a":1} trailing)"};
  const std::vector<std::string_view> views = Views(lines);
  EXPECT_FALSE(InferJsonSchema(views).ok());
  EXPECT_FALSE(InferJsonSchema({}).ok());
}

TEST(SchemaInferenceTest, CsvTypesFromTextAndHeaderNames) {
  const std::vector<std::string> lines = {"1,2.5,true,x,,7", "2,3,false,y,,8.5", "bad,row",
                                          R"(3,,TRUE,"z, q",,9)"};
  const std::vector<std::string_view> views = Views(lines);
  auto schema = InferCsvSchema(R"(id, price ,ok,"label",,id)", views, ',');
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  EXPECT_EQ(schema->ToString(),
            "id BIGINT, price DOUBLE, ok BOOLEAN, label STRING, column_5 STRING, id_2 DOUBLE");
  const std::vector<std::string> bad = {"1"};
  const std::vector<std::string_view> bad_views = Views(bad);
  EXPECT_FALSE(InferCsvSchema("a,b", bad_views, ',').ok());
}

// A header of many repeats of one name (found by fuzz_csv_decoder, whose time went into this)
// took time cubic in its length: each repeat searched every earlier name once per suffix it
// tried. 20,000 repeats took hours; they take milliseconds now, numbered as before.
TEST(SchemaInferenceTest, CsvHeaderOfManyRepeatsIsNumberedInLinearTime) {
  constexpr size_t kRepeats = 20000;
  std::string header = "a_3";
  for (size_t i = 0; i < kRepeats; ++i) header += ",a";
  std::string record = "1";
  for (size_t i = 0; i < kRepeats; ++i) record += ",1";
  const std::vector<std::string_view> views = {record};
  auto schema = InferCsvSchema(header, views, ',');
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  ASSERT_EQ(schema->size(), kRepeats + 1);
  EXPECT_EQ(schema->field(1).name, "a");
  EXPECT_EQ(schema->field(2).name, "a_2");
  EXPECT_EQ(schema->field(3).name, "a_4");  // a_3 is taken
  EXPECT_EQ(schema->field(kRepeats).name, "a_" + std::to_string(kRepeats + 1));
}

// The same for a JSON record of many keys: a linear search per key made it quadratic.
TEST(SchemaInferenceTest, JsonRecordOfManyKeysInfersInLinearTime) {
  constexpr size_t kKeys = 100000;
  std::string record = "{";
  for (size_t i = 0; i < kKeys; ++i) record += (i > 0 ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  record += "}";
  const std::vector<std::string_view> views = {record, record};
  auto schema = InferJsonSchema(views);
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  ASSERT_EQ(schema->size(), kKeys);
  EXPECT_EQ(schema->field(kKeys - 1).name, "k" + std::to_string(kKeys - 1));
  EXPECT_EQ(schema->field(kKeys - 1).type, TypeId::kInt64);
}

// --- encoders ---------------------------------------------------------------------------

// A batch of every type with NULLs and awkward strings (built by decoding JSON).
Batch SampleBatch(RecordDecoder& decoder, std::vector<std::string>& storage) {
  storage = {
      R"({"id":1,"name":"plain","amount":0.1,"paid":true,"at":1709294400250})",
      R"({"id":-9223372036854775808,"name":"quote \" backslash \\ comma , semicolon ;","amount":-0.0,"paid":false,"at":-1})",
      R"({"id":9223372036854775807,"name":"tab\t ctrl\u0001\u001f del\u007f \u00e9\ud83d\ude00","amount":1e300,"at":0})",
      R"({"id":null,"name":"","amount":5e-324,"paid":null,"at":null})",
      R"({"name":"  spaced  ","amount":123456789.125})",
      R"({})",
  };
  Batch batch;
  std::vector<RecordError> errors;
  const std::vector<std::string_view> views = Views(storage);
  decoder.Decode(views, 1, batch, errors);
  EXPECT_TRUE(errors.empty()) << errors[0].reason;
  return batch;
}

TEST(JsonEncoderTest, WritesOneObjectPerRowInSchemaOrder) {
  auto decoder = JsonDecoder(Options(kOrders));
  std::vector<std::string> storage;
  const Batch batch = SampleBatch(*decoder, storage);
  std::string out = "kept:";
  MakeJsonEncoder(kOrders)->Encode(batch, out);
  EXPECT_EQ(
      out,
      "kept:"
      R"({"id":1,"name":"plain","amount":0.1,"paid":true,"at":1709294400250})"
      "\n"
      R"({"id":-9223372036854775808,"name":"quote \" backslash \\ comma , semicolon ;","amount":-0,"paid":false,"at":-1})"
      "\n"
      R"({"id":9223372036854775807,"name":"tab\t ctrl\u0001\u001f del)"
      "\x7f \xc3\xa9\xf0\x9f\x98\x80"
      R"(","amount":1e+300,"paid":null,"at":0})"
      "\n"
      R"({"id":null,"name":"","amount":5e-324,"paid":null,"at":null})"
      "\n"
      R"({"id":null,"name":"  spaced  ","amount":123456789.125,"paid":null,"at":null})"
      "\n"
      R"({"id":null,"name":null,"amount":null,"paid":null,"at":null})"
      "\n");
}

TEST(JsonEncoderTest, RoundTripsEveryTypeNullsAndSpecialCharacters) {
  auto decoder = JsonDecoder(Options(kOrders));
  std::vector<std::string> storage;
  const Batch batch = SampleBatch(*decoder, storage);
  const std::vector<std::string> expected = RowsOf(batch);
  std::string text;
  MakeJsonEncoder(kOrders)->Encode(batch, text);
  auto second = JsonDecoder(Options(kOrders));
  const Decoded decoded = DecodeWith(*second, SplitLines(text));
  EXPECT_TRUE(decoded.errors.empty());
  EXPECT_EQ(decoded.rows, expected);
}

TEST(JsonEncoderTest, EncodesOnlySelectedRowsAndNonFiniteDoublesAsNull) {
  const Schema schema({{"k\"ey\n", TypeId::kDouble, false}});
  auto column = std::make_shared<Column>(TypeId::kDouble, 4);
  const double values[] = {1.5, std::nan(""), std::numeric_limits<double>::infinity(), 2};
  for (size_t i = 0; i < 4; ++i) column->data<double>()[i] = values[i];
  column->SetAllValid(4);
  Batch batch;
  batch.SetColumns({column}, 4);
  uint32_t* selection = batch.MutableSelection();
  selection[0] = 1;
  selection[1] = 2;
  selection[2] = 3;
  batch.SetSelectionCount(3);
  std::string out;
  MakeJsonEncoder(schema)->Encode(batch, out);
  EXPECT_EQ(out, "{\"k\\\"ey\\n\":null}\n{\"k\\\"ey\\n\":null}\n{\"k\\\"ey\\n\":2}\n");
}

TEST(JsonEncoderTest, LargeBatchesGrowTheOutput) {
  const Schema schema({{"s", TypeId::kString, false}});
  auto column = std::make_shared<Column>(TypeId::kString, 5000);
  const std::string quotes(300, '"');  // every byte escaped
  for (size_t i = 0; i < 5000; ++i) column->data<std::string_view>()[i] = column->heap().Add(quotes);
  column->SetAllValid(5000);
  Batch batch;
  batch.SetColumns({column}, 5000);
  std::string out;
  MakeJsonEncoder(schema)->Encode(batch, out);
  std::string expected_line = "{\"s\":\"";
  for (int i = 0; i < 300; ++i) expected_line += "\\\"";
  expected_line += "\"}\n";
  ASSERT_EQ(out.size(), 5000 * expected_line.size());
  EXPECT_EQ(out.substr(0, expected_line.size()), expected_line);
  EXPECT_EQ(out.substr(out.size() - expected_line.size()), expected_line);
}

TEST(CsvEncoderTest, WritesTheHeaderOnceAndQuotesWhenNeeded) {
  const Schema schema({{"name", TypeId::kString, false}, {"a,b", TypeId::kInt64, false}});
  auto column = std::make_shared<Column>(TypeId::kString, 4);
  auto numbers = std::make_shared<Column>(TypeId::kInt64, 4);
  const char* texts[] = {"plain", "with, comma", "say \"hi\"", ""};
  for (size_t i = 0; i < 4; ++i) {
    column->data<std::string_view>()[i] = column->heap().Add(texts[i]);
    numbers->data<int64_t>()[i] = static_cast<int64_t>(i);
  }
  column->SetAllValid(4);
  numbers->SetAllValid(4);
  numbers->SetNull(3);
  Batch batch;
  batch.SetColumns({column, numbers}, 4);
  auto encoder = MakeCsvEncoder(schema, ',');
  std::string out;
  encoder->Encode(batch, out);
  encoder->Encode(batch, out);
  const std::string rows = "plain,0\n\"with, comma\",1\n\"say \"\"hi\"\"\",2\n\"\",\n";
  EXPECT_EQ(out, "name,\"a,b\"\n" + rows + rows);
}

// Flink's CSV: no header line, and a TIMESTAMP(3) as SQL text with as few fraction digits as
// it needs (java.time's SQL_TIMESTAMP_FORMAT).
TEST(CsvEncoderTest, WritesAsFlinksCsvWithoutHeaderAndWithSqlTimestamps) {
  const Schema schema({Field{"ts", TypeId::kTimestamp}, Field{"n", TypeId::kInt64}});
  auto ts = std::make_shared<Column>(TypeId::kTimestamp, 5);
  auto n = std::make_shared<Column>(TypeId::kInt64, 5);
  const int64_t values[] = {1767251700000, 1767251700500, 1767251700120, 1767251700123, -1};
  for (size_t i = 0; i < 5; ++i) {
    ts->data<int64_t>()[i] = values[i];
    n->data<int64_t>()[i] = static_cast<int64_t>(i);
  }
  ts->SetAllValid(5);
  n->SetAllValid(5);
  ts->SetNull(4);
  Batch batch;
  batch.SetColumns({ts, n}, 5);
  std::string out;
  MakeCsvEncoder(schema, ',', /*header=*/false, /*sql_timestamps=*/true)->Encode(batch, out);
  EXPECT_EQ(out,
            "2026-01-01 07:15:00,0\n2026-01-01 07:15:00.5,1\n2026-01-01 07:15:00.12,2\n"
            "2026-01-01 07:15:00.123,3\n,4\n");
  for (const int64_t value : values) {
    char text[32];
    const size_t size = AppendSqlTimestamp(value, text);
    EXPECT_EQ(ParseTimestamp(std::string_view(text, size)), value) << "reads back";
  }
}

TEST(CsvEncoderTest, RoundTripsEveryTypeNullsAndSpecialCharacters) {
  // CSV records are single lines, so this sample has no line breaks inside strings.
  auto decoder = JsonDecoder(Options(kOrders));
  std::vector<std::string> storage;
  const Batch batch = SampleBatch(*decoder, storage);
  const std::vector<std::string> expected = RowsOf(batch);
  for (char delimiter : {',', ';', '\t'}) {
    std::string text;
    MakeCsvEncoder(kOrders, delimiter)->Encode(batch, text);
    std::vector<std::string> lines = SplitLines(text);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0], delimiter == ','   ? "id,name,amount,paid,at"
                        : delimiter == ';' ? "id;name;amount;paid;at"
                                           : "id\tname\tamount\tpaid\tat");
    lines.erase(lines.begin());
    const Decoded decoded = DecodeCsv(kOrders, lines, delimiter);
    EXPECT_TRUE(decoded.errors.empty()) << decoded.errors[0].reason;
    EXPECT_EQ(decoded.rows, expected) << "delimiter " << static_cast<int>(delimiter);
  }
}

// --- record splitting ---------------------------------------------------------------------

struct SplitRecords {
  std::vector<size_t> ends;                 // offsets of the newlines that end records
  std::vector<uint64_t> inner_line_breaks;  // per record
  bool open_quote_at_end = false;

  bool operator==(const SplitRecords&) const = default;
};

// The model: RFC 4180 read one byte at a time.
SplitRecords SplitCsvByModel(std::string_view text, char delimiter) {
  SplitRecords out;
  bool field_start = true, in_quotes = false, after_quote = false;
  uint64_t inner = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        in_quotes = false;
        after_quote = true;
      } else if (c == '\n') {
        ++inner;
      }
      continue;
    }
    if (after_quote) {
      after_quote = false;
      if (c == '"') {  // ""
        in_quotes = true;
        continue;
      }
    }
    if (c == '\n') {
      out.ends.push_back(i);
      out.inner_line_breaks.push_back(inner);
      inner = 0;
      field_start = true;
    } else if (field_start && c == '"') {
      in_quotes = true;
      field_start = false;
    } else {
      field_start = c == delimiter;
    }
  }
  out.open_quote_at_end = in_quotes;
  return out;
}

// The splitter, fed `text` in pieces that end at `cuts`.
SplitRecords SplitInPieces(RecordSplitter splitter, std::string_view text, const std::vector<size_t>& cuts) {
  SplitRecords out;
  size_t piece_start = 0;
  for (size_t cut_index = 0; cut_index <= cuts.size(); ++cut_index) {
    const size_t piece_end = cut_index < cuts.size() ? cuts[cut_index] : text.size();
    const char* p = text.data() + piece_start;
    const char* end = text.data() + piece_end;
    while (const char* newline = splitter.FindEnd(p, end)) {
      out.ends.push_back(static_cast<size_t>(newline - text.data()));
      out.inner_line_breaks.push_back(splitter.inner_line_breaks());
      splitter.StartRecord();
      p = newline + 1;
    }
    piece_start = piece_end;
  }
  out.open_quote_at_end = splitter.in_quoted_field();
  return out;
}

TEST(RecordSplitterTest, CsvRecordsEndAtNewlinesOutsideQuotedFields) {
  const std::string text = "a,\"b\nc\",d\n\"\"\"\n\"\n\"x\"\"\ny\",z\"\nq\n1,2\n,\"open\n";
  const SplitRecords split = SplitInPieces(RecordSplitter::Csv(','), text, {});
  EXPECT_EQ(split.ends, (std::vector<size_t>{9, 15, 26, 28, 32}));
  EXPECT_EQ(split.inner_line_breaks, (std::vector<uint64_t>{1, 1, 1, 0, 0}));
  EXPECT_TRUE(split.open_quote_at_end);
  // JSON Lines: every newline ends a record.
  const SplitRecords lines = SplitInPieces(RecordSplitter::Lines(), text, {});
  EXPECT_EQ(lines.ends.size(), static_cast<size_t>(std::count(text.begin(), text.end(), '\n')));
  EXPECT_FALSE(lines.open_quote_at_end);
}

// Random text of the bytes that matter, cut into random pieces: the splitter agrees with the
// byte-at-a-time model wherever the pieces end.
TEST(RecordSplitterTest, AgreesWithTheModelInAnyPieces) {
  std::mt19937 random(11);
  const char alphabet[] = {'a', ';', '"', '"', '\n', '\r'};
  for (int round = 0; round < 20000; ++round) {
    std::string text(random() % 48, '\0');
    for (char& c : text) c = alphabet[random() % sizeof(alphabet)];
    std::vector<size_t> cuts;
    for (size_t i = 1; i < text.size(); ++i) {
      if (random() % 4 == 0) cuts.push_back(i);
    }
    const SplitRecords expected = SplitCsvByModel(text, ';');
    ASSERT_EQ(SplitInPieces(RecordSplitter::Csv(';'), text, cuts), expected) << "text: " << text;
    ASSERT_EQ(SplitInPieces(RecordSplitter::Csv(';'), text, {}), expected) << "text: " << text;
  }
}

// --- invalid UTF-8 ----------------------------------------------------------------------

struct Utf8Case {
  std::string input;
  std::string repaired;  // the JSON string's contents
  uint64_t replacements;
};

// Each maximal subpart of an ill-formed sequence is one U+FFFD (Unicode chapter 3, WHATWG);
// the expected values agree with Python's bytes.decode('utf-8', 'replace').
std::vector<Utf8Case> Utf8Cases() {
  const std::string r(kReplacementCharacter);  // U+FFFD
  return {
      {"c\xff", "c" + r, 1},
      {"\x80", r, 1},  // a lone continuation byte
      {"\xbf", r, 1},
      {"\xc0\xaf", r + r, 2},                  // overlong '/': C0 never starts a character
      {"\xc1\xbf", r + r, 2},                  // overlong U+007F
      {"\xe0\x80\xaf", r + r + r, 3},          // overlong 3-byte '/'
      {"\xe0\x9f\xbf", r + r + r, 3},          // overlong U+07FF
      {"\xf0\x80\x80\xaf", r + r + r + r, 4},  // overlong 4-byte '/'
      {"\xf0\x8f\xbf\xbf", r + r + r + r, 4},  // overlong U+FFFF
      {"\xed\xa0\x80", r + r + r, 3},          // surrogate U+D800
      {"\xed\xbf\xbf", r + r + r, 3},          // surrogate U+DFFF
      {"\xf4\x90\x80\x80", r + r + r + r, 4},  // U+110000, above the last code point
      {"\xf5\x80\x80\x80", r + r + r + r, 4},  // F5 never starts a character
      {"\xff\xfe", r + r, 2},
      {"\xc2", r, 1},      // cut short by the end
      {"\xe2\x82", r, 1},  // one maximal subpart: one U+FFFD
      {"\xf0\x9f\x98", r, 1},
      {"\xe2\x82\x41", r + "A", 1},  // cut short by an ASCII byte ('A' is 0x41)
      {"\xc2\x41", r + "A", 1},
      {"\xf0\x9f\x98\x41", r + "A", 1},
      {"\xe2\x82\xe2\x82\xac", r + "\xe2\x82\xac", 1},  // cut short by a new character
      // Unicode Table 3-11's example: a F1 80 80 E1 80 C2 b 80 c 80 BF d.
      {"\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64", "a" + r + r + r + "b" + r + "c" + r + r + "d",
       6},
      // Well-formed: copied as is, including the boundaries of each range.
      {"\xc3\xa9", "\xc3\xa9", 0},
      {"\xc2\x80", "\xc2\x80", 0},
      {"\xe2\x82\xac", "\xe2\x82\xac", 0},
      {"\xe0\xa0\x80", "\xe0\xa0\x80", 0},          // U+0800, the first 3-byte character
      {"\xed\x9f\xbf", "\xed\x9f\xbf", 0},          // U+D7FF, below the surrogates
      {"\xee\x80\x80", "\xee\x80\x80", 0},          // U+E000, above them
      {"\xf0\x90\x80\x80", "\xf0\x90\x80\x80", 0},  // U+10000
      {"\xf0\x9d\x84\x9e", "\xf0\x9d\x84\x9e", 0},  // U+1D11E
      {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", 0},  // U+10FFFF, the last code point
      {"\x7f", "\x7f", 0},
      // Escapes still apply around replacements.
      {"\"\xff\n", "\\\"" + r + "\\n", 1},
  };
}

std::string JsonStringOf(std::string_view text, uint64_t& replaced) {
  std::string out(kMaxJsonStringBytesPerByte * text.size() + 2, '\0');
  out.resize(static_cast<size_t>(WriteJsonString(out.data(), text, replaced) - out.data()));
  return out;
}

TEST(Utf8Test, EachMaximalSubpartOfAnIllFormedSequenceBecomesOneReplacementCharacter) {
  for (const Utf8Case& c : Utf8Cases()) {
    uint64_t replaced = 0;
    EXPECT_EQ(JsonStringOf(c.input, replaced), "\"" + c.repaired + "\"") << "input " << Hex(c.input);
    EXPECT_EQ(replaced, c.replacements) << "input " << Hex(c.input);
    EXPECT_EQ(IsValidUtf8(c.input), c.replacements == 0) << "input " << Hex(c.input);
  }
}

TEST(Utf8Test, APrefixNeverEndsInsideACharacter) {
  const std::string text = "a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e";  // a, é, €, U+1D11E
  const size_t expected[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 10};
  for (size_t limit = 0; limit <= text.size() + 1; ++limit) {
    EXPECT_EQ(Utf8PrefixLength(text, limit), expected[limit]) << "limit " << limit;
  }
  EXPECT_EQ(Utf8PrefixLength("\x80\x80\x80\x80\x80", 4), 4u);  // no character to back off to
}

// Random bytes, mostly above 0x7F: the encoder's output is always valid JSON whose strings are
// valid UTF-8; valid input comes back unchanged; and writing in pieces (as dead letters do)
// repairs exactly as writing the whole.
TEST(Utf8Test, RandomBytesAlwaysEncodeToValidJson) {
  std::mt19937 random(7);
  const Schema schema({{"s", TypeId::kString, false}});
  auto encoder = MakeJsonEncoder(schema);
  simdjson::dom::parser parser;
  uint64_t expected_replacements = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string text(random() % 40, '\0');
    for (char& c : text) {
      const uint32_t pick = random() % 8;
      c = static_cast<char>(pick == 0 ? 'a' : pick == 1 ? 0x80 + random() % 64 : random() % 256);
    }
    if (round % 3 == 0) text = "\xc3\xa9" + text.substr(0, text.size() / 4) + "\xf0\x9f\x98\x80";
    auto column = std::make_shared<Column>(TypeId::kString, 1);
    column->data<std::string_view>()[0] = column->heap().Add(text);
    column->SetAllValid(1);
    Batch batch;
    batch.SetColumns({column}, 1);
    std::string out;
    const uint64_t before = encoder->invalid_utf8_replaced();
    encoder->Encode(batch, out);
    const uint64_t replaced = encoder->invalid_utf8_replaced() - before;
    expected_replacements += replaced;
    ASSERT_TRUE(IsValidUtf8(out)) << Hex(text);
    simdjson::dom::element row;
    ASSERT_EQ(parser.parse(out).get(row), simdjson::SUCCESS) << Hex(text) << " -> " << out;
    std::string_view decoded;
    ASSERT_EQ(row["s"].get(decoded), simdjson::SUCCESS);
    if (IsValidUtf8(text)) {
      EXPECT_EQ(decoded, text);
      EXPECT_EQ(replaced, 0u);
    } else {
      EXPECT_GT(replaced, 0u);
    }
    // In pieces: the same text and count, whatever the text's length.
    std::string long_text;
    for (int i = 0; i < 5000; ++i) long_text += text;
    uint64_t whole_count = 0, piece_count = 0;
    std::string pieces;
    AppendJsonString(long_text, pieces, piece_count);
    EXPECT_EQ(pieces, JsonStringOf(long_text, whole_count));
    EXPECT_EQ(piece_count, whole_count);
  }
  EXPECT_EQ(encoder->invalid_utf8_replaced(), expected_replacements);
}

// --- number formats ---------------------------------------------------------------------

TEST(NumberFormatTest, FormatDoubleExamples) {
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(100.0), "100");
  EXPECT_EQ(FormatDouble(1e300), "1e+300");
  EXPECT_EQ(FormatDouble(-2.5), "-2.5");
  EXPECT_EQ(FormatDouble(0.0), "0");
  EXPECT_EQ(FormatDouble(-0.0), "-0");
  EXPECT_EQ(FormatDouble(std::nan("")), "NaN");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(FormatDouble(-std::numeric_limits<double>::infinity()), "-Infinity");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::lowest()), "-1.7976931348623157e+308");
  char buffer[32];
  EXPECT_EQ(AppendDouble(123.25, buffer), 6u);
  EXPECT_EQ(std::string_view(buffer, 6), "123.25");
}

TEST(NumberFormatTest, FormatDoubleIsShortestAndRoundTripsOnRandomDoubles) {
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> uniform(-1e6, 1e6);
  for (int i = 0; i < 200000; ++i) {
    double value = 0;
    if (i % 2 == 0) {
      const uint64_t bits = random();
      std::memcpy(&value, &bits, sizeof(value));
      if (!std::isfinite(value)) continue;
    } else {
      value = uniform(random);
    }
    const std::string text = FormatDouble(value);
    ASSERT_LE(text.size(), 24u) << text;
    const std::optional<double> parsed = ParseDouble(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    ASSERT_EQ(std::memcmp(&*parsed, &value, sizeof(value)), 0) << text;
    // Shortest: its digits are those of the shortest scientific form (no text with one
    // significant digit fewer reads back as the value), and it is no longer than that form.
    char scientific[64];
    const auto written =
        std::to_chars(scientific, scientific + sizeof(scientific), value, std::chars_format::scientific);
    const std::string_view mantissa(scientific, static_cast<size_t>(written.ptr - scientific));
    ASSERT_LE(text.size(), mantissa.size()) << text;
    int significant = 0;
    for (char c : mantissa.substr(0, mantissa.find('e'))) significant += (c >= '0' && c <= '9') ? 1 : 0;
    if (significant > 1) {
      char shorter[400];
      std::snprintf(shorter, sizeof(shorter), "%.*e", significant - 2, value);
      const std::optional<double> back = ParseDouble(shorter);
      ASSERT_TRUE(!back.has_value() || *back != value) << text << " vs " << shorter;
    }
  }
  for (double value : {0.1, 0.2, 0.3, 1.0 / 3, 5e-324, 2.2250738585072014e-308, 9007199254740993.0}) {
    EXPECT_EQ(ParseDouble(FormatDouble(value)), value) << FormatDouble(value);
  }
}

TEST(NumberFormatTest, ParseTimestampFormatsFractionsAndOffsets) {
  const int64_t noon = 1709294400000;  // 2024-03-01T12:00:00Z
  EXPECT_EQ(ParseTimestamp("2024-03-01"), 1709251200000);
  EXPECT_EQ(ParseTimestamp("2024-03-01 12:00:00"), noon);
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00"), noon);
  EXPECT_EQ(ParseTimestamp("2024-03-01t12:00"), noon);
  EXPECT_EQ(ParseTimestamp("  2024-03-01T12:00:00Z  "), noon);
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00.250"), noon + 250);
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00.2"), noon + 200);
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00.25"), noon + 250);
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00.123456789Z"), noon + 123);  // truncated to ms
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00.999999"), noon + 999);
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00.250+01:00"), noon + 250 - 3600000);
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00-05:30"), noon + (5 * 60 + 30) * 60000);
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00+0100"), noon - 3600000);
  EXPECT_EQ(ParseTimestamp("2024-03-01T12:00:00+01"), noon - 3600000);
  EXPECT_EQ(ParseTimestamp("2024-03-01 12:00:00 +00:00"), noon);
  EXPECT_EQ(ParseTimestamp("2024-02-29"), 1709164800000);
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(ParseTimestamp("1970-01-01"), 0);
  for (const char* bad : {"", "2024", "2024-3-01", "2024-13-01", "2024-00-10", "2023-02-29", "2024-04-31",
                          "2024-03-01T", "2024-03-01T24:00:00", "2024-03-01T12:60", "2024-03-01T12:00:61",
                          "2024-03-01T12:00:00.", "2024-03-01T12:00:00.1234567890", "2024-03-01T12:00:00+1",
                          "2024-03-01T12:00:00+01:00x", "2024-03-01X12:00", "yesterday", "2024-03-01Z"}) {
    EXPECT_FALSE(ParseTimestamp(bad).has_value()) << bad;
  }
}

TEST(NumberFormatTest, FormatTimestampRoundTripsThroughParseTimestamp) {
  EXPECT_EQ(FormatTimestamp(1709294400000), "2024-03-01T12:00:00Z");
  EXPECT_EQ(FormatTimestamp(1709294400250), "2024-03-01T12:00:00.250Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
  std::mt19937_64 random(7);
  std::uniform_int_distribution<int64_t> millis(-62135596800000, 253402300799999);  // years 1..9999
  for (int i = 0; i < 100000; ++i) {
    const int64_t value = millis(random);
    ASSERT_EQ(ParseTimestamp(FormatTimestamp(value)), value) << FormatTimestamp(value);
  }
  EXPECT_EQ(Millis("2024-03-01 12:00:00.250"), 1709294400250);
}

TEST(NumberFormatTest, StrictIntegerDoubleAndBooleanParses) {
  EXPECT_EQ(ParseInt64("42"), 42);
  EXPECT_EQ(ParseInt64("  -7 "), -7);
  EXPECT_EQ(ParseInt64("+15"), 15);
  EXPECT_EQ(ParseInt64("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  for (const char* bad : {"", " ", "12.7", "1e3", "+-1", "+", "12a", "9223372036854775808", "0x10", "- 1"}) {
    EXPECT_FALSE(ParseInt64(bad).has_value()) << bad;
  }
  EXPECT_EQ(ParseDouble("1.5"), 1.5);
  EXPECT_EQ(ParseDouble(" +2e3 "), 2000.0);
  EXPECT_EQ(ParseDouble("-.5"), -0.5);
  EXPECT_EQ(ParseDouble("Infinity"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(ParseDouble("-Infinity"), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(ParseDouble("NaN").value_or(0)));
  for (const char* bad : {"", "abc", "1.5.2", "1e400", "+-1", "0x1p3", "1,5"}) {
    EXPECT_FALSE(ParseDouble(bad).has_value()) << bad;
  }
  EXPECT_EQ(ParseBoolean("TRUE"), true);
  EXPECT_EQ(ParseBoolean(" false "), false);
  EXPECT_EQ(ParseBoolean("1"), true);
  EXPECT_EQ(ParseBoolean("0"), false);
  EXPECT_FALSE(ParseBoolean("yes").has_value());
  EXPECT_FALSE(ParseBoolean("").has_value());
}

TEST(NumberFormatTest, DaysFromCivilAndCivilFromDaysRoundTrip) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(2024, 3, 1), 19783);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(0, 3, 1), -719468);
  int64_t previous_year = 0;
  unsigned previous_month = 0;
  unsigned previous_day = 0;
  CivilFromDays(-1000001, &previous_year, &previous_month, &previous_day);
  for (int64_t days = -1000000; days <= 1000000; ++days) {
    int64_t year = 0;
    unsigned month = 0;
    unsigned day = 0;
    CivilFromDays(days, &year, &month, &day);
    ASSERT_EQ(DaysFromCivil(year, month, day), days);
    ASSERT_TRUE(month >= 1 && month <= 12 && day >= 1 && day <= 31);
    // Consecutive days: the next day of the month, or the first of the next month.
    const bool next_day = year == previous_year && month == previous_month && day == previous_day + 1;
    const bool next_month = day == 1 && ((year == previous_year && month == previous_month + 1) ||
                                         (year == previous_year + 1 && month == 1 && previous_month == 12));
    ASSERT_TRUE(next_day || next_month) << year << "-" << month << "-" << day;
    previous_year = year;
    previous_month = month;
    previous_day = day;
  }
}

}  // namespace
}  // namespace sluice
