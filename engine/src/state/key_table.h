// KeyTable: maps composite grouping keys to dense group ids, for aggregation and partitioned
// operators.
//
// A key is the values of K columns in one row (any types, NULLs allowed; NULL equals NULL, as
// GROUP BY requires). Each key is encoded as K+1 64-bit words: one per column (integers and
// timestamps as is, doubles by their bits with -0.0 folded into 0.0, booleans as 0/1, strings
// by their id in an interning table) and a NULL mask. The table is open addressing with linear
// probing over pre-computed hashes; group ids are dense and reused after Erase(), so
// per-group state can live in plain arrays indexed by id. No allocation per row once the
// table has grown to the key count. Interned strings are kept for the table's lifetime.
//
// Not thread-safe: one table per operator instance.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "batch/batch.h"
#include "state/state_serializer.h"

namespace sluice {

class StringInterner {
 public:
  // The id of `text`, adding it if new. Ids are dense from 0.
  uint32_t Intern(std::string_view text);
  std::string_view Get(uint32_t id) const { return strings_[id]; }
  size_t size() const { return strings_.size(); }
  size_t bytes() const {
    return heap_.bytes_allocated() + slots_.size() * sizeof(uint32_t) + strings_.size() * 16;
  }

 private:
  void Grow();

  StringHeap heap_;
  std::vector<std::string_view> strings_;
  std::vector<uint64_t> hashes_;
  std::vector<uint32_t> slots_;  // id + 1, 0 = empty
};

class KeyTable {
 public:
  explicit KeyTable(std::vector<TypeId> key_types);

  size_t key_count() const { return key_types_.size(); }
  // Live groups.
  size_t size() const { return live_; }
  // One past the largest group id in use or on the free list: size per-group arrays to this.
  uint32_t id_limit() const { return static_cast<uint32_t>(group_hashes_.size()); }

  // For every active row of `keys` (key_count() columns, indexed by physical row) writes the
  // row's group id to group_ids[row], inserting unseen keys. Returns the number of groups
  // created by this call; when `created` is given, their ids are appended to it in order.
  size_t FindOrInsert(const Column* const* keys, const uint32_t* selection, size_t count, uint32_t* group_ids,
                      std::vector<uint32_t>* created = nullptr);

  // Removes a group; its id may be handed out again by a later insert.
  void Erase(uint32_t group);

  // The integer value of key column `key_index` of `group` (BIGINT or TIMESTAMP keys only; 0 for
  // NULL). No allocation: for per-group bookkeeping on hot paths.
  int64_t IntegerKey(uint32_t group, size_t key_index) const {
    return static_cast<int64_t>(group_words_[group * words_per_key_ + key_index]);
  }

  // Writes key column `key_index` of `group` into out[row] (strings point into the table).
  void ReadKey(uint32_t group, size_t key_index, Column& out, size_t row) const;

  // Approximate bytes held: slots, key words and interned strings.
  size_t MemoryBytes() const;

  void Snapshot(StateWriter& writer) const;
  absl::Status Restore(StateReader& reader);

 private:
  static constexpr uint32_t kEmpty = 0xFFFFFFFF;
  static constexpr uint32_t kTombstone = 0xFFFFFFFE;

  uint64_t HashKey(const uint64_t* words) const;
  // Encodes row's key into `words` (key_count()+1 words).
  void EncodeRow(const Column* const* keys, size_t row, uint64_t* words);
  uint32_t FindOrInsertEncoded(const uint64_t* words, uint64_t hash, bool* inserted);
  void Rehash(size_t capacity);

  std::vector<TypeId> key_types_;
  size_t words_per_key_;
  StringInterner strings_;
  std::vector<uint32_t> slots_;         // group id, kEmpty or kTombstone
  std::vector<uint64_t> group_words_;   // id * words_per_key_
  std::vector<uint64_t> group_hashes_;  // id -> hash
  std::vector<uint8_t> group_live_;     // id -> 1 while the group exists
  std::vector<uint32_t> free_ids_;
  size_t live_ = 0;
  size_t tombstones_ = 0;
  std::vector<uint64_t> scratch_;
};

}  // namespace sluice
