// Micro-benchmarks of the hot kernels under the scenarios (make microbench): key hashing and
// lookup and erasure (KeyTable), an aggregation update (Accumulator), window starts (floor
// division), expression evaluation (a filter
// predicate and arithmetic), JSON decode and JSON encode. Items/s is rows per second on one thread.
// Inputs come from the trade generator (the lab's data), built before timing.
#include <benchmark/benchmark.h>

#include <random>

#include "common/floor_division.h"
#include "common/hash.h"
#include "common/unaligned.h"
#include "connectors/source.h"
#include "expr/expression_executor.h"
#include "formats/record_format.h"
#include "ops/accumulator.h"
#include "plan/binder.h"
#include "sql/parser.h"
#include "state/key_table.h"
#include "trade_generator.h"

namespace sluice {
namespace {

// 256 batches of 1024 trades over `traders` traders (columns in TradeSchema() order).
std::vector<Batch> Trades(int64_t traders) {
  TradeGeneratorOptions options;
  options.traders = traders;
  options.count = 256 * 1024;
  TradeGenerator generator(options);
  std::vector<Batch> batches;
  while (true) {
    Batch batch;
    if (generator.FillBatch(1024, batch) == 0) break;
    batches.push_back(std::move(batch));
  }
  return batches;
}

constexpr size_t kTraderColumn = 1;
constexpr size_t kSymbolColumn = 2;
constexpr size_t kPriceColumn = 4;
constexpr size_t kQuantityColumn = 5;
constexpr size_t kTimeColumn = 8;

// The form HashString had before LoadShortString, kept as the reference for BM_HashString:
// short strings read with a branch on the length class (under 4, 4 to 7, 8 to 16 bytes).
uint64_t HashStringByLengthClass(std::string_view text) {
  const char* p = text.data();
  const size_t n = text.size();
  uint64_t a = 0;
  uint64_t b = 0;
  if (n >= 8) return HashString(text);
  if (n >= 4) {
    a = LoadUnaligned32(p);
    b = LoadUnaligned32(p + n - 4);
  } else if (n > 0) {
    a = (uint64_t{static_cast<uint8_t>(p[0])} << 16) | (uint64_t{static_cast<uint8_t>(p[n / 2])} << 8) |
        uint64_t{static_cast<uint8_t>(p[n - 1])};
  }
  return HashMix64(HashMix64(a ^ (0x9e3779b97f4a7c15ULL * (n + 1))) ^ b);
}

// Hashing the trader column ("TR1" to "TR1000": 3 to 6 bytes in random order), by the
// reference form (0) and by HashString (1).
void BM_HashString(benchmark::State& state) {
  const bool current = state.range(0) != 0;
  const std::vector<Batch> batches = Trades(1000);
  std::vector<uint64_t> hashes(1024);
  size_t next = 0;
  uint64_t rows = 0;
  for (auto _ : state) {
    const Batch& batch = batches[next];
    const std::string_view* traders = batch.column(kTraderColumn).data<std::string_view>();
    const size_t count = batch.num_rows();
    if (current) {
      for (size_t i = 0; i < count; ++i) hashes[i] = HashString(traders[i]);
    } else {
      for (size_t i = 0; i < count; ++i) hashes[i] = HashStringByLengthClass(traders[i]);
    }
    benchmark::DoNotOptimize(hashes.data());
    rows += count;
    next = next + 1 == batches.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
}
BENCHMARK(BM_HashString)->ArgNames({"current"})->Arg(0)->Arg(1);

// KeyTable::FindOrInsert over string keys: one key column (the direct, dictionary-indexed
// path) or two (the hash table), with `traders` distinct traders.
void BM_KeyTable_FindOrInsert(benchmark::State& state) {
  const int64_t traders = state.range(0);
  const bool composite = state.range(1) != 0;
  const std::vector<Batch> batches = Trades(traders);
  std::vector<TypeId> types = {TypeId::kString};
  if (composite) types.push_back(TypeId::kString);
  KeyTable table(types);
  std::vector<uint32_t> ids(1024);
  size_t next = 0;
  uint64_t rows = 0;
  for (auto _ : state) {
    const Batch& batch = batches[next];
    const Column* keys[] = {&batch.column(kTraderColumn), &batch.column(kSymbolColumn)};
    table.FindOrInsert(keys, nullptr, batch.num_rows(), ids.data());
    benchmark::DoNotOptimize(ids.data());
    rows += batch.num_rows();
    next = next + 1 == batches.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  state.counters["groups"] = static_cast<double>(table.size());
}
BENCHMARK(BM_KeyTable_FindOrInsert)
    ->ArgNames({"traders", "composite"})
    ->Args({1000, 0})
    ->Args({1000000, 0})
    ->Args({1000, 1})
    ->Args({1000000, 1});

// Closing a tumbling window of Scenario 3a: the groups (trader, symbol, window start) that
// one window created, about 100,000, erased in the order they were created while the next
// window's groups stay, one Erase() at a time (batched:0) or in chunks of 1024 (batched:1), as
// the aggregate operator frees a closed window a batch at a time. Items/s is groups erased.
void BM_KeyTable_EraseWindow(benchmark::State& state) {
  const bool batched = state.range(0) != 0;
  const std::vector<Batch> batches = Trades(1000);
  KeyTable table({TypeId::kString, TypeId::kString, TypeId::kTimestamp});
  Column window_start(TypeId::kTimestamp);
  window_start.Resize(1024);
  window_start.SetAllValid(1024);
  std::vector<uint32_t> ids(1024);
  auto fill_window = [&](int64_t start, std::vector<uint32_t>* created) {
    for (size_t i = 0; i < 1024; ++i) window_start.data<int64_t>()[i] = start;
    for (const Batch& batch : batches) {
      const Column* keys[] = {&batch.column(kTraderColumn), &batch.column(kSymbolColumn), &window_start};
      table.FindOrInsert(keys, nullptr, batch.num_rows(), ids.data(), created);
    }
  };
  fill_window(60'000, nullptr);  // the next window
  std::vector<uint32_t> closing;
  uint64_t erased = 0;
  for (auto _ : state) {
    state.PauseTiming();
    closing.clear();
    fill_window(0, &closing);
    state.ResumeTiming();
    for (size_t begin = 0; begin < closing.size(); begin += 1024) {
      const size_t n = std::min<size_t>(1024, closing.size() - begin);
      if (batched) {
        table.Erase(std::span<const uint32_t>(closing).subspan(begin, n));
      } else {
        for (size_t i = begin; i < begin + n; ++i) table.Erase(closing[i]);
      }
    }
    erased += closing.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(erased));
  state.counters["groups"] = static_cast<double>(closing.size());
}
BENCHMARK(BM_KeyTable_EraseWindow)->ArgNames({"batched"})->Arg(0)->Arg(1);

// Accumulator::Update for AVG(price) (a DOUBLE sum and a count per group), group ids from a
// KeyTable over `traders` keys: the random access to per-group state is what it measures.
void BM_Accumulator_AvgUpdate(benchmark::State& state) {
  const int64_t traders = state.range(0);
  const std::vector<Batch> batches = Trades(traders);
  KeyTable table({TypeId::kString});
  std::vector<std::vector<uint32_t>> groups(batches.size(), std::vector<uint32_t>(1024));
  for (size_t b = 0; b < batches.size(); ++b) {
    const Column* keys[] = {&batches[b].column(kTraderColumn)};
    table.FindOrInsert(keys, nullptr, batches[b].num_rows(), groups[b].data());
  }
  StateRows state_rows;
  auto accumulator = MakeAccumulator(AggregateKind::kAvg, TypeId::kDouble, TypeId::kDouble, state_rows);
  state_rows.Resize(table.id_limit());
  accumulator->Resize(table.id_limit());
  size_t next = 0;
  uint64_t rows = 0;
  for (auto _ : state) {
    const Batch& batch = batches[next];
    accumulator->Update(&batch.column(kPriceColumn), nullptr, batch.num_rows(), groups[next].data());
    rows += batch.num_rows();
    next = next + 1 == batches.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
}
BENCHMARK(BM_Accumulator_AvgUpdate)->Arg(100)->Arg(1000000);

// Scenario 2's five aggregates (COUNT(*), SUM(quantity), AVG(price), MIN(price), MAX(price))
// updated a batch at a time over `groups` groups, each row's group drawn at random, as with a
// million traders. shared:1 is the operator's layout, one StateRows row per group for all five;
// shared:0 gives each accumulator rows of its own, as when every aggregate had its own arrays:
// a row's update then misses the cache once per aggregate instead of once or twice in all.
void BM_Accumulators_Scenario2(benchmark::State& state) {
  const uint32_t group_count = static_cast<uint32_t>(state.range(0));
  const bool shared = state.range(1) != 0;
  const std::vector<Batch> batches = Trades(1000);
  std::mt19937_64 random(42);
  std::vector<std::vector<uint32_t>> groups(batches.size());
  for (size_t b = 0; b < batches.size(); ++b) {
    groups[b].resize(batches[b].num_rows());
    for (uint32_t& group : groups[b]) group = static_cast<uint32_t>(random() % group_count);
  }
  const AggregateKind kinds[] = {AggregateKind::kCountStar, AggregateKind::kSum, AggregateKind::kAvg,
                                 AggregateKind::kMin, AggregateKind::kMax};
  const TypeId types[] = {TypeId::kNull, TypeId::kInt64, TypeId::kDouble, TypeId::kDouble, TypeId::kDouble};
  const size_t columns[] = {0, kQuantityColumn, kPriceColumn, kPriceColumn, kPriceColumn};
  std::vector<StateRows> rows(shared ? 1 : 5);
  std::vector<std::unique_ptr<Accumulator>> accumulators;
  for (size_t a = 0; a < 5; ++a) {
    accumulators.push_back(MakeAccumulator(kinds[a], types[a], types[a], rows[shared ? 0 : a]));
  }
  for (StateRows& r : rows) r.Resize(group_count);
  size_t next = 0;
  uint64_t updated = 0;
  for (auto _ : state) {
    const Batch& batch = batches[next];
    for (size_t a = 0; a < 5; ++a) {
      const Column* argument = a == 0 ? nullptr : &batch.column(columns[a]);
      accumulators[a]->Update(argument, nullptr, batch.num_rows(), groups[next].data());
    }
    updated += batch.num_rows();
    next = next + 1 == batches.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(updated));
}
BENCHMARK(BM_Accumulators_Scenario2)->ArgNames({"groups", "shared"})->ArgsProduct({{1000, 1000000}, {0, 1}});

// The start of each trade's one-minute window, as AggregateOperator finds it: a 64-bit division
// per row (divider:0) or FloorDivider, which answers a time in the previous one's window
// without dividing (divider:1). The generator's times arrive nearly in order, as a stream's do.
void BM_WindowStart(benchmark::State& state) {
  const bool divider = state.range(0) != 0;
  const std::vector<Batch> batches = Trades(1000);
  int64_t minute = 60000;  // a window size known only at run time, as the operator's is
  benchmark::DoNotOptimize(minute);
  std::vector<int64_t> starts(1024);
  FloorDivider window(minute);
  size_t next = 0;
  uint64_t rows = 0;
  for (auto _ : state) {
    const Batch& batch = batches[next];
    const int64_t* times = batch.column(kTimeColumn).data<int64_t>();
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      starts[row] = divider ? window.Floor(times[row]) : FloorDivide(times[row], minute) * minute;
    }
    benchmark::DoNotOptimize(starts.data());
    benchmark::ClobberMemory();
    rows += batch.num_rows();
    next = next + 1 == batches.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
}
BENCHMARK(BM_WindowStart)->ArgNames({"divider"})->Arg(0)->Arg(1);

// ExpressionExecutor: a predicate (Scenario 0's kind of filter) and an arithmetic projection.
void BM_Expression(benchmark::State& state, const char* text, bool predicate) {
  const std::vector<Batch> batches = Trades(1000);
  SourceText source(text);
  auto parsed = ParseExpression(source);
  if (!parsed.ok()) std::abort();
  auto bound = BindExpression(source, **parsed, TradeGenerator::TradeSchema());
  if (!bound.ok()) {
    state.SkipWithError(std::string(bound.status().message()).c_str());
    return;
  }
  ExpressionExecutor executor(**bound);
  std::vector<uint32_t> selection(1024);
  size_t next = 0;
  uint64_t rows = 0;
  for (auto _ : state) {
    const Batch& batch = batches[next];
    if (predicate) {
      benchmark::DoNotOptimize(executor.Select(batch, selection.data()));
    } else {
      benchmark::DoNotOptimize(executor.Evaluate(batch).get());
    }
    rows += batch.num_rows();
    next = next + 1 == batches.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
}
BENCHMARK_CAPTURE(BM_Expression, Predicate, "price > 100 AND quantity < 500", true);
BENCHMARK_CAPTURE(BM_Expression, Arithmetic, "price * quantity + 1.5", false);

// JSON Lines decode (simdjson On-Demand) of trade records into a columnar batch: each record
// copied into a padded buffer first (in_place 0, as for Kafka payloads) or parsed where it lies
// (1, as a file source's lines are).
void BM_JsonDecode_Trades(benchmark::State& state) {
  TradeGeneratorOptions options;
  options.count = 64 * 1024;
  TradeGenerator generator(options);
  std::string text;
  generator.AppendJsonLines(options.count, text);
  const size_t text_size = text.size();
  text.append(kRecordPadding, ' ');  // readable bytes behind the last line
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < text_size;) {
    const size_t end = text.find('\n', start);
    lines.emplace_back(text.data() + start, end - start);
    start = end + 1;
  }
  DecoderOptions decoder_options;
  decoder_options.schema = TradeGenerator::TradeSchema();
  decoder_options.event_time_field = 8;
  decoder_options.records_padded = state.range(0) != 0;  // parsed in place, not copied first
  auto decoder = MakeJsonDecoder(decoder_options);
  if (!decoder.ok()) std::abort();
  std::vector<RecordError> errors;
  Batch batch;
  size_t next = 0;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    const std::span<const std::string_view> chunk(lines.data() + next, 1024);
    errors.clear();
    (*decoder)->Decode(chunk, 1, batch, errors);
    batch.Release();
    rows += chunk.size();
    for (std::string_view line : chunk) bytes += line.size() + 1;
    next = next + 2048 > lines.size() ? 0 : next + 1024;
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_JsonDecode_Trades)->ArgNames({"in_place"})->Arg(0)->Arg(1);

// JSON Lines encode of trade batches (a sink's work per row): ASCII strings (arg 0, the lab's
// data) or each string column's values with a two-byte character in front (arg 1, valid
// non-ASCII UTF-8, which takes the encoder's UTF-8 check).
void BM_JsonEncode_Trades(benchmark::State& state) {
  std::vector<Batch> batches = Trades(1000);
  const Schema schema = TradeGenerator::TradeSchema();
  if (state.range(0) != 0) {
    for (Batch& batch : batches) {
      for (size_t c = 0; c < schema.size(); ++c) {
        if (schema.field(c).type != TypeId::kString) continue;
        auto column = std::make_shared<Column>(TypeId::kString, batch.num_rows());
        const auto* values = batch.column(c).data<std::string_view>();
        for (size_t row = 0; row < batch.num_rows(); ++row) {
          column->data<std::string_view>()[row] = column->heap().Add("\xc3\xa9" + std::string(values[row]));
        }
        column->SetAllValid(batch.num_rows());
        batch.SetColumn(c, std::move(column));
      }
    }
  }
  auto encoder = MakeJsonEncoder(schema);
  std::string out;
  size_t next = 0;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    encoder->Encode(batches[next], out);
    benchmark::DoNotOptimize(out.data());
    rows += batches[next].num_rows();
    bytes += out.size();
    next = next + 1 == batches.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_JsonEncode_Trades)->ArgNames({"non_ascii"})->Arg(0)->Arg(1);

// A source's watermark tracking: the highest valid event time of each batch (1,024 rows, times
// rising with jitter, 1% NULL). Arg 1: one batch, hot in cache; arg 0: 8M rows (64 MB of
// times), each batch from memory as in a lab run.
void BM_EventTimeTracker_Observe(benchmark::State& state) {
  constexpr size_t kRows = 1024;
  const size_t batches = state.range(0) != 0 ? 1 : (size_t{8} << 20) / kRows;
  std::mt19937_64 random(3);
  std::vector<std::unique_ptr<Column>> columns;
  int64_t time = 1'700'000'000'000;
  for (size_t b = 0; b < batches; ++b) {
    auto column = std::make_unique<Column>(TypeId::kTimestamp, kRows);
    for (size_t i = 0; i < kRows; ++i) {
      column->data<int64_t>()[i] = time + static_cast<int64_t>(random() % 2000);
      column->validity()[i] = random() % 100 != 0;
      time += 1;
    }
    columns.push_back(std::move(column));
  }
  EventTimeTracker tracker(2000);
  size_t next = 0;
  for (auto _ : state) {
    tracker.Observe(*columns[next], kRows);
    next = next + 1 == batches ? 0 : next + 1;
  }
  benchmark::DoNotOptimize(tracker.watermark());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}
BENCHMARK(BM_EventTimeTracker_Observe)->ArgNames({"hot"})->Arg(1)->Arg(0);

}  // namespace
}  // namespace sluice
