// RowsWindowSpec: the bound form of an `OVER (ROWS WINDOW BUFFER n ROWS ...)` clause, a plain
// definition that the binder builds, the logical plan carries (LogicalOperator::rows_window)
// and ops/rows_window_operator.h executes. The semantics of each function are documented
// there; this header holds only what the plan needs: the spec, its validation against the
// input's types, and the functions' names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "types/logical_type.h"

namespace sluice {

struct RowsWindowFunction {
  enum class Kind : uint8_t {
    kAvg,
    kSum,
    kCount,
    kCountStar,
    kMin,
    kMax,
    kFirstValue,
    kLastValue,
    kLag,
    kLead,
    kRowNumber
  };
  Kind kind;
  int argument_column = -1;  // input column index; -1 for COUNT(*) and ROW_NUMBER
  TypeId argument_type = TypeId::kNull;
  // AVG -> DOUBLE; SUM of BIGINT -> BIGINT, of DOUBLE -> DOUBLE; COUNT/ROW_NUMBER -> BIGINT;
  // MIN/MAX/FIRST/LAST/LAG/LEAD -> argument type.
  TypeId result_type;
  int64_t offset = 1;  // LAG/LEAD
};

struct RowsWindowSpec {
  std::vector<size_t> partition_columns;  // input columns forming the partition key (empty: one partition)
  int64_t buffer_rows;                    // ROWS WINDOW BUFFER n: rows kept per partition
  // Rows in the frame including the current one (ROWS BETWEEN k PRECEDING AND CURRENT ROW ->
  // k+1; without a frame clause or UNBOUNDED PRECEDING -> buffer_rows).
  int64_t frame_rows;
  // EXPIRE AFTER ... INACTIVITY (or 'state.ttl'): a partition untouched (by event time) this
  // long is dropped, so a later row starts fresh.
  std::optional<int64_t> expire_after_millis;
  int event_time_column = -1;  // input column with the row's event time (TIMESTAMP), for expiry
  // The input source's watermark bound, for the per-record watermark that expiry reads.
  int64_t input_out_of_orderness_millis = 0;
  // ORDER BY: input column (BIGINT or TIMESTAMP) the rows must arrive ascending in, per
  // partition; -1: none (arrival order).
  int order_column = -1;
  // 'late.data.strategy' = 'dead_letter': the runtime gives the operator a LateRecordSink for
  // out-of-order rows.
  bool dead_letter_late_rows = false;
  std::vector<RowsWindowFunction> functions;
};

// The most rows ROWS WINDOW BUFFER may keep per partition.
inline constexpr int64_t kMaxRowsWindowBufferRows = int64_t{1} << 30;

// True for the functions that read an argument column (all but COUNT(*) and ROW_NUMBER).
inline bool RowsWindowFunctionNeedsArgument(RowsWindowFunction::Kind kind) {
  return kind != RowsWindowFunction::Kind::kCountStar && kind != RowsWindowFunction::Kind::kRowNumber;
}

// Name of a function kind as SQL spells it ("AVG", "LAG", ...).
std::string_view RowsWindowFunctionName(RowsWindowFunction::Kind kind);

// A function as EXPLAIN and error messages show it: "AVG(#2)", "LAG(#1, 3)", "COUNT(*)".
std::string RowsWindowFunctionText(const RowsWindowFunction& function);

// Checks a spec against the input's column types: column indexes in range, argument types
// accepted by each function, result types as documented in ops/rows_window_operator.h,
// 1 <= buffer <= kMaxRowsWindowBufferRows, frame >= 1, offsets >= 0, LEAD offset <
// buffer_rows, an event time column when expiry is set. The binder reports a failure at the
// clause's position; the operator refuses to be built from a spec that fails it.
absl::Status ValidateRowsWindowSpec(const RowsWindowSpec& spec, const std::vector<TypeId>& input_types);

}  // namespace sluice
