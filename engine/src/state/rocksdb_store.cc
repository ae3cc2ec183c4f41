#include "state/rocksdb_store.h"

#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/strings.h"
#include "rocksdb/convenience.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_buffer_manager.h"

namespace sluice {

absl::StatusOr<std::unique_ptr<RocksDbStore>> RocksDbStore::Open(const Options& options) {
  std::error_code error;
  std::filesystem::path parent = options.parent_dir.empty() ? std::filesystem::temp_directory_path(error)
                                                            : std::filesystem::path(options.parent_dir);
  if (error)
    return absl::FailedPreconditionError(StrCat("RocksDB state: no temporary directory: ", error.message()));
  std::filesystem::create_directories(parent, error);
  if (error) {
    return absl::FailedPreconditionError(
        StrCat("RocksDB state: cannot create directory '", parent.string(), "': ", error.message()));
  }
  std::string pattern = (parent / "sluice-state-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::FailedPreconditionError(StrCat("RocksDB state: cannot create a directory under '",
                                                parent.string(), "': ", std::strerror(errno)));
  }
  auto store = std::unique_ptr<RocksDbStore>(new RocksDbStore());
  store->directory_ = pattern;

  // A quarter of the budget for memtables (charged to the cache, so the cache's capacity is
  // the whole budget), the rest for data, index and filter blocks.
  const uint64_t budget = std::max<uint64_t>(options.memory_bytes, 16ull << 20);
  store->cache_ = rocksdb::NewLRUCache(budget);
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.error_if_exists = true;
  db_options.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(budget / 4, store->cache_);
  db_options.write_buffer_size = std::min<uint64_t>(64ull << 20, budget / 8);
  db_options.max_write_buffer_number = 3;
  // Most lookups of a growing key set miss: a Bloom filter over each memtable's keys answers
  // those without a search of its skip list.
  db_options.memtable_whole_key_filtering = true;
  db_options.memtable_prefix_bloom_size_ratio = 0.1;
  db_options.max_background_jobs = 2;
  db_options.compression = rocksdb::kNoCompression;
  db_options.bottommost_compression = rocksdb::kLZ4Compression;
  const auto supported = rocksdb::GetSupportedCompressions();
  if (std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) == supported.end())
    db_options.bottommost_compression = rocksdb::kNoCompression;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = store->cache_;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  // Most lookups of a growing key set miss: a Bloom filter answers them without a read.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::DB* db = nullptr;
  const rocksdb::Status status = rocksdb::DB::Open(db_options, store->directory_, &db);
  if (!status.ok()) {
    std::filesystem::remove_all(store->directory_, error);
    return absl::FailedPreconditionError(
        StrCat("RocksDB state: cannot open '", pattern, "': ", status.ToString()));
  }
  store->db_.reset(db);
  return store;
}

RocksDbStore::~RocksDbStore() {
  if (db_ != nullptr) {
    db_->Close().PermitUncheckedError();
    db_.reset();
  }
  std::error_code error;
  if (!directory_.empty()) std::filesystem::remove_all(directory_, error);
}

absl::Status RocksDbStore::Check(const rocksdb::Status& status, const char* what) const {
  if (status.ok()) return absl::OkStatus();
  return absl::InternalError(StrCat("RocksDB state in '", directory_, "': ", what, ": ", status.ToString()));
}

absl::Status RocksDbStore::MultiGet(std::span<const rocksdb::Slice> keys,
                                    std::vector<rocksdb::PinnableSlice>& values, std::vector<uint8_t>& found,
                                    bool sorted) {
  const size_t n = keys.size();
  if (values.size() < n) values.resize(n);
  for (size_t i = 0; i < n; ++i) values[i].Reset();
  statuses_.resize(n);
  found.assign(n, 0);
  if (n == 0) return absl::OkStatus();
  db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), n, keys.data(), values.data(),
                statuses_.data(), sorted);
  for (size_t i = 0; i < n; ++i) {
    if (statuses_[i].ok()) {
      found[i] = 1;
    } else if (!statuses_[i].IsNotFound()) {
      return Check(statuses_[i], "reading state");
    }
  }
  return absl::OkStatus();
}

absl::Status RocksDbStore::Write(rocksdb::WriteBatch& batch) {
  rocksdb::WriteOptions options;
  options.disableWAL = true;
  return Check(db_->Write(options, &batch), "writing state");
}

std::unique_ptr<rocksdb::Iterator> RocksDbStore::NewIterator() const {
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(rocksdb::ReadOptions()));
}

absl::Status RocksDbStore::Clear() {
  std::unique_ptr<rocksdb::Iterator> it = NewIterator();
  rocksdb::WriteBatch batch;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    batch.Delete(it->key());
    if (batch.Count() >= 4096) {
      SLUICE_RETURN_IF_ERROR(Write(batch));
      batch.Clear();
    }
  }
  SLUICE_RETURN_IF_ERROR(Check(it->status(), "clearing state"));
  return Write(batch);
}

uint64_t RocksDbStore::DiskBytes() const {
  uint64_t bytes = 0;
  if (!db_->GetIntProperty("rocksdb.total-sst-files-size", &bytes)) return 0;
  return bytes;
}

}  // namespace sluice
