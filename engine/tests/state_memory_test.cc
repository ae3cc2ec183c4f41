// A long run over ever-new keys holds bounded memory when state is freed (state.ttl, closing
// windows): the process's live heap, as the allocator reports it (jemalloc's stats.allocated,
// or the sanitizer allocator's count), plateaus while the number of keys seen grows without
// bound. The engine's own state accounting is not what is checked: a key string kept by the
// interner after its group is gone shows here even if the accounting forgot it.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/strings.h"
#include "connectors/sink.h"
#include "connectors/source.h"
#include "job_test_harness.h"
#include "runtime/job_runner.h"

#ifdef SLUICE_JEMALLOC
extern "C" int mallctl(const char* name, void* old_value, size_t* old_length, void* new_value,
                       size_t new_length);
#else
// The sanitizer runtimes' count of live heap bytes (GCC ships no header declaring it).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace sluice::testing {
namespace {

// Bytes the application holds on the heap now.
size_t LiveHeapBytes() {
#ifdef SLUICE_JEMALLOC
  uint64_t epoch = 1;  // refreshes jemalloc's statistics
  size_t length = sizeof(epoch);
  mallctl("epoch", &epoch, &length, &epoch, length);
  size_t allocated = 0;
  length = sizeof(allocated);
  EXPECT_EQ(mallctl("stats.allocated", &allocated, &length, nullptr, 0), 0);
  return allocated;
#else
  return __sanitizer_get_current_allocated_bytes();
#endif
}

// Record i: key "customer-<i>-<padding>" (about 40 bytes, never seen before), v = i, event
// time = start + i ms, in batches of 1024. Samples the live heap at the first batch and then
// at the first batch after each further `sample_every` records.
class NewKeySource final : public SourcePartition {
 public:
  NewKeySource(uint64_t records, uint64_t sample_every, std::vector<size_t>* samples)
      : records_(records), sample_every_(sample_every), samples_(samples), event_time_(0) {}

  absl::Status Open() override { return absl::OkStatus(); }

  absl::StatusOr<bool> Next(Batch& out) override {
    if (next_ >= records_) return false;
    if (next_ >= samples_->size() * sample_every_) samples_->push_back(LiveHeapBytes());
    const size_t rows = static_cast<size_t>(std::min<uint64_t>(1024, records_ - next_));
    auto keys = std::make_shared<Column>(TypeId::kString, rows);
    auto values = std::make_shared<Column>(TypeId::kInt64, rows);
    auto times = std::make_shared<Column>(TypeId::kTimestamp, rows);
    char text[64];
    for (size_t r = 0; r < rows; ++r) {
      const uint64_t i = next_ + r;
      const int length = std::snprintf(text, sizeof(text), "customer-%012llu-abcdefghijklmnop",
                                       static_cast<unsigned long long>(i));
      keys->data<std::string_view>()[r] =
          keys->heap().Add(std::string_view(text, static_cast<size_t>(length)));
      values->data<int64_t>()[r] = static_cast<int64_t>(i);
      times->data<int64_t>()[r] = kStart + static_cast<int64_t>(i);
    }
    keys->SetAllValid(rows);
    values->SetAllValid(rows);
    times->SetAllValid(rows);
    out.SetColumns({keys, values, times, times}, rows);  // k, v, ts, _event_time
    event_time_.Observe(*times, rows);
    next_ += rows;
    counters_.records_read += rows;
    counters_.records_decoded += rows;
    return true;
  }

  int64_t watermark() const override { return event_time_.watermark(); }
  const SourceCounters& counters() const override { return counters_; }

 private:
  static constexpr int64_t kStart = 1'767'225'600'000;  // 2026-01-01
  uint64_t records_;
  uint64_t sample_every_;
  std::vector<size_t>* samples_;
  uint64_t next_ = 0;
  EventTimeTracker event_time_;
  SourceCounters counters_;
};

// Runs `select` (with `properties`) over kRecords ever-new keys and returns the live heap
// sampled every kSampleEvery records.
constexpr uint64_t kRecords = 3'000'000;
constexpr uint64_t kSampleEvery = 500'000;

std::vector<size_t> LiveHeapOverRun(const std::string& select, const std::string& properties) {
  absl::StatusOr<BoundJob> job = BindJobText(
      StrCat("CREATE STREAM out AS ", select,
             " WITH ('t.type' = 'file_source', 't.path' = 'in-memory', 't.schema' = 'k STRING, v BIGINT, ts "
             "TIMESTAMP', 't.event.time.field' = 'ts', 'out.type' = 'file_sink', 'out.path' = '/dev/null'",
             properties, ")"),
      {});
  EXPECT_TRUE(job.ok()) << job.status();
  if (!job.ok()) return {};
  std::vector<size_t> samples;
  RunOptions options;
  options.parallelism = 1;
  options.make_source = [&samples](const SourceDefinition&, size_t,
                                   std::shared_ptr<DeadLetterWriter>) -> std::unique_ptr<SourcePartition> {
    return std::make_unique<NewKeySource>(kRecords, kSampleEvery, &samples);
  };
  options.make_sink = [](const BoundStatement&) -> std::unique_ptr<SinkOperator> {
    return std::make_unique<CountingSink>();
  };
  const JobResult result = RunBoundJob(*job, options);
  EXPECT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(result.counters.records_in, kRecords);
  return samples;
}

// After the first sample at 1M records (every container at its working size), the live heap
// may not grow by more than 8 MiB over the next 2M new keys: keeping each key's string alone
// would add about 2M x 48 bytes = 96 MB.
void ExpectPlateau(const std::vector<size_t>& samples) {
  ASSERT_EQ(samples.size(), kRecords / kSampleEvery);
  std::string figures;
  for (size_t bytes : samples) figures += StrCat(" ", bytes / 1024, "K");
  std::cout << "[ memory   ] live heap every " << kSampleEvery << " records:" << figures << "\n";
  const size_t plateau = samples[2];
  for (size_t s = 3; s < samples.size(); ++s) {
    EXPECT_LE(samples[s], plateau + (size_t{8} << 20))
        << "sample " << s << " (" << s * kSampleEvery << " records):" << figures;
  }
}

TEST(StateMemoryTest, GroupByWithTtlOverEverNewKeysPlateaus) {
  ExpectPlateau(
      LiveHeapOverRun("SELECT k, COUNT(*) AS n, SUM(v) AS total FROM t GROUP BY k", ", 'state.ttl' = '5s'"));
}

TEST(StateMemoryTest, TumblingWindowsOverEverNewKeysPlateau) {
  ExpectPlateau(LiveHeapOverRun(
      "SELECT k, COUNT(*) AS n, SUM(v) AS total FROM t GROUP BY k WINDOW TUMBLING (ts, INTERVAL '10' SECOND)",
      ""));
}

// The control: without TTL the keys are all kept, and the heap grows with them, which is what
// the plateau tests would see if freeing were lost.
TEST(StateMemoryTest, GroupByWithoutTtlGrowsWithTheKeys) {
  const std::vector<size_t> samples =
      LiveHeapOverRun("SELECT k, COUNT(*) AS n, SUM(v) AS total FROM t GROUP BY k", "");
  ASSERT_EQ(samples.size(), kRecords / kSampleEvery);
  std::string figures;
  for (size_t bytes : samples) figures += StrCat(" ", bytes / 1024, "K");
  std::cout << "[ memory   ] without TTL, live heap every " << kSampleEvery << " records:" << figures << "\n";
  EXPECT_GT(samples.back(), samples[2] + (size_t{32} << 20));
}

}  // namespace
}  // namespace sluice::testing
