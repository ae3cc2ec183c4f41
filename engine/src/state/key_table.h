// KeyTable: maps composite grouping keys to dense group ids, for aggregation and partitioned
// operators.
//
// A key is the values of K columns in one row (any types, NULLs allowed; NULL equals NULL, as
// GROUP BY requires). Each key is encoded as K+1 64-bit words: one per column (integers and
// timestamps as is, doubles by their bits with -0.0 folded into 0.0, booleans as 0/1, strings
// by their id in an interning table) and a NULL mask. The table is open addressing with linear
// probing over hashes computed a batch at a time, with prefetching; a key of one STRING column
// needs no table of its own: the string's interned id indexes its group. Group ids are dense and reused after
// Erase(), so per-group state can live in plain arrays indexed by id. No allocation per row once the table
// has grown to the key count. Interned strings are kept for the table's lifetime.
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
  // ids[i] = Intern(string of the i-th active row) for the active rows of a STRING column (0 for
  // NULL rows); faster than row by row on large dictionaries.
  void InternBatch(const Column& column, const uint32_t* selection, size_t count, uint32_t* ids);
  std::string_view Get(uint32_t id) const { return strings_[id]; }
  size_t size() const { return strings_.size(); }
  size_t bytes() const {
    return heap_.bytes_allocated() + slots_.capacity() * sizeof(uint64_t) +
           strings_.capacity() * sizeof(std::string_view);
  }

 private:
  // A slot holds id + 1 in its low 32 bits (0: empty) and the high 32 bits of the string's
  // hash, so that a probe compares strings only when those match.
  static constexpr uint64_t kTagMask = 0xFFFFFFFF00000000ULL;
  static uint64_t Entry(uint64_t hash, uint32_t id) { return (hash & kTagMask) | (uint64_t{id} + 1); }
  uint32_t InternHashed(std::string_view text, uint64_t hash);
  void Grow();

  StringHeap heap_;
  std::vector<std::string_view> strings_;
  std::vector<uint64_t> slots_;
  std::vector<uint64_t> hashes_;  // InternBatch scratch
};

class KeyTable {
 public:
  explicit KeyTable(std::vector<TypeId> key_types);

  size_t key_count() const { return key_types_.size(); }
  // Live groups.
  size_t size() const { return live_; }
  // One past the largest group id in use or on the free list: size per-group arrays to this.
  uint32_t id_limit() const { return static_cast<uint32_t>(group_live_.size()); }

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
  // Encodes the key of `row`, the `index`-th active row of `count`, into `words`
  // (key_count()+1 words); its strings' ids are in string_ids_.
  void EncodeRow(const Column* const* keys, size_t row, size_t index, size_t count, uint64_t* words) const;
  uint32_t FindOrInsertEncoded(const uint64_t* words, uint64_t hash, bool* inserted);
  bool KeyEquals(uint32_t id, const uint64_t* words) const;
  // A fresh (or recycled) group id holding `words`.
  uint32_t NewGroup(const uint64_t* words);
  // Direct mode: the group slot of an encoded single-string key.
  uint32_t& DirectSlot(const uint64_t* words);
  void Rehash(size_t capacity);

  std::vector<TypeId> key_types_;
  size_t words_per_key_;
  StringInterner strings_;
  // Direct mode (the key is one STRING column): groups are found by the interned string's id,
  // with no hash table of their own.
  bool direct_;
  std::vector<uint32_t> by_string_;    // direct mode: string id -> group id or kEmpty
  uint32_t null_group_ = kEmpty;       // direct mode: the group of the NULL key
  std::vector<uint32_t> slots_;        // group id, kEmpty or kTombstone
  std::vector<uint64_t> group_words_;  // id * words_per_key_
  std::vector<uint8_t> group_live_;    // id -> 1 while the group exists
  std::vector<uint32_t> free_ids_;
  size_t live_ = 0;
  size_t tombstones_ = 0;
  std::vector<uint64_t> batch_words_;   // FindOrInsert: the batch's encoded keys
  std::vector<uint64_t> batch_hashes_;  // and their hashes
  std::vector<uint32_t> string_ids_;    // FindOrInsert: interned ids per STRING key column
};

}  // namespace sluice
