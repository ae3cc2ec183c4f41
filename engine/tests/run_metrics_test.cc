// `sluice run --metrics-port`: a job reading a FIFO is scraped while it runs; its counters at
// /metrics reach what the test wrote, and the run's summary says the same once it ends.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "child_process.h"
#include "common/strings.h"
#include "job_test_harness.h"
#include "server_test_support.h"
#include "trade_generator.h"

namespace sluice::testing {
namespace {

constexpr const char* kTradeSchema =
    "trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price DOUBLE, quantity BIGINT, "
    "side STRING, venue STRING, trade_time TIMESTAMP";

std::string Scenario2OverPath(const std::string& trades, const std::string& output) {
  return StrCat(
      "CREATE STREAM volume AS SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS "
      "avg_price, MIN(price) AS low, MAX(price) AS high FROM trades GROUP BY symbol WITH ("
      "'trades.type' = 'file_source', 'trades.path' = '",
      trades, "', 'trades.format' = 'json', 'trades.schema' = '", kTradeSchema,
      "', 'event.time.field' = 'trade_time', 'volume.type' = 'file_sink', 'volume.path' = '", output,
      "');\n");
}

TEST(RunMetricsTest, ScrapedCountersFollowTheRunAndEqualItsSummary) {
  TemporaryDirectory directory;
  const std::string fifo = directory.File("trades.fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string job = directory.File("scenario2.sql");
  WriteFile(job, Scenario2OverPath(fifo, directory.File("out.jsonl")));
  const std::string summary = directory.File("summary.json");
  Process process = SpawnSluice(
      {"run", job, "--parallelism", "1", "--quiet", "--metrics-port", "0", "--summary-json", summary},
      directory.File("out"), directory.File("err"));
  const std::string url = WaitForUrl(process.err, "metrics: ", std::chrono::seconds(60));
  ASSERT_FALSE(url.empty()) << ReadFile(process.err);
  // The reader opens the FIFO when the run starts; until then a non-blocking writer gets ENXIO.
  int fd = -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0 && errno == ENXIO &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(fd, 0) << ReadFile(process.err);
  ASSERT_EQ(fcntl(fd, F_SETFL, 0), 0);  // blocking writes from here
  TradeGeneratorOptions options;
  options.count = 20'000;
  options.seed = 5;
  options.symbols = 50;
  TradeGenerator generator(options);
  std::string text;
  generator.AppendJsonLines(options.count, text);
  for (size_t written = 0; written < text.size();) {
    const ssize_t n = write(fd, text.data() + written, text.size() - written);
    ASSERT_GT(n, 0);
    written += static_cast<size_t>(n);
  }

  // The FIFO stays open: the job runs on, and its counters at /metrics reach every record.
  httplib::Client client(UrlHost(url), UrlPort(url));
  std::string last;
  std::optional<double> records_in;
  const auto scrape_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < scrape_deadline) {
    const auto response = client.Get("/metrics");
    ASSERT_TRUE(response) << httplib::to_string(response.error());
    ASSERT_EQ(response->status, 200);
    EXPECT_EQ(response->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    last = response->body;
    records_in = MetricValue(last, "sluice_job_numRecordsIn_total", "job_name=\"scenario2\"");
    if (records_in && *records_in == 20'000) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(records_in, 20'000) << last;
  EXPECT_EQ(MetricValue(last, "sluice_job_info", "state=\"running\""), 1) << last;
  // Fused on one thread, the live snapshot holds everything: 50 symbols' groups, the bytes read.
  EXPECT_EQ(MetricValue(last, "sluice_job_stateKeys"), 50) << last;
  EXPECT_EQ(MetricValue(last, "sluice_job_numBytesIn_total"), static_cast<double>(text.size())) << last;
  EXPECT_TRUE(MetricValue(last, "sluice_job_eventTimeLag_seconds").has_value()) << last;
  const auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  close(fd);  // the end of the input: the job finishes
  ASSERT_EQ(WaitFor(process, std::chrono::seconds(60)), 0) << ReadFile(process.err);
  const std::string json = ReadFile(summary);
  EXPECT_EQ(JsonNumber(json, "records_in"), 20'000) << json;
  EXPECT_EQ(JsonNumber(json, "bytes_in"), static_cast<double>(text.size())) << json;
  EXPECT_EQ(JsonNumber(json, "state_keys"), 50) << json;
  EXPECT_EQ(JsonNumber(json, "records_out"),
            static_cast<double>(ReadLines(directory.File("out.jsonl")).size()));
}

TEST(RunMetricsTest, BadMetricsFlagsAreUsageErrors) {
  TemporaryDirectory directory;
  const std::string job = directory.File("job.sql");
  WriteFile(directory.File("one.jsonl"),
            "{\"trade_id\":1,\"trader_id\":\"t\",\"symbol\":\"A\",\"category\":\"c\",\"price\":1.5,"
            "\"quantity\":2,\"side\":\"buy\",\"venue\":\"v\",\"trade_time\":1000}\n");
  WriteFile(job, Scenario2OverPath(directory.File("one.jsonl"), directory.File("out.jsonl")));
  Process bad_port =
      SpawnSluice({"run", job, "--metrics-port", "70000"}, directory.File("o1"), directory.File("e1"));
  EXPECT_EQ(WaitFor(bad_port, std::chrono::seconds(30)), 2);
  EXPECT_NE(ReadFile(bad_port.err).find("--metrics-port needs a port number"), std::string::npos);
  // Beyond loopback without SLUICE_TOKEN: refused before the job runs.
  Process open_address = SpawnSluice({"run", job, "--metrics-port", "0", "--metrics-address", "0.0.0.0"},
                                     directory.File("o2"), directory.File("e2"));
  EXPECT_EQ(WaitFor(open_address, std::chrono::seconds(30)), 1);
  EXPECT_NE(ReadFile(open_address.err).find("without a token"), std::string::npos)
      << ReadFile(open_address.err);
}

}  // namespace
}  // namespace sluice::testing
