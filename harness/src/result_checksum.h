// ResultChecksum: an order-independent fingerprint of a result set, computed the same way from
// Sluice's output batches and from the rows SQLite returns, so that the benchmark harness can
// check every timed run against an independent oracle without keeping the output.
//
// Columns are split by the type Sluice gives them. Exact columns (BIGINT, TIMESTAMP, BOOLEAN,
// STRING) are hashed; each row's hash (over all exact columns, plus the null flags of the
// DOUBLE columns) is summed modulo 2^64. DOUBLE columns are summed as w(row) * value, where the
// weight w in [1, 2) comes from the row's hash, so that moving a value to another row changes
// the sum; two fingerprints match when rows and hash sums are equal and each weighted sum is
// within a relative 1e-9 of the other (summation order differs between engines).
//
// Changelog results (EMIT CHANGES) are fingerprinted by their final state: the last row of
// each key (the key columns named at construction), which equals a batch GROUP BY. Their rows
// are logged as they arrive and reduced when Value() is called, after the timed run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "batch/batch.h"
#include "common/status.h"
#include "types/logical_type.h"

namespace sluice::bench {

// The totals that identify a result set.
struct ChecksumValue {
  uint64_t rows = 0;
  uint64_t exact = 0;             // sum of row hashes mod 2^64
  std::vector<double> weighted;   // per DOUBLE column: sum of w * value
  std::vector<double> magnitude;  // per DOUBLE column: sum of |w * value| (the tolerance scale)

  // "rows=… exact=<16 hex> sums=[…] scale=[…]", doubles with 17 significant digits; Parse()
  // reads it back exactly.
  std::string ToString() const;
  static absl::StatusOr<ChecksumValue> Parse(std::string_view text);

  // Same rows and hash sum, and every weighted sum within `relative_tolerance` of the scale.
  bool Matches(const ChecksumValue& other, double relative_tolerance = 1e-9) const;

  // Adds another partition's totals (results of disjoint key sets).
  void Merge(const ChecksumValue& other);
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
    for (size_t i = 0; i < n; ++i) {
      if (size_ == blocks_.size() * kChunk) blocks_.push_back(pool_->Take());
      Chunk(size_ / kChunk)[size_ % kChunk] = values[i];
      ++size_;
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
  // where a changelog's log takes its blocks (null: the heap).
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

  // The totals so far (folds a changelog's final rows).
  ChecksumValue Value() const;

  bool is_changelog() const { return !key_columns_.empty(); }

 private:
  // A row's contribution, keyed by its key hash for a changelog.
  void Accept(uint64_t key_hash, uint64_t row_hash, const double* doubles, const uint8_t* double_nulls);

  std::vector<TypeId> types_;
  std::vector<size_t> key_columns_;
  std::vector<size_t> double_columns_;  // indices of DOUBLE columns
  ChecksumValue totals_;                // append-only totals
  // Changelog: every row's key hash, row hash and DOUBLE values in arrival order (appending is
  // all a run pays; Value() reduces the log to the last row per key afterwards). Chunked:
  // growing never copies what is logged (a vector's reallocation would stall a paced run for
  // tens of milliseconds once the log holds millions of rows).
  ChunkedLog<uint64_t> log_keys_;
  ChunkedLog<uint64_t> log_hashes_;
  ChunkedLog<double> log_doubles_;
  ChunkedLog<uint8_t> log_double_nulls_;
  // Per-batch scratch.
  std::vector<uint64_t> row_hashes_;
  std::vector<uint64_t> key_hashes_;
  std::vector<uint64_t> value_hashes_;  // one column's, per active row
  std::vector<double> row_doubles_;
  std::vector<uint8_t> row_double_nulls_;
};

// Hash of a byte string (the same function on both sides of a comparison).
uint64_t HashBytes(const char* data, size_t size);

}  // namespace sluice::bench
