// KeySampler: draws key numbers 0..n-1 from a uniform or a Zipf distribution in O(1).
//
// Zipf with exponent s: P(key k) is proportional to 1 / (k + 1)^s, so key 0 is the most
// frequent, key 1 the second, and so on. Sampling uses Walker's alias method (Vose's
// construction, thresholds quantized to 32 bits): one 64-bit random value, one table lookup,
// no search and no floating point per sample. Deterministic: the table depends only on
// (n, distribution, exponent). Immutable after construction; safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "random.h"

namespace sluice {

enum class KeyDistribution : uint8_t { kUniform, kZipf };

class KeySampler {
 public:
  // REQUIRES: n >= 1; for kZipf, exponent > 0. Builds a table of 8 bytes per key for kZipf.
  KeySampler(uint32_t n, KeyDistribution distribution, double exponent);

  uint32_t size() const { return n_; }

  // The key for 64 random bits: the high half picks a slot, the low half decides between the
  // slot's own key and its alias.
  uint32_t Sample(uint64_t bits) const {
    const uint32_t slot = UniformBelow(static_cast<uint32_t>(bits >> 32), n_);
    if (slots_.empty()) return slot;
    const Slot& entry = slots_[slot];
    // Branch-free: the comparison is a coin flip the branch predictor cannot learn.
    const uint32_t keep = 0u - static_cast<uint32_t>(static_cast<uint32_t>(bits) < entry.threshold);
    return (slot & keep) | (entry.alias & ~keep);
  }

  // Whether the table is too big for the core's caches, so that prefetching pays off.
  bool large() const { return slots_.size() > kLargeSlots; }

  // Starts loading the table entry that Sample(bits) will read.
  void Prefetch(uint64_t bits) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[UniformBelow(static_cast<uint32_t>(bits >> 32), n_)]);
  }

  // The probability of `key` the table encodes (tests).
  double Probability(uint32_t key) const;

 private:
  struct Slot {
    uint32_t threshold;  // keep the slot's own key when the low 32 bits are below this
    uint32_t alias;
  };
  static constexpr size_t kLargeSlots = 32768;  // 256 KB

  uint32_t n_;
  std::vector<Slot> slots_;  // empty for the uniform distribution
};

}  // namespace sluice
