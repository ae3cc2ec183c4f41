// Time functions over TIMESTAMP (int64 epoch milliseconds, UTC; see types/logical_type.h):
// EXTRACT (bound as extract_<field>) and Flink's names for its fields (YEAR, QUARTER, MONTH,
// DAYOFMONTH, DAYOFYEAR, DAYOFWEEK with 1 = Sunday, HOUR, MINUTE, SECOND), FROM_UNIXTIME,
// UNIX_TIMESTAMP, DATE_TRUNC, NOW (CURRENT_TIMESTAMP, Flink's PROCTIME), and DATE_FORMAT / TO_TIMESTAMP with
// Java's pattern letters (types/datetime_pattern.h).
//
// Calendar arithmetic is proleptic Gregorian UTC through DaysFromCivil / CivilFromDays; no libc
// time zone function is used. Times before 1970 round toward negative infinity: the day of
// -1 ms is 1969-12-31 and its second is 59.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "common/floor_division.h"
#include "common/strings.h"
#include "expr/functions/kernel_loops.h"
#include "expr/functions/pattern_cache.h"
#include "expr/scalar_function.h"
#include "types/datetime_pattern.h"
#include "types/number_format.h"

namespace sluice {
namespace {

// --- EXTRACT ----------------------------------------------------------------------------

enum class Field {
  kYear,
  kQuarter,
  kMonth,
  kDay,
  kHour,
  kMinute,
  kSecond,
  kMillisecond,
  kDayOfWeek,         // 0 = Sunday, as EXTRACT(DOW ...)
  kDayOfWeekFromOne,  // 1 = Sunday .. 7 = Saturday, as Flink's DAYOFWEEK
  kDayOfYear,
  kEpoch
};

template <Field kField>
int64_t ExtractField(int64_t millis) {
  const int64_t days = FloorDivide(millis, kMillisPerDay);
  const int64_t millis_of_day = FloorModulo(millis, kMillisPerDay);
  switch (kField) {
    case Field::kHour: return millis_of_day / kMillisPerHour;
    case Field::kMinute: return millis_of_day / kMillisPerMinute % 60;
    case Field::kSecond: return millis_of_day / kMillisPerSecond % 60;
    case Field::kMillisecond: return millis_of_day % kMillisPerSecond;
    case Field::kDayOfWeek: return FloorModulo(days + 4, 7);  // 1970-01-01 was a Thursday
    case Field::kDayOfWeekFromOne: return FloorModulo(days + 4, 7) + 1;
    case Field::kEpoch: return FloorDivide(millis, kMillisPerSecond);
    default: break;
  }
  int64_t year;
  unsigned month;
  unsigned day;
  CivilFromDays(days, &year, &month, &day);
  switch (kField) {
    case Field::kYear: return year;
    case Field::kQuarter: return (month - 1) / 3 + 1;
    case Field::kMonth: return month;
    case Field::kDay: return day;
    case Field::kDayOfYear: return days - DaysFromCivil(year, 1, 1) + 1;
    default: return 0;
  }
}

template <Field kField>
void ExtractKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const int64_t* input = arguments[0]->data<int64_t>();
  ForEachValidRow<int64_t>(context, out, [&](size_t row) { return ExtractField<kField>(input[row]); });
}

// --- UNIX_TIMESTAMP / FROM_UNIXTIME / NOW -----------------------------------------------

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// UNIX_TIMESTAMP(ts): whole seconds, rounded down.
void UnixTimestampKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const int64_t* input = arguments[0]->data<int64_t>();
  ForEachValidRow<int64_t>(context, out,
                           [&](size_t row) { return FloorDivide(input[row], kMillisPerSecond); });
}

// Zero-argument clocks: one reading per call, the same value on every row.
template <int64_t kUnitMillis>
void ClockKernel(const KernelContext& context, const Column* const*, size_t, Column& out) {
  const int64_t now = FloorDivide(NowMillis(), kUnitMillis);
  int64_t* result = out.data<int64_t>();
  uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    result[row] = now;
    valid[row] = 1;
  });
}

// FROM_UNIXTIME(seconds BIGINT): NULL when the milliseconds overflow.
void FromUnixTimeInt64Kernel(const KernelContext& context, const Column* const* arguments, size_t,
                             Column& out) {
  const int64_t* input = arguments[0]->data<int64_t>();
  int64_t* result = out.data<int64_t>();
  uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    int64_t millis;
    const bool overflow = __builtin_mul_overflow(input[row], kMillisPerSecond, &millis);
    valid[row] &= static_cast<uint8_t>(!overflow);
    result[row] = valid[row] ? millis : 0;
  });
}

// FROM_UNIXTIME(seconds DOUBLE): rounded to the nearest millisecond; NaN and out of range
// values are NULL.
void FromUnixTimeDoubleKernel(const KernelContext& context, const Column* const* arguments, size_t,
                              Column& out) {
  const double* input = arguments[0]->data<double>();
  int64_t* result = out.data<int64_t>();
  uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    const double millis = std::round(input[row] * 1000.0);
    const bool in_range = millis >= -9223372036854775808.0 && millis < 9223372036854775808.0;
    valid[row] &= static_cast<uint8_t>(in_range);
    result[row] = valid[row] ? static_cast<int64_t>(millis) : 0;
  });
}

// --- DATE_TRUNC -------------------------------------------------------------------------

enum class Unit { kSecond, kMinute, kHour, kDay, kWeek, kMonth, kQuarter, kYear, kUnknown };

Unit ParseUnit(std::string_view text) {
  static constexpr std::string_view kNames[] = {"second", "minute", "hour",    "day",
                                                "week",   "month",  "quarter", "year"};
  for (size_t i = 0; i < sizeof(kNames) / sizeof(kNames[0]); ++i) {
    if (EqualsIgnoreCase(text, kNames[i])) return static_cast<Unit>(i);
  }
  return Unit::kUnknown;
}

// `millis` truncated to the start of its `unit` (weeks start on Monday). False when the start
// is before the int64 range (only for timestamps within a unit of INT64_MIN).
bool TruncateTo(Unit unit, int64_t millis, int64_t* result) {
  int64_t units = 0;
  int64_t unit_millis = kMillisPerDay;
  switch (unit) {
    case Unit::kSecond: unit_millis = kMillisPerSecond; break;
    case Unit::kMinute: unit_millis = kMillisPerMinute; break;
    case Unit::kHour: unit_millis = kMillisPerHour; break;
    case Unit::kDay: break;
    case Unit::kWeek: {
      const int64_t days = FloorDivide(millis, kMillisPerDay);
      units = days - FloorModulo(days + 3, 7);  // 1969-12-29 was a Monday
      return !__builtin_mul_overflow(units, kMillisPerDay, result);
    }
    case Unit::kMonth:
    case Unit::kQuarter:
    case Unit::kYear: {
      int64_t year;
      unsigned month;
      unsigned day;
      CivilFromDays(FloorDivide(millis, kMillisPerDay), &year, &month, &day);
      if (unit == Unit::kYear) month = 1;
      if (unit == Unit::kQuarter) month = (month - 1) / 3 * 3 + 1;
      return !__builtin_mul_overflow(DaysFromCivil(year, month, 1), kMillisPerDay, result);
    }
    case Unit::kUnknown: return false;
  }
  units = FloorDivide(millis, unit_millis);
  return !__builtin_mul_overflow(units, unit_millis, result);
}

// DATE_TRUNC(unit, ts): an unknown unit (or a start before the int64 range) gives NULL. The unit is usually
// the same literal on every row, so it is parsed again only when its text changes.
void DateTruncKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const std::string_view* units = arguments[0]->data<std::string_view>();
  const int64_t* input = arguments[1]->data<int64_t>();
  int64_t* result = out.data<int64_t>();
  uint8_t* valid = out.validity();
  std::string_view last_text;
  Unit last_unit = Unit::kUnknown;
  bool parsed = false;
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    if (!valid[row]) {
      result[row] = 0;
      return;
    }
    const std::string_view text = units[row];
    if (!parsed || text.data() != last_text.data() || text.size() != last_text.size()) {
      last_text = text;
      last_unit = ParseUnit(text);
      parsed = true;
    }
    int64_t truncated = 0;
    const bool ok = TruncateTo(last_unit, input[row], &truncated);
    valid[row] = ok;
    result[row] = ok ? truncated : 0;
  });
}

std::optional<std::string> CheckDateTruncUnit(size_t argument, const Value& value) {
  if (argument != 0 || ParseUnit(value.str()) != Unit::kUnknown) return std::nullopt;
  return StrCat("unknown DATE_TRUNC unit '", value.str(),
                "' (expected second, minute, hour, day, week, month, quarter or year)");
}

// --- DATE_FORMAT / TO_TIMESTAMP ----------------------------------------------------------

const DateTimePattern* LookUpPattern(std::string_view text) {
  return CachedPattern<DateTimePattern>(
      text, [](std::string_view pattern) -> std::unique_ptr<DateTimePattern> {
        auto compiled = DateTimePattern::Compile(pattern);
        return compiled.ok() ? std::make_unique<DateTimePattern>(*std::move(compiled)) : nullptr;
      });
}

// The pattern argument `argument` of DATE_FORMAT / TO_TIMESTAMP, when constant.
std::optional<std::string> CheckPattern(size_t argument, const Value& value) {
  if (argument != 1) return std::nullopt;
  const auto compiled = DateTimePattern::Compile(value.str());
  if (compiled.ok()) return std::nullopt;
  return std::string(compiled.status().message());
}

// DATE_FORMAT(ts, pattern): the text of ts in the pattern; NULL for a pattern that does not
// compile (a constant one is refused when the query binds).
void DateFormatKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const int64_t* input = arguments[0]->data<int64_t>();
  const std::string_view* patterns = arguments[1]->data<std::string_view>();
  std::string_view* result = out.data<std::string_view>();
  uint8_t* valid = out.validity();
  StringHeap& heap = out.heap();
  LastPattern<DateTimePattern> last;
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    result[row] = {};
    if (!valid[row]) return;
    if (last.Changed(patterns[row])) last = {patterns[row], LookUpPattern(patterns[row]), true};
    if (last.compiled == nullptr) {
      valid[row] = 0;
      return;
    }
    const size_t room = last.compiled->max_length();
    char* dest = heap.Allocate(room);
    const size_t length = last.compiled->Format(input[row], dest);
    heap.Shrink(room - length);
    result[row] = {dest, length};
  });
}

// TO_TIMESTAMP(text): ISO-8601 or SQL text ('2024-03-01 12:00:00'), NULL when it is neither.
void ToTimestampKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const std::string_view* input = arguments[0]->data<std::string_view>();
  int64_t* result = out.data<int64_t>();
  uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    const auto millis = valid[row] ? ParseTimestamp(input[row]) : std::nullopt;
    valid[row] = millis.has_value();
    result[row] = millis.value_or(0);
  });
}

// TO_TIMESTAMP(text, pattern): NULL when the text does not match the pattern.
void ToTimestampWithPatternKernel(const KernelContext& context, const Column* const* arguments, size_t,
                                  Column& out) {
  const std::string_view* input = arguments[0]->data<std::string_view>();
  const std::string_view* patterns = arguments[1]->data<std::string_view>();
  int64_t* result = out.data<int64_t>();
  uint8_t* valid = out.validity();
  LastPattern<DateTimePattern> last;
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    std::optional<int64_t> millis;
    if (valid[row]) {
      if (last.Changed(patterns[row])) last = {patterns[row], LookUpPattern(patterns[row]), true};
      if (last.compiled != nullptr) millis = last.compiled->Parse(input[row]);
    }
    valid[row] = millis.has_value();
    result[row] = millis.value_or(0);
  });
}

// --- registration -----------------------------------------------------------------------

void Add(FunctionRegistry& registry, std::string_view name, std::vector<TypeId> arguments, TypeId return_type,
         ScalarKernel kernel, NullHandling null_handling = NullHandling::kPropagate,
         ConstantArgumentCheck check = nullptr) {
  ScalarFunctionSignature signature;
  signature.arguments = std::move(arguments);
  signature.return_type = return_type;
  signature.kernel = kernel;
  signature.null_handling = null_handling;
  signature.check_constant_argument = check;
  registry.Register(name, std::move(signature));
}

}  // namespace

void RegisterTimeFunctions(FunctionRegistry& registry) {
  constexpr TypeId kInt = TypeId::kInt64;
  constexpr TypeId kTime = TypeId::kTimestamp;
  Add(registry, "extract_year", {kTime}, kInt, ExtractKernel<Field::kYear>);
  Add(registry, "extract_quarter", {kTime}, kInt, ExtractKernel<Field::kQuarter>);
  Add(registry, "extract_month", {kTime}, kInt, ExtractKernel<Field::kMonth>);
  Add(registry, "extract_day", {kTime}, kInt, ExtractKernel<Field::kDay>);
  Add(registry, "extract_hour", {kTime}, kInt, ExtractKernel<Field::kHour>);
  Add(registry, "extract_minute", {kTime}, kInt, ExtractKernel<Field::kMinute>);
  Add(registry, "extract_second", {kTime}, kInt, ExtractKernel<Field::kSecond>);
  Add(registry, "extract_millisecond", {kTime}, kInt, ExtractKernel<Field::kMillisecond>);
  Add(registry, "extract_dow", {kTime}, kInt, ExtractKernel<Field::kDayOfWeek>);
  Add(registry, "extract_doy", {kTime}, kInt, ExtractKernel<Field::kDayOfYear>);
  Add(registry, "extract_epoch", {kTime}, kInt, ExtractKernel<Field::kEpoch>);

  Add(registry, "from_unixtime", {kInt}, kTime, FromUnixTimeInt64Kernel);
  Add(registry, "from_unixtime", {TypeId::kDouble}, kTime, FromUnixTimeDoubleKernel);
  Add(registry, "unix_timestamp", {kTime}, kInt, UnixTimestampKernel);
  Add(registry, "unix_timestamp", {}, kInt, ClockKernel<kMillisPerSecond>, NullHandling::kCustom);
  Add(registry, "date_trunc", {TypeId::kString, kTime}, kTime, DateTruncKernel, NullHandling::kPropagate,
      CheckDateTruncUnit);
  Add(registry, "now", {}, kTime, ClockKernel<1>, NullHandling::kCustom);
  Add(registry, "current_timestamp", {}, kTime, ClockKernel<1>, NullHandling::kCustom);
  // Flink's processing-time attribute: the time the row is computed, read once per batch.
  Add(registry, "proctime", {}, kTime, ClockKernel<1>, NullHandling::kCustom);

  // Flink's names for the fields of a timestamp.
  Add(registry, "year", {kTime}, kInt, ExtractKernel<Field::kYear>);
  Add(registry, "quarter", {kTime}, kInt, ExtractKernel<Field::kQuarter>);
  Add(registry, "month", {kTime}, kInt, ExtractKernel<Field::kMonth>);
  Add(registry, "dayofmonth", {kTime}, kInt, ExtractKernel<Field::kDay>);
  Add(registry, "dayofyear", {kTime}, kInt, ExtractKernel<Field::kDayOfYear>);
  Add(registry, "dayofweek", {kTime}, kInt, ExtractKernel<Field::kDayOfWeekFromOne>);
  Add(registry, "hour", {kTime}, kInt, ExtractKernel<Field::kHour>);
  Add(registry, "minute", {kTime}, kInt, ExtractKernel<Field::kMinute>);
  Add(registry, "second", {kTime}, kInt, ExtractKernel<Field::kSecond>);

  constexpr TypeId kString = TypeId::kString;
  Add(registry, "date_format", {kTime, kString}, kString, DateFormatKernel, NullHandling::kPropagate,
      CheckPattern);
  Add(registry, "to_timestamp", {kString}, kTime, ToTimestampKernel);
  Add(registry, "to_timestamp", {kString, kString}, kTime, ToTimestampWithPatternKernel,
      NullHandling::kPropagate, CheckPattern);
}

}  // namespace sluice
