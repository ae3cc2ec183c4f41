#include "expr/aggregate_function.h"

#include "common/strings.h"
#include "types/decimal.h"

namespace sluice {

std::optional<AggregateKind> FindAggregate(std::string_view name, bool distinct, bool star) {
  const std::string lower = AsciiToLower(name);
  if (lower == "count") {
    if (star) return AggregateKind::kCountStar;
    return distinct ? AggregateKind::kCountDistinct : AggregateKind::kCount;
  }
  if (distinct) return std::nullopt;
  if (lower == "sum") return AggregateKind::kSum;
  if (lower == "avg") return AggregateKind::kAvg;
  if (lower == "min") return AggregateKind::kMin;
  if (lower == "max") return AggregateKind::kMax;
  if (lower == "stddev" || lower == "stddev_samp") return AggregateKind::kStddevSamp;
  if (lower == "stddev_pop") return AggregateKind::kStddevPop;
  if (lower == "variance" || lower == "var_samp") return AggregateKind::kVarSamp;
  if (lower == "var_pop") return AggregateKind::kVarPop;
  if (lower == "first_value") return AggregateKind::kFirstValue;
  if (lower == "last_value") return AggregateKind::kLastValue;
  return std::nullopt;
}

std::string_view AggregateName(AggregateKind kind) {
  switch (kind) {
    case AggregateKind::kCountStar: return "COUNT(*)";
    case AggregateKind::kCount: return "COUNT";
    case AggregateKind::kCountDistinct: return "COUNT DISTINCT";
    case AggregateKind::kSum: return "SUM";
    case AggregateKind::kAvg: return "AVG";
    case AggregateKind::kMin: return "MIN";
    case AggregateKind::kMax: return "MAX";
    case AggregateKind::kStddevSamp: return "STDDEV_SAMP";
    case AggregateKind::kStddevPop: return "STDDEV_POP";
    case AggregateKind::kVarSamp: return "VAR_SAMP";
    case AggregateKind::kVarPop: return "VAR_POP";
    case AggregateKind::kFirstValue: return "FIRST_VALUE";
    case AggregateKind::kLastValue: return "LAST_VALUE";
  }
  return "?";
}

absl::StatusOr<TypeId> AggregateResultType(AggregateKind kind, TypeId argument) {
  switch (kind) {
    case AggregateKind::kCountStar:
    case AggregateKind::kCount:
    case AggregateKind::kCountDistinct: return TypeId::kInt64;
    case AggregateKind::kSum:
      if (IsDecimal(argument)) return DecimalSumType(argument);
      if (argument == TypeId::kInt64 || argument == TypeId::kNull) return TypeId::kInt64;
      if (argument == TypeId::kDouble) return TypeId::kDouble;
      break;
    case AggregateKind::kAvg:
      if (IsDecimal(argument)) return DecimalAverageType(argument);
      [[fallthrough]];
    case AggregateKind::kStddevSamp:
    case AggregateKind::kStddevPop:
    case AggregateKind::kVarSamp:
    case AggregateKind::kVarPop:
      if (IsNumeric(argument) || argument == TypeId::kNull) return TypeId::kDouble;
      break;
    case AggregateKind::kMin:
    case AggregateKind::kMax:
    case AggregateKind::kFirstValue:
    case AggregateKind::kLastValue: return argument == TypeId::kNull ? TypeId::kString : argument;
  }
  return absl::InvalidArgumentError(
      StrCat(AggregateName(kind), " needs a numeric argument, found ", TypeName(argument)));
}

}  // namespace sluice
