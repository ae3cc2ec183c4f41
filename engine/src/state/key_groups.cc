#include "state/key_groups.h"

#include <cstring>
#include <string_view>

#include "common/hash.h"
#include "common/unaligned.h"
#include "state/key_table.h"

namespace sluice {

namespace {

// Partitioning needs a hash whose high bits spread keys evenly, not a strong one: each key
// value is folded into the row's hash with one multiply, and RoutingHashes mixes once at
// the end. Equal keys (as the key table compares them) hash equally: NULLs alike, 0.0 and
// -0.0 alike.
constexpr uint64_t kNullHash = 0x9e3779b97f4a7c15ULL;

inline void Fold(uint64_t& hash, uint64_t value) {
  hash = (hash ^ value) * 0xbf58476d1ce4e5b9ULL;
}

// A string of up to 16 bytes as one 64-bit value, the same for equal strings and different
// for most others (injective for up to 7 bytes), with no branch on lengths up to 8 and at most
// one multiply; longer strings are hashed.
inline uint64_t ShortStringValue(std::string_view text) {
  const char* p = text.data();
  const uint64_t n = text.size();
  if (n <= 8) return LoadShortString(p, n) ^ (n << 56);
  if (n > 16) return HashString(text);
  return (LoadUnaligned64(p) * 0x9fb21c651e98df25ULL) ^ LoadUnaligned64(p + n - 8) ^ n;
}

// Folds value_of(row) of every active row (kNullHash for NULL) into its hash.
template <typename ValueOf>
void FoldRows(const uint8_t* valid, const uint32_t* selection, size_t count, uint64_t* hashes,
              ValueOf value_of) {
  for (size_t i = 0; i < count; ++i) {
    const size_t row = selection != nullptr ? selection[i] : i;
    Fold(hashes[i], valid[row] ? value_of(row) : kNullHash);
  }
}

}  // namespace

void FoldKeyColumn(const Column& column, const uint32_t* selection, size_t count, uint64_t* hashes) {
  const uint8_t* valid = column.validity();
  if (IsWideDecimal(column.type())) {
    const __int128* values = column.data<__int128>();
    FoldRows(valid, selection, count, hashes, [values](size_t row) {
      return static_cast<uint64_t>(values[row]) ^
             (static_cast<uint64_t>(values[row] >> 64) * 0x9E3779B97F4A7C15ull);
    });
    return;
  }
  // A narrower DECIMAL hashes as its unscaled BIGINT.
  switch (IsDecimal(column.type()) ? TypeId::kInt64 : column.type()) {
    case TypeId::kString: {
      const std::string_view* values = column.data<std::string_view>();
      FoldRows(valid, selection, count, hashes,
               [values](size_t row) { return ShortStringValue(values[row]); });
      break;
    }
    case TypeId::kBoolean:
    case TypeId::kNull: {
      const uint8_t* values = column.data<uint8_t>();
      FoldRows(valid, selection, count, hashes, [values](size_t row) { return uint64_t{values[row]} + 1; });
      break;
    }
    case TypeId::kDouble: {
      const double* values = column.data<double>();
      FoldRows(valid, selection, count, hashes, [values](size_t row) {
        const double value = values[row] == 0.0 ? 0.0 : values[row];  // -0.0 as 0.0
        uint64_t bits;
        std::memcpy(&bits, &value, sizeof bits);
        return bits;
      });
      break;
    }
    case TypeId::kInt64:
    case TypeId::kTimestamp: {
      const int64_t* values = column.data<int64_t>();
      FoldRows(valid, selection, count, hashes,
               [values](size_t row) { return static_cast<uint64_t>(values[row]); });
      break;
    }
  }
}

KeyGroupRange KeyGroupRangeOf(uint32_t worker, uint32_t workers) {
  // The groups g with g * workers / kKeyGroups == worker: from ceil(worker * kKeyGroups / workers).
  auto first_of = [workers](uint64_t w) {
    return static_cast<uint32_t>(std::min<uint64_t>((w * kKeyGroups + workers - 1) / workers, kKeyGroups));
  };
  return KeyGroupRange{first_of(worker), first_of(uint64_t{worker} + 1)};
}

void RoutingHashes(const Column* const* keys, size_t key_count, bool carried, const uint32_t* selection,
                   size_t count, uint64_t* hashes, RoutingScratch& scratch) {
  if (key_count == 0) {
    std::fill(hashes, hashes + count, 0);
    return;
  }
  if (carried) {
    scratch.words.resize(key_count);
    scratch.word_pointers.resize(key_count);
    for (size_t k = 0; k < key_count; ++k) {
      scratch.words[k].resize(count);
      scratch.word_pointers[k] = scratch.words[k].data();
    }
    scratch.nulls.resize(count);
    KeyTable::EncodeCarriedKeys(keys, key_count, selection, count, scratch.word_pointers.data(),
                                scratch.nulls.data(), hashes);
    return;
  }
  std::fill(hashes, hashes + count, 0);
  for (size_t k = 0; k < key_count; ++k) FoldKeyColumn(*keys[k], selection, count, hashes);
  for (size_t i = 0; i < count; ++i) hashes[i] = HashMix64(hashes[i]);
}

}  // namespace sluice
