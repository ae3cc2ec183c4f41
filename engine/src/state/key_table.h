// KeyTable: maps composite grouping keys to dense group ids, for aggregation and partitioned
// operators.
//
// A key is the values of K columns in one row (any types, NULLs allowed; NULL equals NULL, as
// GROUP BY requires). Each key is encoded as K+1 64-bit words: one per column (integers and
// timestamps as is, doubles by their bits with -0.0 folded into 0.0, booleans as 0/1, strings
// of up to 7 bytes by their bytes and longer ones by their id in an interning table) and a
// NULL mask. The table is open addressing with linear
// probing over hashes computed a batch at a time, with prefetching; a key of one STRING column
// needs no table of its own: the string's interned id indexes its group, and a group stores only
// that 4-byte id. Group ids are dense and reused after Erase(), so per-group state can live in
// plain arrays indexed by id. No allocation per row once the table has grown to the key count.
// A table whose groups are erased (Erasure::kAllowed) counts the groups holding each interned
// string and frees a string with its last group, its id and bytes reused by later strings: a
// stream of ever-new keys under windows or TTL holds the strings of its live keys only.
// Otherwise interned strings are kept for the table's lifetime.
//
// ReadKey writes string views into the table's interned strings when they live in its string
// heap, or copies the string into the output column's heap: either stays valid while the
// table grows.
//
// A table whose owner never erases (Erasure::kNever: a GROUP BY without windows or TTL) with a
// key of one STRING column goes further: its group ids are the interned ids, plus one (group 0
// is the NULL key), so a lookup is the interning alone, with no map from string to group.
//
// Memory per key in the single-STRING-key mode: 4 bytes of group (its string id), 4 of string
// id -> group (neither when groups are never erased), and the interner's 16-byte string
// reference (which holds a string of up to 15 bytes itself; a longer one is kept behind a
// length prefix in blocks of up to 256 KiB), and 4-byte hash slots (at most half full); vectors
// grow by doubling, and MemoryBytes() counts their capacity.
//
// Carried keys (the keyed exchange): a table that looks keys up by hashed key words
// (HashesKeyWords) can take the words and hash of its leading key columns from someone who
// computed them without a table (EncodeCarriedKeys, on the exchange's sending thread while the
// rows are in its cache), and FindOrInsertCarried then reads only those words, not the key
// columns, except for the few rows whose key holds a string longer than 7 bytes (an interned
// id, which only the table can assign).
//
// Not thread-safe: one table per operator instance. EncodeCarriedKeys is static and touches no
// table.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "batch/batch.h"
#include "common/hash.h"
#include "common/state_vector.h"
#include "common/unaligned.h"
#include "state/state_serializer.h"

namespace sluice {

class StringInterner {
 public:
  // Reference counting (for tables whose groups are erased): Acquire and Release count the
  // groups that hold a string; a string none holds is removed, its id reused by a later
  // Intern, and a longer string's bytes reused by a later string of the same stored size. So
  // a table whose keys come and go (windows, TTL) holds the strings of its live keys only.
  // Only Release frees: a string interned and never acquired stays.
  // REQUIRES: nothing interned yet.
  void EnableRelease() { release_ = true; }
  void Acquire(uint32_t id) {
    if (release_) ++refs_[id];
  }
  void Release(uint32_t id) {
    if (release_ && --refs_[id] == 0) Remove(id);
  }

  // The id of `text`, adding it if new. Ids are dense from 0.
  uint32_t Intern(std::string_view text);
  // The id of `text` if it is interned, else kNotInterned. Adds nothing: safe to call from
  // several threads at once while no thread interns.
  static constexpr uint32_t kNotInterned = 0xFFFFFFFF;
  uint32_t Find(std::string_view text) const;
  // ids[i] = Intern(string of the i-th active row) for the active rows of a STRING column (0 for
  // NULL rows); faster than row by row on large dictionaries.
  void InternBatch(const Column& column, const uint32_t* selection, size_t count, uint32_t* ids);
  // String `id`. A string of up to kInlineBytes lives in its reference, which moves when the
  // interner grows: the view is valid until the next Intern or InternBatch. A longer one's
  // view is valid for the interner's lifetime.
  std::string_view Get(uint32_t id) const {
    const Reference& reference = references_[id];
    const uint8_t length = static_cast<uint8_t>(reference.bytes[0]);
    if (length <= kInlineBytes) [[likely]]
      return {reference.bytes + 1, length};
    return Stored(StoredAddress(reference));
  }
  // Get(id), valid for the interner's lifetime: a string held in its reference is copied into
  // `heap`.
  std::string_view GetLasting(uint32_t id, StringHeap& heap) const {
    const std::string_view text = Get(id);
    return text.size() <= kInlineBytes ? heap.Add(text) : text;
  }
  // Prefetch the reference of string `id`, and (once that has arrived) a longer string's bytes.
  void PrefetchReference(uint32_t id) const { __builtin_prefetch(&references_[id]); }
  void PrefetchBytes(uint32_t id) const {
    const Reference& reference = references_[id];
    if (static_cast<uint8_t>(reference.bytes[0]) > kInlineBytes) __builtin_prefetch(StoredAddress(reference));
  }
  size_t size() const { return references_.size(); }
  // Bytes held: the string references (with the short strings in them), the heap blocks
  // (longer strings with their length prefixes, and the unused tail) and the hash slots, by
  // capacity.
  size_t bytes() const {
    return heap_.bytes_allocated() + CapacityBytes(slots_) + CapacityBytes(references_);
  }
  // The interned strings' own bytes (their lengths summed): the part of bytes() that is the
  // strings themselves.
  size_t string_bytes() const { return string_bytes_; }

 private:
  // A string's reference: byte 0 is the length of a string of up to kInlineBytes, whose bytes
  // follow (zero-padded), so that comparing or reading it costs one access; for a longer
  // string it is kLongString, and bytes 8-15 hold its address in heap_.
  struct alignas(16) Reference {
    char bytes[16];
  };
  static constexpr size_t kInlineBytes = 15;
  static constexpr uint8_t kLongString = 255;
  static const char* StoredAddress(const Reference& reference) {
    const char* stored;
    std::memcpy(&stored, reference.bytes + 8, sizeof stored);
    return stored;
  }
  // A string is stored in heap_ behind its length: one byte below 255, else 255 and 4 bytes.
  static std::string_view Stored(const char* stored) {
    const uint8_t length = static_cast<uint8_t>(stored[0]);
    if (length < 255) [[likely]]
      return {stored + 1, length};
    uint32_t long_length;
    std::memcpy(&long_length, stored + 1, sizeof(long_length));
    return {stored + 5, long_length};
  }
  Reference Store(std::string_view text);
  // Removes string `id` (no group holds it): its slot, its id, its bytes.
  void Remove(uint32_t id);
  // A freed id's reference: skipped by Grow.
  static constexpr uint8_t kFreedString = 254;
  // A slot holds id + 1 in its low log2(capacity) bits (0: empty) and, above them, as many
  // bits of the string's hash as fit (bits the slot index does not use), so that a probe
  // compares strings only when those match. Ids stay below capacity / 2 (at most half full).
  uint32_t Entry(uint64_t hash, uint32_t id) const { return Tag(hash) | (id + 1); }
  uint32_t Tag(uint64_t hash) const { return static_cast<uint32_t>(hash >> 32) & tag_mask_; }
  uint32_t InternHashed(std::string_view text, uint64_t hash);
  void Grow();

  // Blocks of at most 256 KiB: the heap never shrinks, and doubling blocks would leave up to
  // half of it unused.
  StringHeap heap_{256 * 1024};
  StateVector<Reference> references_;  // id -> the string
  StateVector<uint32_t> slots_;
  uint32_t tag_mask_ = 0;
  size_t string_bytes_ = 0;
  std::vector<uint64_t> hashes_;  // InternBatch scratch
  bool release_ = false;
  std::vector<uint32_t> refs_;      // release_: groups holding each id
  std::vector<uint32_t> free_ids_;  // release_: removed ids, reused first
  // release_: removed longer strings' storage, by allocated size (length prefix included).
  absl::flat_hash_map<size_t, std::vector<char*>> free_storage_;
};

class KeyTable {
 public:
  // Whether the owner ever erases groups (Erase() with kNever is a programming error).
  enum class Erasure { kAllowed, kNever };
  explicit KeyTable(std::vector<TypeId> key_types, Erasure erasure = Erasure::kAllowed);

  size_t key_count() const { return key_types_.size(); }
  // Live groups.
  size_t size() const { return live_; }
  // One past the largest group id in use or on the free list: size per-group arrays to this.
  uint32_t id_limit() const { return id_limit_; }

  // For every active row of `keys` (key_count() columns, indexed by physical row) writes the
  // row's group id to group_ids[row], inserting unseen keys. Returns the number of groups
  // created by this call; when `created` is given, their ids are appended to it in order.
  size_t FindOrInsert(const Column* const* keys, const uint32_t* selection, size_t count, uint32_t* group_ids,
                      std::vector<uint32_t>* created = nullptr);

  // Lookups that insert nothing, for a table filled once and then only read (a lookup join's
  // table, state/lookup_table.h): for every active row of `keys` writes the row's group id to
  // group_ids[row], or kNotFound when no group holds its key. Const: tables may be probed from
  // several threads at once, each with its own `scratch`, while none inserts or erases.
  static constexpr uint32_t kNotFound = 0xFFFFFFFF;
  struct FindScratch {
    std::vector<uint64_t> words;
    std::vector<uint64_t> hashes;
    std::vector<uint8_t> absent;  // per active row: a string of its key was never interned
  };
  void Find(const Column* const* keys, const uint32_t* selection, size_t count, uint32_t* group_ids,
            FindScratch& scratch) const;

  // --- carried keys ---
  // Whether a table over `key_types` finds keys by hashed key words, and so takes carried
  // keys: every key but one of a single STRING column (that one is found by its interned id).
  static bool HashesKeyWords(const std::vector<TypeId>& key_types) {
    return !(key_types.size() == 1 && key_types[0] == TypeId::kString);
  }
  // The carried word of a string longer than kInlineStringMax bytes: the table interns it, so
  // FindOrInsertCarried encodes that row from its key column. No string's key word equals it
  // (an interned word has bits 32-55 clear, an inline one a length below 8 in its top byte);
  // in a column of another type it is an ordinary word.
  static constexpr uint64_t kUncarriedWord = ~uint64_t{0};
  // For the `count` active rows of `columns` (the leading `column_count` key columns, any key
  // types) writes, for the i-th active row: words[k][i], column k's key word as every table
  // encodes it (or kUncarriedWord); nulls[i], the NULL bits of those columns; hashes[i], the
  // hash every table's lookup starts from for those words. A row with kUncarriedWord gets a
  // hash of its strings' bytes instead: equal keys still hash equally, so hashes[i] may route
  // rows, but the table recomputes that row's. REQUIRES: column_count < 64.
  static void EncodeCarriedKeys(const Column* const* columns, size_t column_count, const uint32_t* selection,
                                size_t count, uint64_t* const* words, uint64_t* nulls, uint64_t* hashes);
  // What EncodeCarriedKeys wrote, indexed by physical row like the key columns.
  struct CarriedKeys {
    size_t columns = 0;            // the leading key columns carried
    const uint64_t* const* words;  // [k][row]
    const uint64_t* nulls;         // [row]
    const uint64_t* hashes;        // [row]
  };
  // FindOrInsert, with key columns [0, carried.columns) taken from `carried`: keys[k] for those
  // is read only at rows where column k's own word is kUncarriedWord (a STRING column need
  // hold only those rows); the other key columns come from `keys` as in FindOrInsert. Same
  // ids, created groups and result as FindOrInsert on the same keys.
  // REQUIRES: HashesKeyWords(key types); 0 < carried.columns <= key_count().
  size_t FindOrInsertCarried(const CarriedKeys& carried, const Column* const* keys, const uint32_t* selection,
                             size_t count, uint32_t* group_ids, std::vector<uint32_t>* created = nullptr);

  // Whether group `id` holds a key (false for a freed id). REQUIRES: id < id_limit().
  bool IsLive(uint32_t id) const {
    if (identity_) return id == 0 ? null_seen_ : id - 1 < strings_.size();
    return direct_ ? group_strings_[id] != kFreeGroup : group_live_[id] != 0;
  }

  // Removes a group; its id may be handed out again by a later insert.
  void Erase(uint32_t group);
  // Removes each of `groups` in order, as Erase() does, with the groups' keys and slots fetched
  // a chunk ahead: on a large table each erasure costs two memory accesses, and these overlap.
  void Erase(std::span<const uint32_t> groups);

  // The integer value of key column `key_index` of `group` (BIGINT or TIMESTAMP keys only; 0 for
  // NULL). No allocation: for per-group bookkeeping on hot paths.
  // REQUIRES: the key is not one STRING column (it has a BIGINT or TIMESTAMP column).
  int64_t IntegerKey(uint32_t group, size_t key_index) const {
    return static_cast<int64_t>(group_words_[group * words_per_key_ + key_index]);
  }

  // Writes key column `key_index` of `group` into out[row] (strings point into the table's
  // interned strings or into `out`'s heap).
  void ReadKey(uint32_t group, size_t key_index, Column& out, size_t row) const;
  // Requests the memory that ReadKey of `groups` will read, so that reading a large table's
  // keys in that order overlaps the cache misses (for a key of one STRING column: the group's
  // string id, the string's reference, then its bytes) instead of waiting for each in turn.
  void PrefetchKeys(std::span<const uint32_t> groups) const;

  // A hash of `group`'s key values that equal keys share in every table (strings hashed by
  // their bytes, not by this table's interned ids): for checks across operator instances, such
  // as a key reaching two workers. Not stable across versions: never persist it.
  // Covers the first `columns` key columns (an operator may append its own, as a window start).
  uint64_t ContentHash(uint32_t group, size_t columns) const;
  // The first `columns` columns of `group`'s key as text for messages: strings quoted, NULL as
  // NULL, columns joined by ", ".
  std::string KeyText(uint32_t group, size_t columns) const;

  // Bytes held (by capacity): slots, per-group keys, the free list and the interned strings.
  size_t MemoryBytes() const;
  // The interned key strings' own bytes, a part of MemoryBytes(): each distinct string once.
  size_t KeyStringBytes() const { return strings_.string_bytes(); }

  void Snapshot(StateWriter& writer) const;
  absl::Status Restore(StateReader& reader);

 private:
  static constexpr uint32_t kEmpty = 0xFFFFFFFF;
  static constexpr uint32_t kMaxGroups = 0xFFFFFFFE;  // ids stay below kFreeGroup and kEmpty
  // Direct mode, group_strings_: the group of the NULL key, and a freed id.
  static constexpr uint32_t kNullKey = 0xFFFFFFFF;
  static constexpr uint32_t kFreeGroup = 0xFFFFFFFE;

  // The hash of an encoded key: a chain over its words, so that a prefix of the words can be
  // hashed without a table (EncodeCarriedKeys) and the rest added here (ContinueHash).
  static constexpr uint64_t kHashSeed = 0x2545f4914f6cdd1dULL;
  static uint64_t HashStep(uint64_t hash, uint64_t word, size_t index) {
    return HashMix64(hash ^ word) + index;
  }
  uint64_t HashKey(const uint64_t* words) const { return ContinueHash(kHashSeed, words, 0); }
  // The hash of `words` given `hash`, the chain over its first `from` words.
  uint64_t ContinueHash(uint64_t hash, const uint64_t* words, size_t from) const {
    for (size_t i = from; i < words_per_key_; ++i) hash = HashStep(hash, words[i], i);
    return hash;
  }
  // Finds or inserts the `count` keys of batch_words_ (hashed in batch_hashes_), the i-th for
  // the i-th active row.
  size_t ProbeEncoded(const uint32_t* selection, size_t count, uint32_t* group_ids,
                      std::vector<uint32_t>* created_ids);
  // Hash mode: a string of up to kInlineStringMax bytes is its own key word (its bytes, little
  // endian, and its length in the top byte), so that short keys such as ticker symbols need no
  // interning; a longer one is kInternedTag | its interned id. Direct mode: the interned id.
  static constexpr size_t kInlineStringMax = 7;
  static constexpr uint64_t kInternedTag = uint64_t{0xFF} << 56;
  static bool IsInternedWord(uint64_t word) { return (word & kInternedTag) == kInternedTag; }
  static uint64_t InlineStringWord(std::string_view text) {
    static_assert(std::endian::native == std::endian::little);
    return LoadShortString(text.data(), text.size()) | (uint64_t{text.size()} << 56);
  }
  // Writes the key words of column `k` for the `count` active rows into `words` (row i's key at
  // words[i * words_per_key_]) and ORs its NULL bits into each row's mask word, which must be
  // 0 or hold only other columns' bits.
  void EncodeColumn(size_t k, const Column& column, const uint32_t* selection, size_t count, uint64_t* words);
  // EncodeColumn of a STRING column, the NULL masks aside (a NULL string's word is 0).
  void EncodeStrings(const Column& column, const uint32_t* selection, size_t count, uint64_t* words);
  // The key word of one string, and back; WordString of an inline string points into `word`.
  uint64_t StringWord(std::string_view text);
  std::string_view WordString(const uint64_t& word) const;
  uint32_t FindOrInsertEncoded(const uint64_t* words, uint64_t hash, bool* inserted);
  // Hash mode: erases `group`, whose key hashes to `hash`.
  void EraseHashed(uint32_t group, uint64_t hash);
  bool KeyEquals(uint32_t id, const uint64_t* words) const;
  // A fresh (or recycled) group id holding `words`.
  uint32_t NewGroup(const uint64_t* words);
  // The interned strings of a group's key words: counted while the group lives (a table
  // whose groups are erased frees a string when its last group goes).
  void AcquireStrings(const uint64_t* words);
  void ReleaseStrings(const uint64_t* words);
  // Sets group `id`'s key to `words` (both modes).
  void StoreKey(uint32_t id, const uint64_t* words);
  // The encoded key of a live group (key_count()+1 words), in either mode.
  void LoadKey(uint32_t id, uint64_t* words) const;
  // Direct mode: the group slot of an encoded single-string key.
  uint32_t& DirectSlot(const uint64_t* words);
  void Rehash(size_t capacity);
  // Restore() of an identity-mode table: `ids` groups follow in the snapshot.
  absl::Status RestoreIdentity(StateReader& reader, uint64_t ids);

  std::vector<TypeId> key_types_;
  size_t words_per_key_;
  StringInterner strings_;
  // Direct mode (the key is one STRING column): groups are found by the interned string's id,
  // with no hash table of their own.
  bool direct_;
  // Direct mode whose groups are never erased: group = string id + 1, group 0 = the NULL key.
  bool identity_;
  bool null_seen_ = false;               // identity mode: group 0 exists
  bool counts_strings_ = false;          // groups are erased and the key has a STRING column
  StateVector<uint32_t> by_string_;      // direct mode: string id -> group id or kEmpty
  uint32_t null_group_ = kEmpty;         // direct mode: the group of the NULL key
  StateVector<uint32_t> group_strings_;  // direct mode: id -> string id, kNullKey or kFreeGroup
  // Hash mode: linear probing over slots that hold a group id in their low 32 bits and the
  // low 32 bits of its key's hash above them (kEmptySlot: free), so that a probe compares keys
  // only on matching hash bits and Erase finds an entry's home slot without reading its key.
  // Erase shifts the entries behind a hole back instead of leaving a tombstone, so keys that
  // come and go (windows closing) never fill the table with tombstones that a rehash must
  // clear in one long pause.
  static constexpr uint64_t kEmptySlot = ~uint64_t{0};
  static uint64_t SlotEntry(uint64_t hash, uint32_t id) { return (hash << 32) | id; }
  static uint32_t SlotGroup(uint64_t entry) { return static_cast<uint32_t>(entry); }
  // The hash bits an entry keeps: the low 32 bits of its key's hash (they cover the index).
  static uint32_t SlotHash(uint64_t entry) { return static_cast<uint32_t>(entry >> 32); }
  StateVector<uint64_t> slots_;
  StateVector<uint64_t> group_words_;  // hash mode: id * words_per_key_
  StateVector<uint8_t> group_live_;    // hash mode: id -> 1 while the group exists
  uint32_t id_limit_ = 0;
  std::vector<uint32_t> free_ids_;
  size_t live_ = 0;
  std::vector<uint64_t> batch_words_;        // FindOrInsert: the batch's encoded keys
  std::vector<uint64_t> batch_hashes_;       // and their hashes
  std::vector<uint32_t> string_ids_;         // EncodeStrings scratch: interned ids
  std::vector<uint32_t> long_rows_;          // EncodeStrings (hash mode): rows of longer strings
  std::vector<uint32_t> long_indexes_;       // and their active-row indexes
  std::vector<uint32_t> uncarried_rows_;     // FindOrInsertCarried: rows with a kUncarriedWord
  std::vector<uint32_t> uncarried_indexes_;  // and their active-row indexes
  std::vector<uint64_t> uncarried_words_;    // and their keys, encoded from the columns
};

}  // namespace sluice
