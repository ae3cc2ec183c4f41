// 'state.ttl' at its exact bound: a key last touched at t expires when the watermark reaches
// t + ttl, not a millisecond later. A key that no later record touches is evicted only by the
// watermark, so the eviction count (not the output, which the end of input flushes alike)
// shows the bound.
#include <gtest/gtest.h>

#include <string>

#include "common/strings.h"
#include "job_test_harness.h"

namespace sluice::testing {
namespace {

// Evictions of a run over `records` (JSON Lines), with no disorder allowed (the watermark is
// the highest event time minus 1 ms) and a TTL of 10 s.
uint64_t EvictionsOf(const std::string& records, size_t batch_size, int parallelism) {
  TemporaryDirectory directory;
  WriteFile(directory.File("in.jsonl"), records);
  const JobResult result = RunJobText(
      "CREATE STREAM out AS SELECT k, COUNT(*) AS n FROM events GROUP BY k EMIT FINAL "
      "WITH ('events.type' = 'file_source', 'events.path' = '${in}', 'events.schema' = 'k STRING, ts "
      "TIMESTAMP', "
      "'events.event.time.field' = 'ts', 'state.ttl' = '10s', 'out.type' = 'file_sink', 'out.path' = "
      "'${out}')",
      {{"in", directory.File("in.jsonl")}, {"out", directory.File("out.jsonl")}}, batch_size, false,
      parallelism);
  EXPECT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(ReadLines(directory.File("out.jsonl")).size(), 2u);  // a and b, evicted or at the end
  return result.counters.state_evicted;
}

TEST(StateTtlTest, AKeyExpiresExactlyWhenTheWatermarkReachesItsLastTouchPlusTheTtl) {
  for (size_t batch_size : {1, 1024}) {
    for (int parallelism : {1, 2}) {
      SCOPED_TRACE(StrCat("batch size ", batch_size, ", parallelism ", parallelism));
      // b at 10001 ms moves the watermark to 10000 = 0 + 10 s: a expires.
      EXPECT_EQ(EvictionsOf("{\"k\":\"a\",\"ts\":0}\n{\"k\":\"b\",\"ts\":10001}\n", batch_size, parallelism),
                1u);
      // b at 10000 ms: the watermark is 9999, a millisecond short.
      EXPECT_EQ(EvictionsOf("{\"k\":\"a\",\"ts\":0}\n{\"k\":\"b\",\"ts\":10000}\n", batch_size, parallelism),
                0u);
    }
  }
}

}  // namespace
}  // namespace sluice::testing
