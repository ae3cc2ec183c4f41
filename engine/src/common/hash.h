// Fast non-cryptographic hashing of fixed-width values and short byte strings, for hash
// tables and hash partitioning. Not stable across versions: never persist these hashes.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/unaligned.h"

namespace sluice {

// The murmur3 64-bit finalizer: every input bit affects every output bit.
inline uint64_t HashMix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// Keys are mostly short (symbols, ids): up to 8 bytes are read as one masked word
// (LoadShortString) and mixed once; up to 16 as two overlapping words; no loop and no
// variable-length copy below 17 bytes.
inline uint64_t HashString(std::string_view text) {
  const char* p = text.data();
  const size_t n = text.size();
  if (n <= 8) return HashMix64(LoadShortString(p, n) ^ (0x9e3779b97f4a7c15ULL * (n + 1)));
  if (n > 16) {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    size_t i = 0;
    for (; i + 8 < n; i += 8) h = HashMix64(h ^ LoadUnaligned64(p + i));
    return HashMix64(h ^ LoadUnaligned64(p + n - 8));
  }
  return HashMix64(HashMix64(LoadUnaligned64(p) ^ (0x9e3779b97f4a7c15ULL * (n + 1))) ^
                   LoadUnaligned64(p + n - 8));
}

}  // namespace sluice
