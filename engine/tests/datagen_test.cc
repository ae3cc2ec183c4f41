// The data generators of the benchmark lab: TradeGenerator (trades, market data), its Zipf key
// sampler, OrderGenerator, NexmarkGenerator, and the `sluice datagen` command. Determinism (seed,
// chunk sizes), cardinalities, skew, out-of-order arrival bounds, and agreement of the three
// outputs with Sluice's own decoders and encoders; for Nexmark, the event layout and proportions,
// id references, event times and value distributions of Nexmark's generator.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/strings.h"
#include "formats/record_format.h"
#include "formats/utf8.h"
#include "job_test_harness.h"
#include "key_sampler.h"
#include "nexmark_generator.h"
#include "order_generator.h"
#include "trade_generator.h"
#include "types/number_format.h"

namespace sluice {
namespace {

// --- helpers ----------------------------------------------------------------------------

// One cell as exact text: doubles in shortest round-trip form, so equal text is equal bits.
std::string CellText(const Column& column, size_t row) {
  switch (column.type()) {
    case TypeId::kDouble: return FormatDouble(column.data<double>()[row]);
    case TypeId::kInt64:
    case TypeId::kTimestamp: return StrCat(column.data<int64_t>()[row]);
    case TypeId::kString: return std::string(column.data<std::string_view>()[row]);
    default: return "?";
  }
}

// Rows of `batch` as "v1|v2|...", with a validity check on every cell.
std::vector<std::string> RowsOf(const Batch& batch) {
  std::vector<std::string> rows;
  for (size_t i = 0; i < batch.active_rows(); ++i) {
    const size_t row = batch.ActiveRow(i);
    std::string text;
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      EXPECT_TRUE(batch.column(c).IsValid(row)) << "column " << c << " row " << row;
      StrAppend(&text, c == 0 ? "" : "|", CellText(batch.column(c), row));
    }
    rows.push_back(std::move(text));
  }
  return rows;
}

// All records of a generator as batch rows, produced `chunk` records at a time.
std::vector<std::string> BatchRows(const TradeGeneratorOptions& options, size_t chunk) {
  TradeGenerator generator(options);
  std::vector<std::string> rows;
  Batch batch;
  while (generator.FillBatch(chunk, batch) > 0) {
    for (std::string& row : RowsOf(batch)) rows.push_back(std::move(row));
  }
  return rows;
}

std::string JsonLines(const TradeGeneratorOptions& options, size_t chunk = 1000) {
  TradeGenerator generator(options);
  std::string out;
  while (generator.AppendJsonLines(chunk, out) > 0) {
  }
  return out;
}

std::vector<std::string_view> Lines(std::string_view text) {
  return StrSplit(text, '\n', /*skip_blank=*/true);
}

// Values of one column over all records, read from batches.
std::vector<std::string> ColumnValues(const TradeGeneratorOptions& options, size_t column) {
  TradeGenerator generator(options);
  std::vector<std::string> values;
  Batch batch;
  while (generator.FillBatch(4096, batch) > 0) {
    for (size_t row = 0; row < batch.num_rows(); ++row) values.push_back(CellText(batch.column(column), row));
  }
  return values;
}

std::vector<int64_t> Int64Column(const TradeGeneratorOptions& options, size_t column) {
  TradeGenerator generator(options);
  std::vector<int64_t> values;
  Batch batch;
  while (generator.FillBatch(4096, batch) > 0) {
    const int64_t* data = batch.column(column).data<int64_t>();
    values.insert(values.end(), data, data + batch.num_rows());
  }
  return values;
}

TradeGeneratorOptions Trades(uint64_t count, uint64_t seed = 42) {
  TradeGeneratorOptions options;
  options.count = count;
  options.seed = seed;
  return options;
}

TradeGeneratorOptions MarketData(uint64_t count) {
  TradeGeneratorOptions options = Trades(count);
  options.kind = TradeDataKind::kMarketData;
  return options;
}

constexpr size_t kTradeTime = 8;  // trade_time's column in the trade schema
constexpr size_t kTradeId = 0;

// --- determinism --------------------------------------------------------------------------

TEST(TradeGeneratorTest, SameSeedGivesIdenticalJsonLines) {
  TradeGeneratorOptions options = Trades(20000, 7);
  options.distribution = KeyDistribution::kZipf;
  options.out_of_order_fraction = 0.2;
  const std::string first = JsonLines(options);
  EXPECT_EQ(Lines(first).size(), 20000u);
  EXPECT_EQ(first, JsonLines(options));
}

TEST(TradeGeneratorTest, SameSeedGivesIdenticalBatches) {
  for (const TradeGeneratorOptions& options : {Trades(20000, 7), MarketData(20000)}) {
    const std::vector<std::string> first = BatchRows(options, 1024);
    ASSERT_EQ(first.size(), 20000u);
    EXPECT_EQ(first, BatchRows(options, 1024));
  }
}

TEST(TradeGeneratorTest, ChunkSizesDoNotChangeTheRecords) {
  TradeGeneratorOptions options = Trades(5000);
  options.out_of_order_fraction = 0.3;
  options.max_delay_millis = 40;
  const std::vector<std::string> reference = BatchRows(options, 5000);
  EXPECT_EQ(BatchRows(options, 1), reference);
  EXPECT_EQ(BatchRows(options, 7), reference);
  EXPECT_EQ(BatchRows(options, 1024), reference);
  EXPECT_EQ(JsonLines(options, 1), JsonLines(options, 4999));
}

TEST(TradeGeneratorTest, DifferentSeedGivesDifferentRecords) {
  const std::vector<std::string> a = BatchRows(Trades(1000, 1), 1024);
  const std::vector<std::string> b = BatchRows(Trades(1000, 2), 1024);
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  EXPECT_LT(same, 10u);  // every row differs but by astronomically rare accident
  EXPECT_NE(JsonLines(Trades(1000, 1)), JsonLines(Trades(1000, 2)));
}

TEST(TradeGeneratorTest, TradesAndMarketDataOfOneSeedAreUnrelated) {
  const std::vector<std::string> symbols_of_trades = ColumnValues(Trades(200), 2);
  const std::vector<std::string> symbols_of_quotes = ColumnValues(MarketData(200), 0);
  EXPECT_NE(symbols_of_trades, symbols_of_quotes);
}

TEST(TradeGeneratorTest, StopsAtCountAndReportsProgress) {
  TradeGenerator generator(Trades(2500));
  Batch batch;
  EXPECT_EQ(generator.FillBatch(1024, batch), 1024u);
  EXPECT_EQ(generator.FillBatch(1024, batch), 1024u);
  EXPECT_FALSE(generator.done());
  EXPECT_EQ(generator.FillBatch(1024, batch), 452u);
  EXPECT_EQ(batch.num_rows(), 452u);
  EXPECT_TRUE(generator.done());
  EXPECT_EQ(generator.FillBatch(1024, batch), 0u);
  EXPECT_EQ(batch.num_rows(), 0u);
  std::string text;
  EXPECT_EQ(generator.AppendJsonLines(10, text), 0u);
  EXPECT_EQ(generator.records_produced(), 2500u);
}

TEST(TradeGeneratorTest, InOrderByDefaultWithEventTimesAtTheRate) {
  TradeGeneratorOptions options = Trades(10000);
  options.events_per_second = 300;  // 3.33 ms apart
  const std::vector<int64_t> ids = Int64Column(options, kTradeId);
  const std::vector<int64_t> times = Int64Column(options, kTradeTime);
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_EQ(ids[i], static_cast<int64_t>(i) + 1);
    ASSERT_EQ(times[i], options.start_millis + static_cast<int64_t>(static_cast<double>(i) * 1000.0 / 300.0));
  }
}

// --- outputs agree ------------------------------------------------------------------------

// The engine's own JSON decoder reads the text into the declared schema with no error, and the
// values are exactly the batch values of the same options.
void ExpectJsonDecodesToTheBatches(const TradeGeneratorOptions& options) {
  const std::string text = JsonLines(options);
  const std::vector<std::string_view> lines = Lines(text);
  ASSERT_EQ(lines.size(), options.count);
  TradeGenerator generator(options);
  DecoderOptions decoder_options;
  decoder_options.schema = generator.schema();
  auto decoder = MakeJsonDecoder(decoder_options);
  ASSERT_TRUE(decoder.ok()) << decoder.status();
  std::vector<RecordError> errors;
  std::vector<std::string> decoded;
  Batch batch;
  for (size_t first = 0; first < lines.size(); first += 1024) {
    const size_t n = std::min<size_t>(1024, lines.size() - first);
    (*decoder)->Decode(std::span(lines).subspan(first, n), first + 1, batch, errors);
    for (std::string& row : RowsOf(batch)) decoded.push_back(std::move(row));
  }
  for (const RecordError& error : errors) ADD_FAILURE() << "line " << error.line << ": " << error.reason;
  EXPECT_EQ(decoded, BatchRows(options, 1024));
}

TEST(TradeGeneratorTest, JsonLinesDecodeIntoTheTradeSchemaWithZeroErrors) {
  TradeGeneratorOptions options = Trades(10000);
  options.distribution = KeyDistribution::kZipf;
  options.out_of_order_fraction = 0.1;
  ExpectJsonDecodesToTheBatches(options);
}

TEST(TradeGeneratorTest, MarketDataJsonLinesDecodeIntoTheMarketSchemaWithZeroErrors) {
  ExpectJsonDecodesToTheBatches(MarketData(10000));
}

TEST(TradeGeneratorTest, CsvDecodesToTheBatches) {
  for (const TradeGeneratorOptions& options : {Trades(3000), MarketData(3000)}) {
    TradeGenerator generator(options);
    std::string text;
    EXPECT_EQ(generator.AppendCsv(3000, text, /*header=*/true), 3000u);
    std::vector<std::string_view> lines = Lines(text);
    ASSERT_EQ(lines.size(), 3001u);
    std::string header;
    for (const Field& field : generator.schema().fields())
      StrAppend(&header, header.empty() ? "" : ",", field.name);
    EXPECT_EQ(lines[0], header);
    DecoderOptions decoder_options;
    decoder_options.schema = generator.schema();
    auto decoder = MakeCsvDecoder(decoder_options);
    ASSERT_TRUE(decoder.ok()) << decoder.status();
    std::vector<RecordError> errors;
    Batch batch;
    (*decoder)->Decode(std::span(lines).subspan(1), 2, batch, errors);
    EXPECT_TRUE(errors.empty()) << errors.front().reason;
    EXPECT_EQ(RowsOf(batch), BatchRows(options, 1024));
  }
}

// The hand-written text writers produce exactly what the engine's encoders make of the batches:
// same field order, shortest round-trip prices, epoch-millisecond times.
TEST(TradeGeneratorTest, TextEqualsTheEngineEncodersOutputForTheBatches) {
  TradeGeneratorOptions long_ids = Trades(5000);
  long_ids.trader_id_format = TraderIdFormat::kLong;
  for (const TradeGeneratorOptions& options : {Trades(5000), MarketData(5000), long_ids}) {
    TradeGenerator batches(options);
    auto json_encoder = MakeJsonEncoder(batches.schema());
    auto csv_encoder = MakeCsvEncoder(batches.schema(), ',');
    std::string encoded_json, encoded_csv;
    Batch batch;
    while (batches.FillBatch(777, batch) > 0) {
      json_encoder->Encode(batch, encoded_json);
      csv_encoder->Encode(batch, encoded_csv);
    }
    EXPECT_EQ(JsonLines(options), encoded_json);
    TradeGenerator csv(options);
    std::string text;
    csv.AppendCsv(5000, text, /*header=*/true);
    EXPECT_EQ(text, encoded_csv);
  }
}

TEST(TradeGeneratorTest, BatchStringsStayValidAfterTheGeneratorIsGone) {
  Batch batch;
  {
    TradeGenerator generator(Trades(100));
    generator.FillBatch(100, batch);
  }
  const auto* traders = batch.column(1).data<std::string_view>();
  for (size_t row = 0; row < 100; ++row) EXPECT_TRUE(StartsWith(traders[row], "TR")) << traders[row];
}

TEST(TradeGeneratorTest, ValuesStayInTheirDocumentedRanges) {
  TradeGenerator generator(Trades(20000));
  Batch batch;
  while (generator.FillBatch(4096, batch) > 0) {
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      const double price = batch.column(4).data<double>()[row];
      const int64_t quantity = batch.column(5).data<int64_t>()[row];
      const std::string_view side = batch.column(6).data<std::string_view>()[row];
      ASSERT_GE(price, 9.8);
      ASSERT_LT(price, 1020.0);
      ASSERT_EQ(std::round(price * 100) / 100, price);  // whole cents
      ASSERT_GE(quantity, 1);
      ASSERT_LE(quantity, 1000);
      ASSERT_TRUE(side == "BUY" || side == "SELL") << side;
    }
  }
  TradeGenerator market(MarketData(20000));
  while (market.FillBatch(4096, batch) > 0) {
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      const double price = batch.column(1).data<double>()[row];
      ASSERT_LT(batch.column(2).data<double>()[row], price);  // bid
      ASSERT_GT(batch.column(3).data<double>()[row], price);  // ask
      ASSERT_GE(batch.column(4).data<int64_t>()[row], 1);     // volume
    }
  }
}

// --- keys ---------------------------------------------------------------------------------

TEST(TradeGeneratorTest, CardinalitiesAreReachedExactly) {
  TradeGeneratorOptions options = Trades(200000);
  options.symbols = 123;
  options.traders = 4567;
  options.categories = 11;
  auto distinct = [&](size_t column) {
    const std::vector<std::string> values = ColumnValues(options, column);
    return std::set<std::string>(values.begin(), values.end());
  };
  const std::set<std::string> symbols = distinct(2), traders = distinct(1), categories = distinct(3);
  EXPECT_EQ(symbols.size(), 123u);
  EXPECT_EQ(traders.size(), 4567u);
  EXPECT_EQ(categories.size(), 11u);
  EXPECT_TRUE(symbols.count("SYM0") && symbols.count("SYM122"));
  EXPECT_TRUE(traders.count("TR0") && traders.count("TR4566"));
  EXPECT_TRUE(categories.count("CAT0") && categories.count("CAT10"));
  EXPECT_EQ(distinct(6), (std::set<std::string>{"BUY", "SELL"}));
  EXPECT_EQ(distinct(7).size(), 8u);  // venues
}

TEST(TradeGeneratorTest, ZipfMakesTheTopKeyFarMoreFrequentThanTheMedian) {
  TradeGeneratorOptions options = Trades(200000);
  options.symbols = 1000;
  options.distribution = KeyDistribution::kZipf;
  options.zipf_exponent = 1.0;
  std::map<std::string, int64_t> counts;
  for (const std::string& symbol : ColumnValues(options, 2)) ++counts[symbol];
  std::vector<std::pair<int64_t, std::string>> ranked;
  for (const auto& [symbol, count] : counts) ranked.emplace_back(count, symbol);
  std::sort(ranked.rbegin(), ranked.rend());
  EXPECT_EQ(ranked.front().second, "SYM0");
  const int64_t median = ranked[ranked.size() / 2].first;
  // Zipf(1) over 1,000 keys: P(key 0) / P(key 499) = 500.
  EXPECT_GT(ranked.front().first, 100 * median) << ranked.front().first << " vs median " << median;
  // About 200000 / H(1000) = 26,600 for the top key.
  EXPECT_NEAR(static_cast<double>(ranked.front().first), 200000 / 7.4855, 1500);
}

TEST(TradeGeneratorTest, UniformKeysAreEvenlySpread) {
  TradeGeneratorOptions options = Trades(200000);
  options.symbols = 100;
  std::map<std::string, int64_t> counts;
  for (const std::string& symbol : ColumnValues(options, 2)) ++counts[symbol];
  ASSERT_EQ(counts.size(), 100u);
  for (const auto& [symbol, count] : counts) {
    EXPECT_NEAR(static_cast<double>(count), 2000, 250) << symbol;  // > 5 standard deviations
  }
}

TEST(TradeGeneratorKeySamplerTest, ZipfTableEncodesThePowerLaw) {
  for (const double exponent : {0.5, 1.0, 1.5}) {
    const uint32_t n = 5000;
    KeySampler sampler(n, KeyDistribution::kZipf, exponent);
    double harmonic = 0;
    for (uint32_t k = 0; k < n; ++k) harmonic += std::pow(k + 1.0, -exponent);
    double total = 0;
    for (uint32_t k = 0; k < n; ++k) {
      const double expected = std::pow(k + 1.0, -exponent) / harmonic;
      const double actual = sampler.Probability(k);
      total += actual;
      ASSERT_NEAR(actual, expected, expected * 1e-6 + 1e-9) << "exponent " << exponent << " key " << k;
    }
    EXPECT_NEAR(total, 1.0, 1e-9);
  }
}

TEST(TradeGeneratorKeySamplerTest, SamplesStayBelowTheKeyCount) {
  for (const KeyDistribution distribution : {KeyDistribution::kUniform, KeyDistribution::kZipf}) {
    for (const uint32_t n : {1u, 2u, 3u, 1000u}) {
      KeySampler sampler(n, distribution, 1.2);
      for (uint64_t i = 0; i < 10000; ++i) ASSERT_LT(sampler.Sample(RandomAt(99, i)), n);
      EXPECT_LT(sampler.Sample(~0ULL), n);  // the extreme random values stay in range
      EXPECT_LT(sampler.Sample(0), n);
    }
  }
}

// --- out of order -------------------------------------------------------------------------

// Share of events whose event time is below the highest seen before them.
double OutOfOrderShare(const std::vector<int64_t>& times) {
  int64_t highest = INT64_MIN;
  size_t late = 0;
  for (const int64_t time : times) {
    late += time < highest;
    highest = std::max(highest, time);
  }
  return static_cast<double>(late) / static_cast<double>(times.size());
}

TEST(TradeGeneratorTest, OutOfOrderFractionIsRoughlyAsAsked) {
  for (const double fraction : {0.05, 0.1, 0.3}) {
    TradeGeneratorOptions options = Trades(100000);
    options.events_per_second = 1000;  // 1 ms apart: a delayed event is nearly always overtaken
    options.out_of_order_fraction = fraction;
    options.max_delay_millis = 2000;
    const double share = OutOfOrderShare(Int64Column(options, kTradeTime));
    EXPECT_NEAR(share, fraction, 0.1 * fraction + 0.002) << "asked " << fraction;
  }
  EXPECT_EQ(OutOfOrderShare(Int64Column(Trades(10000), kTradeTime)), 0.0);
}

TEST(TradeGeneratorTest, NoEventArrivesLaterThanMaxDelayBehindTheHighestEventTimeSeen) {
  struct Case {
    double rate;
    double fraction;
    int64_t max_delay;
  };
  for (const Case c : {Case{1000, 0.1, 5000}, Case{10, 0.5, 250}, Case{100000, 1.0, 3}, Case{50, 0.2, 1},
                       Case{1e6, 0.01, 20}}) {
    TradeGeneratorOptions options = Trades(50000);
    options.events_per_second = c.rate;
    options.out_of_order_fraction = c.fraction;
    options.max_delay_millis = c.max_delay;
    const std::vector<int64_t> times = Int64Column(options, kTradeTime);
    int64_t highest = INT64_MIN, worst = 0;
    for (const int64_t time : times) {
      highest = std::max(highest, time);
      worst = std::max(worst, highest - time);
    }
    EXPECT_LE(worst, c.max_delay) << "rate " << c.rate << " fraction " << c.fraction;
    // Every event arrives exactly once: the trade ids are a permutation of 1..count.
    std::vector<int64_t> ids = Int64Column(options, kTradeId);
    std::sort(ids.begin(), ids.end());
    for (size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(ids[i], static_cast<int64_t>(i) + 1);
  }
}

// Long trader_ids: 32..48 bytes, valid UTF-8 (some multi-byte), one distinct name per trader
// number, so that the same draws give as many distinct ids as the short names.
TEST(TradeGeneratorTest, LongTraderIdsAreDistinctUtf8NamesOf32To48Bytes) {
  TradeGeneratorOptions options = Trades(30000);
  options.traders = 20000;
  std::vector<std::string> short_ids = ColumnValues(options, 1);
  options.trader_id_format = TraderIdFormat::kLong;
  std::vector<std::string> long_ids = ColumnValues(options, 1);
  ASSERT_EQ(long_ids.size(), short_ids.size());
  std::map<std::string, std::string> long_of_short;
  std::set<std::string> distinct_long;
  size_t multi_byte = 0;
  std::set<size_t> lengths;
  for (size_t i = 0; i < long_ids.size(); ++i) {
    const std::string& id = long_ids[i];
    ASSERT_GE(id.size(), 32u) << id;
    ASSERT_LE(id.size(), 48u) << id;
    ASSERT_TRUE(IsValidUtf8(id)) << id;
    lengths.insert(id.size());
    auto [it, inserted] = long_of_short.emplace(short_ids[i], id);
    ASSERT_EQ(it->second, id) << "one trader, one name";
    distinct_long.insert(id);
  }
  for (const std::string& id : distinct_long) {
    if (std::any_of(id.begin(), id.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
      ++multi_byte;
    }
  }
  EXPECT_EQ(distinct_long.size(), long_of_short.size()) << "two traders share a name";
  EXPECT_EQ(lengths.size(), 17u) << "every length from 32 to 48";
  EXPECT_GT(multi_byte, distinct_long.size() * 7 / 10);  // three prefixes of four
  EXPECT_LT(multi_byte, distinct_long.size() * 8 / 10);
  ExpectJsonDecodesToTheBatches(options);
}

// bound_delay_every: every K-th event arrives exactly max_delay_millis behind the highest event
// time seen before it (the latest a watermark bound of max_delay_millis lets through), and no
// event later than that. (Those within max_delay_millis of the stream's last event time arrive
// at its end, less late.)
TEST(TradeGeneratorTest, BoundDelayEveryPutsEventsExactlyAtTheDelayBound) {
  TradeGeneratorOptions options = Trades(100000);
  options.events_per_second = 10000;
  options.out_of_order_fraction = 0.05;
  options.max_delay_millis = 2000;
  options.bound_delay_every = 1000;
  const std::vector<int64_t> times = Int64Column(options, kTradeTime);
  const std::vector<int64_t> ids = Int64Column(options, kTradeId);
  int64_t highest = INT64_MIN, worst = 0;
  size_t at_bound = 0, chosen_at_bound = 0;
  for (size_t i = 0; i < times.size(); ++i) {
    const int64_t lag = highest == INT64_MIN ? 0 : highest - times[i];
    worst = std::max(worst, lag);
    if (lag == 2000) ++at_bound;
    if (ids[i] % 1000 == 0 && times[i] + 2000 <= times.front() + 9999) {  // the last event is at 9,999 ms
      EXPECT_EQ(lag, 2000) << "trade " << ids[i];
      ++chosen_at_bound;
    }
    highest = std::max(highest, times[i]);
  }
  EXPECT_EQ(worst, 2000);
  EXPECT_EQ(chosen_at_bound, 80u);  // trade ids 1,000 .. 80,000
  EXPECT_GE(at_bound, 80u);
  std::vector<int64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], static_cast<int64_t>(i) + 1);
  // Without the option, the same profile never reaches the bound (a delay of d arrives before
  // the events of time + d).
  options.bound_delay_every = 0;
  const std::vector<int64_t> plain = Int64Column(options, kTradeTime);
  highest = INT64_MIN;
  worst = 0;
  for (const int64_t time : plain) {
    if (highest != INT64_MIN) worst = std::max(worst, highest - time);
    highest = std::max(highest, time);
  }
  EXPECT_LT(worst, 2000);
}

TEST(TradeGeneratorTest, OutOfOrderOnlyReordersTheSameEvents) {
  TradeGeneratorOptions in_order = Trades(5000);
  TradeGeneratorOptions shuffled = in_order;
  shuffled.out_of_order_fraction = 0.5;
  shuffled.max_delay_millis = 100;
  std::vector<std::string> a = BatchRows(in_order, 1024), b = BatchRows(shuffled, 1024);
  EXPECT_NE(a, b);
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b);
}

TEST(TradeGeneratorTest, ValidateRejectsOutOfRangeOptions) {
  EXPECT_TRUE(TradeGenerator::Validate(Trades(10)).ok());
  auto invalid = [](auto change) {
    TradeGeneratorOptions options = Trades(10);
    change(options);
    return !TradeGenerator::Validate(options).ok();
  };
  EXPECT_TRUE(invalid([](TradeGeneratorOptions& o) { o.symbols = 0; }));
  EXPECT_TRUE(
      invalid([](TradeGeneratorOptions& o) { o.traders = TradeGeneratorOptions::kMaxCardinality + 1; }));
  EXPECT_TRUE(invalid([](TradeGeneratorOptions& o) { o.events_per_second = 0; }));
  EXPECT_TRUE(invalid([](TradeGeneratorOptions& o) { o.out_of_order_fraction = 1.5; }));
  EXPECT_TRUE(invalid([](TradeGeneratorOptions& o) {
    o.out_of_order_fraction = 0.1;
    o.max_delay_millis = 0;
  }));
  EXPECT_TRUE(invalid([](TradeGeneratorOptions& o) {
    o.distribution = KeyDistribution::kZipf;
    o.zipf_exponent = 0;
  }));
}

// --- orders -------------------------------------------------------------------------------

TEST(DatagenOrderGeneratorTest, OrdersAreUnchangedBySharingTheRandomHeader) {
  OrderGenerator generator;
  std::string text;
  generator.AppendJsonLines(2, text);
  EXPECT_EQ(
      text,
      "{\"order_id\":1,\"customer_id\":\"CUST105413\",\"order_date\":1704067200000,\"total_amount\":922.91}\n"
      "{\"order_id\":2,\"customer_id\":\"CUST103858\",\"order_date\":1704067200010,\"total_amount\":557.64}"
      "\n");
  OrderGenerator csv;
  text.clear();
  csv.AppendCsv(1, text, /*header=*/true);
  EXPECT_EQ(text, "order_id,customer_id,order_date,total_amount\n1,CUST105413,1704067200000,922.91\n");
}

// --- the `sluice datagen` command ----------------------------------------------------------

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

CommandResult RunSluice(const std::string& arguments) {
  testing::TemporaryDirectory directory;
  const std::string out = directory.File("stdout"), err = directory.File("stderr");
  const std::string command = StrCat("cd ", SLUICE_SOURCE_DIR, " && ", SLUICE_BINARY, " ", arguments, " >",
                                     out, " 2>", err, " </dev/null");
  const int status = std::system(command.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = testing::ReadFile(out);
  result.err = testing::ReadFile(err);
  return result;
}

bool Contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

TEST(DatagenCliTest, SameSeedTwiceGivesIdenticalBytes) {
  const CommandResult first = RunSluice("datagen --kind trades --count 1000 --seed 7");
  const CommandResult second = RunSluice("datagen --kind trades --count 1000 --seed 7");
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(Lines(first.out).size(), 1000u);
  EXPECT_EQ(std::count(first.out.begin(), first.out.end(), '\n'), 1000);
  EXPECT_EQ(first.out, second.out);
  TradeGeneratorOptions options = Trades(1000, 7);
  EXPECT_EQ(first.out, JsonLines(options));  // the command writes what the library generates
  EXPECT_NE(first.out, RunSluice("datagen --kind trades --count 1000 --seed 8").out);
}

TEST(DatagenCliTest, UnknownFlagExitsTwoWithUsage) {
  const CommandResult result = RunSluice("datagen --kind trades --count 10 --fast");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(Contains(result.err, "unknown option '--fast'")) << result.err;
  EXPECT_TRUE(Contains(result.err, "usage: sluice datagen")) << result.err;
  EXPECT_TRUE(result.out.empty());
}

TEST(DatagenCliTest, BadValuesAndMissingFlagsExitTwo) {
  for (const char* arguments :
       {"datagen --count 10", "datagen --kind trades", "datagen --kind bonds --count 1",
        "datagen --kind trades --count ten", "datagen --kind trades --count 5 --format xml",
        "datagen --kind trades --count 5 --out-of-order 2", "datagen --kind trades --count 5 --symbols 0",
        "datagen --kind trades --count 5 --distribution uniform --zipf-exponent 2",
        "datagen --kind market --count 5 --traders 3", "datagen --kind orders --count 5 --symbols 3",
        "datagen --kind trades --count 5 --customers 3", "datagen --kind trades --count 5 --rate-limit 0",
        "datagen --kind trades --count"}) {
    const CommandResult result = RunSluice(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments;
    EXPECT_TRUE(Contains(result.err, "usage: sluice datagen")) << arguments << "\n" << result.err;
  }
}

TEST(DatagenCliTest, HelpDescribesEveryFlag) {
  const CommandResult result = RunSluice("datagen --help");
  EXPECT_EQ(result.exit_code, 0);
  for (const char* flag :
       {"--kind", "--count", "--format", "--output", "--seed", "--symbols", "--traders", "--categories",
        "--distribution", "--zipf-exponent", "--rate ", "--out-of-order", "--max-delay", "--rate-limit",
        "--trader-ids", "--bound-delay-every", "--events-per-second", "nexmark"}) {
    EXPECT_TRUE(Contains(result.out, flag)) << flag;
  }
  EXPECT_TRUE(Contains(RunSluice("--help").out, "datagen")) << "main usage lists datagen";
}

TEST(DatagenCliTest, EveryKindAndFormatWritesCountRecords) {
  for (const char* kind : {"trades", "orders", "market"}) {
    const CommandResult json = RunSluice(StrCat("datagen --kind ", kind, " --count 300 --seed 3"));
    EXPECT_EQ(json.exit_code, 0) << json.err;
    EXPECT_EQ(Lines(json.out).size(), 300u) << kind;
    const CommandResult csv = RunSluice(StrCat("datagen --kind ", kind, " --count 300 --format csv"));
    EXPECT_EQ(csv.exit_code, 0) << csv.err;
    EXPECT_EQ(Lines(csv.out).size(), 301u) << kind;  // with the header
  }
}

TEST(DatagenCliTest, FlagsReachTheGenerator) {
  const CommandResult result = RunSluice(
      "datagen --kind trades --count 4000 --seed 11 --symbols 3 --traders 5 --categories 2 "
      "--zipf-exponent 1.3 --rate 50 --out-of-order 0.25 --max-delay=700");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  TradeGeneratorOptions options = Trades(4000, 11);
  options.symbols = 3;
  options.traders = 5;
  options.categories = 2;
  options.distribution = KeyDistribution::kZipf;
  options.zipf_exponent = 1.3;
  options.events_per_second = 50;
  options.out_of_order_fraction = 0.25;
  options.max_delay_millis = 700;
  EXPECT_EQ(result.out, JsonLines(options));
}

TEST(DatagenCliTest, OutputFileHoldsTheSameBytesAsStdout) {
  testing::TemporaryDirectory directory;
  const std::string path = directory.File("market.csv");
  const CommandResult result =
      RunSluice(StrCat("datagen --kind market --count 2000 --format csv --output ", path));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out.empty());
  EXPECT_EQ(testing::ReadFile(path), RunSluice("datagen --kind market --count 2000 --format csv").out);
  EXPECT_EQ(RunSluice("datagen --kind trades --count 1 --output /nonexistent/dir/x.jsonl").exit_code, 1);
}

TEST(DatagenCliTest, RateLimitPacesTheOutput) {
  const auto start = std::chrono::steady_clock::now();
  const CommandResult result = RunSluice("datagen --kind trades --count 60 --rate-limit 400");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, RunSluice("datagen --kind trades --count 60").out);
  EXPECT_GE(seconds, 0.14);  // 60 records at 400/s take 0.15 s
}

TEST(DatagenCliTest, GeneratedTradesFeedAJob) {
  testing::TemporaryDirectory directory;
  const std::string path = directory.File("trades.jsonl");
  ASSERT_EQ(RunSluice(StrCat("datagen --kind trades --count 5000 --output ", path)).exit_code, 0);
  const CommandResult job = RunSluice(StrCat("run examples/volume_by_symbol.sql --set TRADES=", path));
  EXPECT_EQ(job.exit_code, 0) << job.err;
  EXPECT_TRUE(Contains(job.err, "records in: 5,000")) << job.err;
  EXPECT_TRUE(Contains(job.err, "dead-lettered: 0")) << job.err;
}

// The example job allows 5 s of out-of-orderness: trades delayed by at most 5 s must give exactly
// the windows of the in-order stream (nothing dropped as late), and longer delays must not.
TEST(DatagenCliTest, DelaysWithinTheWatermarkBoundChangeNoWindow) {
  testing::TemporaryDirectory directory;
  auto windows = [&](const std::string& flags) {
    const std::string path = directory.File("trades.jsonl");
    EXPECT_EQ(
        RunSluice(StrCat("datagen --kind trades --count 150000 --rate 2000 ", flags, " --output ", path))
            .exit_code,
        0);
    const CommandResult job =
        RunSluice(StrCat("run examples/trader_minute_volume.sql --quiet --set TRADES=", path));
    EXPECT_EQ(job.exit_code, 0) << job.err;
    std::vector<std::string_view> rows = Lines(job.out);
    std::sort(rows.begin(), rows.end());
    return std::vector<std::string>(rows.begin(), rows.end());
  };
  const std::vector<std::string> in_order = windows("");
  EXPECT_GT(in_order.size(), 1000u);
  EXPECT_EQ(windows("--out-of-order 0.3 --max-delay 5000"), in_order);
  EXPECT_NE(windows("--out-of-order 0.3 --max-delay 20000"), in_order);
}

// --- Nexmark --------------------------------------------------------------------------------

NexmarkGeneratorOptions Nexmark(uint64_t count, uint64_t seed = 42) {
  NexmarkGeneratorOptions options;
  options.count = count;
  options.seed = seed;
  return options;
}

struct NexmarkText {
  std::string persons, auctions, bids;
  bool operator==(const NexmarkText&) const = default;
};

NexmarkText NexmarkJsonLines(const NexmarkGeneratorOptions& options, size_t chunk = 4096) {
  NexmarkGenerator generator(options);
  NexmarkText text;
  while (generator.AppendJsonLines(chunk, text.persons, text.auctions, text.bids) > 0) {
  }
  return text;
}

// One event as read back from its JSON line (with simdjson's DOM API, not Sluice's decoder).
struct NexmarkRecord {
  NexmarkEventKind kind;
  int64_t time = 0;
  int64_t id = 0, seller = 0, category = 0, initial_bid = 0, reserve = 0, expires = 0;  // person, auction
  int64_t auction = 0, bidder = 0, price = 0;                                           // bid
  std::string name, email, credit_card, city, state, item, description, channel, url, extra;
  size_t bytes = 0;  // of the line
};

// The events of `options` in event order: the generator is asked for one event at a time, and
// the file that grew says its kind.
std::vector<NexmarkRecord> NexmarkRecords(const NexmarkGeneratorOptions& options) {
  NexmarkGenerator generator(options);
  std::vector<NexmarkRecord> records;
  simdjson::dom::parser parser;
  std::string outputs[3];
  while (true) {
    size_t before[3];
    for (int i = 0; i < 3; ++i) before[i] = outputs[i].size();
    if (generator.AppendJsonLines(1, outputs[0], outputs[1], outputs[2]) == 0) break;
    int grown = -1;
    for (int i = 0; i < 3; ++i) {
      if (outputs[i].size() != before[i]) {
        EXPECT_EQ(grown, -1) << "one event went to two files";
        grown = i;
      }
    }
    if (grown < 0) {
      ADD_FAILURE() << "an event wrote nothing";
      break;
    }
    const std::string line = outputs[grown].substr(before[grown]);
    EXPECT_EQ(line.back(), '\n');
    simdjson::dom::element object;
    if (parser.parse(line).get(object) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << line;
      break;
    }
    NexmarkRecord r;
    r.kind = static_cast<NexmarkEventKind>(grown);
    r.bytes = line.size();
    auto integer = [&](const char* field) {
      int64_t value = 0;
      EXPECT_EQ(object[field].get(value), simdjson::SUCCESS) << field << " in " << line;
      return value;
    };
    auto text = [&](const char* field) {
      std::string_view value;
      EXPECT_EQ(object[field].get(value), simdjson::SUCCESS) << field << " in " << line;
      return std::string(value);
    };
    std::vector<std::string> expected_fields;
    r.time = integer("dateTime");
    r.extra = text("extra");
    if (r.kind == NexmarkEventKind::kPerson) {
      expected_fields = {"id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra"};
      r.id = integer("id");
      r.name = text("name");
      r.email = text("emailAddress");
      r.credit_card = text("creditCard");
      r.city = text("city");
      r.state = text("state");
    } else if (r.kind == NexmarkEventKind::kAuction) {
      expected_fields = {"id",       "itemName", "description", "initialBid", "reserve",
                         "dateTime", "expires",  "seller",      "category",   "extra"};
      r.id = integer("id");
      r.item = text("itemName");
      r.description = text("description");
      r.initial_bid = integer("initialBid");
      r.reserve = integer("reserve");
      r.expires = integer("expires");
      r.seller = integer("seller");
      r.category = integer("category");
    } else {
      expected_fields = {"auction", "bidder", "price", "channel", "url", "dateTime", "extra"};
      r.auction = integer("auction");
      r.bidder = integer("bidder");
      r.price = integer("price");
      r.channel = text("channel");
      r.url = text("url");
    }
    std::vector<std::string> fields;
    for (auto field : object.get_object()) fields.emplace_back(field.key);
    EXPECT_EQ(fields, expected_fields) << line;  // Nexmark's field names, in its order
    records.push_back(std::move(r));
  }
  return records;
}

TEST(NexmarkGeneratorTest, EventsComeInTheProportionsOneToThreeToFortySix) {
  // Nexmark's layout: in every 50 events, one person, then 3 auctions, then 46 bids.
  const std::vector<NexmarkRecord> records = NexmarkRecords(Nexmark(5000));
  ASSERT_EQ(records.size(), 5000u);
  for (size_t n = 0; n < records.size(); ++n) {
    const size_t offset = n % 50;
    const NexmarkEventKind expected = offset == 0  ? NexmarkEventKind::kPerson
                                      : offset < 4 ? NexmarkEventKind::kAuction
                                                   : NexmarkEventKind::kBid;
    ASSERT_EQ(records[n].kind, expected) << "event " << n;
  }
  // Over a larger count, the files' line counts: 1:3:46 of 1,000,000.
  const NexmarkText text = NexmarkJsonLines(Nexmark(1'000'000));
  EXPECT_EQ(Lines(text.persons).size(), 20'000u);
  EXPECT_EQ(Lines(text.auctions).size(), 60'000u);
  EXPECT_EQ(Lines(text.bids).size(), 920'000u);
}

TEST(NexmarkGeneratorTest, PersonAndAuctionIdsAreConsecutiveFromOneThousand) {
  int64_t persons = 0, auctions = 0;
  for (const NexmarkRecord& r : NexmarkRecords(Nexmark(20000))) {
    if (r.kind == NexmarkEventKind::kPerson) {
      EXPECT_EQ(r.id, NexmarkGenerator::kFirstPersonId + persons++);
    } else if (r.kind == NexmarkEventKind::kAuction) {
      EXPECT_EQ(r.id, NexmarkGenerator::kFirstAuctionId + auctions++);
    }
  }
  EXPECT_EQ(persons, 400);
  EXPECT_EQ(auctions, 1200);
}

// Sellers, bidders and bid auctions refer to persons and auctions as Nexmark's generator does:
// the hot one of the current block of 100 with probability 1 - 1/ratio, else one of the
// recent ones (1000 active persons, 100 auctions in flight) or up to 10 ids not created yet.
TEST(NexmarkGeneratorTest, IdsReferToExistingPersonsAndAuctionsAsNexmarkDoes) {
  const std::vector<NexmarkRecord> records = NexmarkRecords(Nexmark(200'000));
  int64_t last_person = -1, last_auction = -1;  // ids of the latest created
  int64_t bids = 0, hot_auctions = 0, hot_bidders = 0, existing_auctions = 0, existing_bidders = 0;
  int64_t sellers = 0, hot_sellers = 0, existing_sellers = 0;
  for (const NexmarkRecord& r : records) {
    if (r.kind == NexmarkEventKind::kPerson) {
      last_person = r.id;
    } else if (r.kind == NexmarkEventKind::kAuction) {
      last_auction = r.id;
      ++sellers;
      const int64_t hot = NexmarkGenerator::kFirstPersonId + (last_person - 1000) / 100 * 100;
      hot_sellers += r.seller == hot;
      existing_sellers += r.seller <= last_person;
      EXPECT_LE(r.seller, last_person + NexmarkGenerator::kIdLead);
      EXPECT_GE(r.seller, std::max<int64_t>(1000, last_person - 1000 + 1)) << "not an active person";
      EXPECT_GE(r.category, 10);
      EXPECT_LE(r.category, 14);
    } else {
      ++bids;
      const int64_t hot_auction = 1000 + (last_auction - 1000) / 100 * 100;
      const int64_t hot_bidder = 1000 + (last_person - 1000) / 100 * 100 + 1;
      hot_auctions += r.auction == hot_auction;
      hot_bidders += r.bidder == hot_bidder;
      existing_auctions += r.auction <= last_auction;
      existing_bidders += r.bidder <= last_person;
      EXPECT_LE(r.auction, last_auction + NexmarkGenerator::kIdLead);
      EXPECT_GE(r.auction, std::min(hot_auction, std::max<int64_t>(1000, last_auction - 100)))
          << "not an auction in flight";
      EXPECT_LE(r.bidder, std::max(hot_bidder, last_person + NexmarkGenerator::kIdLead));
    }
  }
  auto share = [](int64_t part, int64_t whole) {
    return static_cast<double>(part) / static_cast<double>(whole);
  };
  // Hot: 1/2 of bids' auctions (hot_auction_ratio 2), 3/4 of bidders and sellers (ratio 4),
  // plus the few random draws that land on the hot id.
  EXPECT_NEAR(share(hot_auctions, bids), 0.5 + 0.5 / 111, 0.01);
  EXPECT_NEAR(share(hot_bidders, bids), 0.75, 0.01);
  EXPECT_NEAR(share(hot_sellers, sellers), 0.75, 0.02);
  // Leads: a random auction is one not yet created 10 times in 111, a random person 10 in 1010.
  EXPECT_NEAR(share(existing_auctions, bids), 1 - 0.5 * 10 / 111, 0.01);
  // Not yet created: a random bidder 10 times in 1010, and the hot bidder (the second person of
  // the block) while the block's first person is the latest, for 1 bid in 100.
  EXPECT_NEAR(share(existing_bidders, bids), 1 - 0.75 * 0.01 - 0.25 * 10 / 1010, 0.002);
  EXPECT_GT(share(existing_sellers, sellers), 0.99);
}

TEST(NexmarkGeneratorTest, EventTimesFollowTheInterEventDelayAndNeverDecrease) {
  for (double rate : {10000.0, 3.0, 1e7}) {
    NexmarkGeneratorOptions options = Nexmark(5000);
    options.events_per_second = rate;
    const std::vector<NexmarkRecord> records = NexmarkRecords(options);
    ASSERT_EQ(records.size(), 5000u);
    for (size_t n = 0; n < records.size(); ++n) {
      // Nexmark's timestampForEvent: base + floor(n * delay_us) / 1000.
      const auto micros = static_cast<int64_t>(static_cast<double>(n) * (1e6 / rate));
      ASSERT_EQ(records[n].time, options.start_millis + micros / 1000)
          << "event " << n << " at rate " << rate;
      if (n > 0) {
        ASSERT_GE(records[n].time, records[n - 1].time);
      }
    }
  }
  NexmarkGeneratorOptions options = Nexmark(100'001);
  const std::vector<NexmarkRecord> records = NexmarkRecords(options);
  EXPECT_EQ(records.back().time - records.front().time, 10'000) << "10,000 events per second by default";
}

TEST(NexmarkGeneratorTest, AuctionsExpireWithinTwiceTheInFlightHorizon) {
  // The horizon: the time until 100 more auctions exist, 100 * 50 / 3 = 1666 events, 166 ms at
  // 10,000 events/s; a length is 1 + uniform[0, 2 * horizon).
  int64_t auctions = 0, longest = 0, total = 0;
  for (const NexmarkRecord& r : NexmarkRecords(Nexmark(100'000))) {
    if (r.kind != NexmarkEventKind::kAuction) continue;
    ++auctions;
    const int64_t length = r.expires - r.time;
    EXPECT_GE(length, 1);
    EXPECT_LE(length, 2 * 167);
    longest = std::max(longest, length);
    total += length;
  }
  EXPECT_GE(longest, 320);
  EXPECT_NEAR(static_cast<double>(total) / static_cast<double>(auctions), 167, 6);
}

TEST(NexmarkGeneratorTest, ValuesFollowNexmarksDistributions) {
  const std::vector<NexmarkRecord> records = NexmarkRecords(Nexmark(100'000));
  const std::set<std::string> states = {"AZ", "CA", "ID", "OR", "WA", "WY"};
  const std::set<std::string> hot_channels = {"Google", "Facebook", "Baidu", "Apple"};
  std::set<std::string> seen_states, seen_cities;
  std::set<int64_t> categories;
  std::map<std::string, std::set<std::string>> urls_of_channel;
  int64_t bids = 0, hot = 0, with_channel_id = 0, low_prices = 0, auctions = 0;
  double bid_bytes = 0, person_bytes = 0, auction_bytes = 0;
  int64_t persons = 0;
  auto is_word = [](const std::string& text, char special) {
    if (!text.empty() && (text.front() == ' ' || text.back() == ' ')) return false;  // trimmed
    return std::all_of(text.begin(), text.end(),
                       [&](char c) { return (c >= 'a' && c <= 'z') || c == special; });
  };
  for (const NexmarkRecord& r : records) {
    if (r.kind == NexmarkEventKind::kPerson) {
      ++persons;
      person_bytes += static_cast<double>(r.bytes);
      EXPECT_TRUE(states.count(r.state)) << r.state;
      seen_states.insert(r.state);
      seen_cities.insert(r.city);
      EXPECT_EQ(r.credit_card.size(), 19u) << r.credit_card;
      EXPECT_EQ(std::count(r.credit_card.begin(), r.credit_card.end(), ' '), 3) << r.credit_card;
      EXPECT_EQ(std::count(r.name.begin(), r.name.end(), ' '), 1) << r.name;
      EXPECT_TRUE(r.email.size() >= 5 && r.email.find('@') != std::string::npos &&
                  r.email.substr(r.email.size() - 4) == ".com")
          << r.email;
    } else if (r.kind == NexmarkEventKind::kAuction) {
      ++auctions;
      auction_bytes += static_cast<double>(r.bytes);
      categories.insert(r.category);
      EXPECT_GE(r.initial_bid, 100);
      EXPECT_LE(r.initial_bid, 100'000'000);
      EXPECT_GE(r.reserve, r.initial_bid + 100);
      EXPECT_TRUE(is_word(r.item, ' ') && r.item.size() <= 19) << r.item;
      EXPECT_TRUE(is_word(r.description, ' ') && r.description.size() <= 99) << r.description;
    } else {
      ++bids;
      bid_bytes += static_cast<double>(r.extra.size() + 32);
      EXPECT_GE(r.price, 100);
      EXPECT_LE(r.price, 100'000'000);
      low_prices += r.price < 10'000;
      urls_of_channel[r.channel].insert(r.url);
      EXPECT_EQ(r.url.rfind("https://www.nexmark.com/", 0), 0u) << r.url;
      if (hot_channels.count(r.channel)) {
        ++hot;
      } else {
        EXPECT_EQ(r.channel.rfind("channel-", 0), 0u) << r.channel;
        with_channel_id += r.url.find("&channel_id=") != std::string::npos;
      }
    }
    EXPECT_TRUE(!r.extra.empty() && is_word(r.extra, ' ')) << r.extra;
  }
  EXPECT_EQ(seen_states.size(), 6u);
  EXPECT_EQ(seen_cities.size(), 10u);
  EXPECT_EQ(categories, (std::set<int64_t>{10, 11, 12, 13, 14}));
  auto share = [](int64_t part, int64_t whole) {
    return static_cast<double>(part) / static_cast<double>(whole);
  };
  // Prices are log-uniform over [10^2, 10^8]: a third lie below 10^4.
  EXPECT_NEAR(share(low_prices, bids), 1.0 / 3, 0.01);
  // Half the bids come from the 4 hot channels; 9 in 10 of the other channels' urls carry an id.
  EXPECT_NEAR(share(hot, bids), 0.5, 0.01);
  EXPECT_NEAR(share(with_channel_id, bids - hot), 0.9, 0.02);
  for (const auto& [channel, urls] : urls_of_channel) EXPECT_EQ(urls.size(), 1u) << "one url per channel";
  // Nexmark's average sizes (its own accounting: 8 bytes per number): a bid 100 bytes.
  EXPECT_NEAR(bid_bytes / static_cast<double>(bids), 100, 2);
  EXPECT_GT(person_bytes / static_cast<double>(persons), 200);
  EXPECT_GT(auction_bytes / static_cast<double>(auctions), 500);
}

TEST(NexmarkGeneratorTest, SameSeedGivesIdenticalFilesWhateverTheChunks) {
  const NexmarkText text = NexmarkJsonLines(Nexmark(30'000, 7));
  EXPECT_EQ(text, NexmarkJsonLines(Nexmark(30'000, 7), 1));
  EXPECT_EQ(text, NexmarkJsonLines(Nexmark(30'000, 7), 333));
  EXPECT_EQ(text, NexmarkJsonLines(Nexmark(30'000, 7), 100'000));
  const NexmarkText other = NexmarkJsonLines(Nexmark(30'000, 8));
  EXPECT_NE(text.persons, other.persons);
  EXPECT_NE(text.auctions, other.auctions);
  EXPECT_NE(text.bids, other.bids);
  // The seed drives every draw, not only the tables of urls and extra text: bids at the same
  // position hardly ever agree on their price, persons on their name and card.
  const std::vector<NexmarkRecord> seven = NexmarkRecords(Nexmark(5000, 7));
  const std::vector<NexmarkRecord> eight = NexmarkRecords(Nexmark(5000, 8));
  int same_prices = 0, same_cards = 0;
  for (size_t n = 0; n < seven.size(); ++n) {
    same_prices += seven[n].kind == NexmarkEventKind::kBid && seven[n].price == eight[n].price;
    same_cards += seven[n].kind == NexmarkEventKind::kPerson && seven[n].credit_card == eight[n].credit_card;
  }
  EXPECT_LT(same_prices, 10);
  EXPECT_EQ(same_cards, 0);
  // A prefix of the events is a prefix of each file.
  const NexmarkText prefix = NexmarkJsonLines(Nexmark(10'000, 7));
  EXPECT_EQ(text.bids.substr(0, prefix.bids.size()), prefix.bids);
  EXPECT_EQ(text.persons.substr(0, prefix.persons.size()), prefix.persons);
}

TEST(NexmarkGeneratorTest, ValidateRejectsOutOfRangeOptions) {
  EXPECT_TRUE(NexmarkGenerator::Validate(Nexmark(10)).ok());
  NexmarkGeneratorOptions options = Nexmark(10);
  options.events_per_second = 0;
  EXPECT_FALSE(NexmarkGenerator::Validate(options).ok());
  options = Nexmark(10);
  options.bid_proportion = 0;
  EXPECT_FALSE(NexmarkGenerator::Validate(options).ok());
  options = Nexmark(10);
  options.hot_auction_ratio = 0;
  EXPECT_FALSE(NexmarkGenerator::Validate(options).ok());
  options = Nexmark(NexmarkGeneratorOptions::kMaxCount + 1);
  EXPECT_FALSE(NexmarkGenerator::Validate(options).ok());
}

TEST(DatagenCliTest, NexmarkWritesTheGeneratorsFilesAndTheSideInput) {
  testing::TemporaryDirectory directory;
  const std::string out = directory.File("nexmark/new");  // created, parents too
  const CommandResult result = RunSluice(
      StrCat("datagen --kind nexmark --count 70000 --seed 5 --events-per-second 500 --output ", out));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  NexmarkGeneratorOptions options = Nexmark(70'000, 5);
  options.events_per_second = 500;
  const NexmarkText expected = NexmarkJsonLines(options);
  EXPECT_EQ(testing::ReadFile(out + "/persons.jsonl"), expected.persons);
  EXPECT_EQ(testing::ReadFile(out + "/auctions.jsonl"), expected.auctions);
  EXPECT_EQ(testing::ReadFile(out + "/bids.jsonl"), expected.bids);
  const std::vector<std::string> side_input = testing::ReadLines(out + "/side_input.jsonl");
  ASSERT_EQ(side_input.size(), 10'000u);
  EXPECT_EQ(side_input[0], "{\"key\":0,\"value\":\"0\"}");
  EXPECT_EQ(side_input[9999], "{\"key\":9999,\"value\":\"9999\"}");
  // --rate is the same flag.
  const std::string again = directory.File("again");
  ASSERT_EQ(RunSluice(StrCat("datagen --kind nexmark --count 70000 --seed 5 --rate 500 --output ", again))
                .exit_code,
            0);
  EXPECT_EQ(testing::ReadFile(again + "/bids.jsonl"), expected.bids);
}

TEST(DatagenCliTest, NexmarkRefusesFlagsThatDoNotApply) {
  testing::TemporaryDirectory directory;
  const std::string out = directory.File("n");
  const std::pair<std::string, std::string> cases[] = {
      {"--count 10", "--output DIR is required"},
      {StrCat("--count 10 --output ", out, " --format csv"), "--format does not apply to --kind nexmark"},
      {StrCat("--count 10 --output ", out, " --symbols 3"), "--symbols does not apply to --kind nexmark"},
      {StrCat("--count 10 --output ", out, " --customers 3"), "--customers does not apply to --kind nexmark"},
      {StrCat("--count 10 --output ", out, " --rate-limit 5"),
       "--rate-limit does not apply to --kind nexmark"},
      {"--count 10 --kafka localhost:9092 --topic t", "--kafka does not apply to --kind nexmark"},
      {StrCat("--count 10 --output ", out, " --events-per-second 0"), "--events-per-second needs a number"},
      {StrCat("--count x --output ", out), "--count needs a whole number"},
  };
  for (const auto& [flags, message] : cases) {
    const CommandResult result = RunSluice(StrCat("datagen --kind nexmark ", flags));
    EXPECT_EQ(result.exit_code, 2) << flags;
    EXPECT_TRUE(Contains(result.err, message)) << flags << "\n" << result.err;
    EXPECT_TRUE(Contains(result.err, "usage: sluice datagen")) << flags;
  }
  EXPECT_FALSE(std::filesystem::exists(out)) << "nothing written on a usage error";
  EXPECT_EQ(RunSluice("datagen --kind nexmark --count 10 --output /proc/nexmark").exit_code, 1);
}

TEST(DatagenCliTest, GeneratedNexmarkBidsFeedTheQ0Job) {
  testing::TemporaryDirectory directory;
  ASSERT_EQ(RunSluice(StrCat("datagen --kind nexmark --count 50000 --output ", directory.path())).exit_code,
            0);
  const CommandResult job = RunSluice(StrCat("run scenarios/nexmark/q0.sql --set NEXMARK=", directory.path(),
                                             " --set OUTPUT=", directory.File("q0.jsonl")));
  EXPECT_EQ(job.exit_code, 0) << job.err;
  EXPECT_TRUE(Contains(job.err, "records in: 46,000")) << job.err;
  EXPECT_TRUE(Contains(job.err, "dead-lettered: 0")) << job.err;
}

}  // namespace
}  // namespace sluice
