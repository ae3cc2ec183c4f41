// Scenario: one folder of scenarios/ (job.sql, oracle.sql, peer.sql, scenario.json), and the
// data profile it runs on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "order_generator.h"
#include "trade_generator.h"

namespace sluice::bench {

enum class DataKind : uint8_t { kOrders, kTrades, kMarketData };

// What to generate: the generator options of scenario.json's "data".
struct DataProfile {
  DataKind kind = DataKind::kTrades;
  TradeGeneratorOptions trades;  // kTrades and kMarketData (count unset)
  OrderGeneratorOptions orders;  // kOrders

  // A stable name for cached files: kind plus a hash of every option, e.g. "trades-3f2a…".
  std::string Id() const;
  const char* KindName() const;
};

struct Scenario {
  std::string name;  // folder name, e.g. "s2_group_by"
  std::string title;
  std::string folder;  // path of the folder
  std::string job_sql;
  std::string oracle_sql;  // SQLite, over a table named `table`
  std::string peer_sql;    // DuckDB, over a table named `table`
  std::string table;
  DataProfile data;
  uint64_t quick_records = 0;
  uint64_t default_records = 0;
  bool changelog = false;
  std::vector<std::string> changelog_key;  // output columns identifying a changelog row's key
  std::string partition_key;               // input column that splits data between threads
  std::vector<int> source_partitions;      // Scenario 4: the partition counts to run
  std::vector<std::string> levels;         // core, codec, latency, e2e
  std::vector<int> threads;
  std::optional<double> target_records_per_second;  // the brief's target, if it has one
  std::string target_source;
  // A bound on state bytes per key besides the keys' own string bytes, if the scenario has one;
  // it applies to runs of at least default_records records.
  std::optional<double> target_state_bytes_per_key;
  std::string state_target_source;
  std::optional<double> goal_per_core;  // engineering goal per core, if any
  std::string kafka_job;                // path of the e2e level's Kafka job, if any

  bool HasLevel(const std::string& level) const;
};

// Loads scenarios/<name>/ under `root` (the scenarios folder).
absl::StatusOr<Scenario> LoadScenario(const std::string& root, const std::string& name);
// Every folder of `root` holding a scenario.json, sorted by name.
absl::StatusOr<std::vector<std::string>> ListScenarios(const std::string& root);

absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace sluice::bench
