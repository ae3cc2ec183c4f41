#include "plan/top_n_spec.h"

#include "common/strings.h"

namespace sluice {

std::string_view RankFunctionName(RankFunction function) {
  switch (function) {
    case RankFunction::kRowNumber: return "ROW_NUMBER";
    case RankFunction::kRank: return "RANK";
    case RankFunction::kDenseRank: return "DENSE_RANK";
  }
  return "?";
}

std::string_view TopNStrategyName(TopNStrategy strategy) {
  switch (strategy) {
    case TopNStrategy::kUpdating: return "updating";
    case TopNStrategy::kWindow: return "window";
    case TopNStrategy::kKeepFirst: return "dedup keep first";
    case TopNStrategy::kKeepLast: return "dedup keep last";
  }
  return "?";
}

absl::Status ValidateTopNSpec(const TopNSpec& spec, const std::vector<TypeId>& input_types) {
  auto in_range = [&](int64_t column) {
    return column >= 0 && static_cast<size_t>(column) < input_types.size();
  };
  if (spec.limit < 1 || spec.limit > kMaxTopNLimit) {
    return absl::InvalidArgumentError(
        StrCat("a Top-N keeps between 1 and ", kMaxTopNLimit, " rows per partition, got ", spec.limit));
  }
  for (size_t column : spec.partition_columns) {
    if (!in_range(static_cast<int64_t>(column)))
      return absl::InvalidArgumentError(StrCat("partition column #", column, " out of range"));
  }
  if (spec.order.empty()) return absl::InvalidArgumentError("a Top-N needs ORDER BY in its OVER (...)");
  for (const TopNOrderKey& key : spec.order) {
    if (!in_range(static_cast<int64_t>(key.column)))
      return absl::InvalidArgumentError(StrCat("ORDER BY column #", key.column, " out of range"));
  }
  const bool dedup = spec.strategy == TopNStrategy::kKeepFirst || spec.strategy == TopNStrategy::kKeepLast;
  if (dedup && (spec.limit != 1 || spec.order.size() != 1 || spec.function != RankFunction::kRowNumber)) {
    return absl::InvalidArgumentError("deduplication keeps one row by one ORDER BY key (ROW_NUMBER, rn = 1)");
  }
  if (spec.strategy == TopNStrategy::kWindow) {
    if (!in_range(spec.window_end_column))
      return absl::InvalidArgumentError("a window Top-N needs the window's end column");
    const TypeId type = input_types[static_cast<size_t>(spec.window_end_column)];
    if (type != TypeId::kInt64 && type != TypeId::kTimestamp)
      return absl::InvalidArgumentError("the window end column must be a TIMESTAMP or BIGINT");
  }
  if (spec.strategy == TopNStrategy::kKeepFirst) {
    if (!in_range(spec.event_time_column))
      return absl::InvalidArgumentError("deduplication keeping the first row needs an event time column");
    const TypeId type = input_types[static_cast<size_t>(spec.event_time_column)];
    if (type != TypeId::kInt64 && type != TypeId::kTimestamp)
      return absl::InvalidArgumentError("the event time column must be a TIMESTAMP or BIGINT");
  }
  return absl::OkStatus();
}

}  // namespace sluice
