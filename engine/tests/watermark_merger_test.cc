// WatermarkMerger: minimum over partitions, exhausted and idle partitions excluded.
#include "time/watermark_merger.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sluice
