// Deterministic generator of the brief's Scenario 0 `orders` records:
//   order_id BIGINT, customer_id STRING, order_date TIMESTAMP (epoch ms), total_amount DOUBLE
// Same seed, same records (order_date = start + (order_id - 1) * 1000 / events_per_second).
// The trades and market data of the other scenarios come from TradeGenerator.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "batch/batch.h"
#include "random.h"
#include "types/schema.h"

namespace sluice {

struct OrderGeneratorOptions {
  uint64_t seed = 42;
  int64_t customers = 10000;             // customer_id cardinality
  int64_t start_millis = 1704067200000;  // 2024-01-01T00:00:00Z
  double events_per_second = 100;        // of event time (100: one order per 10 ms)
  double max_amount = 1000.0;            // total_amount uniform in [0, max_amount), 2 decimals
};

class OrderGenerator {
 public:
  explicit OrderGenerator(OrderGeneratorOptions options = {});

  static Schema OrderSchema();

  // Appends `count` orders as JSON Lines.
  void AppendJsonLines(size_t count, std::string& out);

  // Appends `count` orders as CSV, after a header line when `header` is set.
  void AppendCsv(size_t count, std::string& out, bool header);

  // Produces `count` orders as a Batch with the schema's four columns.
  void FillBatch(size_t count, Batch& out);

 private:
  struct Order {
    int64_t id;
    int64_t customer;
    int64_t date;
    double amount;
  };
  Order NextOrder();

  OrderGeneratorOptions options_;
  SplitMix64 random_;
  int64_t next_id_ = 1;
  std::vector<std::string> customer_names_;
};

}  // namespace sluice
