// RocksDbStore: one operator instance's keyed state in an embedded RocksDB database, for state
// that outgrows memory ('state.backend' = 'rocksdb'; see README "State backends").
//
// Each store is a private database in a fresh directory (made under the configured parent
// with mkdtemp, removed with the store): one per operator instance and worker, never shared,
// never reopened. It holds the live state only; durability comes from the job's checkpoints,
// which copy the store's pairs into the checkpoint (Snapshot/Restore of the operator), as
// Flink's canonical savepoint format does. So RocksDB's own write-ahead log is off: a crash
// loses the directory, and recovery rebuilds it from the checkpoint.
//
// Memory: `memory_bytes` bounds what RocksDB holds in memory: the block cache, with the
// memtables, the index and the Bloom filter blocks charged to it. The rest of the state lives
// in the directory's files (and the operating system's page cache, which it may reclaim).
//
// Not thread-safe: one store per operator instance.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace sluice {

class RocksDbStore {
 public:
  struct Options {
    // The directory under which the store makes its own (the system temporary directory when
    // empty).
    std::string parent_dir;
    // The block cache's capacity, which the memtables are charged to as well.
    uint64_t memory_bytes = 256ull << 20;
  };

  // Opens a new, empty store. Errors name the directory.
  static absl::StatusOr<std::unique_ptr<RocksDbStore>> Open(const Options& options);
  ~RocksDbStore();
  RocksDbStore(const RocksDbStore&) = delete;
  RocksDbStore& operator=(const RocksDbStore&) = delete;

  // Looks up `keys` at once: values[i] holds the value of keys[i] when found[i] is 1. Values
  // stay valid until the next MultiGet. `values` and `found` are resized to the key count.
  // `sorted`: the keys are in ascending order (RocksDB then skips sorting them).
  absl::Status MultiGet(std::span<const rocksdb::Slice> keys, std::vector<rocksdb::PinnableSlice>& values,
                        std::vector<uint8_t>& found, bool sorted = false);
  // Applies `batch` (puts and deletes) atomically, without a write-ahead log.
  absl::Status Write(rocksdb::WriteBatch& batch);
  // Every pair in key order. The iterator sees the state as of its creation.
  std::unique_ptr<rocksdb::Iterator> NewIterator() const;
  // Removes every pair.
  absl::Status Clear();

  // Bytes of memory the store holds now: the block cache's usage (memtables, index and filter
  // blocks included).
  uint64_t MemoryBytes() const { return cache_->GetUsage(); }
  // Bytes of the store's files on disk (SST files and live memtables' future files excluded).
  uint64_t DiskBytes() const;
  const std::string& directory() const { return directory_; }

 private:
  RocksDbStore() = default;
  absl::Status Check(const rocksdb::Status& status, const char* what) const;

  std::string directory_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::Status> statuses_;  // MultiGet scratch
};

}  // namespace sluice
