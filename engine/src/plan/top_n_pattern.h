// Finding the Top-N pattern in a query, before derived tables are lowered:
//
//   SELECT ... FROM (SELECT ..., ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...) AS rn
//                    FROM ...) AS t
//   WHERE rn <= N [AND ...]
//
// (or `WITH t AS (...) SELECT ... FROM t WHERE ...`; RANK and DENSE_RANK too; `rn < N`,
// `rn = 1`, `N >= rn`). The query's FROM is a derived table or WITH query whose select list
// has exactly one ranking function, as a whole item with a name, and its WHERE bounds that
// name from above. The bound is taken out of the WHERE (the Top-N operator applies it) and
// the derived table is marked, so that the binder plans it as a TopN node (plan/top_n_spec.h)
// instead of a ROWS window.
#pragma once

#include <map>
#include <string>

#include "plan/top_n_spec.h"
#include "sql/ast.h"
#include "sql/source_text.h"

namespace sluice {

struct TopNPattern {
  RankFunction function = RankFunction::kRowNumber;
  int64_t limit = 1;       // ranks 1..limit are kept
  bool emit_rank = false;  // the outer query reads the rank column
  size_t rank_item = 0;    // index of the ranking function in the derived table's select list
  SourcePosition filter_position;
};

// Finds the pattern in `select` and, at any depth, in its derived tables and WITH queries;
// rewrites each outer WHERE found and records the derived table's query in `found`. Errors,
// at their position: a condition on the rank column that is not an upper bound (rn > 2,
// rn = 3, rn <= 2 OR ...), a bound that keeps no row, N above kMaxTopNLimit, a WITH query
// with a rank filter that another query also reads.
absl::Status FindTopNPatterns(const SourceText& source, SelectStatement& select,
                              std::map<const SelectStatement*, TopNPattern>& found);

}  // namespace sluice
