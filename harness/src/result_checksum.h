// ResultChecksum: an order-independent record of a result set, computed the same way from
// Sluice's output batches and from the rows SQLite returns, so that the benchmark harness can
// check every timed run against an independent oracle.
//
// Columns are split by the type Sluice gives them. Exact columns (BIGINT, TIMESTAMP, BOOLEAN,
// STRING) are hashed: each row's 64-bit hash covers all its exact columns plus the null flags of
// its DOUBLE columns. Each row is then logged as its hash followed by its DOUBLE values (NULL as
// 0; the hash holds the flag), appended to a ChunkedLog: the run pays an append per row and
// allocates nothing once the log's pool holds its blocks.
//
// The comparison is per value, never summed: after the run both sides' rows are sorted by
// (hash, doubles) and walked in step. Rows pair up only when their hashes are equal (so exact
// columns compare exactly, up to a 64-bit hash collision), and each paired DOUBLE must be within
// a relative 1e-9 of its counterpart (|a - b| <= 1e-9 * max(|a|, |b|); equal values always
// pass). Why sorting rather than a sum with a tolerance: a tolerance on a sum scales with the
// whole column, so one wrong value hides in a large result (Scenario 1's 2M rows once let an
// average be $0.50 off); a sort pairs each value with exactly one other value. Rows with the
// same hash (duplicate exact columns) are paired in (doubles) order first, and if rounding
// noise has swapped their order, by a greedy search for a partner within tolerance. A mismatch
// names the first differing row by its hash, the column and the two values.
//
// Memory: 8 bytes per row plus 8 per DOUBLE column, once in the log and once when Value()
// copies it out to sort (Scenario 0's default ~9M output rows: ~145 MB each; the expected side
// is kept sorted in memory for the whole scenario, and in a binary file in the data folder).
//
// Changelog results (EMIT CHANGES) are recorded by their final state: the last row of each key
// (the key columns named at construction), which equals a batch GROUP BY. Their rows are
// logged with their key hash as they arrive and reduced when Value() is called, after the run.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "batch/batch.h"
#include "common/status.h"
#include "types/logical_type.h"

namespace sluice::bench {

// A result set as the check compares it: per row, its exact hash and its DOUBLE values.
struct ChecksumValue {
  // The relative tolerance between two doubles (rounding from another summation order).
  static constexpr double kRelativeTolerance = 1e-9;

  uint64_t rows = 0;
  uint64_t exact = 0;          // sum of row hashes mod 2^64 (a summary; rows are compared one by one)
  size_t doubles_per_row = 0;  // the DOUBLE columns
  // Row after row: the row's hash, then its doubles' bits (stride 1 + doubles_per_row).
  std::vector<uint64_t> words;
  bool sorted = false;  // rows in (hash, doubles) order

  // "rows=… exact=<16 hex> doubles=<d>": a summary for reports (two different results may
  // share it only if their DOUBLE values alone differ).
  std::string ToString() const;

  // Sorts the rows by (hash, doubles in IEEE total order). Idempotent.
  void Sort();

  // "" when this result matches `expected`: the same rows by exact hash, each DOUBLE within
  // `relative_tolerance` of its partner. Otherwise the row counts and the first difference: the
  // row (by hash and its doubles) only on one side, or the column (named from `double_names`,
  // the DOUBLE columns' names in order, when given) and its two values. Sorts copies of
  // unsorted inputs (call Sort() first to avoid the copy).
  std::string Difference(const ChecksumValue& expected, const std::vector<std::string>& double_names = {},
                         double relative_tolerance = kRelativeTolerance) const;
  bool Matches(const ChecksumValue& expected, double relative_tolerance = kRelativeTolerance) const {
    return Difference(expected, {}, relative_tolerance).empty();
  }

  // Adds another partition's rows (results of disjoint key sets); leaves the result unsorted.
  void Merge(const ChecksumValue& other);

  // Binary form (a version-tagged header, then the words), for the expected-result cache.
  // Deserialize: std::nullopt for another version's file (stale: recompute it), an error for
  // anything else that is not this version's, truncated, or whose rows disagree with its
  // header (corrupt).
  std::string Serialize() const;
  static absl::StatusOr<std::optional<ChecksumValue>> Deserialize(std::string_view bytes);

  uint64_t hash(size_t row) const { return words[row * (1 + doubles_per_row)]; }
  double value(size_t row, size_t j) const;
};

// Fixed-size blocks of memory that ChunkedLogs take and give back. A log that returns its
// blocks here, and the next run's log that takes them, write to pages already faulted in: the
// checking sink's page faults are the lab's cost, not the engine's, and workers faulting at
// once contend in the kernel (its memory-cgroup and LRU locks), which would charge the lab's
// cost to the engine's scaling. Not thread-safe: one pool per worker; it must outlive the logs
// that use it.
class LogBlockPool {
 public:
  static constexpr size_t kBlockBytes = size_t{1} << 19;

  // A block of kBlockBytes, uninitialised (a fresh one is touched only as it is written).
  std::unique_ptr<std::byte[]> Take() {
    if (free_.empty()) return std::make_unique_for_overwrite<std::byte[]>(kBlockBytes);
    std::unique_ptr<std::byte[]> block = std::move(free_.back());
    free_.pop_back();
    return block;
  }
  void Give(std::unique_ptr<std::byte[]> block) { free_.push_back(std::move(block)); }
  size_t free_blocks() const { return free_.size(); }

 private:
  std::vector<std::unique_ptr<std::byte[]>> free_;
};

// An append-only array of trivially copyable values, stored in blocks of
// LogBlockPool::kBlockBytes. Growing takes one block, from the pool when there is one (and
// gives them all back on destruction); nothing stored is ever moved. (A std::deque also never
// moves its elements, but its map of blocks doubles by copying, and with millions of rows that
// copy faults in megabytes at once, in the middle of a paced run.)
template <typename T>
class ChunkedLog {
  static_assert(std::is_trivially_copyable_v<T> && LogBlockPool::kBlockBytes % sizeof(T) == 0);

 public:
  // `pool`: where blocks come from and go back to; null: a pool of the log's own, whose blocks
  // are freed with it.
  explicit ChunkedLog(LogBlockPool* pool = nullptr) : pool_(pool != nullptr ? pool : &own_pool_) {}
  ChunkedLog(const ChunkedLog&) = delete;
  ChunkedLog& operator=(const ChunkedLog&) = delete;
  ~ChunkedLog() {
    for (auto& block : blocks_) pool_->Give(std::move(block));
  }

  size_t size() const { return size_; }
  const T& operator[](size_t i) const { return Chunk(i / kChunk)[i % kChunk]; }
  void Append(const T* values, size_t n) {
    while (n > 0) {
      if (size_ == blocks_.size() * kChunk) blocks_.push_back(pool_->Take());
      const size_t offset = size_ % kChunk;
      const size_t count = std::min(n, kChunk - offset);
      std::memcpy(Chunk(size_ / kChunk) + offset, values, count * sizeof(T));
      size_ += count;
      values += count;
      n -= count;
    }
  }

 private:
  static constexpr size_t kChunk = LogBlockPool::kBlockBytes / sizeof(T);
  T* Chunk(size_t c) const { return reinterpret_cast<T*>(blocks_[c].get()); }

  LogBlockPool own_pool_;  // declared first, destroyed last: frees the blocks the destructor gives back
  LogBlockPool* pool_;
  std::vector<std::unique_ptr<std::byte[]>> blocks_;
  size_t size_ = 0;
};

class ResultChecksum {
 public:
  // `types`: the result's column types in order. `key_columns`: empty for an append-only
  // result; for a changelog the indices of the columns that identify a row's key. `pool`:
  // where the log takes its blocks (null: the heap).
  ResultChecksum(std::vector<TypeId> types, std::vector<size_t> key_columns, LogBlockPool* pool = nullptr);

  // Adds the active rows of `batch` (columns in `types` order).
  void AddBatch(const Batch& batch);

  // One row from another engine: `Cell` is filled per column by the caller.
  struct Cell {
    bool is_null = false;
    int64_t integer = 0;    // BIGINT, TIMESTAMP, BOOLEAN
    double real = 0;        // DOUBLE
    std::string_view text;  // STRING
  };
  void AddRow(const std::vector<Cell>& cells);

  // Every row so far (a changelog's last row per key), unsorted.
  ChecksumValue Value() const;

  bool is_changelog() const { return !key_columns_.empty(); }

 private:
  // Logs one row: its hash and its DOUBLE values (`row_words` = hash, then the doubles' bits).
  void Accept(uint64_t key_hash, const uint64_t* row_words);

  std::vector<TypeId> types_;
  std::vector<size_t> key_columns_;
  std::vector<size_t> double_columns_;  // indices of DOUBLE columns
  // Every row's hash and DOUBLE values in arrival order (stride 1 + DOUBLE columns), and for a
  // changelog its key hash (Value() keeps the last row per key afterwards). Chunked: growing
  // never copies what is logged (a vector's reallocation would stall a paced run for tens of
  // milliseconds once the log holds millions of rows).
  ChunkedLog<uint64_t> log_rows_;
  ChunkedLog<uint64_t> log_keys_;
  // Per-batch scratch.
  std::vector<uint64_t> row_hashes_;
  std::vector<uint64_t> key_hashes_;
  std::vector<uint64_t> value_hashes_;  // one column's, per active row
  std::vector<uint64_t> row_words_;     // rows as logged
};

// Hash of a byte string (the same function on both sides of a comparison).
uint64_t HashBytes(const char* data, size_t size);

}  // namespace sluice::bench
