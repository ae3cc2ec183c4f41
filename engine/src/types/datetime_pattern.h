// Date-time patterns in the letters of Java's SimpleDateFormat / DateTimeFormatter, as Flink's
// DATE_FORMAT and TO_TIMESTAMP take them ('yyyy-MM-dd HH:mm:ss.SSS'), compiled once and then
// applied to epoch-millisecond timestamps (UTC, see types/logical_type.h) without allocating.
//
// Letters (a run of one letter is one field; its length is the width):
//   y   year; 'yy' is the last two digits (parsed as 2000-2099), any other count pads to it
//   M   month: M/MM numeric, MMM 'Jan', MMMM 'January'
//   d   day of month        D  day of year          E  'Mon' (E..EEE), 'Monday' (EEEE)
//   u   day of week, 1 = Monday .. 7 = Sunday
//   H   hour 0-23   k  hour 1-24   K  hour 0-11   h  hour 1-12   a  'AM' / 'PM'
//   m   minute      s  second
//   S   fraction of a second, one digit per letter (S tenths, SSS milliseconds; digits beyond
//       the third are zeros), as DateTimeFormatter reads it
//   Z   offset '+0000'   X  'Z'   z  'UTC'   (timestamps are UTC; parsing applies the offset)
// Text in single quotes is literal ('' is a quote); any other character that is not an ASCII
// letter is literal. Any other letter (G, Y, w, W, F, L, ...) is refused when compiling, with
// the letter named.
//
// Parsing reads each field in turn: a numeric field followed directly by another numeric field
// ('yyyyMMdd') takes exactly its width in digits, otherwise one or more digits; names match
// regardless of case. Fields absent from the pattern default to 1970-01-01 00:00:00.000; a
// value out of range (month 13, February 30, hour 24 with H) or text left over is no match.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice {

class DateTimePattern {
 public:
  // Compiles `pattern`; an unknown letter or an unterminated quote is an InvalidArgument error
  // that names it.
  static absl::StatusOr<DateTimePattern> Compile(std::string_view pattern);

  // An upper bound on the length of Format's text for any timestamp.
  size_t max_length() const { return max_length_; }

  // Writes the text of `epoch_millis` to `out` (room for max_length() chars); returns its length.
  size_t Format(int64_t epoch_millis, char* out) const;
  std::string Format(int64_t epoch_millis) const;

  // The timestamp `text` spells in this pattern, or nullopt when it does not match.
  std::optional<int64_t> Parse(std::string_view text) const;

 private:
  enum class Field : uint8_t {
    kLiteral,
    kYear,
    kMonth,
    kDayOfMonth,
    kDayOfYear,
    kDayName,
    kDayOfWeekNumber,
    kHour0To23,
    kHour1To24,
    kHour0To11,
    kHour1To12,
    kAmPm,
    kMinute,
    kSecond,
    kFraction,
    kOffsetZ,
    kOffsetX,
    kZoneName,
  };
  struct Token {
    Field field;
    uint8_t width;        // letters in the run (capped at 32)
    std::string literal;  // kLiteral only
  };

  DateTimePattern() = default;
  static bool IsNumeric(const Token& token);

  std::vector<Token> tokens_;
  size_t max_length_ = 0;
};

}  // namespace sluice
