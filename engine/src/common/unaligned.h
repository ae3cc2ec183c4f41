// Loads of fixed-width integers from any byte address (no alignment required), for hashing
// and comparing short byte strings a word at a time. Compiles to single moves on x86-64.
#pragma once

#include <cstdint>
#include <cstring>

#include "common/sanitizers.h"

namespace sluice {

inline uint64_t LoadUnaligned64(const char* p) {
  uint64_t value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

inline uint32_t LoadUnaligned32(const char* p) {
  uint32_t value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

// A string of up to 8 bytes as one little-endian word, zero above its length, with a single
// 8-byte load and no branch on the length (string keys of mixed lengths, such as "TR7" and
// "TR1000", otherwise mispredict a branch per value). The load starts at the string when that
// stays inside its 4 KiB page, else it ends at the string's last byte; either way it reads only
// that page, which is mapped, and masks off the bytes outside the string. Those bytes may lie
// outside the string's allocation, so sanitizer builds copy the string's own bytes instead.
inline uint64_t LoadShortString(const char* p, size_t n) {
  if (n == 0) return 0;
#if SLUICE_SANITIZED
  uint64_t value = 0;
  std::memcpy(&value, p, n);
  return value;
#else
  const unsigned unused_bits = static_cast<unsigned>(64 - 8 * n);
  if ((reinterpret_cast<uintptr_t>(p) & 4095) <= 4096 - 8)
    return LoadUnaligned64(p) & (~uint64_t{0} >> unused_bits);
  return LoadUnaligned64(p + n - 8) >> unused_bits;
#endif
}

}  // namespace sluice
