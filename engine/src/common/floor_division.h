// Integer division rounding toward negative infinity, as event-time arithmetic needs it (window
// starts, days since the epoch) for times before 1970 as well as after.
#pragma once

#include <cstdint>

namespace sluice {

// floor(value / divisor), for divisor > 0.
inline int64_t FloorDivide(int64_t value, int64_t divisor) {
  const int64_t quotient = value / divisor;
  return quotient - (value % divisor < 0);
}

// value - divisor * FloorDivide(value, divisor): in [0, divisor), for divisor > 0.
inline int64_t FloorModulo(int64_t value, int64_t divisor) {
  const int64_t remainder = value % divisor;
  return remainder < 0 ? remainder + divisor : remainder;
}

// FloorDivide by one fixed divisor (> 0) that remembers the range of values sharing the last
// quotient: a value in that range costs two comparisons instead of a 64-bit division (tens of
// cycles). Event times arrive nearly in order, so most rows of a stream fall in the window of
// the row before them.
class FloorDivider {
 public:
  explicit FloorDivider(int64_t divisor) : divisor_(divisor) {}

  int64_t Quotient(int64_t value) {
    if (value < low_ || value > high_) Refill(value);
    return quotient_;
  }
  // Quotient(value) * divisor: the start of value's bucket (a window start). Like the product
  // it stands for, it must fit in int64 (true of any time within 290 million years of 1970).
  int64_t Floor(int64_t value) {
    if (value < low_ || value > high_) Refill(value);
    return low_;
  }

 private:
  void Refill(int64_t value) {
    quotient_ = FloorDivide(value, divisor_);
    // The range [quotient * divisor, (quotient + 1) * divisor - 1], clipped to int64: the
    // lower end overflows only downwards and the upper only upwards (quotient + 1 too, when
    // the divisor is 1).
    if (__builtin_mul_overflow(quotient_, divisor_, &low_)) low_ = INT64_MIN;
    int64_t next_quotient = 0;
    int64_t next = 0;
    const bool beyond = __builtin_add_overflow(quotient_, 1, &next_quotient) ||
                        __builtin_mul_overflow(next_quotient, divisor_, &next);
    high_ = beyond ? INT64_MAX : next - 1;
  }

  int64_t divisor_;
  int64_t quotient_ = 0;
  int64_t low_ = 1;  // an empty range until the first value
  int64_t high_ = 0;
};

}  // namespace sluice
