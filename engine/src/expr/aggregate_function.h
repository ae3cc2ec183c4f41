// Aggregate functions of GROUP BY and windows: names, argument rules and result types.
// Execution (accumulators) lives in ops/aggregate_operator.
#pragma once

#include <optional>
#include <string_view>

#include "common/status.h"
#include "types/logical_type.h"

namespace sluice {

enum class AggregateKind : uint8_t {
  kCountStar,
  kCount,
  kCountDistinct,
  kSum,
  kAvg,
  kMin,
  kMax,
  kStddevSamp,
  kStddevPop,
  kVarSamp,
  kVarPop,
  kFirstValue,
  kLastValue,
};

// The aggregate called `name` (case-insensitive; STDDEV = STDDEV_SAMP, VARIANCE = VAR_SAMP),
// or nullopt. `distinct` and `star` select COUNT(DISTINCT x) and COUNT(*).
std::optional<AggregateKind> FindAggregate(std::string_view name, bool distinct, bool star);

// Result type for an argument of `argument` type, or an error naming what is accepted. SUM and
// AVG of a DECIMAL are exact DECIMALs (types/decimal.h); the variance family is DOUBLE.
absl::StatusOr<TypeId> AggregateResultType(AggregateKind kind, TypeId argument);

std::string_view AggregateName(AggregateKind kind);

}  // namespace sluice
