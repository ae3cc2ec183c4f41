#include "scenario.h"

#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "result_checksum.h"
#include "simdjson.h"

namespace sluice::bench {
namespace {

absl::Status FieldError(const std::string& file, const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(StrCat(file, ": field '", field, "' ", what));
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot read '", path, "'"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const char* DataProfile::KindName() const {
  switch (kind) {
    case DataKind::kOrders: return "orders";
    case DataKind::kTrades: return "trades";
    case DataKind::kMarketData: return "market";
  }
  return "?";
}

std::string DataProfile::Id() const {
  std::string options;
  if (kind == DataKind::kOrders) {
    StrAppend(&options, orders.seed, "/", orders.customers, "/", orders.start_millis, "/",
              orders.events_per_second, "/", orders.max_amount);
  } else {
    StrAppend(&options, trades.seed, "/", trades.symbols, "/", trades.traders, "/", trades.categories, "/",
              static_cast<int>(trades.distribution), "/", trades.zipf_exponent, "/", trades.start_millis, "/",
              trades.events_per_second, "/", trades.out_of_order_fraction, "/", trades.max_delay_millis);
    // Options added later count only when set, so that older profiles keep their names.
    if (trades.trader_id_format == TraderIdFormat::kLong) StrAppend(&options, "/long-trader-ids");
    if (trades.bound_delay_every > 0) StrAppend(&options, "/bound-delay-every-", trades.bound_delay_every);
    if (trades.decimal_price) StrAppend(&options, "/decimal-price");
  }
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(HashBytes(options.data(), options.size())));
  return StrCat(KindName(), "-", std::string(hash, 10));
}

bool Scenario::HasLevel(const std::string& level) const {
  return std::find(levels.begin(), levels.end(), level) != levels.end();
}

absl::StatusOr<std::vector<std::string>> ListScenarios(const std::string& root) {
  DIR* dir = opendir(root.c_str());
  if (dir == nullptr) return absl::NotFoundError(StrCat("cannot open the scenarios folder '", root, "'"));
  std::vector<std::string> names;
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.empty() || name[0] == '.') continue;
    if (std::ifstream(StrCat(root, "/", name, "/scenario.json"))) names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<Scenario> LoadScenario(const std::string& root, const std::string& name) {
  Scenario scenario;
  scenario.name = name;
  scenario.folder = StrCat(root, "/", name);
  const std::string file = StrCat(scenario.folder, "/scenario.json");
  SLUICE_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  simdjson::dom::parser parser;
  simdjson::dom::element json;
  if (parser.parse(text).get(json) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(StrCat(file, ": not valid JSON"));
  }
  auto get_string = [&](simdjson::dom::element object, const char* key, std::string& out) -> absl::Status {
    std::string_view value;
    if (object[key].get_string().get(value) != simdjson::SUCCESS)
      return FieldError(file, key, "must be a string");
    out = std::string(value);
    return absl::OkStatus();
  };
  auto get_number = [&](simdjson::dom::element object, const char* key, double fallback) -> double {
    double value;
    if (object[key].get_double().get(value) == simdjson::SUCCESS) return value;
    int64_t integer;
    if (object[key].get_int64().get(integer) == simdjson::SUCCESS) return static_cast<double>(integer);
    return fallback;
  };
  auto optional_number = [&](simdjson::dom::element object, const char* key) -> std::optional<double> {
    simdjson::dom::element value;
    if (object[key].get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
    return get_number(object, key, 0);
  };
  SLUICE_RETURN_IF_ERROR(get_string(json, "title", scenario.title));
  SLUICE_RETURN_IF_ERROR(get_string(json, "table", scenario.table));
  std::string job_file, oracle_file, peer_file;
  SLUICE_RETURN_IF_ERROR(get_string(json, "job", job_file));
  SLUICE_RETURN_IF_ERROR(get_string(json, "oracle", oracle_file));
  SLUICE_RETURN_IF_ERROR(get_string(json, "peer", peer_file));
  SLUICE_ASSIGN_OR_RETURN(scenario.job_sql, ReadFile(StrCat(scenario.folder, "/", job_file)));
  SLUICE_ASSIGN_OR_RETURN(scenario.oracle_sql, ReadFile(StrCat(scenario.folder, "/", oracle_file)));
  SLUICE_ASSIGN_OR_RETURN(scenario.peer_sql, ReadFile(StrCat(scenario.folder, "/", peer_file)));

  simdjson::dom::element data;
  if (json["data"].get(data) != simdjson::SUCCESS) return FieldError(file, "data", "is missing");
  std::string kind, distribution;
  SLUICE_RETURN_IF_ERROR(get_string(data, "kind", kind));
  DataProfile& profile = scenario.data;
  if (kind == "orders") {
    profile.kind = DataKind::kOrders;
    profile.orders.seed = static_cast<uint64_t>(get_number(data, "seed", 42));
    profile.orders.customers = static_cast<int64_t>(get_number(data, "customers", 10000));
  } else if (kind == "trades" || kind == "market") {
    profile.kind = kind == "trades" ? DataKind::kTrades : DataKind::kMarketData;
    TradeGeneratorOptions& options = profile.trades;
    options.kind = kind == "trades" ? TradeDataKind::kTrades : TradeDataKind::kMarketData;
    options.seed = static_cast<uint64_t>(get_number(data, "seed", 42));
    options.symbols = static_cast<int64_t>(get_number(data, "symbols", 100));
    options.traders = static_cast<int64_t>(get_number(data, "traders", 1000));
    options.categories = static_cast<int64_t>(get_number(data, "categories", 10));
    if (get_string(data, "distribution", distribution).ok() && distribution == "zipf") {
      options.distribution = KeyDistribution::kZipf;
    }
    options.zipf_exponent = get_number(data, "zipf_exponent", 1.0);
    options.events_per_second = get_number(data, "events_per_second", 1000);
    options.out_of_order_fraction = get_number(data, "out_of_order_fraction", 0);
    options.max_delay_millis = static_cast<int64_t>(get_number(data, "max_delay_millis", 5000));
    std::string trader_ids;
    if (get_string(data, "trader_id_format", trader_ids).ok()) {
      if (trader_ids != "short" && trader_ids != "long") {
        return FieldError(file, "data.trader_id_format", "must be short or long");
      }
      options.trader_id_format = trader_ids == "long" ? TraderIdFormat::kLong : TraderIdFormat::kShort;
    }
    options.bound_delay_every = static_cast<uint64_t>(get_number(data, "bound_delay_every", 0));
    std::string price_type;
    if (get_string(data, "price_type", price_type).ok()) {
      if (price_type != "DOUBLE" && price_type != "DECIMAL(12, 4)") {
        return FieldError(file, "data.price_type", "must be DOUBLE or DECIMAL(12, 4)");
      }
      options.decimal_price = price_type != "DOUBLE";
    }
    SLUICE_RETURN_IF_ERROR(TradeGenerator::Validate(options));
  } else {
    return FieldError(file, "data.kind", "must be orders, trades or market");
  }

  simdjson::dom::element records;
  if (json["records"].get(records) != simdjson::SUCCESS) return FieldError(file, "records", "is missing");
  scenario.quick_records = static_cast<uint64_t>(get_number(records, "quick", 0));
  scenario.default_records = static_cast<uint64_t>(get_number(records, "default", 0));
  if (scenario.quick_records == 0 || scenario.default_records == 0) {
    return FieldError(file, "records", "needs positive 'quick' and 'default' counts");
  }

  simdjson::dom::element output;
  if (json["output"].get(output) != simdjson::SUCCESS) return FieldError(file, "output", "is missing");
  std::string mode;
  SLUICE_RETURN_IF_ERROR(get_string(output, "mode", mode));
  if (mode != "append" && mode != "changelog")
    return FieldError(file, "output.mode", "must be append or changelog");
  scenario.changelog = mode == "changelog";
  simdjson::dom::array key;
  if (output["key"].get_array().get(key) == simdjson::SUCCESS) {
    for (simdjson::dom::element column : key) {
      std::string_view column_name;
      if (column.get_string().get(column_name) != simdjson::SUCCESS) {
        return FieldError(file, "output.key", "must list column names");
      }
      scenario.changelog_key.emplace_back(column_name);
    }
  }
  if (scenario.changelog && scenario.changelog_key.empty()) {
    return FieldError(file, "output.key", "must name the key columns of a changelog");
  }
  SLUICE_RETURN_IF_ERROR(get_string(json, "partition_key", scenario.partition_key));
  auto int_list = [&](const char* field, std::vector<int>& out) -> absl::Status {
    simdjson::dom::array list;
    if (json[field].get_array().get(list) != simdjson::SUCCESS)
      return FieldError(file, field, "must be a list");
    for (simdjson::dom::element item : list) {
      int64_t value;
      if (item.get_int64().get(value) != simdjson::SUCCESS || value < 1 || value > 4096) {
        return FieldError(file, field, "must list positive integers");
      }
      out.push_back(static_cast<int>(value));
    }
    return absl::OkStatus();
  };
  SLUICE_RETURN_IF_ERROR(int_list("source_partitions", scenario.source_partitions));
  SLUICE_RETURN_IF_ERROR(int_list("threads", scenario.threads));
  simdjson::dom::array levels;
  if (json["levels"].get_array().get(levels) != simdjson::SUCCESS)
    return FieldError(file, "levels", "must be a list");
  for (simdjson::dom::element item : levels) {
    std::string_view level;
    if (item.get_string().get(level) != simdjson::SUCCESS ||
        (level != "core" && level != "codec" && level != "latency" && level != "e2e" &&
         level != "checkpoint" && level != "metrics")) {
      return FieldError(file, "levels", "must list core, codec, latency, e2e, checkpoint or metrics");
    }
    scenario.levels.emplace_back(level);
  }
  simdjson::dom::element target;
  if (json["target"].get(target) == simdjson::SUCCESS) {
    scenario.target_records_per_second = optional_number(target, "records_per_second");
    (void)get_string(target, "source", scenario.target_source);
    scenario.target_state_bytes_per_key = optional_number(target, "state_bytes_per_key");
    (void)get_string(target, "state_source", scenario.state_target_source);
  }
  scenario.goal_per_core = optional_number(json, "goal_records_per_second_per_core");
  std::string kafka_job;
  if (get_string(json, "kafka_job", kafka_job).ok())
    scenario.kafka_job = StrCat(scenario.folder, "/", kafka_job);
  if (scenario.HasLevel("e2e") && scenario.kafka_job.empty()) {
    return FieldError(file, "kafka_job", "must name the Kafka job file of the e2e level");
  }
  return scenario;
}

}  // namespace sluice::bench
