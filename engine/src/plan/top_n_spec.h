// TopNSpec: the bound form of the Top-N and deduplication patterns,
//
//   SELECT ... FROM (SELECT ..., ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn
//                    FROM s) AS t
//   WHERE rn <= N
//
// (also RANK and DENSE_RANK, `rn < N`, `rn = 1`), which the binder plans as one TopN node in
// the derived table's statement instead of a ROWS window and a filter. A plain definition that
// the binder builds, the logical plan carries (LogicalOperator::top_n) and ops/top_n_operator.h
// executes; the semantics of each strategy are documented there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "types/logical_type.h"

namespace sluice {

enum class RankFunction : uint8_t { kRowNumber, kRank, kDenseRank };

enum class TopNStrategy : uint8_t {
  // Unwindowed Top-N: an updating output (inserts and deletes; a row whose rank changes is
  // deleted with its old rank and inserted with its new one).
  kUpdating,
  // Within a window (a partition key `_window_start`): append-only, emitted when the watermark
  // passes the window's end.
  kWindow,
  // Deduplication, keep the first row per key by event time (ROW_NUMBER, rn = 1, ORDER BY the
  // event time ASC): append-only, each key's row emitted once the watermark passes its time.
  kKeepFirst,
  // Deduplication, keep the last row per key by event time (ORDER BY the event time DESC):
  // updating (update-before / update-after of the previous row).
  kKeepLast,
};

struct TopNOrderKey {
  size_t column = 0;  // input column
  bool descending = false;
};

// The largest N of a rank filter: a partition keeps up to N rows (more with RANK ties).
inline constexpr int64_t kMaxTopNLimit = 100000;

struct TopNSpec {
  RankFunction function = RankFunction::kRowNumber;
  TopNStrategy strategy = TopNStrategy::kUpdating;
  std::vector<size_t> partition_columns;  // input columns forming the key (empty: one partition)
  std::vector<TopNOrderKey> order;        // at least one; NULL sorts first ascending, last descending
  int64_t limit = 1;                      // rows with rank <= limit are kept
  // Output the rank as a BIGINT column after the input's; when the query does not read it,
  // rows whose rank changes are not re-emitted (Flink's "no rank number" optimisation).
  bool emit_rank = false;
  int window_end_column = -1;  // kWindow: input column with the window's end (exclusive, epoch ms)
  int event_time_column = -1;  // kKeepFirst: input column whose time the watermark judges
  // The input source's watermark bound, for the per-record watermark (kKeepFirst).
  int64_t input_out_of_orderness_millis = 0;
  bool dead_letter_late_rows = false;  // 'late.data.strategy' = 'dead_letter'
};

std::string_view RankFunctionName(RankFunction function);
std::string_view TopNStrategyName(TopNStrategy strategy);

// Checks a spec against the input's column types: columns in range, 1 <= limit <=
// kMaxTopNLimit, a window end (BIGINT or TIMESTAMP) for kWindow, an event time column for
// kKeepFirst, limit 1 and one ORDER BY key for deduplication. The binder reports a failure at
// the clause's position; the operator refuses to be built from a spec that fails it.
absl::Status ValidateTopNSpec(const TopNSpec& spec, const std::vector<TypeId>& input_types);

}  // namespace sluice
