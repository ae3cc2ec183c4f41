#include "state/key_table.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>

#include "common/hash.h"
#include "common/strings.h"
#include "common/unaligned.h"

namespace sluice {
namespace {

// a == b for two strings of equal length `n`, short ones without a call to memcmp.
bool EqualBytes(const char* a, const char* b, size_t n) {
  if (n >= 8 && n <= 16)
    return ((LoadUnaligned64(a) ^ LoadUnaligned64(b)) |
            (LoadUnaligned64(a + n - 8) ^ LoadUnaligned64(b + n - 8))) == 0;
  if (n >= 4 && n < 8)
    return ((LoadUnaligned32(a) ^ LoadUnaligned32(b)) |
            (LoadUnaligned32(a + n - 4) ^ LoadUnaligned32(b + n - 4))) == 0;
  return std::memcmp(a, b, n) == 0;
}

// For a key column of fixed-width type `type` (not STRING: its words depend on the table),
// calls encode(word_of) once, word_of(row) being the key word of the column's value at `row`,
// the same in every table (a NULL's word is the caller's to clear). Inlined into each caller,
// so that the per-row loop in `encode` calls word_of directly.
template <typename Encode>
inline void EncodeFixedWidthWords(TypeId type, const Column& column, Encode&& encode) {
  switch (WordType(type)) {
    case TypeId::kInt64:
    case TypeId::kTimestamp: {
      const int64_t* values = column.data<int64_t>();
      encode([values](size_t row) { return static_cast<uint64_t>(values[row]); });
      break;
    }
    case TypeId::kDouble: {
      const double* values = column.data<double>();
      encode([values](size_t row) {
        double value = values[row];
        if (value == 0) value = 0;  // fold -0.0
        return std::bit_cast<uint64_t>(value);
      });
      break;
    }
    case TypeId::kBoolean:
    case TypeId::kNull: {
      const uint8_t* values = column.data<uint8_t>();
      encode([values](size_t row) { return uint64_t{values[row]}; });
      break;
    }
    case TypeId::kString:
      SLUICE_CHECK(false);  // callers encode strings themselves
      break;
  }
}

}  // namespace

// --- StringInterner ----------------------------------------------------------------------

void StringInterner::Grow() {
  const size_t capacity = slots_.empty() ? 1024 : slots_.size() * 2;
  // Ids and the empty mark must fit in a slot's low log2(capacity) bits.
  SLUICE_CHECK_LE(capacity, uint64_t{1} << 32);
  slots_.assign(capacity, 0);
  tag_mask_ = static_cast<uint32_t>(~(uint64_t{capacity} - 1));
  const size_t mask = capacity - 1;
  for (uint32_t id = 0; id < references_.size(); ++id) {
    if (static_cast<uint8_t>(references_[id].bytes[0]) == kFreedString) continue;
    const uint64_t hash = HashString(Get(id));
    size_t slot = hash & mask;
    while (slots_[slot] != 0) slot = (slot + 1) & mask;
    slots_[slot] = Entry(hash, id);
  }
}

StringInterner::Reference StringInterner::Store(std::string_view text) {
  SLUICE_CHECK_LE(text.size(), uint64_t{UINT32_MAX});
  string_bytes_ += text.size();
  Reference reference{};
  if (text.size() <= kInlineBytes) {
    reference.bytes[0] = static_cast<char>(text.size());
    if (!text.empty()) std::memcpy(reference.bytes + 1, text.data(), text.size());
    return reference;
  }
  const size_t prefix = text.size() < 255 ? 1 : 5;
  char* stored = nullptr;
  if (release_) {
    if (auto it = free_storage_.find(prefix + text.size());
        it != free_storage_.end() && !it->second.empty()) {
      stored = it->second.back();
      it->second.pop_back();
    }
  }
  if (stored == nullptr) stored = heap_.Allocate(prefix + text.size());
  if (prefix == 1) {
    stored[0] = static_cast<char>(text.size());
  } else {
    stored[0] = static_cast<char>(255);
    const uint32_t length = static_cast<uint32_t>(text.size());
    std::memcpy(stored + 1, &length, sizeof(length));
  }
  std::memcpy(stored + prefix, text.data(), text.size());
  reference.bytes[0] = static_cast<char>(kLongString);
  const char* address = stored;
  std::memcpy(reference.bytes + 8, &address, sizeof address);
  return reference;
}

uint32_t StringInterner::InternHashed(std::string_view text, uint64_t hash) {
  const size_t mask = slots_.size() - 1;
  const uint32_t tag = Tag(hash);
  size_t slot = hash & mask;
  while (slots_[slot] != 0) {
    const uint32_t entry = slots_[slot];
    if ((entry & tag_mask_) == tag) {
      const uint32_t id = (entry & ~tag_mask_) - 1;
      const std::string_view stored = Get(id);
      if (stored.size() == text.size() && EqualBytes(stored.data(), text.data(), text.size())) return id;
    }
    slot = (slot + 1) & mask;
  }
  uint32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
    references_[id] = Store(text);
  } else {
    id = static_cast<uint32_t>(references_.size());
    references_.push_back(Store(text));
    if (release_) refs_.push_back(0);
  }
  slots_[slot] = Entry(hash, id);
  return id;
}

void StringInterner::Remove(uint32_t id) {
  const std::string_view text = Get(id);
  const size_t mask = slots_.size() - 1;
  size_t hole = HashString(text) & mask;
  while ((slots_[hole] & ~tag_mask_) != id + 1) hole = (hole + 1) & mask;
  // Backward-shift deletion (see KeyTable::EraseHashed); a slot keeps only the hash bits above
  // the index, so an entry's home comes from hashing its string again.
  for (size_t next = (hole + 1) & mask; slots_[next] != 0; next = (next + 1) & mask) {
    const uint32_t entry = slots_[next];
    const size_t home = HashString(Get((entry & ~tag_mask_) - 1)) & mask;
    if (((next - home) & mask) >= ((next - hole) & mask)) {
      slots_[hole] = entry;
      hole = next;
    }
  }
  slots_[hole] = 0;
  string_bytes_ -= text.size();
  Reference& reference = references_[id];
  if (static_cast<uint8_t>(reference.bytes[0]) == kLongString) {
    const char* stored = StoredAddress(reference);
    const size_t prefix = text.size() < 255 ? 1 : 5;
    free_storage_[prefix + text.size()].push_back(const_cast<char*>(stored));
  }
  reference.bytes[0] = static_cast<char>(kFreedString);
  free_ids_.push_back(id);
}

uint32_t StringInterner::Intern(std::string_view text) {
  if ((references_.size() + 1) * 2 > slots_.size()) Grow();
  return InternHashed(text, HashString(text));
}

uint32_t StringInterner::Find(std::string_view text) const {
  if (slots_.empty()) return kNotInterned;
  const uint64_t hash = HashString(text);
  const size_t mask = slots_.size() - 1;
  const uint32_t tag = Tag(hash);
  for (size_t slot = hash & mask; slots_[slot] != 0; slot = (slot + 1) & mask) {
    const uint32_t entry = slots_[slot];
    if ((entry & tag_mask_) != tag) continue;
    const uint32_t id = (entry & ~tag_mask_) - 1;
    const std::string_view stored = Get(id);
    if (stored.size() == text.size() && EqualBytes(stored.data(), text.data(), text.size())) return id;
  }
  return kNotInterned;
}

void StringInterner::InternBatch(const Column& column, const uint32_t* selection, size_t count,
                                 uint32_t* ids) {
  while ((references_.size() + count + 1) * 2 > slots_.size()) Grow();
  // Hash every string first, then look them up with the slots of strings a few places ahead
  // already on their way into the cache (a large dictionary costs a memory access per lookup).
  hashes_.resize(count);
  const std::string_view* texts = column.data<std::string_view>();
  const uint8_t* valid = column.validity();
  size_t i = 0;
  ForEachActiveRow(selection, count, [&](size_t row) { hashes_[i++] = HashString(texts[row]); });
  constexpr size_t kAhead = 16;
  const size_t mask = slots_.size() - 1;
  for (size_t j = 0; j < std::min(count, kAhead); ++j) __builtin_prefetch(&slots_[hashes_[j] & mask]);
  i = 0;
  ForEachActiveRow(selection, count, [&](size_t row) {
    if (i + kAhead < count) __builtin_prefetch(&slots_[hashes_[i + kAhead] & mask]);
    ids[i] = valid[row] ? InternHashed(texts[row], hashes_[i]) : 0;
    ++i;
  });
}

// --- KeyTable ----------------------------------------------------------------------------

KeyTable::KeyTable(std::vector<TypeId> key_types, Erasure erasure)
    : key_types_(std::move(key_types)),
      words_per_key_(key_types_.size() + 1),
      direct_(key_types_.size() == 1 && key_types_[0] == TypeId::kString),
      identity_(direct_ && erasure == Erasure::kNever) {
  // A wider DECIMAL does not fit a word: the binder refuses it as a key.
  for (TypeId type : key_types_) SLUICE_CHECK(!IsWideDecimal(type));
  if (erasure == Erasure::kAllowed) strings_.EnableRelease();
  counts_strings_ = erasure == Erasure::kAllowed &&
                    std::find(key_types_.begin(), key_types_.end(), TypeId::kString) != key_types_.end();
  Rehash(1024);
}

void KeyTable::EncodeStrings(const Column& column, const uint32_t* selection, size_t count, uint64_t* words) {
  const size_t w = words_per_key_;
  if (direct_) {
    string_ids_.resize(count);
    strings_.InternBatch(column, selection, count, string_ids_.data());
    for (size_t i = 0; i < count; ++i) words[i * w] = string_ids_[i];
    return;
  }
  // Short strings become their own word; the longer ones are interned as a batch.
  const std::string_view* texts = column.data<std::string_view>();
  long_rows_.clear();
  long_indexes_.clear();
  size_t i = 0;
  ForEachActiveRow(selection, count, [&](size_t row) {
    const std::string_view text = texts[row];  // empty when NULL (Column's invariant)
    if (text.size() <= kInlineStringMax) {
      words[i * w] = InlineStringWord(text);
    } else {
      long_rows_.push_back(static_cast<uint32_t>(row));
      long_indexes_.push_back(static_cast<uint32_t>(i));
    }
    ++i;
  });
  if (long_rows_.empty()) return;
  string_ids_.resize(long_rows_.size());
  strings_.InternBatch(column, long_rows_.data(), long_rows_.size(), string_ids_.data());
  for (size_t j = 0; j < long_rows_.size(); ++j) words[long_indexes_[j] * w] = kInternedTag | string_ids_[j];
}

uint64_t KeyTable::StringWord(std::string_view text) {
  if (direct_) return strings_.Intern(text);
  return text.size() <= kInlineStringMax ? InlineStringWord(text) : kInternedTag | strings_.Intern(text);
}

std::string_view KeyTable::WordString(const uint64_t& word) const {
  if (direct_ || IsInternedWord(word)) return strings_.Get(static_cast<uint32_t>(word));
  return {reinterpret_cast<const char*>(&word), static_cast<size_t>(word >> 56)};
}

void KeyTable::EncodeColumn(size_t k, const Column& column, const uint32_t* selection, size_t count,
                            uint64_t* words) {
  const size_t w = words_per_key_;
  uint64_t* out = words + k;              // row i's word: out[i * w]
  uint64_t* nulls = words + key_count();  // and its NULL mask: nulls[i * w]
  const uint8_t* valid = column.validity();
  const uint64_t null_bit = uint64_t{1} << (k & 63);
  if (key_types_[k] == TypeId::kString) {
    EncodeStrings(column, selection, count, out);  // a NULL string's word is already 0
    size_t i = 0;
    ForEachActiveRow(selection, count, [&](size_t row) {
      nulls[i * w] |= null_bit & (uint64_t{0} - (valid[row] ^ 1));
      ++i;
    });
    return;
  }
  // A NULL's word is 0 whatever its column holds, so that equal keys have equal words.
  EncodeFixedWidthWords(key_types_[k], column, [&](auto word_of) {
    size_t i = 0;
    ForEachActiveRow(selection, count, [&](size_t row) {
      const uint64_t present = uint64_t{0} - valid[row];  // all ones when not NULL
      out[i * w] = word_of(row) & present;
      nulls[i * w] |= null_bit & ~present;
      ++i;
    });
  });
}

void KeyTable::Rehash(size_t capacity) {
  if (identity_) return;  // no map: the string's id is the group's
  if (direct_) {
    // Single STRING key: the interned string's id indexes the group directly.
    by_string_.assign(strings_.size(), kEmpty);
    null_group_ = kEmpty;
    for (uint32_t id = 0; id < id_limit_; ++id) {
      const uint32_t string_id = group_strings_[id];
      if (string_id == kNullKey) {
        null_group_ = id;
      } else if (string_id != kFreeGroup) {
        by_string_[string_id] = id;
      }
    }
    return;
  }
  // A slot keeps 32 bits of the hash, which must cover the slot index.
  SLUICE_CHECK_LE(capacity, size_t{1} << 32);
  slots_.assign(capacity, kEmptySlot);
  const size_t mask = capacity - 1;
  for (uint32_t id = 0; id < id_limit_; ++id) {
    if (!group_live_[id]) continue;
    const uint64_t hash = HashKey(&group_words_[id * words_per_key_]);
    size_t slot = hash & mask;
    while (slots_[slot] != kEmptySlot) slot = (slot + 1) & mask;
    slots_[slot] = SlotEntry(hash, id);
  }
}

uint32_t& KeyTable::DirectSlot(const uint64_t* words) {
  if (words[1] != 0) return null_group_;
  const size_t string_id = static_cast<size_t>(words[0]);
  if (string_id >= by_string_.size())
    by_string_.resize(std::max(string_id + 1, by_string_.size() * 2), kEmpty);
  return by_string_[string_id];
}

bool KeyTable::KeyEquals(uint32_t id, const uint64_t* words) const {
  const uint64_t* stored = &group_words_[id * words_per_key_];
  uint64_t difference = 0;
  for (size_t w = 0; w < words_per_key_; ++w) difference |= stored[w] ^ words[w];
  return difference == 0;
}

void KeyTable::StoreKey(uint32_t id, const uint64_t* words) {
  if (direct_) {
    const uint32_t string_id = static_cast<uint32_t>(words[0]);
    // The interner's ids stay below kFreeGroup: they are below half its slot count (<= 2^32).
    group_strings_[id] = words[1] != 0 ? kNullKey : string_id;
  } else {
    std::memcpy(&group_words_[id * words_per_key_], words, words_per_key_ * sizeof(uint64_t));
    group_live_[id] = 1;
  }
}

void KeyTable::LoadKey(uint32_t id, uint64_t* words) const {
  if (identity_) {
    words[0] = id == 0 ? 0 : id - 1;
    words[1] = id == 0 ? 1 : 0;
    return;
  }
  if (direct_) {
    const uint32_t string_id = group_strings_[id];
    words[0] = string_id == kNullKey ? 0 : string_id;
    words[1] = string_id == kNullKey ? 1 : 0;
  } else {
    std::memcpy(words, &group_words_[id * words_per_key_], words_per_key_ * sizeof(uint64_t));
  }
}

void KeyTable::AcquireStrings(const uint64_t* words) {
  if (!counts_strings_) return;
  const uint64_t nulls = words[key_types_.size()];
  for (size_t k = 0; k < key_types_.size(); ++k) {
    if (key_types_[k] != TypeId::kString || ((nulls >> (k & 63)) & 1)) continue;
    if (direct_) {
      strings_.Acquire(static_cast<uint32_t>(words[k]));
    } else if (IsInternedWord(words[k])) {
      strings_.Acquire(static_cast<uint32_t>(words[k]));
    }
  }
}

void KeyTable::ReleaseStrings(const uint64_t* words) {
  if (!counts_strings_) return;
  const uint64_t nulls = words[key_types_.size()];
  for (size_t k = 0; k < key_types_.size(); ++k) {
    if (key_types_[k] != TypeId::kString || ((nulls >> (k & 63)) & 1)) continue;
    if (direct_ || IsInternedWord(words[k])) strings_.Release(static_cast<uint32_t>(words[k]));
  }
}

uint32_t KeyTable::NewGroup(const uint64_t* words) {
  AcquireStrings(words);
  uint32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
    StoreKey(id, words);
  } else {
    SLUICE_CHECK_LT(id_limit_, kMaxGroups);
    id = id_limit_++;
    if (direct_) {
      group_strings_.push_back(words[1] != 0 ? kNullKey : static_cast<uint32_t>(words[0]));
    } else {
      group_words_.insert(group_words_.end(), words, words + words_per_key_);
      group_live_.push_back(1);
    }
  }
  ++live_;
  return id;
}

uint32_t KeyTable::FindOrInsertEncoded(const uint64_t* words, uint64_t hash, bool* inserted) {
  const size_t mask = slots_.size() - 1;
  size_t slot = hash & mask;
  const uint32_t tag = static_cast<uint32_t>(hash);
  while (true) {
    const uint64_t entry = slots_[slot];
    if (entry == kEmptySlot) break;
    // The slot's hash bits first: a group's key words cost a memory access, and a probe past
    // other keys reads them only when those bits match.
    if (SlotHash(entry) == tag && KeyEquals(SlotGroup(entry), words)) {
      *inserted = false;
      return SlotGroup(entry);
    }
    slot = (slot + 1) & mask;
  }
  const uint32_t id = NewGroup(words);
  slots_[slot] = SlotEntry(hash, id);
  *inserted = true;
  return id;
}

size_t KeyTable::FindOrInsert(const Column* const* keys, const uint32_t* selection, size_t count,
                              uint32_t* group_ids, std::vector<uint32_t>* created_ids) {
  if (count == 0) return 0;
  // Each row's key words, a column at a time (strings: batched dictionary lookups).
  const size_t w = words_per_key_;
  batch_words_.resize(count * w);
  for (size_t i = 0; i < count; ++i) batch_words_[i * w + key_count()] = 0;
  for (size_t k = 0; k < key_count(); ++k) EncodeColumn(k, *keys[k], selection, count, batch_words_.data());
  size_t i = 0;
  size_t created = 0;
  auto record = [&](size_t row, uint32_t id, bool inserted) {
    group_ids[row] = id;
    created += inserted;
    if (inserted && created_ids != nullptr) created_ids->push_back(id);
  };
  if (identity_) {
    // Strings new to the interner got the next ids in row order, so a new group is one at or
    // past id_limit_, and new groups are created in increasing order.
    i = 0;
    ForEachActiveRow(selection, count, [&](size_t row) {
      const uint64_t* words = &batch_words_[i++ * w];
      const uint32_t group = words[1] != 0 ? 0 : static_cast<uint32_t>(words[0]) + 1;
      bool inserted;
      if (group == 0) {
        inserted = !null_seen_;
        null_seen_ = true;
      } else {
        inserted = group >= id_limit_;
      }
      if (inserted) {
        SLUICE_CHECK_LT(group, kMaxGroups);
        id_limit_ = std::max(id_limit_, group + 1);
        ++live_;
      }
      record(row, group, inserted);
    });
    return created;
  }
  if (direct_) {
    i = 0;
    ForEachActiveRow(selection, count, [&](size_t row) {
      const uint64_t* words = &batch_words_[i++ * w];
      uint32_t& slot = DirectSlot(words);
      const bool inserted = slot == kEmpty;
      if (inserted) slot = NewGroup(words);  // NewGroup leaves by_string_ alone
      record(row, slot, inserted);
    });
    return created;
  }
  // Hash the whole batch, then probe.
  batch_hashes_.resize(count);
  for (size_t j = 0; j < count; ++j) batch_hashes_[j] = HashKey(&batch_words_[j * w]);
  return ProbeEncoded(selection, count, group_ids, created_ids);
}

void KeyTable::Find(const Column* const* keys, const uint32_t* selection, size_t count, uint32_t* group_ids,
                    FindScratch& scratch) const {
  if (count == 0) return;
  // Each row's key words as FindOrInsert encodes them, except that a string never interned is
  // not interned now: no group can hold it, and the row is marked absent.
  const size_t w = words_per_key_;
  std::vector<uint64_t>& words = scratch.words;
  words.assign(count * w, 0);
  scratch.absent.assign(count, 0);
  for (size_t k = 0; k < key_count(); ++k) {
    const Column& column = *keys[k];
    const uint8_t* valid = column.validity();
    const uint64_t null_bit = uint64_t{1} << (k & 63);
    uint64_t* nulls = words.data() + key_count();
    if (key_types_[k] == TypeId::kString) {
      const std::string_view* texts = column.data<std::string_view>();
      size_t i = 0;
      ForEachActiveRow(selection, count, [&](size_t row) {
        if (!valid[row]) {
          nulls[i * w] |= null_bit;
        } else if (!direct_ && texts[row].size() <= kInlineStringMax) {
          words[i * w + k] = InlineStringWord(texts[row]);
        } else {
          const uint32_t id = strings_.Find(texts[row]);
          if (id == StringInterner::kNotInterned) {
            scratch.absent[i] = 1;
          } else {
            words[i * w + k] = direct_ ? uint64_t{id} : kInternedTag | id;
          }
        }
        ++i;
      });
      continue;
    }
    EncodeFixedWidthWords(key_types_[k], column, [&](auto word_of) {
      size_t i = 0;
      ForEachActiveRow(selection, count, [&](size_t row) {
        const uint64_t present = uint64_t{0} - valid[row];
        words[i * w + k] = word_of(row) & present;
        nulls[i * w] |= null_bit & ~present;
        ++i;
      });
    });
  }
  size_t i = 0;
  if (direct_) {
    ForEachActiveRow(selection, count, [&](size_t row) {
      const uint64_t* key = &words[i * w];
      uint32_t group = kNotFound;
      if (!scratch.absent[i]) {
        if (identity_) {
          const uint32_t id = key[1] != 0 ? 0 : static_cast<uint32_t>(key[0]) + 1;
          if (id < id_limit_ && IsLive(id)) group = id;
        } else if (key[1] != 0) {
          group = null_group_ == kEmpty ? kNotFound : null_group_;
        } else if (key[0] < by_string_.size() && by_string_[key[0]] != kEmpty) {
          group = by_string_[key[0]];
        }
      }
      group_ids[row] = group;
      ++i;
    });
    return;
  }
  scratch.hashes.resize(count);
  for (size_t j = 0; j < count; ++j) scratch.hashes[j] = HashKey(&words[j * w]);
  constexpr size_t kSlotsAhead = 16;
  const size_t mask = slots_.size() - 1;
  for (size_t j = 0; j < std::min(count, kSlotsAhead); ++j)
    __builtin_prefetch(&slots_[scratch.hashes[j] & mask]);
  ForEachActiveRow(selection, count, [&](size_t row) {
    if (i + kSlotsAhead < count) __builtin_prefetch(&slots_[scratch.hashes[i + kSlotsAhead] & mask]);
    uint32_t group = kNotFound;
    if (!scratch.absent[i]) {
      const uint64_t hash = scratch.hashes[i];
      const uint32_t tag = static_cast<uint32_t>(hash);
      for (size_t slot = hash & mask; slots_[slot] != kEmptySlot; slot = (slot + 1) & mask) {
        const uint64_t entry = slots_[slot];
        if (SlotHash(entry) == tag && KeyEquals(SlotGroup(entry), &words[i * w])) {
          group = SlotGroup(entry);
          break;
        }
      }
    }
    group_ids[row] = group;
    ++i;
  });
}

void KeyTable::EncodeCarriedKeys(const Column* const* columns, size_t column_count, const uint32_t* selection,
                                 size_t count, uint64_t* const* words, uint64_t* nulls, uint64_t* hashes) {
  SLUICE_CHECK_LT(column_count, size_t{64});
  std::fill(nulls, nulls + count, 0);
  std::fill(hashes, hashes + count, kHashSeed);
  for (size_t k = 0; k < column_count; ++k) {
    const Column& column = *columns[k];
    const uint8_t* valid = column.validity();
    const uint64_t null_bit = uint64_t{1} << k;
    uint64_t* out = words[k];
    if (column.type() == TypeId::kString) {
      // A NULL string is empty (Column's invariant): word 0, as InlineStringWord("").
      const std::string_view* texts = column.data<std::string_view>();
      size_t i = 0;
      ForEachActiveRow(selection, count, [&](size_t row) {
        const std::string_view text = texts[row];
        const bool inline_string = text.size() <= kInlineStringMax;
        out[i] = inline_string ? InlineStringWord(text) : kUncarriedWord;
        nulls[i] |= null_bit & (uint64_t{0} - (valid[row] ^ 1));
        hashes[i] = HashStep(hashes[i], inline_string ? out[i] : HashString(text), k);
        ++i;
      });
      continue;
    }
    // As EncodeColumn: a NULL's word is 0 whatever its column holds.
    EncodeFixedWidthWords(column.type(), column, [&](auto word_of) {
      size_t i = 0;
      ForEachActiveRow(selection, count, [&](size_t row) {
        const uint64_t present = uint64_t{0} - valid[row];  // all ones when not NULL
        const uint64_t word = word_of(row) & present;
        out[i] = word;
        nulls[i] |= null_bit & ~present;
        hashes[i] = HashStep(hashes[i], word, k);
        ++i;
      });
    });
  }
}

size_t KeyTable::FindOrInsertCarried(const CarriedKeys& carried, const Column* const* keys,
                                     const uint32_t* selection, size_t count, uint32_t* group_ids,
                                     std::vector<uint32_t>* created_ids) {
  SLUICE_CHECK(!direct_);
  SLUICE_CHECK(carried.columns > 0 && carried.columns <= key_count());
  if (count == 0) return 0;
  const size_t w = words_per_key_;
  const size_t prefix = carried.columns;
  batch_words_.resize(count * w);
  batch_hashes_.resize(count);
  uncarried_rows_.clear();
  uncarried_indexes_.clear();
  size_t i = 0;
  ForEachActiveRow(selection, count, [&](size_t row) {
    uint64_t* words = &batch_words_[i * w];
    bool uncarried = false;
    for (size_t k = 0; k < prefix; ++k) {
      words[k] = carried.words[k][row];
      // Only a STRING column's word marks a row uncarried (a BIGINT -1 has the same bits).
      uncarried |= (words[k] == kUncarriedWord) & (key_types_[k] == TypeId::kString);
    }
    words[key_count()] = carried.nulls[row];
    batch_hashes_[i] = carried.hashes[row];
    if (uncarried) [[unlikely]] {
      uncarried_rows_.push_back(static_cast<uint32_t>(row));
      uncarried_indexes_.push_back(static_cast<uint32_t>(i));
    }
    ++i;
  });
  for (size_t k = prefix; k < key_count(); ++k)
    EncodeColumn(k, *keys[k], selection, count, batch_words_.data());
  for (size_t j = 0; j < count; ++j) {
    batch_hashes_[j] = ContinueHash(batch_hashes_[j], &batch_words_[j * w], prefix);
  }
  if (!uncarried_rows_.empty()) {
    // Longer strings: encode these rows' uncarried words from the key columns, then hash
    // their keys whole.
    const size_t m = uncarried_rows_.size();
    uncarried_words_.assign(m * w, 0);
    for (size_t k = 0; k < prefix; ++k) {
      if (key_types_[k] == TypeId::kString)
        EncodeColumn(k, *keys[k], uncarried_rows_.data(), m, uncarried_words_.data());
    }
    for (size_t j = 0; j < m; ++j) {
      uint64_t* words = &batch_words_[uncarried_indexes_[j] * w];
      // Only the uncarried words: the carried ones' columns need not hold the row (the
      // exchange sends a STRING key column only for rows whose own word is uncarried).
      for (size_t k = 0; k < prefix; ++k) {
        if (words[k] == kUncarriedWord && key_types_[k] == TypeId::kString)
          words[k] = uncarried_words_[j * w + k];
      }
      batch_hashes_[uncarried_indexes_[j]] = HashKey(words);
    }
  }
  return ProbeEncoded(selection, count, group_ids, created_ids);
}

size_t KeyTable::ProbeEncoded(const uint32_t* selection, size_t count, uint32_t* group_ids,
                              std::vector<uint32_t>* created_ids) {
  const size_t w = words_per_key_;
  size_t created = 0;
  auto record = [&](size_t row, uint32_t id, bool inserted) {
    group_ids[row] = id;
    created += inserted;
    if (inserted && created_ids != nullptr) created_ids->push_back(id);
  };
  // Room for every row to be a new key, so that no probe below rehashes.
  if ((live_ + count + 1) * 2 > slots_.size()) {
    size_t capacity = slots_.size();
    while ((live_ + count + 1) * 2 > capacity) capacity *= 2;
    Rehash(capacity);
  }
  // Probe with the slots of rows a few places ahead already on their way into the cache: a
  // large table costs a memory access per probe, and these overlap instead of following one
  // another.
  constexpr size_t kSlotsAhead = 16;
  constexpr size_t kKeysAhead = 8;
  const size_t mask = slots_.size() - 1;
  for (size_t j = 0; j < std::min(count, kSlotsAhead); ++j)
    __builtin_prefetch(&slots_[batch_hashes_[j] & mask]);
  size_t i = 0;
  ForEachActiveRow(selection, count, [&](size_t row) {
    if (i + kSlotsAhead < count) __builtin_prefetch(&slots_[batch_hashes_[i + kSlotsAhead] & mask]);
    if (i + kKeysAhead < count) {
      const uint64_t candidate = slots_[batch_hashes_[i + kKeysAhead] & mask];
      if (candidate != kEmptySlot) __builtin_prefetch(&group_words_[SlotGroup(candidate) * w]);
    }
    bool inserted = false;
    const uint32_t id = FindOrInsertEncoded(&batch_words_[i * w], batch_hashes_[i], &inserted);
    record(row, id, inserted);
    ++i;
  });
  return created;
}

void KeyTable::Erase(uint32_t group) {
  SLUICE_CHECK(!identity_);  // the owner declared Erasure::kNever
  if (direct_) {
    SLUICE_CHECK(group < id_limit_ && IsLive(group));
    const uint32_t string_id = group_strings_[group];
    (string_id == kNullKey ? null_group_ : by_string_[string_id]) = kEmpty;
    group_strings_[group] = kFreeGroup;
    free_ids_.push_back(group);
    --live_;
    if (string_id != kNullKey) strings_.Release(string_id);
    return;
  }
  SLUICE_CHECK(group < id_limit_);
  EraseHashed(group, HashKey(&group_words_[group * words_per_key_]));
}

void KeyTable::Erase(std::span<const uint32_t> groups) {
  SLUICE_CHECK(!identity_ || groups.empty());
  if (direct_) {
    for (uint32_t group : groups) Erase(group);
    return;
  }
  // Keys of the next chunk, then slots of this one, are requested before this chunk's
  // erasures read them. A slot may move by the time it is erased (an erasure shifts its
  // neighbours back); the prefetch is then wasted, never wrong.
  constexpr size_t kChunk = 32;
  uint64_t hashes[kChunk];
  const size_t w = words_per_key_;
  const size_t mask = slots_.size() - 1;
  auto prefetch_keys = [&](size_t begin) {
    for (size_t j = begin; j < std::min(groups.size(), begin + kChunk); ++j) {
      SLUICE_CHECK(groups[j] < id_limit_);
      __builtin_prefetch(&group_words_[groups[j] * w]);
    }
  };
  prefetch_keys(0);
  for (size_t begin = 0; begin < groups.size(); begin += kChunk) {
    const size_t n = std::min(kChunk, groups.size() - begin);
    for (size_t j = 0; j < n; ++j) {
      hashes[j] = HashKey(&group_words_[groups[begin + j] * w]);
      __builtin_prefetch(&slots_[hashes[j] & mask]);
    }
    prefetch_keys(begin + kChunk);
    for (size_t j = 0; j < n; ++j) EraseHashed(groups[begin + j], hashes[j]);
  }
}

void KeyTable::EraseHashed(uint32_t group, uint64_t hash) {
  SLUICE_CHECK(IsLive(group));
  const size_t mask = slots_.size() - 1;
  size_t hole = hash & mask;
  while (SlotGroup(slots_[hole]) != group) hole = (hole + 1) & mask;
  // Backward-shift deletion: an entry after the hole, in the same run of occupied slots,
  // moves into it when its home slot does not lie between the hole and itself (it was
  // probed past the hole); the hole moves to where it was. The run's end is the last hole.
  // The home comes from the slot's own hash bits: no group's key is read.
  for (size_t next = (hole + 1) & mask; slots_[next] != kEmptySlot; next = (next + 1) & mask) {
    const uint64_t entry = slots_[next];
    const size_t home = SlotHash(entry) & mask;
    if (((next - home) & mask) >= ((next - hole) & mask)) {
      slots_[hole] = entry;
      hole = next;
    }
  }
  slots_[hole] = kEmptySlot;
  group_live_[group] = 0;
  free_ids_.push_back(group);
  --live_;
  ReleaseStrings(&group_words_[group * words_per_key_]);
}

uint64_t KeyTable::ContentHash(uint32_t group, size_t columns) const {
  if (direct_) {
    const uint32_t string_id = identity_ ? (group == 0 ? kNullKey : group - 1) : group_strings_[group];
    return string_id == kNullKey ? HashMix64(0x6e756c6cULL) : HashString(strings_.Get(string_id));
  }
  const uint64_t* words = &group_words_[group * words_per_key_];
  const uint64_t nulls = words[key_types_.size()];
  uint64_t hash = 0x9e3779b97f4a7c15ULL;
  for (size_t k = 0; k < columns; ++k) {
    const bool null = (nulls >> (k & 63)) & 1;
    const uint64_t value = null                               ? 0
                           : key_types_[k] == TypeId::kString ? HashString(WordString(words[k]))
                                                              : words[k];
    hash = HashMix64(hash ^ value ^ (null ? 0x6e756c6cULL : 0));
  }
  return hash;
}

std::string KeyTable::KeyText(uint32_t group, size_t columns) const {
  std::string text;
  for (size_t k = 0; k < columns; ++k) {
    if (k > 0) text += ", ";
    Column value(key_types_[k], 1);
    ReadKey(group, k, value, 0);
    if (!value.IsValid(0)) {
      text += "NULL";
      continue;
    }
    if (IsDecimal(key_types_[k])) {
      text += value.GetValue(0).ToSql();
      continue;
    }
    switch (key_types_[k]) {
      case TypeId::kInt64:
      case TypeId::kTimestamp: StrAppend(&text, value.data<int64_t>()[0]); break;  // epoch ms
      case TypeId::kDouble: {
        char digits[32];
        const auto end = std::to_chars(digits, digits + sizeof digits, value.data<double>()[0]).ptr;
        text.append(digits, end);
        break;
      }
      case TypeId::kBoolean:
      case TypeId::kNull: text += value.data<uint8_t>()[0] != 0 ? "TRUE" : "FALSE"; break;
      case TypeId::kString: StrAppend(&text, "'", value.data<std::string_view>()[0], "'"); break;
    }
  }
  return text;
}

void KeyTable::ReadKey(uint32_t group, size_t key_index, Column& out, size_t row) const {
  if (direct_) {
    const uint32_t string_id = identity_ ? (group == 0 ? kNullKey : group - 1) : group_strings_[group];
    if (string_id == kNullKey) {
      out.SetNull(row);
    } else {
      out.validity()[row] = 1;
      out.data<std::string_view>()[row] = strings_.GetLasting(string_id, out.heap());
    }
    return;
  }
  const uint64_t* words = &group_words_[group * words_per_key_];
  if (words[key_types_.size()] & (uint64_t{1} << (key_index & 63))) {
    out.SetNull(row);
    return;
  }
  out.validity()[row] = 1;
  const uint64_t& word = words[key_index];
  switch (WordType(key_types_[key_index])) {
    case TypeId::kInt64:
    case TypeId::kTimestamp: out.data<int64_t>()[row] = static_cast<int64_t>(word); break;
    case TypeId::kDouble: out.data<double>()[row] = std::bit_cast<double>(word); break;
    case TypeId::kBoolean:
    case TypeId::kNull: out.data<uint8_t>()[row] = static_cast<uint8_t>(word); break;
    case TypeId::kString:
      // An inline string's bytes are in group_words_, which moves as the table grows: they are
      // copied into the column's heap (as are short interned strings, see GetLasting).
      out.data<std::string_view>()[row] = IsInternedWord(word)
                                              ? strings_.GetLasting(static_cast<uint32_t>(word), out.heap())
                                              : out.heap().Add(WordString(word));
      break;
  }
}

void KeyTable::PrefetchKeys(std::span<const uint32_t> groups) const {
  if (!direct_) {
    for (uint32_t group : groups) __builtin_prefetch(&group_words_[group * words_per_key_]);
    return;
  }
  if (identity_) {
    for (uint32_t group : groups) {
      if (group != 0) strings_.PrefetchReference(group - 1);
    }
    for (uint32_t group : groups) {
      if (group != 0) strings_.PrefetchBytes(group - 1);
    }
    return;
  }
  // Three passes, each reading what the previous one requested: every pass's misses overlap.
  for (uint32_t group : groups) __builtin_prefetch(&group_strings_[group]);
  for (uint32_t group : groups) {
    const uint32_t string_id = group_strings_[group];
    if (string_id < kFreeGroup) strings_.PrefetchReference(string_id);
  }
  for (uint32_t group : groups) {
    const uint32_t string_id = group_strings_[group];
    if (string_id < kFreeGroup) strings_.PrefetchBytes(string_id);
  }
}

size_t KeyTable::MemoryBytes() const {
  return CapacityBytes(slots_) + CapacityBytes(by_string_) + CapacityBytes(group_strings_) +
         CapacityBytes(group_words_) + CapacityBytes(group_live_) + CapacityBytes(free_ids_) +
         strings_.bytes();
}

void KeyTable::Snapshot(StateWriter& writer) const {
  // Live groups only, keys decoded (strings as bytes): ids are rebuilt densely on restore, in
  // the same order, so a restored table hands out the same ids for the same live groups.
  writer.WriteU32(1);  // format version
  writer.WriteU64(id_limit_);
  std::vector<uint64_t> key(words_per_key_);
  const uint64_t* words = key.data();
  for (uint32_t id = 0; id < id_limit_; ++id) {
    const bool live = IsLive(id);
    writer.WriteU8(live ? 1 : 0);
    if (!live) continue;
    LoadKey(id, key.data());
    for (size_t k = 0; k < key_types_.size(); ++k) {
      if (key_types_[k] == TypeId::kString) {
        const bool is_null = words[key_types_.size()] & (uint64_t{1} << (k & 63));
        writer.WriteBytes(is_null ? std::string_view() : WordString(words[k]));
      } else {
        writer.WriteU64(words[k]);
      }
    }
    writer.WriteU64(words[key_types_.size()]);
  }
}

absl::Status KeyTable::Restore(StateReader& reader) {
  SLUICE_ASSIGN_OR_RETURN(uint32_t version, reader.ReadU32());
  if (version != 1) return absl::DataLossError("unknown key table snapshot version");
  SLUICE_ASSIGN_OR_RETURN(uint64_t ids, reader.ReadU64());
  if (ids >= kMaxGroups) return absl::DataLossError("key table snapshot holds too many groups");
  if (identity_) return RestoreIdentity(reader, ids);
  group_strings_.clear();
  group_words_.clear();
  group_live_.clear();
  free_ids_.clear();
  id_limit_ = 0;
  live_ = 0;
  std::vector<uint64_t> words(words_per_key_);
  std::vector<std::string_view> texts(key_types_.size());
  for (uint64_t id = 0; id < ids; ++id) {
    SLUICE_ASSIGN_OR_RETURN(uint8_t alive, reader.ReadU8());
    if (!alive) {
      if (direct_) {
        group_strings_.push_back(kFreeGroup);
      } else {
        group_words_.insert(group_words_.end(), words_per_key_, 0);
        group_live_.push_back(0);
      }
      free_ids_.push_back(static_cast<uint32_t>(id));
      ++id_limit_;
      continue;
    }
    // String keys were written as bytes (empty when NULL), the rest as words, then the mask.
    for (size_t k = 0; k < key_types_.size(); ++k) {
      if (key_types_[k] == TypeId::kString) {
        SLUICE_ASSIGN_OR_RETURN(texts[k], reader.ReadBytes());
      } else {
        SLUICE_ASSIGN_OR_RETURN(words[k], reader.ReadU64());
      }
    }
    SLUICE_ASSIGN_OR_RETURN(words[key_types_.size()], reader.ReadU64());
    for (size_t k = 0; k < key_types_.size(); ++k) {
      if (key_types_[k] == TypeId::kString) {
        const bool is_null = words[key_types_.size()] & (uint64_t{1} << (k & 63));
        words[k] = is_null ? 0 : StringWord(texts[k]);
      }
    }
    if (direct_) {
      group_strings_.push_back(kFreeGroup);
    } else {
      group_words_.resize(group_words_.size() + words_per_key_);
      group_live_.push_back(0);
    }
    StoreKey(id_limit_++, words.data());
    AcquireStrings(words.data());
    ++live_;
  }
  size_t capacity = 1024;
  while (capacity < (live_ + 1) * 2) capacity *= 2;
  Rehash(capacity);
  return absl::OkStatus();
}

absl::Status KeyTable::RestoreIdentity(StateReader& reader, uint64_t ids) {
  // Group g > 0 is string g - 1: interning the snapshot's strings in group order into an empty
  // interner gives each the id it had.
  if (strings_.size() != 0 || id_limit_ != 0) {
    return absl::InternalError("a key table is restored only before it holds keys");
  }
  for (uint64_t id = 0; id < ids; ++id) {
    SLUICE_ASSIGN_OR_RETURN(uint8_t alive, reader.ReadU8());
    if (!alive) {
      if (id != 0)
        return absl::DataLossError("key table snapshot has a freed group in a table that never frees");
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(std::string_view text, reader.ReadBytes());
    SLUICE_ASSIGN_OR_RETURN(uint64_t mask, reader.ReadU64());
    if ((mask != 0) != (id == 0)) return absl::DataLossError("key table snapshot has a misplaced NULL key");
    if (id == 0) {
      null_seen_ = true;
      ++live_;
      continue;
    }
    if (strings_.Intern(text) != id - 1) return absl::DataLossError("key table snapshot repeats a key");
    ++live_;
  }
  id_limit_ = static_cast<uint32_t>(ids);
  return absl::OkStatus();
}

}  // namespace sluice
