// Loads of fixed-width integers from any byte address (no alignment required), for hashing
// and comparing short byte strings a word at a time. Compiles to single moves on x86-64.
#pragma once

#include <cstdint>
#include <cstring>

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

}  // namespace sluice
