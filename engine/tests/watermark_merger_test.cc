// WatermarkMerger: minimum over partitions, exhausted and idle partitions excluded; and the
// per-partition EventTimeTracker that feeds it.
#include "time/watermark_merger.h"

#include <gtest/gtest.h>

#include "connectors/source.h"

namespace sluice {
namespace {

TEST(WatermarkMergerTest, MergedWatermarkIsTheMinimumOverPartitions) {
  WatermarkMerger merger(2, std::nullopt, 0);
  merger.OnRecords(0, 100, 0);
  EXPECT_EQ(merger.Advance(0), std::nullopt) << "partition 1 has not delivered yet";
  merger.OnRecords(1, 40, 0);
  EXPECT_EQ(merger.Advance(0), 40);
  merger.OnRecords(1, 70, 0);
  EXPECT_EQ(merger.Advance(0), 70);
  EXPECT_EQ(merger.Advance(0), std::nullopt) << "no advance, nothing to send";
}

TEST(WatermarkMergerTest, ExhaustedPartitionStopsHoldingBack) {
  WatermarkMerger merger(2, std::nullopt, 0);
  merger.OnRecords(0, 100, 0);
  merger.OnRecords(1, 10, 0);
  EXPECT_EQ(merger.Advance(0), 10);
  merger.OnExhausted(1);
  EXPECT_EQ(merger.Advance(0), 100);
}

TEST(WatermarkMergerTest, IdlePartitionIsExcludedUntilItDeliversAgain) {
  WatermarkMerger merger(2, 5000, 0);
  merger.OnRecords(0, 100, 0);
  merger.OnRecords(1, 10, 0);
  EXPECT_EQ(merger.Advance(1000), 10);
  merger.OnRecords(0, 200, 6000);
  EXPECT_EQ(merger.Advance(6000), 200) << "partition 1 idle for 6 s > 5 s";
  merger.OnRecords(1, 150, 7000);
  EXPECT_EQ(merger.Advance(7000), std::nullopt) << "back, but behind: the watermark never goes backwards";
  merger.OnRecords(1, 300, 7500);
  merger.OnRecords(0, 250, 7500);
  EXPECT_EQ(merger.Advance(7500), 250);
}

TEST(WatermarkMergerTest, WithoutIdleTimeoutASilentPartitionHoldsBack) {
  WatermarkMerger merger(2, std::nullopt, 0);
  merger.OnRecords(0, 100, 0);
  merger.OnRecords(1, 10, 0);
  EXPECT_EQ(merger.Advance(0), 10);
  merger.OnRecords(0, 500, 1000000);
  EXPECT_EQ(merger.Advance(1000000), std::nullopt);
}

// A source's watermark is its highest valid event time minus the bound and 1 ms; NULL times,
// whatever their slot holds, never count, and a batch of only NULLs leaves it unchanged.
TEST(EventTimeTrackerTest, TheWatermarkFollowsTheHighestValidTimeOnly) {
  EventTimeTracker tracker(2000);
  EXPECT_EQ(tracker.watermark(), INT64_MIN);
  Column times(TypeId::kTimestamp, 100);
  for (size_t i = 0; i < 100; ++i) {
    times.data<int64_t>()[i] = 1'000'000 + static_cast<int64_t>(i * 37 % 100);  // highest 1,000,099
    times.validity()[i] = 1;
  }
  times.data<int64_t>()[42] = INT64_MAX;  // NULL: ignored
  times.validity()[42] = 0;
  tracker.Observe(times, 100);
  EXPECT_EQ(tracker.watermark(), 1'000'099 - 2000 - 1);
  for (size_t i = 0; i < 100; ++i) times.validity()[i] = 0;
  tracker.Observe(times, 100);
  EXPECT_EQ(tracker.watermark(), 1'000'099 - 2000 - 1);
  times.data<int64_t>()[7] = 999'000;  // an older time does not move it back
  times.validity()[7] = 1;
  tracker.Observe(times, 100);
  EXPECT_EQ(tracker.watermark(), 1'000'099 - 2000 - 1);
}

}  // namespace
}  // namespace sluice
