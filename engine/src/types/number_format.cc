#include "types/number_format.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <system_error>

#include "common/floor_division.h"

namespace sluice {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

std::string_view TrimSpaces(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && IsSpace(text[begin])) ++begin;
  while (end > begin && IsSpace(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

bool EqualsLower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (Lower(text[i]) != lower[i]) return false;
  }
  return true;
}

// Reads exactly `count` digits at text[*pos] into *value.
bool ReadDigits(std::string_view text, size_t* pos, int count, int* value) {
  if (*pos + static_cast<size_t>(count) > text.size()) return false;
  int result = 0;
  for (int i = 0; i < count; ++i) {
    const char c = text[*pos + static_cast<size_t>(i)];
    if (!IsDigit(c)) return false;
    result = result * 10 + (c - '0');
  }
  *pos += static_cast<size_t>(count);
  *value = result;
  return true;
}

bool IsLeapYear(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned DaysInMonth(int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Writes `value` zero-padded to `width` digits (value >= 0).
char* WritePadded(char* out, int64_t value, int width) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), value);
  const int length = static_cast<int>(result.ptr - digits);
  for (int i = length; i < width; ++i) *out++ = '0';
  std::memcpy(out, digits, static_cast<size_t>(length));
  return out + length;
}

}  // namespace

size_t AppendDouble(double value, char* out) {
  if (std::isnan(value)) {
    std::memcpy(out, "NaN", 3);
    return 3;
  }
  if (std::isinf(value)) {
    if (value < 0) {
      std::memcpy(out, "-Infinity", 9);
      return 9;
    }
    std::memcpy(out, "Infinity", 8);
    return 8;
  }
  // Shortest round-trip form; the longest is "-2.2250738585072014e-308" (24 chars).
  const auto result = std::to_chars(out, out + 32, value);
  return static_cast<size_t>(result.ptr - out);
}

std::string FormatDouble(double value) {
  char buffer[32];
  const size_t length = AppendDouble(value, buffer);
  return std::string(buffer, length);
}

namespace {

// Writes "yyyy-MM-dd<separator>HH:mm:ss" of `epoch_millis` (UTC; a year before 1 with a '-') to
// `out`; returns the end of what it wrote and sets `millis` to the milliseconds of the second.
char* WriteDateTime(int64_t epoch_millis, char separator, char* out, int64_t* millis) {
  const int64_t days = FloorDivide(epoch_millis, kMillisPerDay);
  int64_t rest = epoch_millis - days * kMillisPerDay;
  int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
  CivilFromDays(days, &year, &month, &day);
  const int64_t hour = rest / kMillisPerHour;
  rest -= hour * kMillisPerHour;
  const int64_t minute = rest / kMillisPerMinute;
  rest -= minute * kMillisPerMinute;
  const int64_t second = rest / kMillisPerSecond;
  *millis = rest - second * kMillisPerSecond;
  char* p = out;
  if (year < 0) {
    *p++ = '-';
    p = WritePadded(p, -year, 4);
  } else {
    p = WritePadded(p, year, 4);
  }
  *p++ = '-';
  p = WritePadded(p, month, 2);
  *p++ = '-';
  p = WritePadded(p, day, 2);
  *p++ = separator;
  p = WritePadded(p, hour, 2);
  *p++ = ':';
  p = WritePadded(p, minute, 2);
  *p++ = ':';
  return WritePadded(p, second, 2);
}

}  // namespace

size_t AppendSqlTimestamp(int64_t epoch_millis, char* out) {
  int64_t millis = 0;
  char* p = WriteDateTime(epoch_millis, ' ', out, &millis);
  if (millis != 0) {
    // As few digits as the value needs (java.time's appendFraction(0, 9)): .5, .25, .125.
    int digits = 3;
    while (millis % 10 == 0) {
      millis /= 10;
      --digits;
    }
    *p++ = '.';
    p = WritePadded(p, millis, digits);
  }
  return static_cast<size_t>(p - out);
}

std::string FormatTimestamp(int64_t epoch_millis) {
  char buffer[64];
  int64_t millis = 0;
  char* p = WriteDateTime(epoch_millis, 'T', buffer, &millis);
  if (millis != 0) {
    *p++ = '.';
    p = WritePadded(p, millis, 3);
  }
  *p++ = 'Z';
  return std::string(buffer, static_cast<size_t>(p - buffer));
}

// Grammar (after trimming spaces):
//   YYYY-MM-DD [('T'|'t'|' ') hh:mm[:ss[.f{1,9}]] [' '] ['Z'|'z'|('+'|'-')hh[[':']mm]]]
// Fractions beyond milliseconds are truncated. No offset means UTC.
std::optional<int64_t> ParseTimestamp(std::string_view text) {
  text = TrimSpaces(text);
  size_t pos = 0;
  int year = 0;
  int month = 0;
  int day = 0;
  if (!ReadDigits(text, &pos, 4, &year)) return std::nullopt;
  if (pos >= text.size() || text[pos] != '-') return std::nullopt;
  ++pos;
  if (!ReadDigits(text, &pos, 2, &month)) return std::nullopt;
  if (pos >= text.size() || text[pos] != '-') return std::nullopt;
  ++pos;
  if (!ReadDigits(text, &pos, 2, &day)) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 ||
      static_cast<unsigned>(day) > DaysInMonth(year, static_cast<unsigned>(month))) {
    return std::nullopt;
  }
  int64_t millis =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * kMillisPerDay;
  if (pos == text.size()) return millis;

  const char separator = text[pos];
  if (separator != 'T' && separator != 't' && separator != ' ') return std::nullopt;
  ++pos;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!ReadDigits(text, &pos, 2, &hour)) return std::nullopt;
  if (pos >= text.size() || text[pos] != ':') return std::nullopt;
  ++pos;
  if (!ReadDigits(text, &pos, 2, &minute)) return std::nullopt;
  int fraction_millis = 0;
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!ReadDigits(text, &pos, 2, &second)) return std::nullopt;
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      ++pos;
      int digits = 0;
      while (pos < text.size() && IsDigit(text[pos])) {
        if (digits < 3) fraction_millis = fraction_millis * 10 + (text[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0 || digits > 9) return std::nullopt;
      for (int i = digits; i < 3; ++i) fraction_millis *= 10;
    }
  }
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  millis += hour * kMillisPerHour + minute * kMillisPerMinute + second * kMillisPerSecond + fraction_millis;
  if (pos == text.size()) return millis;

  if (text[pos] == ' ') ++pos;
  if (pos >= text.size()) return std::nullopt;
  const char zone = text[pos];
  if (zone == 'Z' || zone == 'z') {
    ++pos;
  } else if (zone == '+' || zone == '-') {
    ++pos;
    int offset_hours = 0;
    int offset_minutes = 0;
    if (!ReadDigits(text, &pos, 2, &offset_hours)) return std::nullopt;
    if (pos < text.size()) {
      if (text[pos] == ':') ++pos;
      if (!ReadDigits(text, &pos, 2, &offset_minutes)) return std::nullopt;
    }
    if (offset_hours > 23 || offset_minutes > 59) return std::nullopt;
    const int64_t offset = offset_hours * kMillisPerHour + offset_minutes * kMillisPerMinute;
    // Local time = UTC + offset.
    millis += zone == '+' ? -offset : offset;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  return millis;
}

std::optional<int64_t> ParseInt64(std::string_view text) {
  text = TrimSpaces(text);
  if (!text.empty() && text[0] == '+') {
    text.remove_prefix(1);
    if (text.empty() || !IsDigit(text[0])) return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (result.ec != std::errc() || result.ptr != end) return std::nullopt;
  return value;
}

std::optional<double> ParseDouble(std::string_view text) {
  text = TrimSpaces(text);
  if (!text.empty() && text[0] == '+') {
    text.remove_prefix(1);
    if (text.empty() || text[0] == '-' || text[0] == '+') return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  double value = 0;
  const char* end = text.data() + text.size();
  // chars_format::general: decimal and scientific forms, "inf"/"infinity"/"nan" in any case;
  // no hexadecimal. Values out of the double range are rejected (result_out_of_range).
  const auto result = std::from_chars(text.data(), end, value);
  if (result.ec != std::errc() || result.ptr != end) return std::nullopt;
  return value;
}

std::optional<bool> ParseBoolean(std::string_view text) {
  text = TrimSpaces(text);
  if (EqualsLower(text, "true") || text == "1") return true;
  if (EqualsLower(text, "false") || text == "0") return false;
  return std::nullopt;
}

// Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms".
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;                                               // [0, 399]
  const int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;  // [0, 365]
  const int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;  // [0, 146096]
  return era * 146097 + day_of_era - 719468;
}

void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t day_of_era = days - era * 146097;  // [0, 146096]
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;  // [0, 399]
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);  // [0, 365]
  const int64_t month_index = (5 * day_of_year + 2) / 153;                     // [0, 11]
  *day = static_cast<unsigned>(day_of_year - (153 * month_index + 2) / 5 + 1);
  *month = static_cast<unsigned>(month_index < 10 ? month_index + 3 : month_index - 9);
  *year = year_of_era + era * 400 + (*month <= 2 ? 1 : 0);
}

}  // namespace sluice
