#include "ops/accumulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <vector>

namespace sluice {
namespace {

TEST(StateRowsTest, LaysOutLargestFieldsFirstWithoutPadding) {
  StateRows rows;
  const std::vector<size_t> sizes = {1, 8, 4, 8, 1, 2};
  std::vector<size_t> fields;
  for (size_t size : sizes) fields.push_back(rows.AddField(size));
  EXPECT_EQ(rows.stride(), 24u);  // 8 + 8 + 4 + 2 + 1 + 1 = 24
  rows.Resize(3);
  // Every field lies inside the row, at a multiple of its size, and no two overlap.
  std::set<size_t> used;
  const uint8_t* base = &rows.Get<uint8_t>(fields[0])[0];
  for (size_t f = 0; f < fields.size(); ++f)
    base = std::min<const uint8_t*>(base, &rows.Get<uint8_t>(fields[f])[0]);
  for (size_t f = 0; f < fields.size(); ++f) {
    const size_t offset = static_cast<size_t>(&rows.Get<uint8_t>(fields[f])[0] - base);
    EXPECT_EQ(offset % sizes[f], 0u) << "field " << f;
    EXPECT_LE(offset + sizes[f], rows.stride());
    for (size_t b = offset; b < offset + sizes[f]; ++b) EXPECT_TRUE(used.insert(b).second) << "byte " << b;
  }
  // Rows follow each other at the stride.
  EXPECT_EQ(&rows.Get<uint8_t>(fields[0])[1] - &rows.Get<uint8_t>(fields[0])[0],
            static_cast<ptrdiff_t>(rows.stride()));
}

TEST(StateRowsTest, GrowthKeepsValuesAndNewRowsAreZero) {
  StateRows rows;
  const size_t wide = rows.AddField(8);
  const size_t narrow = rows.AddField(1);
  rows.Resize(1000);
  for (uint32_t g = 0; g < 1000; ++g) {
    rows.Get<int64_t>(wide)[g] = int64_t{g} * 7919 - 3;
    rows.Get<uint8_t>(narrow)[g] = static_cast<uint8_t>(g * 31);
  }
  rows.Resize(600000);  // 9.6 MB: past the huge-page threshold of StateVector
  for (uint32_t g = 0; g < 1000; ++g) {
    ASSERT_EQ(rows.Get<int64_t>(wide)[g], int64_t{g} * 7919 - 3);
    ASSERT_EQ(rows.Get<uint8_t>(narrow)[g], static_cast<uint8_t>(g * 31));
  }
  for (uint32_t g = 1000; g < 600000; g += 997) {
    ASSERT_EQ(rows.Get<int64_t>(wide)[g], 0);
    ASSERT_EQ(rows.Get<uint8_t>(narrow)[g], 0);
  }
  EXPECT_GE(rows.MemoryBytes(), 600000 * rows.stride());
}

// COUNT(*), SUM(BIGINT), AVG(DOUBLE), MIN(DOUBLE), MAX(DOUBLE) on `rows`: Scenario 2's set.
std::vector<std::unique_ptr<Accumulator>> ScenarioTwoAccumulators(StateRows& rows) {
  std::vector<std::unique_ptr<Accumulator>> accumulators;
  accumulators.push_back(MakeAccumulator(AggregateKind::kCountStar, TypeId::kNull, TypeId::kInt64, rows));
  accumulators.push_back(MakeAccumulator(AggregateKind::kSum, TypeId::kInt64, TypeId::kInt64, rows));
  accumulators.push_back(MakeAccumulator(AggregateKind::kAvg, TypeId::kDouble, TypeId::kDouble, rows));
  accumulators.push_back(MakeAccumulator(AggregateKind::kMin, TypeId::kDouble, TypeId::kDouble, rows));
  accumulators.push_back(MakeAccumulator(AggregateKind::kMax, TypeId::kDouble, TypeId::kDouble, rows));
  return accumulators;
}

// Scenario 2's aggregates of one group fit in 56 bytes (a cache line, give or take the row's
// alignment), not one array per field.
TEST(StateRowsTest, ScenarioTwoAggregatesShareOneRow) {
  StateRows rows;
  std::vector<std::unique_ptr<Accumulator>> accumulators = ScenarioTwoAccumulators(rows);
  EXPECT_EQ(rows.stride(), 56u);
  for (const auto& accumulator : accumulators) EXPECT_EQ(accumulator->MemoryBytes(), 0u);
}

// Reference results of one group, computed without the accumulators.
struct Expected {
  int64_t count = 0;
  int64_t sum = 0;
  bool has_sum = false;
  double total = 0;
  int64_t non_null = 0;
  std::optional<double> min;
  std::optional<double> max;
};

// Five accumulators on one StateRows, updated in random batches (with selections, NULLs, group
// resets and merges), agree with a per-group reference: no accumulator writes another's field.
TEST(StateRowsTest, AccumulatorsSharingRowsMatchAReference) {
  StateRows rows;
  std::vector<std::unique_ptr<Accumulator>> accumulators = ScenarioTwoAccumulators(rows);
  constexpr uint32_t kGroups = 257;
  rows.Resize(kGroups);
  for (auto& accumulator : accumulators) accumulator->Resize(kGroups);
  std::vector<Expected> expected(kGroups);

  std::mt19937_64 random(7);
  constexpr size_t kRows = 300;
  Column integers(TypeId::kInt64, kRows);
  Column reals(TypeId::kDouble, kRows);
  std::vector<uint32_t> groups(kRows);
  for (int round = 0; round < 200; ++round) {
    std::vector<uint32_t> selection;
    for (uint32_t row = 0; row < kRows; ++row) {
      groups[row] = static_cast<uint32_t>(random() % kGroups);
      integers.data<int64_t>()[row] = static_cast<int64_t>(random() % 2001) - 1000;
      integers.validity()[row] = random() % 5 != 0;
      if (!integers.IsValid(row)) integers.data<int64_t>()[row] = 0;
      reals.data<double>()[row] = static_cast<double>(static_cast<int64_t>(random() % 20001) - 10000) / 8;
      reals.validity()[row] = random() % 7 != 0;
      if (!reals.IsValid(row)) reals.data<double>()[row] = 0;
      if (random() % 3 != 0) selection.push_back(row);
    }
    const bool selected = round % 2 == 0;
    const uint32_t* active = selected ? selection.data() : nullptr;
    const size_t count = selected ? selection.size() : kRows;
    accumulators[0]->Update(nullptr, active, count, groups.data());
    accumulators[1]->Update(&integers, active, count, groups.data());
    for (size_t a = 2; a < 5; ++a) accumulators[a]->Update(&reals, active, count, groups.data());
    for (size_t i = 0; i < count; ++i) {
      const uint32_t row = selected ? selection[i] : static_cast<uint32_t>(i);
      Expected& e = expected[groups[row]];
      ++e.count;
      if (integers.IsValid(row)) {
        e.sum += integers.data<int64_t>()[row];
        e.has_sum = true;
      }
      if (reals.IsValid(row)) {
        const double x = reals.data<double>()[row];
        e.total += x;
        ++e.non_null;
        e.min = std::min(e.min.value_or(x), x);
        e.max = std::max(e.max.value_or(x), x);
      }
    }
    if (round % 10 == 9) {  // free one group and fold another into a third
      const uint32_t reset = static_cast<uint32_t>(random() % kGroups);
      for (auto& accumulator : accumulators) accumulator->Reset(reset);
      expected[reset] = Expected();
      const uint32_t into = static_cast<uint32_t>(random() % kGroups);
      const uint32_t from = (into + 1) % kGroups;
      for (auto& accumulator : accumulators) accumulator->Merge(into, from);
      Expected& e = expected[into];
      const Expected& f = expected[from];
      e.count += f.count;
      e.sum += f.sum;
      e.has_sum = e.has_sum || f.has_sum;
      e.total += f.total;
      e.non_null += f.non_null;
      if (f.min) e.min = std::min(e.min.value_or(*f.min), *f.min);
      if (f.max) e.max = std::max(e.max.value_or(*f.max), *f.max);
    }
  }

  std::vector<uint32_t> all(kGroups);
  for (uint32_t g = 0; g < kGroups; ++g) all[g] = g;
  std::vector<std::unique_ptr<Column>> results;
  const TypeId result_types[] = {TypeId::kInt64, TypeId::kInt64, TypeId::kDouble, TypeId::kDouble,
                                 TypeId::kDouble};
  for (size_t a = 0; a < 5; ++a) {
    results.push_back(std::make_unique<Column>(result_types[a], kGroups));
    accumulators[a]->Finalize(all.data(), kGroups, *results[a]);
  }
  for (uint32_t g = 0; g < kGroups; ++g) {
    const Expected& e = expected[g];
    EXPECT_EQ(results[0]->data<int64_t>()[g], e.count) << "group " << g;
    ASSERT_EQ(results[1]->IsValid(g), e.has_sum) << "group " << g;
    if (e.has_sum) {
      EXPECT_EQ(results[1]->data<int64_t>()[g], e.sum) << "group " << g;
    }
    ASSERT_EQ(results[2]->IsValid(g), e.non_null > 0) << "group " << g;
    ASSERT_EQ(results[3]->IsValid(g), e.min.has_value()) << "group " << g;
    ASSERT_EQ(results[4]->IsValid(g), e.max.has_value()) << "group " << g;
    if (e.non_null == 0) continue;
    // Multiples of 1/8 of moderate size: the sums are exact in any order.
    EXPECT_EQ(results[2]->data<double>()[g], e.total / static_cast<double>(e.non_null)) << "group " << g;
    EXPECT_EQ(results[3]->data<double>()[g], *e.min) << "group " << g;
    EXPECT_EQ(results[4]->data<double>()[g], *e.max) << "group " << g;
  }
}

}  // namespace
}  // namespace sluice
