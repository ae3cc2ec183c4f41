// Deterministic pseudo-random numbers for the data generators.
//
// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit counter advanced by an odd constant and
// passed through a bijective mixer. Because the n-th output is Mix(seed + n * kGamma), any
// output can be computed directly from its position: RandomAt() lets a generator derive every
// field of record i from (stream, i) alone, so records can be produced in any order (out-of-
// order events) or in any chunking and still come out identical. Same inputs, same bits, on
// every platform (integer arithmetic only).
#pragma once

#include <cstdint>

namespace sluice {

inline constexpr uint64_t kSplitMixGamma = 0x9e3779b97f4a7c15ULL;

// The SplitMix64 output mixer: a bijection on 64-bit values with good avalanche.
inline constexpr uint64_t SplitMix64Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The `position`-th output (0-based) of the SplitMix64 sequence started at `stream`.
inline constexpr uint64_t RandomAt(uint64_t stream, uint64_t position) {
  return SplitMix64Mix(stream + (position + 1) * kSplitMixGamma);
}

// A stream start derived from a user seed and a salt, so that different seeds, and different
// uses of one seed (a salt per purpose), give unrelated sequences.
inline constexpr uint64_t StreamFor(uint64_t seed, uint64_t salt) {
  return SplitMix64Mix(seed ^ SplitMix64Mix(salt));
}

// Maps 32 random bits to [0, n) by multiply-shift (Lemire); bias at most n / 2^32.
inline constexpr uint32_t UniformBelow(uint32_t bits, uint32_t n) {
  return static_cast<uint32_t>((static_cast<uint64_t>(bits) * n) >> 32);
}

// The sequential form: Next() returns RandomAt(seed, 0), RandomAt(seed, 1), ...
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() { return SplitMix64Mix(state_ += kSplitMixGamma); }

 private:
  uint64_t state_;
};

}  // namespace sluice
