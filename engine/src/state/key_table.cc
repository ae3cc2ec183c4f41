#include "state/key_table.h"

#include <bit>
#include <cstring>

namespace sluice {
namespace {

inline uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

uint64_t HashBytes(std::string_view text) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ text.size();
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    h = Mix(h ^ word);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, text.data() + i, text.size() - i);
  return Mix(h ^ tail);
}

}  // namespace

// --- StringInterner ----------------------------------------------------------------------

void StringInterner::Grow() {
  const size_t capacity = slots_.empty() ? 1024 : slots_.size() * 2;
  slots_.assign(capacity, 0);
  const size_t mask = capacity - 1;
  for (uint32_t id = 0; id < strings_.size(); ++id) {
    size_t slot = hashes_[id] & mask;
    while (slots_[slot] != 0) slot = (slot + 1) & mask;
    slots_[slot] = id + 1;
  }
}

uint32_t StringInterner::Intern(std::string_view text) {
  if ((strings_.size() + 1) * 2 > slots_.size()) Grow();
  const uint64_t hash = HashBytes(text);
  const size_t mask = slots_.size() - 1;
  size_t slot = hash & mask;
  while (slots_[slot] != 0) {
    const uint32_t id = slots_[slot] - 1;
    if (hashes_[id] == hash && strings_[id] == text) return id;
    slot = (slot + 1) & mask;
  }
  const uint32_t id = static_cast<uint32_t>(strings_.size());
  strings_.push_back(heap_.Add(text));
  hashes_.push_back(hash);
  slots_[slot] = id + 1;
  return id;
}

// --- KeyTable ----------------------------------------------------------------------------

KeyTable::KeyTable(std::vector<TypeId> key_types)
    : key_types_(std::move(key_types)), words_per_key_(key_types_.size() + 1) {
  scratch_.resize(words_per_key_);
  Rehash(1024);
}

uint64_t KeyTable::HashKey(const uint64_t* words) const {
  uint64_t h = 0x2545f4914f6cdd1dULL;
  for (size_t i = 0; i < words_per_key_; ++i) h = Mix(h ^ words[i]) + i;
  return h;
}

void KeyTable::EncodeRow(const Column* const* keys, size_t row, uint64_t* words) {
  uint64_t nulls = 0;
  for (size_t k = 0; k < key_types_.size(); ++k) {
    const Column& column = *keys[k];
    uint64_t word = 0;
    if (!column.IsValid(row)) {
      nulls |= uint64_t{1} << (k & 63);
    } else {
      switch (key_types_[k]) {
        case TypeId::kInt64:
        case TypeId::kTimestamp: word = static_cast<uint64_t>(column.data<int64_t>()[row]); break;
        case TypeId::kDouble: {
          double value = column.data<double>()[row];
          if (value == 0) value = 0;  // fold -0.0
          word = std::bit_cast<uint64_t>(value);
          break;
        }
        case TypeId::kBoolean:
        case TypeId::kNull: word = column.data<uint8_t>()[row]; break;
        case TypeId::kString: word = strings_.Intern(column.data<std::string_view>()[row]); break;
      }
    }
    words[k] = word;
  }
  words[key_types_.size()] = nulls;
}

void KeyTable::Rehash(size_t capacity) {
  slots_.assign(capacity, kEmpty);
  tombstones_ = 0;
  const size_t mask = capacity - 1;
  for (uint32_t id = 0; id < group_hashes_.size(); ++id) {
    if (!group_live_[id]) continue;
    size_t slot = group_hashes_[id] & mask;
    while (slots_[slot] != kEmpty) slot = (slot + 1) & mask;
    slots_[slot] = id;
  }
}

uint32_t KeyTable::FindOrInsertEncoded(const uint64_t* words, uint64_t hash, bool* inserted) {
  const size_t mask = slots_.size() - 1;
  size_t slot = hash & mask;
  size_t first_tombstone = SIZE_MAX;
  while (true) {
    const uint32_t id = slots_[slot];
    if (id == kEmpty) break;
    if (id == kTombstone) {
      if (first_tombstone == SIZE_MAX) first_tombstone = slot;
    } else if (group_hashes_[id] == hash && std::memcmp(&group_words_[id * words_per_key_], words,
                                                        words_per_key_ * sizeof(uint64_t)) == 0) {
      *inserted = false;
      return id;
    }
    slot = (slot + 1) & mask;
  }
  uint32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
    std::memcpy(&group_words_[id * words_per_key_], words, words_per_key_ * sizeof(uint64_t));
    group_hashes_[id] = hash;
    group_live_[id] = 1;
  } else {
    id = static_cast<uint32_t>(group_hashes_.size());
    group_words_.insert(group_words_.end(), words, words + words_per_key_);
    group_hashes_.push_back(hash);
    group_live_.push_back(1);
  }
  if (first_tombstone != SIZE_MAX) {
    slot = first_tombstone;
    --tombstones_;
  }
  slots_[slot] = id;
  ++live_;
  *inserted = true;
  return id;
}

size_t KeyTable::FindOrInsert(const Column* const* keys, const uint32_t* selection, size_t count,
                              uint32_t* group_ids, std::vector<uint32_t>* created_ids) {
  size_t created = 0;
  uint64_t* words = scratch_.data();
  ForEachActiveRow(selection, count, [&](size_t row) {
    if ((live_ + tombstones_ + 1) * 2 > slots_.size()) {
      Rehash(live_ * 4 > slots_.size() ? slots_.size() * 2 : slots_.size());
    }
    EncodeRow(keys, row, words);
    bool inserted = false;
    group_ids[row] = FindOrInsertEncoded(words, HashKey(words), &inserted);
    created += inserted;
    if (inserted && created_ids != nullptr) created_ids->push_back(group_ids[row]);
  });
  return created;
}

void KeyTable::Erase(uint32_t group) {
  SLUICE_CHECK(group < group_live_.size() && group_live_[group]);
  const size_t mask = slots_.size() - 1;
  size_t slot = group_hashes_[group] & mask;
  while (slots_[slot] != group) slot = (slot + 1) & mask;
  slots_[slot] = kTombstone;
  ++tombstones_;
  group_live_[group] = 0;
  free_ids_.push_back(group);
  --live_;
}

void KeyTable::ReadKey(uint32_t group, size_t key_index, Column& out, size_t row) const {
  const uint64_t* words = &group_words_[group * words_per_key_];
  if (words[key_types_.size()] & (uint64_t{1} << (key_index & 63))) {
    out.SetNull(row);
    return;
  }
  out.validity()[row] = 1;
  const uint64_t word = words[key_index];
  switch (key_types_[key_index]) {
    case TypeId::kInt64:
    case TypeId::kTimestamp: out.data<int64_t>()[row] = static_cast<int64_t>(word); break;
    case TypeId::kDouble: out.data<double>()[row] = std::bit_cast<double>(word); break;
    case TypeId::kBoolean:
    case TypeId::kNull: out.data<uint8_t>()[row] = static_cast<uint8_t>(word); break;
    case TypeId::kString:
      out.data<std::string_view>()[row] = strings_.Get(static_cast<uint32_t>(word));
      break;
  }
}

size_t KeyTable::MemoryBytes() const {
  return slots_.capacity() * sizeof(uint32_t) + group_words_.capacity() * sizeof(uint64_t) +
         group_hashes_.capacity() * sizeof(uint64_t) + group_live_.capacity() + strings_.bytes();
}

void KeyTable::Snapshot(StateWriter& writer) const {
  // Live groups only, keys decoded (strings as bytes): ids are rebuilt densely on restore, in
  // the same order, so a restored table hands out the same ids for the same live groups.
  writer.WriteU32(1);  // format version
  writer.WriteU64(group_hashes_.size());
  for (uint32_t id = 0; id < group_hashes_.size(); ++id) {
    writer.WriteU8(group_live_[id]);
    if (!group_live_[id]) continue;
    const uint64_t* words = &group_words_[id * words_per_key_];
    for (size_t k = 0; k < key_types_.size(); ++k) {
      if (key_types_[k] == TypeId::kString) {
        const bool is_null = words[key_types_.size()] & (uint64_t{1} << (k & 63));
        writer.WriteBytes(is_null ? std::string_view() : strings_.Get(static_cast<uint32_t>(words[k])));
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
  group_words_.clear();
  group_hashes_.clear();
  group_live_.clear();
  free_ids_.clear();
  live_ = 0;
  std::vector<uint64_t> words(words_per_key_);
  std::vector<std::string_view> texts(key_types_.size());
  for (uint64_t id = 0; id < ids; ++id) {
    SLUICE_ASSIGN_OR_RETURN(uint8_t alive, reader.ReadU8());
    if (!alive) {
      group_words_.insert(group_words_.end(), words_per_key_, 0);
      group_hashes_.push_back(0);
      group_live_.push_back(0);
      free_ids_.push_back(static_cast<uint32_t>(id));
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
        words[k] = is_null ? 0 : strings_.Intern(texts[k]);
      }
    }
    group_words_.insert(group_words_.end(), words.begin(), words.end());
    group_hashes_.push_back(HashKey(words.data()));
    group_live_.push_back(1);
    ++live_;
  }
  size_t capacity = 1024;
  while (capacity < (live_ + 1) * 2) capacity *= 2;
  Rehash(capacity);
  return absl::OkStatus();
}

}  // namespace sluice
