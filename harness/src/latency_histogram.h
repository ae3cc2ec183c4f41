// LatencyHistogram: log-linear buckets of nanoseconds (64 linear sub-buckets per power of two,
// so a percentile is within 1/64 ≈ 1.6% of the recorded value), fixed size, no allocation
// when recording.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

namespace sluice::bench {

class LatencyHistogram {
 public:
  void Record(uint64_t nanos) {
    ++counts_[BucketOf(nanos)];
    ++total_;
    max_ = std::max(max_, nanos);
  }

  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }

  // The smallest recorded bucket value below which `quantile` (0..1) of the samples fall.
  uint64_t Percentile(double quantile) const {
    if (total_ == 0) return 0;
    const uint64_t rank =
        std::max<uint64_t>(1, static_cast<uint64_t>(quantile * static_cast<double>(total_) + 0.5));
    uint64_t seen = 0;
    for (size_t bucket = 0; bucket < kBuckets; ++bucket) {
      seen += counts_[bucket];
      if (seen >= rank) return std::min(UpperBound(bucket), max_);
    }
    return max_;
  }

 private:
  static constexpr int kSubBits = 6;  // 64 sub-buckets per power of two
  // Values below 64 have a bucket each; above, value = m << e with m in [64, 128) goes to
  // bucket 64 * e + m, for e up to 57.
  static constexpr size_t kBuckets = 64 * 59;

  static size_t BucketOf(uint64_t value) {
    if (value < 64) return static_cast<size_t>(value);
    const int exponent = 63 - std::countl_zero(value) - kSubBits;
    return (static_cast<size_t>(exponent) << kSubBits) + static_cast<size_t>(value >> exponent);
  }
  static uint64_t UpperBound(size_t bucket) {
    if (bucket < 64) return bucket;
    const size_t exponent = (bucket >> kSubBits) - 1;
    const uint64_t mantissa = bucket - (exponent << kSubBits);
    return ((mantissa + 1) << exponent) - 1;
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

}  // namespace sluice::bench
