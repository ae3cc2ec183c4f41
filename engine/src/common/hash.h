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

// Keys are mostly short (symbols, ids): up to 16 bytes are read as two overlapping words, with
// no loop and no variable-length copy.
inline uint64_t HashString(std::string_view text) {
  const char* p = text.data();
  const size_t n = text.size();
  uint64_t a = 0;
  uint64_t b = 0;
  if (n >= 8) {
    if (n > 16) {
      uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
      size_t i = 0;
      for (; i + 8 < n; i += 8) h = HashMix64(h ^ LoadUnaligned64(p + i));
      return HashMix64(h ^ LoadUnaligned64(p + n - 8));
    }
    a = LoadUnaligned64(p);
    b = LoadUnaligned64(p + n - 8);
  } else if (n >= 4) {
    a = LoadUnaligned32(p);
    b = LoadUnaligned32(p + n - 4);
  } else if (n > 0) {
    a = (uint64_t{static_cast<uint8_t>(p[0])} << 16) | (uint64_t{static_cast<uint8_t>(p[n / 2])} << 8) |
        uint64_t{static_cast<uint8_t>(p[n - 1])};
  }
  return HashMix64(HashMix64(a ^ (0x9e3779b97f4a7c15ULL * (n + 1))) ^ b);
}

}  // namespace sluice
