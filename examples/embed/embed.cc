// Embedding Sluice: compile a streaming SQL job, feed it orders from memory, collect its rows.
//
// The job sums each customer's orders per one-minute event-time window. Its source is declared
// in the SQL like a file source (format, schema, event time), and OrderSource supplies the
// records instead, a few hundred at a time, as a message queue would; RowCollector receives
// the rows the job's stdout sink would have printed. The program prints the rows, checks them
// against the same sums computed directly, and exits 1 when they differ (make test runs it).
//
// Built by CMake as sluice_embed_example; it includes only include/sluice/.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/job.h"

namespace {

constexpr int kOrders = 600;
constexpr int kOrdersPerRead = 128;
constexpr int64_t kStartMillis = 1767225600000;  // 2026-01-01T00:00:00Z

struct Order {
  std::string customer;
  int64_t amount;
  int64_t time_millis;
};

Order MakeOrder(int i) {
  return Order{"c" + std::to_string(i * 7 % 4), i % 50 + 1, kStartMillis + int64_t{i} * 500};
}

// Hands the job kOrders orders as JSON Lines, kOrdersPerRead per call.
class OrderSource final : public sluice::Source {
 public:
  sluice::StatusOr<bool> Read(std::string& records) override {
    if (next_ == kOrders) return false;
    const int end = std::min(next_ + kOrdersPerRead, kOrders);
    for (; next_ < end; ++next_) {
      const Order order = MakeOrder(next_);
      records += "{\"id\":" + std::to_string(next_) + ",\"customer\":\"" + order.customer +
                 "\",\"amount\":" + std::to_string(order.amount) +
                 ",\"ts\":" + std::to_string(order.time_millis) + "}\n";
    }
    return true;
  }

 private:
  int next_ = 0;
};

// Keeps every row it receives (JSON Lines), one string per row.
class RowCollector final : public sluice::Sink {
 public:
  explicit RowCollector(std::vector<std::string>* rows) : rows_(rows) {}

  sluice::Status Write(std::string_view records) override {
    while (!records.empty()) {
      const size_t newline = records.find('\n');
      rows_->emplace_back(records.substr(0, newline));
      records.remove_prefix(newline + 1);
    }
    return sluice::Status();
  }

 private:
  std::vector<std::string>* rows_;
};

constexpr std::string_view kJob = R"sql(
CREATE STREAM customer_minutes AS
SELECT customer, COUNT(*) AS orders, SUM(amount) AS revenue, _window_start AS minute_start
FROM orders
GROUP BY customer
WINDOW TUMBLING (ts, INTERVAL '1' MINUTE)
EMIT FINAL
WITH (
  'orders.type' = 'file_source',
  'orders.path' = 'memory:orders',
  'orders.format' = 'json',
  'orders.schema' = 'id BIGINT, customer STRING, amount BIGINT, ts TIMESTAMP',
  'event.time.field' = 'ts',
  'customer_minutes.type' = 'stdout_sink'
);
)sql";

// The rows the job must produce, computed without it.
std::vector<std::string> ExpectedRows() {
  std::map<std::pair<std::string, int64_t>, std::pair<int64_t, int64_t>> sums;  // -> orders, revenue
  for (int i = 0; i < kOrders; ++i) {
    const Order order = MakeOrder(i);
    const int64_t minute = order.time_millis - order.time_millis % 60000;
    auto& [orders, revenue] = sums[{order.customer, minute}];
    ++orders;
    revenue += order.amount;
  }
  std::vector<std::string> rows;
  for (const auto& [key, value] : sums) {
    char row[160];
    std::snprintf(row, sizeof(row),
                  "{\"customer\":\"%s\",\"orders\":%" PRId64 ",\"revenue\":%" PRId64
                  ",\"minute_start\":%" PRId64 "}",
                  key.first.c_str(), value.first, value.second, key.second);
    rows.emplace_back(row);
  }
  return rows;
}

}  // namespace

int main() {
  sluice::StatusOr<std::unique_ptr<sluice::Job>> job = sluice::Job::Compile(kJob);
  if (!job.ok()) {
    std::fprintf(stderr, "embed: %s\n", std::string(job.status().message()).c_str());
    return 1;
  }
  std::vector<std::string> rows;
  sluice::JobOptions options;
  options.sources["orders"] = [](int) { return std::make_unique<OrderSource>(); };
  options.sinks["customer_minutes"] = [&rows] { return std::make_unique<RowCollector>(&rows); };
  sluice::StatusOr<sluice::JobSummary> summary = (*job)->Run(options);
  if (!summary.ok()) {
    std::fprintf(stderr, "embed: %s\n", std::string(summary.status().message()).c_str());
    return 1;
  }
  for (const std::string& row : rows) std::printf("%s\n", row.c_str());
  std::printf("records in: %" PRIu64 ", rows out: %" PRIu64 "\n", summary->records_in, summary->records_out);

  std::vector<std::string> expected = ExpectedRows();
  std::vector<std::string> got = rows;
  std::sort(expected.begin(), expected.end());
  std::sort(got.begin(), got.end());
  if (got != expected || summary->records_in != static_cast<uint64_t>(kOrders)) {
    std::fprintf(stderr, "embed: wrong result: %zu rows, expected %zu\n", got.size(), expected.size());
    for (const std::string& row : expected) {
      if (!std::binary_search(got.begin(), got.end(), row))
        std::fprintf(stderr, "  missing %s\n", row.c_str());
    }
    for (const std::string& row : got) {
      if (!std::binary_search(expected.begin(), expected.end(), row))
        std::fprintf(stderr, "  unexpected %s\n", row.c_str());
    }
    return 1;
  }
  std::printf("embed: %zu rows, as computed directly\n", rows.size());
  return 0;
}
