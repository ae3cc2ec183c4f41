// RowKind: what a row of a changelog stream does to the table the stream describes.
//
// An append-only stream holds inserts only, and its batches carry no row kinds at all (see
// Batch::row_kinds). An updating stream (the output of an aggregate under EMIT CHANGES, of a
// session window that merges, or of a statement reading such a stream) may carry all four:
// an update is an update-before row (the old row, retracted) immediately followed, in the
// same batch, by its update-after row (the new row).
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice {

enum class RowKind : uint8_t {
  kInsert = 0,
  kUpdateBefore = 1,
  kUpdateAfter = 2,
  kDelete = 3,
};

// True for the kinds that take a row out of the table (update-before, delete).
inline bool IsRetraction(RowKind kind) {
  return kind == RowKind::kUpdateBefore || kind == RowKind::kDelete;
}

// "+I", "-U", "+U", "-D" (Flink's short forms), for EXPLAIN and test output.
std::string_view RowKindName(RowKind kind);

}  // namespace sluice
