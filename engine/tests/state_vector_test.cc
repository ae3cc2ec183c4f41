// StateVector: arrays past kHugePageArrayBytes live in their own 2 MiB-aligned mappings, the
// smaller ones in the allocator's memory, and values survive growth across that boundary.
// Mappings given back are reused for the next array of the same length, which still starts
// as std::vector promises (zeros for resize), whatever the previous array left there.
#include "common/state_vector.h"

#include <unistd.h>

#include <cstdint>
#include <utility>

#include "gtest/gtest.h"

namespace sluice {
namespace {

constexpr uintptr_t kTwoMiB = uintptr_t{2} << 20;
constexpr size_t kMappedElements = kHugePageArrayBytes / sizeof(uint64_t);

bool MappedBuild() {
#if SLUICE_SANITIZED
  return false;
#else
  return true;
#endif
}

uint64_t ValueAt(size_t i) {
  return i * 0x9e3779b97f4a7c15ULL;
}

TEST(StateVectorTest, LargeArraysAreAlignedToHugePages) {
  if (!MappedBuild()) GTEST_SKIP() << "sanitizer builds allocate every array from the allocator";
  StateVector<uint64_t> large(kMappedElements);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(large.data()) % kTwoMiB, 0u);
  StateVector<uint8_t> bytes(kHugePageArrayBytes + 1);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(bytes.data()) % kTwoMiB, 0u);
  // Below the threshold the allocator's memory is used, which is not 2 MiB-aligned for all of
  // several small arrays in a row.
  bool any_unaligned = false;
  std::vector<StateVector<uint64_t>> small;
  for (int i = 0; i < 8; ++i) {
    small.emplace_back(1000);
    any_unaligned |= reinterpret_cast<uintptr_t>(small.back().data()) % kTwoMiB != 0;
  }
  EXPECT_TRUE(any_unaligned);
}

TEST(StateVectorTest, ValuesSurviveGrowthAndShrinkingAcrossTheThreshold) {
  StateVector<uint64_t> values;
  size_t n = 1000;
  for (size_t i = 0; i < n; ++i) values.push_back(ValueAt(i));
  // Grow by doubling into mapped sizes, writing the whole array each time (every page of
  // every mapping is touched, and the mapping's last byte is written).
  for (size_t target : {kMappedElements / 2, kMappedElements, 3 * kMappedElements + 7}) {
    values.resize(target);
    for (size_t i = n; i < target; ++i) values[i] = ValueAt(i);
    n = target;
    for (size_t i = 0; i < n; i += 4099) ASSERT_EQ(values[i], ValueAt(i)) << i;
    ASSERT_EQ(values[n - 1], ValueAt(n - 1));
  }
  StateVector<uint64_t> moved = std::move(values);
  EXPECT_EQ(moved[n - 1], ValueAt(n - 1));
  moved.resize(500);
  moved.shrink_to_fit();  // back into the allocator's memory
  for (size_t i = 0; i < 500; ++i) ASSERT_EQ(moved[i], ValueAt(i)) << i;
}

TEST(StateVectorTest, AGivenBackMappingServesTheNextArrayOfItsLengthAndStartsClean) {
  if (!MappedBuild()) GTEST_SKIP() << "sanitizer builds allocate every array from the allocator";
  const uint64_t* first_data = nullptr;
  size_t retained = 0;
  {
    StateVector<uint64_t> first(kMappedElements);
    for (size_t i = 0; i < first.size(); ++i) first[i] = ValueAt(i) | 1;  // no zero left
    first_data = first.data();
    retained = RetainedHugePageArrayBytes();
  }
  EXPECT_EQ(RetainedHugePageArrayBytes(), retained + kHugePageArrayBytes);
  // A different length does not take it.
  StateVector<uint64_t> other(2 * kMappedElements);
  EXPECT_NE(other.data(), first_data);
  // The same length takes the mapping given back last, on the node it was given back on: on
  // a machine with one node, always.
  const bool one_node = access("/sys/devices/system/node/node1", F_OK) != 0;
  retained = RetainedHugePageArrayBytes();
  StateVector<uint64_t> second;
  second.resize(kMappedElements);
  if (one_node) {
    EXPECT_EQ(second.data(), first_data);
    EXPECT_EQ(RetainedHugePageArrayBytes(), retained - kHugePageArrayBytes);
  }
  for (size_t i = 0; i < second.size(); ++i) ASSERT_EQ(second[i], 0u) << i;
}

}  // namespace
}  // namespace sluice
