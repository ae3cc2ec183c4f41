// TradeGenerator: deterministic synthetic data of the product brief's benchmark scenarios.
//
// Two kinds of stream:
//   trades       trade_id BIGINT, trader_id STRING, symbol STRING, category STRING,
//                price DOUBLE, quantity BIGINT, side STRING ('BUY'/'SELL'), venue STRING,
//                trade_time TIMESTAMP (epoch ms)                     (Scenarios 2-4)
//   market data  symbol STRING, price DOUBLE, bid DOUBLE, ask DOUBLE, volume BIGINT,
//                timestamp TIMESTAMP (epoch ms)                      (Scenario 1)
//
// The stream is `count` events numbered 0, 1, 2, ... Event i has event time
// start_millis + floor(i * 1000 / events_per_second), and every field of event i is a pure
// function of (seed, i) (see random.h). Keys (symbols, traders, categories) are drawn
// independently, each uniform or Zipf over its cardinality (key 0 the most frequent); names are
// SYM<k>, TR<k>, CAT<k>. With TraderIdFormat::kLong, trader k is instead a 32..48-byte name (the
// length a pure function of (seed, k)) with one of four prefixes by k % 4, three of them
// multi-byte UTF-8: "account-<k>-…", "Händler-<k>-…", "交易员-<k>-…", "trader·<k>-…", padded with
// lowercase hex digits; every k gives a distinct name. Each symbol has a base price in
// [$10, $1000); a trade's price is the base within +/-2%, in whole cents. trade_id is i + 1.
//
// Arrival order: events come in event-time order, except that a fraction of them, chosen at
// random, are delayed by 1..max_delay_millis (uniform) and arrive in the order of
// event time + delay (ties: lower event number first). So an event never arrives more than
// max_delay_millis behind the highest event time seen before it.
//
// With bound_delay_every = K > 0, every event whose number is K-1 modulo K is delayed by exactly
// max_delay_millis instead (whatever the random draw says) and arrives after every event whose
// time is at most its time + max_delay_millis: when an event of that time came before it, it
// arrives exactly max_delay_millis behind the highest event time seen, the latest an event can
// be under a watermark bound of max_delay_millis and still be on time.
//
// Guarantees: same options, same records, byte for byte, whatever the chunk sizes of the calls
// (FillBatch(1024) x 10 equals FillBatch(10240)); the three outputs of one options set hold the
// same records. Not thread-safe; create one generator per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "batch/batch.h"
#include "common/status.h"
#include "key_sampler.h"
#include "types/schema.h"

namespace sluice {

enum class TradeDataKind : uint8_t { kTrades, kMarketData };

// How trader_ids are named: TR<k> (at most 10 bytes), or 32..48-byte names, some multi-byte
// UTF-8 (see the top of this file).
enum class TraderIdFormat : uint8_t { kShort, kLong };

struct TradeGeneratorOptions {
  static constexpr uint64_t kUnbounded = std::numeric_limits<uint64_t>::max();
  static constexpr int64_t kMaxCardinality = 100'000'000;

  TradeDataKind kind = TradeDataKind::kTrades;
  uint64_t seed = 42;
  uint64_t count = kUnbounded;  // events in the stream
  int64_t symbols = 100;        // distinct symbols, 1..kMaxCardinality
  int64_t traders = 1000;       // distinct trader_ids (trades only)
  int64_t categories = 10;      // distinct categories (trades only)
  KeyDistribution distribution = KeyDistribution::kUniform;
  double zipf_exponent = 1.0;            // with kZipf: P(key k) ~ 1 / (k + 1)^exponent, > 0
  int64_t start_millis = 1767225600000;  // event time of the first event: 2026-01-01T00:00:00Z
  double events_per_second = 1000;       // of event time
  double out_of_order_fraction = 0;      // share of events delayed, 0..1
  int64_t max_delay_millis = 5000;       // a delayed event is late by 1..max_delay_millis
  TraderIdFormat trader_id_format = TraderIdFormat::kShort;
  uint64_t bound_delay_every = 0;  // > 0: every K-th event delayed by exactly max_delay_millis
  // Trades only: the price column is DECIMAL(12, 4) (kDecimalPrice; its unscaled value is the
  // whole cents times 100) instead of DOUBLE. The text forms are the same ("123.45").
  bool decimal_price = false;
};

class TradeGenerator {
 public:
  // Checks ranges: cardinalities, exponent, rate, fraction, delay (>= 1 when fraction > 0).
  static absl::Status Validate(const TradeGeneratorOptions& options);

  // REQUIRES: Validate(options).ok(). Precomputes names, base prices and Zipf tables.
  explicit TradeGenerator(const TradeGeneratorOptions& options);
  ~TradeGenerator();

  // `decimal_price`: TradeGeneratorOptions::decimal_price.
  static Schema TradeSchema(bool decimal_price = false);
  static constexpr TypeId kDecimalPrice = DecimalType(12, 4);
  static Schema MarketDataSchema();
  const Schema& schema() const { return schema_; }

  // Each call continues the stream where the previous one (of any of the three) stopped and
  // produces up to `max_records` records; it returns how many, 0 once all `count` are out.

  // Columns in schema order, all valid. String values are views into the generator's name
  // table, which every string column pins (Column::KeepAlive): no string is copied per row.
  // Columns come from pools: the steady state allocates nothing.
  size_t FillBatch(size_t max_records, Batch& out);
  // One JSON object per line, fields in schema order; prices in shortest form ("12.5").
  size_t AppendJsonLines(size_t max_records, std::string& out);
  // RFC 4180 CSV (no value needs quoting); with `header`, the header line comes first.
  size_t AppendCsv(size_t max_records, std::string& out, bool header);

  uint64_t records_produced() const { return produced_; }
  bool done() const { return produced_ == options_.count; }

 private:
  struct Names;
  struct Event;

  // Writes the numbers of the next (up to) `max_records` events in arrival order into
  // order_; returns how many.
  size_t NextArrivals(size_t max_records);
  int64_t EventTime(uint64_t event) const;
  template <bool kTrades>
  Event MakeEvent(uint64_t event) const;
  template <bool kTrades>
  void FillRows(size_t rows, Batch& out);
  template <bool kJson, bool kTrades>
  size_t AppendText(size_t max_records, std::string& out);

  TradeGeneratorOptions options_;
  Schema schema_;
  double millis_per_event_;
  uint64_t field_stream_;
  uint64_t delay_stream_;
  uint64_t delay_threshold_;  // an event is delayed when its 32 delay-decision bits are below
  KeySampler symbol_sampler_;
  KeySampler trader_sampler_;
  KeySampler category_sampler_;
  std::shared_ptr<const Names> names_;
  struct PriceRange {
    uint32_t low_cents;  // lowest price
    uint32_t span;       // number of possible prices, one per cent from low_cents
  };
  std::vector<PriceRange> prices_;  // per symbol
  size_t max_text_bytes_;           // upper bound of one record's text (JSON or CSV)

  uint64_t next_event_ = 0;  // first event not yet emitted nor pending
  uint64_t produced_ = 0;
  // Delayed events not yet emitted, by (arrival time, event number): a min-heap.
  using Pending = std::pair<int64_t, uint64_t>;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> pending_;
  std::vector<uint64_t> order_;  // scratch: event numbers of the current call
  std::vector<char> text_;       // scratch: text of up to kTextRows records
  std::vector<ColumnPool> pools_;
};

}  // namespace sluice
