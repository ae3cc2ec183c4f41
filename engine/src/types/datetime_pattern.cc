#include "types/datetime_pattern.h"

#include <algorithm>
#include <cstring>

#include "common/floor_division.h"
#include "common/strings.h"
#include "types/number_format.h"

namespace sluice {
namespace {

constexpr std::string_view kMonthNames[] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
// Monday first, as 'u' numbers them.
constexpr std::string_view kDayNames[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                          "Friday", "Saturday", "Sunday"};
constexpr size_t kLongestName = 9;  // September, Wednesday
constexpr size_t kMaxWidth = 32;

bool IsLeapYear(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned DaysInMonth(int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Writes `value` (>= 0) with at least `width` digits; returns the length.
size_t WritePadded(uint64_t value, size_t width, char* out) {
  char digits[24];
  size_t count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  size_t length = 0;
  for (size_t i = count; i < width; ++i) out[length++] = '0';
  while (count > 0) out[length++] = digits[--count];
  return length;
}

size_t WriteText(std::string_view text, char* out) {
  std::memcpy(out, text.data(), text.size());
  return text.size();
}

bool StartsWithIgnoreCase(std::string_view text, size_t at, std::string_view prefix) {
  return text.size() - at >= prefix.size() && EqualsIgnoreCase(text.substr(at, prefix.size()), prefix);
}

// The name of `names` that `text` spells at `at` (full names tried before their three-letter
// forms); its index, or -1. Advances `at` past it.
int MatchName(std::string_view text, size_t& at, const std::string_view* names, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (StartsWithIgnoreCase(text, at, names[i])) {
      at += names[i].size();
      return static_cast<int>(i);
    }
  }
  for (size_t i = 0; i < count; ++i) {
    if (StartsWithIgnoreCase(text, at, names[i].substr(0, 3))) {
      at += 3;
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Reads digits at `at`: exactly `exact` of them when exact > 0, else one to 18. Sets `digits`
// to how many were read.
std::optional<int64_t> ReadNumber(std::string_view text, size_t& at, size_t exact, size_t* digits) {
  const size_t limit = exact > 0 ? exact : 18;
  size_t i = at;
  int64_t value = 0;
  while (i < text.size() && i - at < limit && text[i] >= '0' && text[i] <= '9') {
    value = value * 10 + (text[i] - '0');
    ++i;
  }
  const size_t read = i - at;
  if (read == 0 || (exact > 0 && read != exact)) return std::nullopt;
  at = i;
  *digits = read;
  return value;
}

// '+hhmm', '-hh:mm', '+hh' or 'Z' at `at`: the offset in minutes.
std::optional<int64_t> ReadOffset(std::string_view text, size_t& at) {
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
    return 0;
  }
  if (at >= text.size() || (text[at] != '+' && text[at] != '-')) return std::nullopt;
  const int64_t sign = text[at] == '-' ? -1 : 1;
  size_t i = at + 1;
  size_t digits = 0;
  const auto hours = ReadNumber(text, i, 2, &digits);
  if (!hours) return std::nullopt;
  int64_t minutes = 0;
  if (i < text.size() && text[i] == ':') ++i;
  if (i + 2 <= text.size() && text[i] >= '0' && text[i] <= '9') {
    const auto read = ReadNumber(text, i, 2, &digits);
    if (!read) return std::nullopt;
    minutes = *read;
  }
  if (*hours > 18 || minutes > 59) return std::nullopt;
  at = i;
  return sign * (*hours * 60 + minutes);
}

}  // namespace

bool DateTimePattern::IsNumeric(const Token& token) {
  switch (token.field) {
    case Field::kYear:
    case Field::kDayOfMonth:
    case Field::kDayOfYear:
    case Field::kDayOfWeekNumber:
    case Field::kHour0To23:
    case Field::kHour1To24:
    case Field::kHour0To11:
    case Field::kHour1To12:
    case Field::kMinute:
    case Field::kSecond:
    case Field::kFraction: return true;
    case Field::kMonth: return token.width <= 2;
    default: return false;
  }
}

absl::StatusOr<DateTimePattern> DateTimePattern::Compile(std::string_view pattern) {
  DateTimePattern compiled;
  auto add_literal = [&](std::string_view text) {
    if (text.empty()) return;
    if (!compiled.tokens_.empty() && compiled.tokens_.back().field == Field::kLiteral) {
      compiled.tokens_.back().literal.append(text);
    } else {
      compiled.tokens_.push_back(Token{Field::kLiteral, 0, std::string(text)});
    }
    compiled.max_length_ += text.size();
  };
  size_t i = 0;
  while (i < pattern.size()) {
    const char c = pattern[i];
    if (c == '\'') {
      if (i + 1 < pattern.size() && pattern[i + 1] == '\'') {  // '' is a quote
        add_literal("'");
        i += 2;
        continue;
      }
      std::string quoted;
      size_t j = i + 1;
      for (;; ++j) {
        if (j >= pattern.size()) {
          return absl::InvalidArgumentError(
              StrCat("unterminated quote in date-time pattern '", pattern, "' at character ", i + 1));
        }
        if (pattern[j] != '\'') {
          quoted.push_back(pattern[j]);
        } else if (j + 1 < pattern.size() && pattern[j + 1] == '\'') {
          quoted.push_back('\'');
          ++j;
        } else {
          break;
        }
      }
      add_literal(quoted);
      i = j + 1;
      continue;
    }
    if (!IsAsciiAlpha(c)) {
      add_literal(std::string_view(&pattern[i], 1));
      ++i;
      continue;
    }
    size_t run = 1;
    while (i + run < pattern.size() && pattern[i + run] == c) ++run;
    const uint8_t width = static_cast<uint8_t>(std::min(run, kMaxWidth));
    Field field;
    size_t length = std::max<size_t>(width, 20);
    switch (c) {
      case 'y': field = Field::kYear; break;
      case 'M':
        field = Field::kMonth;
        if (width >= 3) length = kLongestName;
        break;
      case 'd': field = Field::kDayOfMonth; break;
      case 'D': field = Field::kDayOfYear; break;
      case 'E':
        field = Field::kDayName;
        length = kLongestName;
        break;
      case 'u': field = Field::kDayOfWeekNumber; break;
      case 'H': field = Field::kHour0To23; break;
      case 'k': field = Field::kHour1To24; break;
      case 'K': field = Field::kHour0To11; break;
      case 'h': field = Field::kHour1To12; break;
      case 'a':
        field = Field::kAmPm;
        length = 2;
        break;
      case 'm': field = Field::kMinute; break;
      case 's': field = Field::kSecond; break;
      case 'S':
        field = Field::kFraction;
        length = width;
        break;
      case 'Z':
        field = Field::kOffsetZ;
        length = 5;
        break;
      case 'X':
        field = Field::kOffsetX;
        length = 1;
        break;
      case 'z':
        field = Field::kZoneName;
        length = 3;
        break;
      default:
        return absl::InvalidArgumentError(StrCat("date-time pattern letter '",
                                                 std::string_view(&pattern[i], 1), "' is not supported (in '",
                                                 pattern, "'; known: y M d D E u H k K h a m s S Z X z)"));
    }
    compiled.tokens_.push_back(Token{field, width, {}});
    compiled.max_length_ += length;
    i += run;
  }
  return compiled;
}

size_t DateTimePattern::Format(int64_t epoch_millis, char* out) const {
  const int64_t days = FloorDivide(epoch_millis, kMillisPerDay);
  const int64_t millis_of_day = FloorModulo(epoch_millis, kMillisPerDay);
  int64_t year;
  unsigned month;
  unsigned day;
  CivilFromDays(days, &year, &month, &day);
  const int64_t hour = millis_of_day / kMillisPerHour;
  const unsigned day_of_week = static_cast<unsigned>(FloorModulo(days + 3, 7));  // 0 = Monday
  size_t length = 0;
  for (const Token& token : tokens_) {
    char* at = out + length;
    switch (token.field) {
      case Field::kLiteral: length += WriteText(token.literal, at); break;
      case Field::kYear:
        if (token.width == 2) {
          length += WritePadded(static_cast<uint64_t>(FloorModulo(year, 100)), 2, at);
        } else if (year < 0) {
          *at = '-';
          length += 1 + WritePadded(0 - static_cast<uint64_t>(year), token.width, at + 1);
        } else {
          length += WritePadded(static_cast<uint64_t>(year), token.width, at);
        }
        break;
      case Field::kMonth:
        if (token.width <= 2) {
          length += WritePadded(month, token.width, at);
        } else {
          const std::string_view name = kMonthNames[month - 1];
          length += WriteText(token.width == 3 ? name.substr(0, 3) : name, at);
        }
        break;
      case Field::kDayOfMonth: length += WritePadded(day, token.width, at); break;
      case Field::kDayOfYear:
        length += WritePadded(static_cast<uint64_t>(days - DaysFromCivil(year, 1, 1) + 1), token.width, at);
        break;
      case Field::kDayName: {
        const std::string_view name = kDayNames[day_of_week];
        length += WriteText(token.width <= 3 ? name.substr(0, 3) : name, at);
        break;
      }
      case Field::kDayOfWeekNumber: length += WritePadded(day_of_week + 1, token.width, at); break;
      case Field::kHour0To23: length += WritePadded(static_cast<uint64_t>(hour), token.width, at); break;
      case Field::kHour1To24:
        length += WritePadded(static_cast<uint64_t>(hour == 0 ? 24 : hour), token.width, at);
        break;
      case Field::kHour0To11: length += WritePadded(static_cast<uint64_t>(hour % 12), token.width, at); break;
      case Field::kHour1To12:
        length += WritePadded(static_cast<uint64_t>(hour % 12 == 0 ? 12 : hour % 12), token.width, at);
        break;
      case Field::kAmPm: length += WriteText(hour < 12 ? "AM" : "PM", at); break;
      case Field::kMinute:
        length += WritePadded(static_cast<uint64_t>(millis_of_day / kMillisPerMinute % 60), token.width, at);
        break;
      case Field::kSecond:
        length += WritePadded(static_cast<uint64_t>(millis_of_day / kMillisPerSecond % 60), token.width, at);
        break;
      case Field::kFraction: {
        char millis[24];
        WritePadded(static_cast<uint64_t>(millis_of_day % kMillisPerSecond), 3, millis);
        for (size_t i = 0; i < token.width; ++i) at[i] = i < 3 ? millis[i] : '0';
        length += token.width;
        break;
      }
      case Field::kOffsetZ: length += WriteText("+0000", at); break;
      case Field::kOffsetX: length += WriteText("Z", at); break;
      case Field::kZoneName: length += WriteText("UTC", at); break;
    }
  }
  return length;
}

std::string DateTimePattern::Format(int64_t epoch_millis) const {
  std::string text(max_length_, '\0');
  text.resize(Format(epoch_millis, text.data()));
  return text;
}

std::optional<int64_t> DateTimePattern::Parse(std::string_view text) const {
  int64_t year = 1970;
  int64_t month = 1;
  int64_t day = 1;
  std::optional<int64_t> day_of_year;
  int64_t hour = 0;
  bool twelve_hour = false;  // h or K: 'a' decides the half of the day
  bool pm = false;
  int64_t minute = 0;
  int64_t second = 0;
  int64_t millis = 0;
  int64_t offset_minutes = 0;
  size_t at = 0;
  for (size_t t = 0; t < tokens_.size(); ++t) {
    const Token& token = tokens_[t];
    if (token.field == Field::kLiteral) {
      if (text.substr(at, token.literal.size()) != token.literal) return std::nullopt;
      at += token.literal.size();
      continue;
    }
    if (IsNumeric(token)) {
      const bool abutting = t + 1 < tokens_.size() && IsNumeric(tokens_[t + 1]);
      size_t digits = 0;
      const auto value = ReadNumber(text, at, abutting ? token.width : 0, &digits);
      if (!value) return std::nullopt;
      switch (token.field) {
        case Field::kYear: year = token.width == 2 && digits == 2 ? 2000 + *value : *value; break;
        case Field::kMonth: month = *value; break;
        case Field::kDayOfMonth: day = *value; break;
        case Field::kDayOfYear: day_of_year = *value; break;
        case Field::kDayOfWeekNumber:
          if (*value < 1 || *value > 7) return std::nullopt;
          break;
        case Field::kHour0To23:
          if (*value > 23) return std::nullopt;
          hour = *value;
          break;
        case Field::kHour1To24:
          if (*value < 1 || *value > 24) return std::nullopt;
          hour = *value % 24;
          break;
        case Field::kHour0To11:
          if (*value > 11) return std::nullopt;
          hour = *value;
          twelve_hour = true;
          break;
        case Field::kHour1To12:
          if (*value < 1 || *value > 12) return std::nullopt;
          hour = *value % 12;
          twelve_hour = true;
          break;
        case Field::kMinute: minute = *value; break;
        case Field::kSecond: second = *value; break;
        case Field::kFraction: {
          int64_t scaled = *value;
          size_t scale = digits;
          while (scale > 3) {
            scaled /= 10;
            --scale;
          }
          while (scale < 3) {
            scaled *= 10;
            ++scale;
          }
          millis = scaled;
          break;
        }
        default: return std::nullopt;
      }
      continue;
    }
    switch (token.field) {
      case Field::kMonth: {
        const int index = MatchName(text, at, kMonthNames, std::size(kMonthNames));
        if (index < 0) return std::nullopt;
        month = index + 1;
        break;
      }
      case Field::kDayName:
        if (MatchName(text, at, kDayNames, std::size(kDayNames)) < 0) return std::nullopt;
        break;
      case Field::kAmPm:
        if (StartsWithIgnoreCase(text, at, "AM")) {
          pm = false;
        } else if (StartsWithIgnoreCase(text, at, "PM")) {
          pm = true;
        } else {
          return std::nullopt;
        }
        at += 2;
        break;
      case Field::kOffsetZ:
      case Field::kOffsetX: {
        const auto offset = ReadOffset(text, at);
        if (!offset) return std::nullopt;
        offset_minutes = *offset;
        break;
      }
      case Field::kZoneName:
        if (StartsWithIgnoreCase(text, at, "UTC") || StartsWithIgnoreCase(text, at, "GMT")) {
          at += 3;
        } else {
          return std::nullopt;
        }
        break;
      default: return std::nullopt;
    }
  }
  if (at != text.size()) return std::nullopt;
  if (twelve_hour && pm) hour += 12;
  if (minute > 59 || second > 59) return std::nullopt;
  if (year < -1000000 || year > 1000000) return std::nullopt;
  int64_t days;
  if (day_of_year) {
    if (*day_of_year < 1 || *day_of_year > (IsLeapYear(year) ? 366 : 365)) return std::nullopt;
    days = DaysFromCivil(year, 1, 1) + *day_of_year - 1;
  } else {
    if (month < 1 || month > 12) return std::nullopt;
    if (day < 1 || day > DaysInMonth(year, static_cast<unsigned>(month))) return std::nullopt;
    days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  }
  return days * kMillisPerDay + hour * kMillisPerHour + minute * kMillisPerMinute +
         second * kMillisPerSecond + millis - offset_minutes * kMillisPerMinute;
}

}  // namespace sluice
