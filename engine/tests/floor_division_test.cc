// FloorDivide, FloorModulo and FloorDivider against 128-bit arithmetic, for values of either
// sign, the ends of the int64 range and sequences that move forward, backward and jump, as the
// event times of an out-of-order stream do.
#include "common/floor_division.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace sluice {
namespace {

// floor(value / divisor) computed wide, so that no step can overflow.
int64_t WideFloor(int64_t value, int64_t divisor) {
  const __int128 v = value;
  const __int128 d = divisor;
  __int128 q = v / d;
  if (q * d > v) --q;
  return static_cast<int64_t>(q);
}

// The bucket start Floor() promises: quotient * divisor, clipped below at INT64_MIN.
int64_t WideBucketStart(int64_t value, int64_t divisor) {
  const __int128 start = static_cast<__int128>(WideFloor(value, divisor)) * divisor;
  return start < INT64_MIN ? INT64_MIN : static_cast<int64_t>(start);
}

int64_t Clip(__int128 value) {
  return value > INT64_MAX ? INT64_MAX : value < INT64_MIN ? INT64_MIN : static_cast<int64_t>(value);
}

std::vector<int64_t> Values(int64_t divisor) {
  const __int128 d = divisor;
  std::vector<int64_t> values;
  for (__int128 value : {__int128{0}, __int128{1}, __int128{-1}, d - 1, d, d + 1, -d + 1, -d, -d - 1,
                         __int128{INT64_MAX}, __int128{INT64_MAX} - 1, __int128{INT64_MIN},
                         __int128{INT64_MIN} + 1, __int128{INT64_MAX} - d, __int128{INT64_MIN} + d}) {
    values.push_back(Clip(value));
  }
  // A walk mostly forward by a little, sometimes back by up to two buckets, sometimes far ahead.
  std::mt19937_64 random(static_cast<uint64_t>(divisor));
  const int64_t step = std::min<int64_t>(divisor, 1'000'000'000);
  int64_t time = -3 * step;
  for (int i = 0; i < 2000; ++i) {
    const uint64_t pick = random() % 100;
    if (pick < 80) {
      time += static_cast<int64_t>(random() % 50);
    } else if (pick < 95) {
      time -= static_cast<int64_t>(random() % static_cast<uint64_t>(2 * step));
    } else {
      time += static_cast<int64_t>(random() % static_cast<uint64_t>(5 * step));
    }
    values.push_back(time);
  }
  for (int i = 0; i < 200; ++i) values.push_back(static_cast<int64_t>(random()));
  return values;
}

TEST(FloorDivisionTest, FloorDivideAndModuloMatchWideArithmetic) {
  for (int64_t divisor :
       {int64_t{1}, int64_t{7}, int64_t{1000}, int64_t{60000}, int64_t{86400000}, INT64_MAX}) {
    for (int64_t value : Values(divisor)) {
      const int64_t quotient = FloorDivide(value, divisor);
      EXPECT_EQ(quotient, WideFloor(value, divisor)) << value << " / " << divisor;
      const int64_t remainder = FloorModulo(value, divisor);
      EXPECT_GE(remainder, 0);
      EXPECT_LT(remainder, divisor);
      EXPECT_EQ(static_cast<__int128>(quotient) * divisor + remainder, static_cast<__int128>(value));
    }
  }
}

TEST(FloorDivisionTest, DividerAnswersEveryValueInAnyOrder) {
  for (int64_t divisor :
       {int64_t{1}, int64_t{7}, int64_t{1000}, int64_t{60000}, int64_t{86400000}, INT64_MAX}) {
    FloorDivider divider(divisor);
    for (int64_t value : Values(divisor)) {
      EXPECT_EQ(divider.Quotient(value), WideFloor(value, divisor)) << value << " / " << divisor;
      EXPECT_EQ(divider.Floor(value), WideBucketStart(value, divisor)) << value << " / " << divisor;
    }
  }
}

// A fresh divider must compute its first answer, whatever the value: none is cached yet.
TEST(FloorDivisionTest, FreshDividerComputesItsFirstValue) {
  for (int64_t divisor : {1, 2, 7}) {
    for (int64_t first : {0, 1, -1, 5, -9}) {
      FloorDivider divider(divisor);
      EXPECT_EQ(divider.Quotient(first), WideFloor(first, divisor)) << first << " / " << divisor;
      FloorDivider other(divisor);
      EXPECT_EQ(other.Floor(first), WideBucketStart(first, divisor)) << first << " / " << divisor;
    }
  }
}

}  // namespace
}  // namespace sluice
