// Tests of the parallel runtime (runtime/parallel_runner.h) and its parts: the SPSC ring, the
// keyed exchange and its forward alternative (a source partitioned by the key), barrier
// alignment (checkpoints form a consistent cut: a job restored from any of them finishes with
// exactly the uninterrupted job's output), watermark alignment (a fast partition is paused and
// resumed), failures and cancellation (prompt, no hang), and a stress run with random delays in
// every task, tiny rings and 10,000 checkpoints.
//
// The sources here are in memory: partition p holds rows (k, v, ts), read in batches, with an
// optional delay per batch to skew the speeds of partitions. They record read positions, so a
// checkpoint can be restored.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "common/strings.h"
#include "connectors/file/file_source.h"
#include "job_test_harness.h"
#include "runtime/exchange.h"
#include "runtime/job_runner.h"
#include "runtime/spsc_ring.h"
#include "state/key_groups.h"
#include "state/key_table.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

#define ASSERT_OK(expression)                                              \
  do {                                                                     \
    const absl::Status status_ = (expression);                             \
    ASSERT_TRUE(status_.ok()) << #expression << ": " << status_.message(); \
  } while (false)

// --- SPSC ring ---------------------------------------------------------------------------

TEST(SpscRingTest, FifoFullAndEmpty) {
  SpscRing<int> ring(3);  // rounded up to 4
  EXPECT_EQ(ring.capacity(), 4u);
  int out = 0;
  EXPECT_FALSE(ring.TryPop(out));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(ring.TryPush(i));
  EXPECT_FALSE(ring.TryPush(99));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(ring.TryPop(out));
    EXPECT_EQ(out, i);
  }
  EXPECT_FALSE(ring.TryPop(out));
  EXPECT_TRUE(ring.LooksEmpty());
}

TEST(SpscRingTest, TwoThreadsTransferEveryItemInOrder) {
  SpscRing<uint64_t> ring(8);
  constexpr uint64_t kItems = 1'000'000;
  std::thread producer([&]() {
    for (uint64_t i = 0; i < kItems; ++i) {
      while (!ring.TryPush(i)) std::this_thread::yield();
    }
  });
  uint64_t expected = 0;
  uint64_t value = 0;
  while (expected < kItems) {
    if (!ring.TryPop(value)) continue;
    ASSERT_EQ(value, expected);
    ++expected;
  }
  producer.join();
  EXPECT_FALSE(ring.TryPop(value));
}

// --- exchange ----------------------------------------------------------------------------

// Every key group has exactly one owner at any parallelism, each worker a contiguous range, and
// WorkerOfKeyGroup agrees with the ranges; up to kKeyGroups workers, each owns at least one.
TEST(KeyGroupsTest, EachWorkerOwnsAContiguousRangeAndEveryGroupOneOwner) {
  for (uint32_t workers = 1; workers <= 300; ++workers) {
    uint32_t next = 0;
    for (uint32_t w = 0; w < workers; ++w) {
      const KeyGroupRange range = KeyGroupRangeOf(w, workers);
      ASSERT_EQ(range.first, next) << workers << " workers, worker " << w;
      ASSERT_LE(range.first, range.end);
      if (workers <= kKeyGroups) {
        EXPECT_LT(range.first, range.end) << workers << " workers, worker " << w;
      }
      for (uint32_t group = range.first; group < range.end; ++group)
        ASSERT_EQ(WorkerOfKeyGroup(group, workers), w);
      next = range.end;
    }
    ASSERT_EQ(next, kKeyGroups) << workers;
  }
  EXPECT_TRUE(KeyGroupRangeOf(0, 1).all());
  EXPECT_EQ(KeyGroupOf(~uint64_t{0}), kKeyGroups - 1);
  EXPECT_EQ(KeyGroupOf(0), 0u);
}

TEST(ExchangeTest, EqualKeysMeetInOneChannelAndStringsAreCopied) {
  constexpr size_t kChannels = 3;
  std::vector<std::unique_ptr<Channel>> channels;
  std::vector<Channel*> raw;
  for (size_t c = 0; c < kChannels; ++c) {
    channels.push_back(
        std::make_unique<Channel>(std::vector<TypeId>{TypeId::kString, TypeId::kInt64}, 16, 64));
    raw.push_back(channels.back().get());
  }
  ChannelSender sender(raw, {}, {0}, "test");
  std::map<std::string, std::set<size_t>> channels_of_key;
  std::multiset<std::pair<std::string, int64_t>> sent, received;
  for (int round = 0; round < 20; ++round) {
    Batch batch;
    auto keys = std::make_shared<Column>(TypeId::kString, 10);
    auto values = std::make_shared<Column>(TypeId::kInt64, 10);
    for (size_t i = 0; i < 10; ++i) {
      const std::string key = StrCat("key", (round * 7 + i) % 13);
      keys->data<std::string_view>()[i] = keys->heap().Add(key);
      values->data<int64_t>()[i] = round * 10 + static_cast<int64_t>(i);
      sent.insert({key, round * 10 + static_cast<int64_t>(i)});
    }
    keys->SetAllValid(10);
    values->SetAllValid(10);
    batch.SetColumns({keys, values}, 10);
    ASSERT_TRUE(sender.Push(batch).ok());
    batch.Release();
    keys.reset();  // the sender must not point into the producer's strings
    values.reset();
  }
  ASSERT_TRUE(sender.Finish().ok());
  ASSERT_TRUE(sender.Drain());
  for (size_t c = 0; c < kChannels; ++c) {
    Message message;
    bool ended = false;
    while (channels[c]->TryPop(message)) {
      if (message.kind == MessageKind::kEnd) {
        ended = true;
        continue;
      }
      ASSERT_EQ(message.kind, MessageKind::kBatch);
      const Batch& batch = *message.batch;
      EXPECT_LE(batch.num_rows(), 16u);
      for (size_t row = 0; row < batch.num_rows(); ++row) {
        const std::string key(batch.column(0).data<std::string_view>()[row]);
        channels_of_key[key].insert(c);
        // The channel of the worker owning the key's key group, by the routing hash that a
        // rescaled restore recomputes from the key's value.
        const Column* columns[] = {&batch.column(0)};
        const uint32_t selection[] = {static_cast<uint32_t>(row)};
        uint64_t hash = 0;
        RoutingScratch scratch;
        RoutingHashes(columns, 1, /*carried=*/false, selection, 1, &hash, scratch);
        EXPECT_EQ(WorkerOfKeyGroup(KeyGroupOf(hash), kChannels), c) << key;
        received.insert({key, batch.column(1).data<int64_t>()[row]});
      }
      channels[c]->ReleaseBatch(std::move(message.batch));
    }
    EXPECT_TRUE(ended) << "channel " << c << " has no end";
  }
  EXPECT_EQ(sent, received);
  EXPECT_EQ(channels_of_key.size(), 13u);
  std::set<size_t> used;
  for (const auto& [key, set] : channels_of_key) {
    EXPECT_EQ(set.size(), 1u) << key << " reached several channels";
    used.insert(*set.begin());
  }
  EXPECT_GT(used.size(), 1u) << "every key hashed to one channel";
}

// Carried keys: each row arrives with its key's word, NULL mask and hash as a key table would
// compute them, equal keys in one channel. Copying rows, the key column itself arrives only
// for strings too long to be a word (NULL for the others), and the value column whole; in
// shared mode (what the runtime uses) every input column arrives as it was, with a selection
// of the channel's rows, and the carried columns beside them.
// What monitoring reads of a channel while both sides run: the rows that went in and came
// out, and the messages queued (watermarks and barriers count as messages, not rows).
TEST(ExchangeTest, AChannelCountsTheRowsThroughItAndWhatIsQueued) {
  Channel channel({TypeId::kInt64}, 8, 4);
  EXPECT_EQ(channel.capacity(), 4u);
  for (size_t rows : {3u, 5u}) {
    Message message;
    message.batch = channel.AcquireBatch();
    message.batch->SetNumRows(rows);
    ASSERT_TRUE(channel.TryPush(message));
  }
  Message watermark;
  watermark.kind = MessageKind::kWatermark;
  watermark.value = 7;
  ASSERT_TRUE(channel.TryPush(watermark));
  EXPECT_EQ(channel.rows_sent(), 8u);
  EXPECT_EQ(channel.rows_received(), 0u);
  EXPECT_EQ(channel.queued(), 3u);
  Message out;
  ASSERT_TRUE(channel.TryPop(out));
  EXPECT_EQ(channel.rows_received(), 3u);
  EXPECT_EQ(channel.queued(), 2u);
  // A full ring refuses the push and counts nothing.
  for (size_t rows : {2u, 1u}) {
    Message more;
    more.batch = channel.AcquireBatch();
    more.batch->SetNumRows(rows);
    ASSERT_TRUE(channel.TryPush(more));
  }
  EXPECT_EQ(channel.queued(), 4u);
  Message refused;
  refused.batch = channel.AcquireBatch();
  refused.batch->SetNumRows(6);
  EXPECT_FALSE(channel.TryPush(refused));
  EXPECT_EQ(channel.rows_sent(), 11u);
  while (channel.TryPop(out)) {
  }
  EXPECT_EQ(channel.rows_received(), 11u);
  EXPECT_EQ(channel.queued(), 0u);
}

TEST(ExchangeTest, CarriedKeysArriveAsWordsAndOnlyLongStringsAsStrings) {
  for (const bool share : {false, true}) {
    SCOPED_TRACE(share ? "shared mode" : "copy mode");
    constexpr size_t kChannels = 2;
    const std::vector<TypeId> types = {TypeId::kString, TypeId::kInt64, TypeId::kInt64, TypeId::kInt64,
                                       TypeId::kInt64};
    std::vector<std::unique_ptr<Channel>> channels;
    std::vector<Channel*> raw;
    for (size_t c = 0; c < kChannels; ++c) {
      channels.push_back(std::make_unique<Channel>(types, 16, 64));
      raw.push_back(channels.back().get());
    }
    ChannelSender sender(raw, {}, {}, "test");
    sender.CopyOnly({false, true});
    sender.CarryKeys({0}, {true});
    if (share) sender.ShareInput();
    auto key_of = [](int64_t i) -> std::optional<std::string> {
      if (i % 11 == 0) return std::nullopt;
      return i % 3 == 0 ? StrCat("a-longer-key-", i % 13) : StrCat("k", i % 13);
    };
    std::map<int64_t, std::optional<std::string>> sent;
    for (int round = 0; round < 20; ++round) {
      Batch batch;
      auto keys = std::make_shared<Column>(TypeId::kString, 10);
      auto values = std::make_shared<Column>(TypeId::kInt64, 10);
      for (size_t i = 0; i < 10; ++i) {
        const int64_t value = round * 10 + static_cast<int64_t>(i);
        const std::optional<std::string> key = key_of(value);
        keys->validity()[i] = key.has_value();
        keys->data<std::string_view>()[i] = key ? keys->heap().Add(*key) : std::string_view{};
        values->validity()[i] = 1;
        values->data<int64_t>()[i] = value;
        sent[value] = key;
      }
      batch.SetColumns({keys, values}, 10);
      ASSERT_TRUE(sender.Push(batch).ok());
    }
    ASSERT_TRUE(sender.Finish().ok());
    ASSERT_TRUE(sender.Drain());
    std::map<std::string, std::set<size_t>> channels_of_key;
    size_t received = 0;
    for (size_t c = 0; c < kChannels; ++c) {
      Message message;
      while (channels[c]->TryPop(message)) {
        if (message.kind != MessageKind::kBatch) continue;
        const Batch& batch = *message.batch;
        EXPECT_EQ(batch.has_selection(), share);
        for (size_t i = 0; i < batch.active_rows(); ++i) {
          const size_t row = batch.ActiveRow(i);
          ++received;
          const int64_t value = batch.column(1).data<int64_t>()[row];
          const std::optional<std::string>& key = sent.at(value);
          // What a key table encodes for this key on its own.
          Column alone(TypeId::kString, 1);
          alone.validity()[0] = key.has_value();
          alone.data<std::string_view>()[0] = key ? alone.heap().Add(*key) : std::string_view{};
          const Column* columns[] = {&alone};
          uint64_t word, nulls, hash;
          uint64_t* words[] = {&word};
          KeyTable::EncodeCarriedKeys(columns, 1, nullptr, 1, words, &nulls, &hash);
          EXPECT_EQ(batch.column(2).data<uint64_t>()[row], word) << value;
          EXPECT_EQ(batch.column(3).data<uint64_t>()[row], nulls) << value;
          EXPECT_EQ(batch.column(4).data<uint64_t>()[row], hash) << value;
          // Routed by the carried hash's key group (state/key_groups.h).
          EXPECT_TRUE(KeyGroupRangeOf(static_cast<uint32_t>(c), kChannels).Contains(KeyGroupOf(hash)))
              << value;
          const bool arrives = share ? key.has_value() : key && key->size() > 7;
          ASSERT_EQ(batch.column(0).IsValid(row), arrives) << value;
          if (arrives) {
            EXPECT_EQ(batch.column(0).data<std::string_view>()[row], *key);
          }
          channels_of_key[key.value_or("NULL")].insert(c);
        }
        channels[c]->ReleaseBatch(std::move(message.batch));
      }
    }
    EXPECT_EQ(received, sent.size());
    std::set<size_t> used;
    for (const auto& [key, set] : channels_of_key) {
      EXPECT_EQ(set.size(), 1u) << key << " reached several channels";
      used.insert(*set.begin());
    }
    EXPECT_EQ(used.size(), kChannels) << "every key hashed to one channel";
  }
}

// --- in-memory sources and sinks -----------------------------------------------------------

struct TestRow {
  std::string k;
  int64_t v;
  int64_t ts;
};

// Shared by the partitions of one run: what the test controls and observes.
struct SourceControl {
  std::vector<std::vector<TestRow>> partitions;
  size_t batch_rows = 50;
  std::vector<std::chrono::microseconds> delay;  // per partition, slept before each batch
  // Stay open (empty batches) until this many barriers were seen, after the rows run out.
  uint64_t hold_until_barriers = 0;
  int fail_partition = -1;  // this partition fails after its first batch
  bool endless = false;     // never ends (cancellation test)
  // Watermark alignment observation: each partition's highest event time read so far.
  std::unique_ptr<std::atomic<int64_t>[]> highest;
  std::atomic<int64_t> max_lead{INT64_MIN};  // partition 1 ahead of partition 0, at read time
  std::atomic<bool> partition0_done{false};  // after it, partition 1 may run free
  std::atomic<uint64_t> barriers{0};
};

class MemoryPartition final : public SourcePartition {
 public:
  MemoryPartition(const SourceDefinition& definition, size_t partition, SourceControl& control)
      : definition_(definition),
        partition_(partition),
        control_(control),
        tracker_(definition.max_out_of_orderness_millis) {}

  absl::Status Open() override { return absl::OkStatus(); }

  absl::StatusOr<bool> Next(Batch& out) override {
    const std::vector<TestRow>& rows = control_.partitions[partition_];
    if (partition_ < control_.delay.size() && control_.delay[partition_].count() > 0) {
      std::this_thread::sleep_for(control_.delay[partition_]);
    }
    if (control_.fail_partition == static_cast<int>(partition_) && position_ > 0) {
      return absl::DataLossError("injected failure: partition 1 lost its input");
    }
    if (position_ >= rows.size() && !control_.endless) {
      if (partition_ == 0) control_.partition0_done.store(true);
      if (control_.barriers.load() < control_.hold_until_barriers) {
        out.SetColumns({}, 0);
        std::this_thread::sleep_for(10us);
        return true;  // nothing arrived (an unbounded source's empty batch)
      }
      return false;
    }
    const size_t count =
        control_.endless ? control_.batch_rows : std::min(control_.batch_rows, rows.size() - position_);
    std::vector<std::shared_ptr<Column>> columns;
    for (const auto& field : definition_.schema.fields())
      columns.push_back(std::make_shared<Column>(field.type, count));
    for (size_t i = 0; i < count; ++i) {
      const TestRow& row = rows[(position_ + i) % rows.size()];
      columns[0]->data<std::string_view>()[i] = columns[0]->heap().Add(row.k);
      columns[1]->data<int64_t>()[i] = row.v;
      columns[2]->data<int64_t>()[i] = row.ts;
      columns[3]->data<int64_t>()[i] = row.ts;
      tracker_.ObserveValue(row.ts);
    }
    for (auto& column : columns) column->SetAllValid(count);
    out.SetColumns(std::move(columns), count);
    position_ += count;
    counters_.records_read += count;
    counters_.records_decoded += count;
    if (control_.highest) {
      control_.highest[partition_].store(tracker_.watermark());
      if (partition_ == 1 && control_.highest[0].load() > INT64_MIN / 2 && !control_.partition0_done.load()) {
        const int64_t lead = control_.highest[1].load() - control_.highest[0].load();
        int64_t seen = control_.max_lead.load();
        while (lead > seen && !control_.max_lead.compare_exchange_weak(seen, lead)) {
        }
      }
    }
    return true;
  }

  int64_t watermark() const override { return tracker_.watermark(); }
  const SourceCounters& counters() const override { return counters_; }

  bool SupportsCheckpoints() const override { return true; }
  absl::Status Snapshot(StateWriter& writer) const override {
    control_.barriers.fetch_add(1);
    writer.WriteU64(position_);
    writer.WriteI64(tracker_.watermark());
    return absl::OkStatus();
  }
  absl::Status Restore(StateReader& reader) override {
    SLUICE_ASSIGN_OR_RETURN(uint64_t position, reader.ReadU64());
    SLUICE_ASSIGN_OR_RETURN(int64_t watermark, reader.ReadI64());
    position_ = position;
    if (watermark != INT64_MIN)
      tracker_.ObserveValue(watermark + definition_.max_out_of_orderness_millis + 1);
    return absl::OkStatus();
  }

 private:
  const SourceDefinition& definition_;
  size_t partition_;
  SourceControl& control_;
  EventTimeTracker tracker_;
  SourceCounters counters_;
  size_t position_ = 0;
};

// Collects rows as text, in arrival order; fails on request after `fail_after` rows.
class CollectingSink final : public SinkOperator {
 public:
  explicit CollectingSink(std::vector<std::string>* rows, int64_t fail_after = -1)
      : rows_(rows), fail_after_(fail_after) {}
  absl::Status Open() override { return absl::OkStatus(); }
  absl::Status Push(const Batch& batch) override {
    for (size_t i = 0; i < batch.active_rows(); ++i) {
      const uint32_t row = batch.ActiveRow(i);
      std::string text;
      for (size_t c = 0; c < batch.num_columns(); ++c)
        StrAppend(&text, batch.column(c).GetValue(row).ToSql(), "|");
      rows_->push_back(text);
      if (fail_after_ >= 0 && static_cast<int64_t>(rows_->size()) > fail_after_) {
        return absl::UnavailableError("injected failure: the sink's disk is full");
      }
    }
    return absl::OkStatus();
  }
  uint64_t rows_written() const override { return rows_->size(); }
  // The rows received before the barrier: what the output holds at the checkpoint.
  absl::Status Snapshot(StateWriter& writer) const override {
    writer.WriteU64(rows_->size());
    return absl::OkStatus();
  }
  absl::Status Restore(StateReader& reader) override { return reader.ReadU64().status(); }
  std::string Describe() const override { return "CollectingSink"; }

 private:
  std::vector<std::string>* rows_;
  int64_t fail_after_;
};

constexpr const char* kWindowJob =
    "CREATE STREAM result AS SELECT k, COUNT(*) AS n, SUM(v) AS s, _window_start FROM src "
    "GROUP BY k WINDOW TUMBLING (ts, INTERVAL '1' SECOND) EMIT FINAL "
    "WITH ('src.type' = 'file_source', 'src.path' = '${dir}/part*.jsonl', 'src.format' = 'json', "
    "'src.schema' = 'k STRING, v BIGINT, ts TIMESTAMP', 'event.time.field' = 'ts', "
    "'watermark.strategy' = 'bounded_out_of_orderness', 'watermark.max_out_of_orderness' = '100ms'"
    "EXTRA, 'result.type' = 'file_sink', 'result.path' = '${dir}/out.jsonl')";

constexpr const char* kFilterJob =
    "CREATE STREAM result AS SELECT k, v FROM src WHERE v > 500 "
    "WITH ('src.type' = 'file_source', 'src.path' = '${dir}/part*.jsonl', 'src.format' = 'json', "
    "'src.schema' = 'k STRING, v BIGINT, ts TIMESTAMP', 'event.time.field' = 'ts'EXTRA, "
    "'result.type' = 'file_sink', 'result.path' = '${dir}/out.jsonl')";

// A ROWS window, which the planner puts behind a projection of the source's columns.
constexpr const char* kRowsJob =
    "CREATE STREAM result AS SELECT k, v, AVG(v) OVER (ROWS WINDOW BUFFER 10 ROWS PARTITION BY k ORDER BY "
    "ts) "
    "AS a FROM src "
    "WITH ('src.type' = 'file_source', 'src.path' = '${dir}/part*.jsonl', 'src.format' = 'json', "
    "'src.schema' = 'k STRING, v BIGINT, ts TIMESTAMP', 'event.time.field' = 'ts'EXTRA, "
    "'result.type' = 'file_sink', 'result.path' = '${dir}/out.jsonl')";

// GROUP BY a key computed from k: values of several partitions may meet in one group.
constexpr const char* kComputedKeyJob =
    "CREATE STREAM result AS SELECT SUBSTRING(k, 1, 1) AS initial, COUNT(*) AS n FROM src "
    "GROUP BY SUBSTRING(k, 1, 1) "
    "WITH ('src.type' = 'file_source', 'src.path' = '${dir}/part*.jsonl', 'src.format' = 'json', "
    "'src.schema' = 'k STRING, v BIGINT, ts TIMESTAMP', 'event.time.field' = 'ts'EXTRA, "
    "'result.type' = 'file_sink', 'result.path' = '${dir}/out.jsonl')";

// Rows for `partitions` partitions: 20 keys, event time advancing `step_ms` per row.
std::vector<std::vector<TestRow>> MakeRows(size_t partitions, size_t rows_each, int64_t step_ms) {
  std::vector<std::vector<TestRow>> out(partitions);
  std::mt19937_64 random(42);
  for (size_t p = 0; p < partitions; ++p) {
    for (size_t i = 0; i < rows_each; ++i) {
      out[p].push_back(TestRow{StrCat("k", random() % 20), static_cast<int64_t>(random() % 1000),
                               1'700'000'000'000 + static_cast<int64_t>(i) * step_ms});
    }
  }
  return out;
}

// Rows for `partitions` partitions, as a topic keyed by k holds them: 20 keys, key j only in
// partition j mod `partitions`, event time advancing `step_ms` per row.
std::vector<std::vector<TestRow>> MakeKeyedRows(size_t partitions, size_t rows_each, int64_t step_ms) {
  std::vector<std::vector<TestRow>> out(partitions);
  std::mt19937_64 random(7);
  for (size_t p = 0; p < partitions; ++p) {
    for (size_t i = 0; i < rows_each; ++i) {
      const uint64_t key = p + partitions * (random() % (20 / partitions));
      out[p].push_back(TestRow{StrCat("k", key), static_cast<int64_t>(random() % 1000),
                               1'700'000'000'000 + static_cast<int64_t>(i) * step_ms});
    }
  }
  return out;
}

struct Harness {
  TemporaryDirectory directory;
  SourceControl control;
  BoundJob job;
  std::vector<std::string> rows;

  absl::Status Bind(size_t partitions, const std::string& extra = "", const char* job_text = kWindowJob) {
    for (size_t p = 0; p < partitions; ++p) WriteFile(directory.File(StrCat("part", p, ".jsonl")), "");
    std::string text = job_text;
    text.replace(text.find("EXTRA"), 5, extra);  // more WITH properties
    SLUICE_ASSIGN_OR_RETURN(job, BindJobText(text, {{"dir", directory.path()}}));
    return absl::OkStatus();
  }

  RunOptions Options(int parallelism, std::vector<std::string>* into, int64_t fail_after = -1) {
    RunOptions options;
    options.batch_size = control.batch_rows;
    options.parallelism = parallelism;
    options.make_source = [this](const SourceDefinition& definition, size_t partition,
                                 std::shared_ptr<DeadLetterWriter>) -> std::unique_ptr<SourcePartition> {
      return std::make_unique<MemoryPartition>(definition, partition, control);
    };
    options.make_sink = [into, fail_after](const BoundStatement&) -> std::unique_ptr<SinkOperator> {
      return std::make_unique<CollectingSink>(into, fail_after);
    };
    return options;
  }

  // Runs with a watchdog: a hang fails the test instead of blocking the suite.
  // Options(parallelism, into) with checkpoints into `store` every `interval_millis`.
  RunOptions CheckpointedOptions(int parallelism, std::vector<std::string>* into, CheckpointStore& store,
                                 int64_t interval_millis) {
    RunOptions options = Options(parallelism, into);
    options.checkpoint_store = &store;
    options.checkpoint_interval_millis = interval_millis;
    return options;
  }
  static absl::StatusOr<JobCounters> RunWithin(const BoundJob& job, const RunOptions& options,
                                               std::chrono::seconds limit) {
    auto runner = JobRunner::Create(job, options);
    if (!runner.ok()) return runner.status();
    auto done = std::async(std::launch::async, [&]() { return (*runner)->Run(); });
    if (done.wait_for(limit) != std::future_status::ready) {
      ADD_FAILURE() << "the job did not finish within " << limit.count() << " s (deadlock?)";
      std::abort();  // a hung runtime cannot be joined; stop the suite loudly
    }
    SLUICE_RETURN_IF_ERROR(done.get());
    return (*runner)->counters();
  }
};

std::vector<std::string> Sorted(std::vector<std::string> rows) {
  std::sort(rows.begin(), rows.end());
  return rows;
}

// --- parallelism -------------------------------------------------------------------------

TEST(ParallelRuntimeTest, SameOutputAtParallelism1To4) {
  Harness harness;
  harness.control.partitions = MakeRows(3, 3000, 7);
  ASSERT_OK(harness.Bind(3));
  std::vector<std::string> reference;
  ASSERT_TRUE(Harness::RunWithin(harness.job, harness.Options(1, &reference), 60s).ok());
  ASSERT_FALSE(reference.empty());
  for (int parallelism : {2, 3, 4}) {
    std::vector<std::string> rows;
    auto counters = Harness::RunWithin(harness.job, harness.Options(parallelism, &rows), 60s);
    ASSERT_TRUE(counters.ok()) << counters.status().message();
    EXPECT_EQ(counters->workers, parallelism);
    EXPECT_EQ(counters->records_in, 9000u);
    EXPECT_EQ(Sorted(rows), Sorted(reference)) << "parallelism " << parallelism;
  }
}

// --- a source partitioned by the key: no exchange ----------------------------------------

// The plan the runtime builds for `harness`'s job on `parallelism` workers (not run).
std::string ExplainAt(Harness& harness, int parallelism) {
  std::vector<std::string> unused;
  auto runner = JobRunner::Create(harness.job, harness.Options(parallelism, &unused));
  EXPECT_TRUE(runner.ok()) << runner.status().message();
  return runner.ok() ? (*runner)->Explain() : "";
}

// Every key lies in one partition and the job says so: each worker runs the keyed stage over the
// partitions it reads, with no exchange, and the output is what one thread computes. A windowed
// GROUP BY, and a ROWS window (whose key comes through a projection of the source's columns).
class ForwardTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ForwardTest, ASourcePartitionedByTheKeyIsProcessedWhereItIsRead) {
  Harness harness;
  harness.control.partitions = MakeKeyedRows(4, 3000, 7);
  ASSERT_OK(harness.Bind(4, ", 'src.partitioned.by' = 'k'", GetParam()));
  std::vector<std::string> reference;
  ASSERT_TRUE(Harness::RunWithin(harness.job, harness.Options(1, &reference), 60s).ok());
  ASSERT_FALSE(reference.empty());
  for (int parallelism : {2, 3, 4}) {
    const std::string plan = ExplainAt(harness, parallelism);
    EXPECT_NE(plan.find("Forward to this worker's keyed stage (no exchange: src is partitioned by k)"),
              std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("Exchange"), std::string::npos) << plan;
    std::vector<std::string> rows;
    auto counters = Harness::RunWithin(harness.job, harness.Options(parallelism, &rows), 60s);
    ASSERT_TRUE(counters.ok()) << counters.status().message();
    EXPECT_EQ(counters->records_in, 12000u);
    EXPECT_EQ(Sorted(rows), Sorted(reference)) << "parallelism " << parallelism;
  }
}

INSTANTIATE_TEST_SUITE_P(ParallelRuntime, ForwardTest, ::testing::Values(kWindowJob, kRowsJob),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return info.index == 0 ? "WindowedGroupBy" : "RowsWindow";
                         });

// A declaration the data breaks fails the job instead of splitting groups between workers: the
// first key to reach a second worker's stage is named with both workers' partitions.
TEST_P(ForwardTest, AKeyInTwoWorkersPartitionsFailsTheJob) {
  Harness harness;
  harness.control.partitions = MakeKeyedRows(4, 3000, 7);
  // Partition 0's first key, in partition 3 too (at the end, in event time order).
  TestRow stray = harness.control.partitions[0].front();
  stray.ts = harness.control.partitions[3].back().ts + 7;
  harness.control.partitions[3].push_back(stray);
  ASSERT_OK(harness.Bind(4, ", 'src.partitioned.by' = 'k'", GetParam()));
  for (int parallelism : {2, 4}) {
    std::vector<std::string> rows;
    auto counters = Harness::RunWithin(harness.job, harness.Options(parallelism, &rows), 60s);
    ASSERT_FALSE(counters.ok()) << "parallelism " << parallelism;
    const std::string message(counters.status().message());
    EXPECT_NE(
        message.find(StrCat("'src.partitioned.by' (k) does not hold for the data: key ('", stray.k, "')")),
        std::string::npos)
        << message;
    const std::string zero = parallelism == 2 ? "reads partition 0, partition 2" : "reads partition 0";
    const std::string three = parallelism == 2 ? "reads partition 1, partition 3" : "reads partition 3";
    EXPECT_NE(message.find(zero), std::string::npos) << message;
    EXPECT_NE(message.find(three), std::string::npos) << message;
  }
}

// A declared partitioning that cannot spare the exchange keeps it, and EXPLAIN says why.
TEST(ParallelRuntimeTest, ADeclaredPartitioningTheStageCannotUseKeepsTheExchange) {
  Harness not_in_key;
  not_in_key.control.partitions = MakeKeyedRows(4, 100, 7);
  ASSERT_OK(not_in_key.Bind(4, ", 'src.partitioned.by' = 'v'"));
  std::string plan = ExplainAt(not_in_key, 2);
  EXPECT_NE(plan.find("Exchange hash(k#0) -> 2 workers ('src.partitioned.by' (v) not used: the key "
                      "hash(k#0) does not hold v as the source gives it)"),
            std::string::npos)
      << plan;

  Harness too_few;
  too_few.control.partitions = MakeKeyedRows(2, 100, 7);
  ASSERT_OK(too_few.Bind(2, ", 'src.partitioned.by' = 'k'"));
  plan = ExplainAt(too_few, 4);
  EXPECT_NE(plan.find("not used: 2 partition(s) for 4 workers would leave workers without keys"),
            std::string::npos)
      << plan;
  EXPECT_NE(ExplainAt(too_few, 2).find("Forward"), std::string::npos);

  Harness computed;
  computed.control.partitions = MakeKeyedRows(4, 100, 7);
  ASSERT_OK(computed.Bind(4, ", 'src.partitioned.by' = 'k'", kComputedKeyJob));
  plan = ExplainAt(computed, 2);
  EXPECT_NE(plan.find("does not hold k as the source gives it"), std::string::npos) << plan;
}

// --- checkpoints: barrier alignment ---------------------------------------------------------

// Every completed checkpoint is a consistent cut: restored from it, the job produces exactly
// what the uninterrupted job produced after it. Partition 0 is slow and partition 1 fast, so
// barriers reach the stateful tasks at very different times and alignment must hold inputs.
// With a keyed exchange, and with a source partitioned by the key (each worker's stage fed by
// its own partition only).
class CheckpointCutTest : public ::testing::TestWithParam<bool> {};

TEST_P(CheckpointCutTest, CheckpointsAreConsistentCutsUnderSkewedSources) {
  const bool partitioned_by_key = GetParam();
  // How many checkpoints complete within the run depends on the machine's load: a run that
  // completes fewer than five is repeated on twice the rows (at most 32,000 per partition).
  std::unique_ptr<Harness> run;
  std::unique_ptr<InMemoryCheckpointStore> attempt;
  std::vector<std::string> full;
  absl::StatusOr<JobCounters> counters;
  for (size_t rows = 4000; rows <= 32000; rows *= 2) {
    run = std::make_unique<Harness>();
    Harness& harness = *run;
    harness.control.partitions = partitioned_by_key ? MakeKeyedRows(2, rows, 5) : MakeRows(2, rows, 5);
    harness.control.delay = {200us, 0us};
    ASSERT_OK(harness.Bind(2, partitioned_by_key ? ", 'src.partitioned.by' = 'k'" : ""));
    EXPECT_EQ(ExplainAt(harness, 2).find("Forward") != std::string::npos, partitioned_by_key);
    attempt = std::make_unique<InMemoryCheckpointStore>();
    full.clear();
    counters = Harness::RunWithin(harness.job, harness.CheckpointedOptions(2, &full, *attempt, 2), 120s);
    ASSERT_TRUE(counters.ok()) << counters.status().message();
    if (attempt->completed().size() >= 5) break;
  }
  Harness& harness = *run;
  InMemoryCheckpointStore& store = *attempt;
  const std::vector<uint64_t> completed = store.completed();
  ASSERT_GE(completed.size(), 5u) << "too few checkpoints to test, even on 32,000 rows per partition";
  EXPECT_EQ(counters->checkpoints_completed, completed.size());

  // Every checkpoint holds one snapshot of every operator of every task, and the same set.
  const auto first = store.SnapshotsOf(completed.front());
  std::set<std::pair<std::string, size_t>> expected_keys;
  for (const auto& [key, bytes] : first) expected_keys.insert(key);
  EXPECT_TRUE(expected_keys.count({"source/src/0", 0}) == 1 && expected_keys.count({"source/src/1", 0}) == 1);
  for (uint64_t checkpoint : completed) {
    std::set<std::pair<std::string, size_t>> keys;
    for (const auto& [key, bytes] : store.SnapshotsOf(checkpoint)) keys.insert(key);
    EXPECT_EQ(keys, expected_keys) << "checkpoint " << checkpoint;
  }

  // Restore from five checkpoints spread over the run.
  for (size_t i = 0; i < 5; ++i) {
    const uint64_t checkpoint = completed[i * (completed.size() - 1) / 4];
    // The sink's snapshot says how many rows it had received before the barrier.
    uint64_t before = 0;
    for (const auto& [key, bytes] : store.SnapshotsOf(checkpoint)) {
      if (key.first.find("/sink") != std::string::npos) {
        StateReader reader(bytes);
        ASSERT_TRUE(reader.ReadBytes().ok());  // the operator's signature
        before = *reader.ReadU64();
      }
    }
    ASSERT_LE(before, full.size());
    std::vector<std::string> resumed(full.begin(), full.begin() + static_cast<ptrdiff_t>(before));
    RunOptions restore = harness.CheckpointedOptions(2, &resumed, store, 1'000'000);
    restore.restore_checkpoint = checkpoint;
    harness.control.delay = {0us, 0us};
    auto again = Harness::RunWithin(harness.job, restore, 60s);
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_EQ(Sorted(resumed), Sorted(full))
        << "restored from checkpoint " << checkpoint << " (" << before << " rows before it)";
  }
}

INSTANTIATE_TEST_SUITE_P(ParallelRuntime, CheckpointCutTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "PartitionedByKey" : "KeyedExchange";
                         });

// Workers with neither a partition nor keyed state (a filter over one partition on 4 workers)
// finish at once, yet every checkpoint still needs their part: they stay to give it.
TEST(ParallelRuntimeTest, CheckpointsCompleteWhenSomeWorkersHaveNothingToDo) {
  Harness harness;
  harness.control.partitions = MakeRows(1, 500, 10);
  harness.control.hold_until_barriers = 30;
  ASSERT_OK(harness.Bind(1, "", kFilterJob));
  InMemoryCheckpointStore store;
  std::vector<std::string> rows;
  auto counters = Harness::RunWithin(harness.job, harness.CheckpointedOptions(4, &rows, store, 0), 60s);
  ASSERT_TRUE(counters.ok()) << counters.status().message();
  EXPECT_GE(store.completed().size(), 29u);
  size_t expected = 0;
  for (const TestRow& row : harness.control.partitions[0]) expected += row.v > 500 ? 1 : 0;
  EXPECT_EQ(rows.size(), expected);
}

// --- watermark alignment -------------------------------------------------------------------

// Partition 1's event time runs 10x faster than partition 0's. With a drift of 5 s it must
// not read more than the drift (plus one batch) ahead of partition 0: it is paused and resumed.
// The same alignment on one thread (the fused pipeline reads partitions in turns) and on two
// workers.
class WatermarkAlignmentTest : public ::testing::TestWithParam<int> {};

// Two partitions, the second's event time 10x faster; the sources record how far ahead it reads.
void SkewEventTimes(Harness& harness, std::vector<std::vector<TestRow>> partitions) {
  harness.control.partitions = std::move(partitions);
  harness.control.delay = {300us, 0us};
  harness.control.batch_rows = 20;  // 2 s of partition 0's event time, 20 s of partition 1's
  harness.control.highest = std::make_unique<std::atomic<int64_t>[]>(2);
  harness.control.highest[0].store(INT64_MIN / 2);
  harness.control.highest[1].store(INT64_MIN / 2);
}

TEST_P(WatermarkAlignmentTest, PausesTheFastPartition) {
  const int parallelism = GetParam();
  std::vector<std::vector<TestRow>> partitions = MakeRows(2, 2000, 100);
  for (TestRow& row : partitions[1]) row.ts = 1'700'000'000'000 + (row.ts - 1'700'000'000'000) * 10;
  Harness harness;
  SkewEventTimes(harness, partitions);
  ASSERT_OK(harness.Bind(2, ", 'watermark.alignment.max_drift' = '5s'"));
  std::vector<std::string> rows;
  auto counters = Harness::RunWithin(harness.job, harness.Options(parallelism, &rows), 120s);
  ASSERT_TRUE(counters.ok()) << counters.status().message();
  EXPECT_EQ(counters->workers, parallelism);
  EXPECT_GT(counters->alignment_pauses, 0u);
  EXPECT_GT(counters->alignment_resumes, 0u);
  // Read positions, while partition 0 still had rows: partition 1 never got further ahead than
  // the drift plus one of its batches.
  EXPECT_LE(harness.control.max_lead.load(), 5'000 + 20 * 1'000);
  // Without alignment it runs far ahead (the check above can fail).
  Harness free_running;
  SkewEventTimes(free_running, partitions);
  ASSERT_OK(free_running.Bind(2));
  std::vector<std::string> free_rows;
  auto free_counters =
      Harness::RunWithin(free_running.job, free_running.Options(parallelism, &free_rows), 120s);
  ASSERT_TRUE(free_counters.ok()) << free_counters.status().message();
  EXPECT_EQ(free_counters->alignment_pauses, 0u);
  EXPECT_GT(free_running.control.max_lead.load(), 100'000);
  EXPECT_EQ(Sorted(rows), Sorted(free_rows));
}

INSTANTIATE_TEST_SUITE_P(ParallelRuntime, WatermarkAlignmentTest, ::testing::Values(1, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return StrCat("Workers", info.param);
                         });

// --- failures and cancellation -------------------------------------------------------------

TEST(ParallelRuntimeTest, ASourceFailureStopsTheJobNamingTheTask) {
  Harness harness;
  harness.control.partitions = MakeRows(2, 100000, 1);
  harness.control.fail_partition = 1;
  ASSERT_OK(harness.Bind(2));
  std::vector<std::string> rows;
  const auto start = std::chrono::steady_clock::now();
  auto counters = Harness::RunWithin(harness.job, harness.Options(2, &rows), 60s);
  ASSERT_FALSE(counters.ok());
  const std::string message(counters.status().message());
  EXPECT_NE(message.find("task 'worker 1"), std::string::npos) << message;
  EXPECT_NE(message.find("partition 1 lost its input"), std::string::npos) << message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(ParallelRuntimeTest, ASinkFailureStopsTheJobNamingTheTask) {
  Harness harness;
  harness.control.partitions = MakeRows(2, 5000, 50);
  ASSERT_OK(harness.Bind(2));
  std::vector<std::string> rows;
  auto counters = Harness::RunWithin(harness.job, harness.Options(2, &rows, /*fail_after=*/10), 60s);
  ASSERT_FALSE(counters.ok());
  const std::string message(counters.status().message());
  EXPECT_NE(message.find("coordinator"), std::string::npos) << message;
  EXPECT_NE(message.find("disk is full"), std::string::npos) << message;
}

TEST(ParallelRuntimeTest, CancellationDrainsAndStops) {
  Harness harness;
  harness.control.partitions = MakeRows(2, 1000, 10);
  harness.control.endless = true;
  ASSERT_OK(harness.Bind(2));
  std::vector<std::string> rows;
  std::atomic<bool> cancel{false};
  RunOptions options = harness.Options(2, &rows);
  options.cancel = &cancel;
  std::thread stopper([&]() {
    std::this_thread::sleep_for(300ms);
    cancel.store(true);
  });
  auto counters = Harness::RunWithin(harness.job, options, 60s);
  stopper.join();
  ASSERT_TRUE(counters.ok()) << counters.status().message();
  EXPECT_TRUE(counters->cancelled);
  EXPECT_GT(counters->records_in, 0u);
  EXPECT_GT(rows.size(), 0u) << "windows closed before the cancellation reached the sink";
}

// --- live counters ---------------------------------------------------------------------------

// On several workers the progress callback's snapshots carry every task's records and times
// and every channel's figures as they grow, not only at the end; the final counters balance:
// each channel delivered what it was given, and the tasks' records add up to the job's.
TEST(ParallelRuntimeTest, LiveSnapshotsOnTwoWorkersCarryEveryTaskAndChannel) {
  Harness harness;
  harness.control.partitions = MakeRows(2, 1000, 10);
  harness.control.endless = true;
  harness.control.delay = {200us, 200us};  // the run lasts until it is cancelled
  ASSERT_OK(harness.Bind(2));
  std::vector<std::string> rows;
  std::atomic<bool> cancel{false};
  RunOptions options = harness.Options(2, &rows);
  options.cancel = &cancel;
  options.progress_interval_millis = 20;
  auto runner = JobRunner::Create(harness.job, options);
  ASSERT_TRUE(runner.ok()) << runner.status().message();
  std::vector<JobCounters> live;
  auto done = std::async(std::launch::async, [&]() {
    return (*runner)->Run([&](const JobCounters& counters) {
      live.push_back(counters);
      if (live.size() >= 10) cancel.store(true);
    });
  });
  ASSERT_EQ(done.wait_for(60s), std::future_status::ready) << "the job did not stop within 60 s";
  ASSERT_OK(done.get());
  ASSERT_GE(live.size(), 10u);

  const std::vector<std::string> tasks = {"worker 0", "worker 1", "coordinator"};
  for (const JobCounters& snapshot : live) {
    EXPECT_FALSE(snapshot.complete);
    std::vector<std::string> names;
    for (const auto& task : snapshot.tasks) names.push_back(task.task);
    ASSERT_EQ(names, tasks);
    // A keyed exchange (worker to worker) and a gather (worker to coordinator) per worker.
    ASSERT_EQ(snapshot.channels.size(), 6u);
    for (const auto& channel : snapshot.channels) {
      EXPECT_EQ(channel.statement, "result");
      EXPECT_LE(channel.queued, channel.capacity);
      EXPECT_LE(channel.records_received, channel.records_sent);
      EXPECT_EQ(channel.to_task == 2, channel.kind == "gather")
          << channel.kind << " to task " << channel.to_task;
    }
  }
  const JobCounters& first = live.front();
  const JobCounters& last = live.back();
  auto exchanged = [](const JobCounters& counters) {
    uint64_t rows = 0;
    for (const auto& channel : counters.channels) {
      if (channel.kind == "exchange") rows += channel.records_sent;
    }
    return rows;
  };
  EXPECT_GT(exchanged(last), exchanged(first));
  // Each worker publishes its partitions' watermarks too.
  EXPECT_TRUE(last.watermark.has_value());
  for (size_t w = 0; w < 2; ++w) {
    EXPECT_GT(last.tasks[w].records_in, first.tasks[w].records_in) << tasks[w];
    EXPECT_GT(last.tasks[w].records_out, first.tasks[w].records_out) << tasks[w];
    EXPECT_GT(last.tasks[w].busy_seconds, first.tasks[w].busy_seconds) << tasks[w];
    EXPECT_FALSE(last.tasks[w].placement.empty()) << tasks[w];
  }

  const JobCounters final_counters = (*runner)->counters();
  ASSERT_TRUE(final_counters.complete);
  ASSERT_EQ(final_counters.tasks.size(), 3u);
  ASSERT_EQ(final_counters.channels.size(), 6u);
  uint64_t received_by_workers = 0, gathered = 0;
  for (const auto& channel : final_counters.channels) {
    EXPECT_EQ(channel.records_received, channel.records_sent) << channel.kind << " " << channel.from_task;
    EXPECT_EQ(channel.queued, 0u);
    (channel.kind == "gather" ? gathered : received_by_workers) += channel.records_received;
  }
  // Every row read went through the exchange (no filter before the GROUP BY).
  EXPECT_EQ(exchanged(final_counters), final_counters.records_in);
  EXPECT_EQ(final_counters.tasks[0].records_in + final_counters.tasks[1].records_in,
            final_counters.records_in + received_by_workers);
  EXPECT_EQ(final_counters.tasks[2].records_in, gathered);
  EXPECT_EQ(final_counters.tasks[2].records_out, rows.size());
  EXPECT_EQ(final_counters.tasks[2].records_out, final_counters.records_out);
}

// A source that returns empty batches (nothing has arrived, as a Kafka poll that waited) keeps
// its task idle, not busy, fused or on two workers.
TEST(ParallelRuntimeTest, ReadsThatReturnNothingAreIdleTime) {
  for (int parallelism : {1, 2}) {
    Harness harness;
    harness.control.partitions = MakeRows(2, 0, 10);
    harness.control.hold_until_barriers = UINT64_MAX;  // empty batches until cancelled
    ASSERT_OK(harness.Bind(2));
    std::vector<std::string> rows;
    std::atomic<bool> cancel{false};
    RunOptions options = harness.Options(parallelism, &rows);
    options.cancel = &cancel;
    std::thread stopper([&]() {
      std::this_thread::sleep_for(300ms);
      cancel.store(true);
    });
    auto counters = Harness::RunWithin(harness.job, options, 60s);
    stopper.join();
    ASSERT_TRUE(counters.ok()) << counters.status().message();
    ASSERT_EQ(counters->tasks.size(), parallelism == 1 ? 1u : 3u);
    for (int w = 0; w < parallelism; ++w) {
      const JobCounters::TaskTimes& task = counters->tasks[static_cast<size_t>(w)];
      EXPECT_GT(task.idle_seconds, 4 * task.busy_seconds)
          << task.task << " at parallelism " << parallelism << ": busy " << task.busy_seconds << " s";
    }
  }
}

// --- stress ----------------------------------------------------------------------------------

// Checks every snapshot handed over without keeping them: each (task, operator) once per
// checkpoint, the same set every time, and checkpoints completed in order.
class CountingStore final : public CheckpointStore {
 public:
  absl::Status Put(uint64_t checkpoint, const std::string& task, size_t index, std::string) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!current_[checkpoint].insert({task, index}).second) {
      return absl::InternalError(StrCat("checkpoint ", checkpoint, ": ", task, "#", index, " twice"));
    }
    return absl::OkStatus();
  }
  absl::Status Complete(uint64_t checkpoint) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (checkpoint != completed_ + 1)
      return absl::InternalError(StrCat("checkpoint ", checkpoint, " out of order"));
    auto& keys = current_[checkpoint];
    if (reference_.empty()) reference_ = keys;
    if (keys != reference_) {
      return absl::InternalError(
          StrCat("checkpoint ", checkpoint, " has ", keys.size(), " snapshots, not ", reference_.size()));
    }
    current_.erase(checkpoint);
    completed_ = checkpoint;
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Get(uint64_t, const std::string&, size_t) const override {
    return absl::UnimplementedError("counting only");
  }
  std::vector<std::string> TasksOf(uint64_t) const override { return {}; }
  uint64_t durable_checkpoint() const override { return completed(); }
  uint64_t completed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return completed_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<uint64_t, std::set<std::pair<std::string, size_t>>> current_;
  std::set<std::pair<std::string, size_t>> reference_;
  uint64_t completed_ = 0;
};

TEST(ParallelRuntimeTest, StressRandomDelaysTinyRingsTenThousandCheckpoints) {
  Harness harness;
  harness.control.partitions = MakeRows(3, 4000, 3);
  harness.control.batch_rows = 7;
  ASSERT_OK(harness.Bind(3));
  std::vector<std::string> reference;
  ASSERT_TRUE(Harness::RunWithin(harness.job, harness.Options(1, &reference), 60s).ok());

  constexpr uint64_t kCheckpoints = 10'000;
  // Barriers are counted at the sources: 3 partitions see each one once.
  harness.control.hold_until_barriers = 3 * (kCheckpoints + 1);
  CountingStore store;
  std::vector<std::string> rows;
  RunOptions options = harness.CheckpointedOptions(4, &rows, store, 0);
  options.channel_capacity = 2;
  std::mutex random_mutex;
  std::mt19937 random(7);
  options.task_hook = [&](int) {
    int roll;
    {
      std::lock_guard<std::mutex> lock(random_mutex);
      roll = static_cast<int>(random() % 1000);
    }
    if (roll < 5) std::this_thread::sleep_for(std::chrono::microseconds(roll * 20));
    if (roll >= 5 && roll < 50) std::this_thread::yield();
  };
  auto counters = Harness::RunWithin(harness.job, options, 600s);
  ASSERT_TRUE(counters.ok()) << counters.status().message();
  EXPECT_GE(store.completed(), kCheckpoints);
  EXPECT_EQ(Sorted(rows), Sorted(reference));
}

}  // namespace
}  // namespace sluice::testing

namespace sluice::testing {
namespace {

// --- file splits ---------------------------------------------------------------------------

// Runs `job_text` (its ${dir} is `directory`) on `parallelism` workers, splitting files of at
// least `split_bytes`; returns the output file's lines and the dead-letter file's, sorted.
std::pair<std::vector<std::string>, std::vector<std::string>> RunSplit(const TemporaryDirectory& directory,
                                                                       const std::string& job_text,
                                                                       int parallelism,
                                                                       uint64_t split_bytes) {
  std::filesystem::remove(directory.File("out.jsonl"));
  std::filesystem::remove(directory.File("bad.jsonl"));
  auto job = BindJobText(job_text, {{"dir", directory.path()}});
  EXPECT_TRUE(job.ok()) << job.status().message();
  RunOptions options;
  options.batch_size = 64;
  options.parallelism = parallelism;
  options.file_split_bytes = split_bytes;
  auto runner = JobRunner::Create(*job, options);
  EXPECT_TRUE(runner.ok()) << runner.status().message();
  const absl::Status status = (*runner)->Run();
  EXPECT_TRUE(status.ok()) << status.message();
  if (parallelism > 1) {
    EXPECT_NE((*runner)->Explain().find("split:"), std::string::npos) << (*runner)->Explain();
  }
  std::vector<std::string> out = ReadLines(directory.File("out.jsonl"));
  std::vector<std::string> bad = std::filesystem::exists(directory.File("bad.jsonl"))
                                     ? ReadLines(directory.File("bad.jsonl"))
                                     : std::vector<std::string>{};
  std::sort(out.begin(), out.end());
  std::sort(bad.begin(), bad.end());
  return {out, bad};
}

TEST(FileSplitTest, SplitsReadEveryLineOnceWithItsLineNumber) {
  TemporaryDirectory directory;
  std::string json;
  std::string csv = "k,v\n";
  for (int i = 1; i <= 3000; ++i) {
    if (i % 397 == 0) {
      json += "{\"k\": \"broken\n";  // a malformed record
      csv += "x,notanumber\n";
    } else if (i % 251 == 0) {
      json += "\n";  // a blank line
      csv += "\n";
    } else {
      json += StrCat("{\"k\":\"k", i % 17, "\",\"v\":", i, ",\"pad\":\"", std::string(i % 50, 'x'), "\"}\n");
      csv += StrCat("k", i % 17, ",", i, "\n");
    }
  }
  WriteFile(directory.File("in.jsonl"), json);
  WriteFile(directory.File("in.csv"), csv);
  for (const char* format : {"json", "csv"}) {
    const std::string job = StrCat(
        "CREATE STREAM result AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM src GROUP BY k EMIT FINAL "
        "WITH ('src.type' = 'file_source', 'src.path' = '${dir}/in.",
        std::string(format) == "json" ? "jsonl" : "csv", "', 'src.format' = '", format,
        "', 'src.schema' = 'k STRING, v BIGINT', 'src.dead_letter.path' = '${dir}/bad.jsonl', "
        "'result.type' = 'file_sink', 'result.path' = '${dir}/out.jsonl')");
    const auto reference = RunSplit(directory, job, 1, UINT64_MAX);
    ASSERT_EQ(reference.first.size(), 17u) << format;
    ASSERT_EQ(reference.second.size(), 7u) << format;  // lines 397, 794, ..., 2779
    for (int parallelism : {2, 3, 4}) {
      // Small splits: cuts fall inside lines, on newlines, around blank lines.
      for (uint64_t split_bytes : {1u, 1000u}) {
        const auto split = RunSplit(directory, job, parallelism, split_bytes);
        EXPECT_EQ(split.first, reference.first) << format << ", parallelism " << parallelism;
        EXPECT_EQ(split.second, reference.second) << format << ", parallelism " << parallelism;
      }
    }
  }
}

// Every cut position of a small file, including cuts on a line's first byte, on a newline and
// inside a blank line: the two splits together read every record exactly once.
TEST(FileSplitTest, EveryCutPositionReadsEachLineOnce) {
  TemporaryDirectory directory;
  const std::string text = "{\"v\":1}\n{\"v\":22}\n\n{\"v\":333}\n{\"v\":4444}\n{\"v\":5}";
  WriteFile(directory.File("in.jsonl"), text);
  auto job = BindJobText(
      "CREATE STREAM result AS SELECT v FROM src WITH ('src.type' = 'file_source', 'src.path' = "
      "'${dir}/in.jsonl', "
      "'src.schema' = 'v BIGINT', 'result.type' = 'file_sink', 'result.path' = '${dir}/out.jsonl')",
      {{"dir", directory.path()}});
  ASSERT_TRUE(job.ok()) << job.status().message();
  const SourceDefinition& definition = job->sources[0];
  auto read = [&](uint64_t begin, uint64_t end) {
    std::vector<int64_t> values;
    auto writer = std::make_shared<DeadLetterWriter>("src", directory.File("bad.jsonl"));
    auto source =
        FileSource::CreateSplit(definition, directory.File("in.jsonl"), writer, 2, false, begin, end);
    EXPECT_TRUE(source->Open().ok());
    Batch batch;
    while (true) {
      auto more = source->Next(batch);
      EXPECT_TRUE(more.ok());
      if (!more.ok() || !*more) break;
      for (size_t row = 0; row < batch.num_rows(); ++row)
        values.push_back(batch.column(0).data<int64_t>()[row]);
    }
    return values;
  };
  const std::vector<int64_t> whole = read(0, UINT64_MAX);
  ASSERT_EQ(whole.size(), 5u);
  for (uint64_t cut = 1; cut <= text.size(); ++cut) {
    std::vector<int64_t> both = read(0, cut);
    for (const auto& value : read(cut, UINT64_MAX)) both.push_back(value);
    EXPECT_EQ(both, whole) << "cut at byte " << cut;
  }
}

// CSV records whose quoted fields hold line breaks (some of which look like records): at every
// cut position, the two splits read each record once, and a bad record's dead letter names the
// line it begins on, whichever split reads it.
TEST(FileSplitTest, CsvRecordsWithQuotedLineBreaksAreReadOnceAtEveryCut) {
  TemporaryDirectory directory;
  const std::string text =
      "v,note\n1,\"a\nb\"\n2,\"\n\n\"\n\n3,c\nx,\"bad\nrecord\"\n4,\"x\n\"\"\n\"\n5,\"\"\n6,\"7\n8\"\n7,z";
  WriteFile(directory.File("in.csv"), text);
  auto job = BindJobText(
      "CREATE STREAM result AS SELECT v FROM src WITH ('src.type' = 'file_source', 'src.path' = "
      "'${dir}/in.csv', 'src.schema' = 'v BIGINT, note STRING', 'result.type' = 'file_sink', "
      "'result.path' = '${dir}/out.jsonl')",
      {{"dir", directory.path()}});
  ASSERT_TRUE(job.ok()) << job.status().message();
  const SourceDefinition& definition = job->sources[0];
  // The values read and the dead letters written by the splits [0, cut) and [cut, end).
  auto read = [&](uint64_t cut) {
    std::vector<int64_t> values;
    std::filesystem::remove(directory.File("bad.jsonl"));
    auto writer = std::make_shared<DeadLetterWriter>("src", directory.File("bad.jsonl"));
    for (auto [begin, end] : {std::pair<uint64_t, uint64_t>{0, cut}, {cut, UINT64_MAX}}) {
      if (begin == 0 && end == 0) continue;
      auto source =
          FileSource::CreateSplit(definition, directory.File("in.csv"), writer, 2, false, begin, end);
      EXPECT_TRUE(source->Open().ok());
      Batch batch;
      while (true) {
        auto more = source->Next(batch);
        EXPECT_TRUE(more.ok());
        if (!more.ok() || !*more) break;
        for (size_t row = 0; row < batch.num_rows(); ++row)
          values.push_back(batch.column(0).data<int64_t>()[row]);
      }
    }
    EXPECT_TRUE(writer->Flush().ok());
    return std::make_pair(values, ReadLines(directory.File("bad.jsonl")));
  };
  const auto whole = read(0);
  ASSERT_EQ(whole.first, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7}));
  ASSERT_EQ(whole.second.size(), 1u);
  EXPECT_NE(whole.second[0].find("\"line\":9,"), std::string::npos) << whole.second[0];
  for (uint64_t cut = 1; cut <= text.size(); ++cut) {
    EXPECT_EQ(read(cut), whole) << "cut at byte " << cut;
  }
}

}  // namespace
}  // namespace sluice::testing
