// The Prometheus text exposition of jobs' counters (server/metrics_exposition.h) and the checks
// of the HTTP endpoint that serves it (server/http_server.h): token comparison, loopback rule.
#include "server/metrics_exposition.h"

#include <gtest/gtest.h>

#include <string>

#include "common/strings.h"
#include "server/http_server.h"

namespace sluice {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

JobMetricsSample FinishedJob() {
  JobMetricsSample job;
  job.job_id = "7";
  job.job_name = "volume";
  job.state = "finished";
  job.counters.records_in = 400000;
  job.counters.records_out = 12345;
  job.counters.bytes_in = 987654321;
  job.counters.dead_lettered = 3;
  job.counters.late_dropped = 4;
  job.counters.state_keys = 100;
  job.counters.state_bytes = 22775;
  job.counters.checkpoints_completed = 5;
  job.counters.checkpoint_seconds = 0.25;
  job.counters.tasks.push_back(
      {"job (fused, one thread)", 1.5, 0.25, 0.125, "the calling thread", 400000, 12345});
  job.last_checkpoint_bytes = 6090;
  job.last_checkpoint_write_seconds = 0.5;
  return job;
}

TEST(MetricsExpositionTest, CountersCarryHelpTypeAndTheJobsLabels) {
  const std::string text = RenderPrometheusText({FinishedJob()}, 0);
  EXPECT_TRUE(Contains(text, "# HELP sluice_job_numRecordsIn_total ")) << text;
  EXPECT_TRUE(Contains(text, "# TYPE sluice_job_numRecordsIn_total counter\n")) << text;
  EXPECT_TRUE(Contains(text, "\nsluice_job_numRecordsIn_total{job_id=\"7\",job_name=\"volume\"} 400000\n"))
      << text;
  EXPECT_TRUE(Contains(text, "\nsluice_job_numRecordsOut_total{job_id=\"7\",job_name=\"volume\"} 12345\n"))
      << text;
  EXPECT_TRUE(Contains(text, "\nsluice_job_numBytesIn_total{job_id=\"7\",job_name=\"volume\"} 987654321\n"))
      << text;
  EXPECT_TRUE(
      Contains(text, "\nsluice_job_numRecordsDeadLettered_total{job_id=\"7\",job_name=\"volume\"} 3\n"));
  EXPECT_TRUE(
      Contains(text, "\nsluice_job_numLateRecordsDropped_total{job_id=\"7\",job_name=\"volume\"} 4\n"));
  EXPECT_TRUE(Contains(text, "# TYPE sluice_job_stateKeys gauge\n"));
  EXPECT_TRUE(Contains(text, "\nsluice_job_stateKeys{job_id=\"7\",job_name=\"volume\"} 100\n"));
  EXPECT_TRUE(Contains(
      text, "\nsluice_job_numberOfCompletedCheckpoints_total{job_id=\"7\",job_name=\"volume\"} 5\n"));
  EXPECT_TRUE(
      Contains(text, "\nsluice_job_lastCheckpointSize_bytes{job_id=\"7\",job_name=\"volume\"} 6090\n"));
  EXPECT_TRUE(Contains(
      text,
      "\nsluice_job_task_busyTime_seconds_total{job_id=\"7\",job_name=\"volume\",task=\"job (fused, one "
      "thread)\"} 1.5\n"))
      << text;
  EXPECT_TRUE(
      Contains(text,
               "\nsluice_job_task_numRecordsIn_total{job_id=\"7\",job_name=\"volume\",task=\"job (fused, "
               "one thread)\"} 400000\n"))
      << text;
  EXPECT_TRUE(Contains(text,
                       "\nsluice_job_task_numRecordsOut_total{job_id=\"7\",job_name=\"volume\",task=\"job "
                       "(fused, one thread)\"} 12345\n"))
      << text;
  EXPECT_TRUE(Contains(text, "\nsluice_jobs{state=\"finished\"} 1\n")) << text;
  EXPECT_TRUE(Contains(text, "\nsluice_jobs{state=\"running\"} 0\n")) << text;
  EXPECT_TRUE(Contains(text, "\nsluice_job_info{job_id=\"7\",job_name=\"volume\",state=\"finished\"} 1\n"))
      << text;
  // A finished job has no watermark gauge, whatever its last watermark was.
  EXPECT_FALSE(Contains(text, "sluice_job_currentWatermark_milliseconds{")) << text;
}

TEST(MetricsExpositionTest, LabelValuesAreEscaped) {
  JobMetricsSample job = FinishedJob();
  job.job_name = "a\"b\\c\nd";
  const std::string text = RenderPrometheusText({job}, 0);
  EXPECT_TRUE(
      Contains(text, "sluice_job_numRecordsIn_total{job_id=\"7\",job_name=\"a\\\"b\\\\c\\nd\"} 400000\n"))
      << text;
}

TEST(MetricsExpositionTest, ARunningJobShowsItsWatermarkAndEventTimeLag) {
  JobMetricsSample job = FinishedJob();
  job.state = "running";
  job.counters.watermark = 1'000'000;
  const std::string text = RenderPrometheusText({job}, 1'004'500);
  EXPECT_TRUE(Contains(
      text, "\nsluice_job_currentWatermark_milliseconds{job_id=\"7\",job_name=\"volume\"} 1000000\n"))
      << text;
  EXPECT_TRUE(Contains(text, "\nsluice_job_eventTimeLag_seconds{job_id=\"7\",job_name=\"volume\"} 4.5\n"))
      << text;
}

TEST(MetricsExpositionTest, AnIncompleteLiveSnapshotLeavesOutWhatItDoesNotHold) {
  JobMetricsSample job = FinishedJob();
  job.state = "running";
  job.counters.complete = false;  // a run on several workers, live
  const std::string text = RenderPrometheusText({job}, 0);
  EXPECT_TRUE(Contains(text, "\nsluice_job_numRecordsIn_total{job_id=\"7\",job_name=\"volume\"} 400000\n"))
      << text;
  EXPECT_FALSE(Contains(text, "sluice_job_numBytesIn_total{")) << text;
  EXPECT_FALSE(Contains(text, "sluice_job_stateKeys{")) << text;
  EXPECT_FALSE(Contains(text, "sluice_job_numRecordsDeadLettered_total{")) << text;
}

TEST(MetricsExpositionTest, SeveralJobsEachHaveTheirSamples) {
  JobMetricsSample second = FinishedJob();
  second.job_id = "8";
  second.state = "running";
  second.counters.records_in = 5;
  const std::string text = RenderPrometheusText({FinishedJob(), second}, 0);
  EXPECT_TRUE(Contains(text, "sluice_job_numRecordsIn_total{job_id=\"7\",job_name=\"volume\"} 400000\n"))
      << text;
  EXPECT_TRUE(Contains(text, "sluice_job_numRecordsIn_total{job_id=\"8\",job_name=\"volume\"} 5\n")) << text;
  EXPECT_TRUE(Contains(text, "\nsluice_jobs{state=\"running\"} 1\n")) << text;
  // One HELP and TYPE per family, not per sample.
  size_t helps = 0;
  for (size_t at = text.find("# HELP sluice_job_numRecordsIn_total "); at != std::string::npos;
       at = text.find("# HELP sluice_job_numRecordsIn_total ", at + 1)) {
    ++helps;
  }
  EXPECT_EQ(helps, 1u);
}

TEST(HttpServerTest, TokensCompareWholeAndExact) {
  EXPECT_TRUE(TokensEqual("s3cret-token", "s3cret-token"));
  EXPECT_FALSE(TokensEqual("s3cret-token", "s3cret-tokem"));
  EXPECT_FALSE(TokensEqual("s3cret", "s3cret-token"));
  EXPECT_FALSE(TokensEqual("", "s3cret-token"));
  EXPECT_FALSE(TokensEqual("s3cret-token ", "s3cret-token"));
}

TEST(HttpServerTest, LoopbackAddresses) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackAddress("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackAddress("::1"));
  EXPECT_TRUE(IsLoopbackAddress("localhost"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("::"));
  EXPECT_FALSE(IsLoopbackAddress("example.com"));
}

TEST(HttpServerTest, RefusesANonLoopbackAddressWithoutAToken) {
  HttpServerOptions options;
  options.address = "0.0.0.0";
  const auto refused = HttpServer::Create(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(std::string(refused.status().message()), "without a token")) << refused.status();
  options.allow_unauthenticated = true;
  EXPECT_TRUE(HttpServer::Create(options).ok());
  options.allow_unauthenticated = false;
  options.token = "t";
  EXPECT_TRUE(HttpServer::Create(options).ok());
}

TEST(HttpServerTest, TlsNeedsBothReadableFiles) {
  HttpServerOptions options;
  options.tls_cert_file = "/nonexistent/server.crt";
  EXPECT_FALSE(HttpServer::Create(options).ok());
  options.tls_key_file = "/nonexistent/server.key";
  const auto missing = HttpServer::Create(options);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(Contains(std::string(missing.status().message()), "/nonexistent/server.crt"))
      << missing.status();
}

}  // namespace
}  // namespace sluice
