// WatermarkMerger: minimum over partitions, exhausted and idle partitions excluded; and the
// per-partition EventTimeTracker that feeds it.
#include "time/watermark_merger.h"

#include <gtest/gtest.h>

#include "connectors/source.h"
#include "time/event_time.h"

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

// The per-record rule is the source's rule applied one record at a time: after the same
// records both stand at the same watermark, and a record far below INT64_MIN + bound does not
// overflow.
TEST(PerRecordWatermarkTest, FollowsTheSourcesRuleRecordByRecord) {
  PerRecordWatermark running(2000);
  EventTimeTracker tracker(2000);
  EXPECT_EQ(running.value(), INT64_MIN);
  for (int64_t time : {5000, 4000, 9000, 8999}) {
    const int64_t before = running.value();
    EXPECT_EQ(running.Observe(time), time - 2001 > before) << time;
    tracker.ObserveValue(time);
    EXPECT_EQ(running.value(), tracker.watermark()) << time;
  }
  EXPECT_EQ(running.value(), 9000 - 2000 - 1);
  EXPECT_FALSE(running.Observe(INT64_MIN + 5));
  EXPECT_EQ(WatermarkAfter(INT64_MIN + 5, 2000), INT64_MIN);
}

// An operator's input: the larger of the received and the per-record watermark; Observe()
// reports only advances of that, and with previous() where it stood before.
TEST(InputWatermarkTest, CurrentIsTheLargerOfReceivedAndPerRecord) {
  InputWatermark input(0);
  EXPECT_TRUE(input.Observe(100));
  EXPECT_EQ(input.current(), 99);
  EXPECT_EQ(input.previous(), INT64_MIN);
  EXPECT_TRUE(input.Receive(500));
  EXPECT_FALSE(input.Receive(400));  // watermarks never go back
  EXPECT_EQ(input.current(), 500);
  EXPECT_FALSE(input.Observe(300));  // the running watermark rises to 299, under the received one
  EXPECT_EQ(input.running(), 299);
  EXPECT_TRUE(input.Observe(1000));
  EXPECT_EQ(input.previous(), 500);
  EXPECT_EQ(input.current(), 999);
  EXPECT_TRUE(input.ObserveCarried(2000));  // carried by an exchange: taken as is
  EXPECT_EQ(input.current(), 2000);
}

// Interleaved partitions: records leave the watermark alone, carried and received ones count.
TEST(InputWatermarkTest, AnInterleavedInputIgnoresRecordTimes) {
  InputWatermark input(0);
  input.SetInterleaved(true);
  EXPECT_FALSE(input.Observe(100));
  EXPECT_EQ(input.current(), INT64_MIN);
  EXPECT_TRUE(input.Receive(50));
  EXPECT_EQ(input.current(), 50);
}

}  // namespace
}  // namespace sluice
