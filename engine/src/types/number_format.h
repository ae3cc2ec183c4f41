// Text forms of numbers and timestamps shared by encoders, casts and EXPLAIN.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

// Milliseconds per unit of time, for arithmetic on epoch-millisecond TIMESTAMPs.
inline constexpr int64_t kMillisPerSecond = 1000;
inline constexpr int64_t kMillisPerMinute = 60 * kMillisPerSecond;
inline constexpr int64_t kMillisPerHour = 60 * kMillisPerMinute;
inline constexpr int64_t kMillisPerDay = 24 * kMillisPerHour;

// Shortest text that parses back to exactly `value` ("0.1", "1e+300", "100.0" is printed "100").
// NaN prints "NaN", infinities "Infinity"/"-Infinity".
std::string FormatDouble(double value);
// Appends FormatDouble(value) to `out` without a temporary string. Returns chars written.
size_t AppendDouble(double value, char* out);  // `out` needs room for 32 chars

// ISO-8601 UTC text of an epoch-millisecond timestamp: "2024-03-01T12:00:00.250Z" (the
// fraction is omitted when zero: "2024-03-01T12:00:00Z").
std::string FormatTimestamp(int64_t epoch_millis);

// Appends the SQL text of a timestamp as Flink's CSV and JSON formats write a TIMESTAMP(3)
// (their SQL_TIMESTAMP_FORMAT): "2024-03-01 12:00:00", "2024-03-01 12:00:00.25" (the fraction
// with as few digits as it needs). Returns chars written; `out` needs room for 32.
size_t AppendSqlTimestamp(int64_t epoch_millis, char* out);

// Parses ISO-8601 / SQL timestamps to epoch milliseconds: "2024-03-01", "2024-03-01 12:00:00",
// "2024-03-01T12:00:00.250", optional "Z" or "+hh:mm"/"-hh:mm" offset (no offset = UTC).
std::optional<int64_t> ParseTimestamp(std::string_view text);

// Strict whole-text parses (surrounding spaces allowed) used by decoders and CAST.
std::optional<int64_t> ParseInt64(std::string_view text);
std::optional<double> ParseDouble(std::string_view text);
std::optional<bool> ParseBoolean(std::string_view text);  // true/false/1/0, any case

// Days since 1970-01-01 of a civil date and back (proleptic Gregorian).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);

}  // namespace sluice
