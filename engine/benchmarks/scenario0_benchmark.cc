// Scenario 0 of the brief: SELECT order_id, customer_id, order_date, total_amount FROM orders
// WHERE total_amount > 100, at two levels (DESIGN.md section 5):
//   core  - pre-built columnar batches in memory -> Filter -> Project -> counting sink
//   codec - JSON Lines bytes in memory -> decode -> Filter -> Project -> JSON Lines encode
// Items/s is records in per second on one thread, i.e. per core.
#include <benchmark/benchmark.h>

#include <cstring>

#include "ops/filter_operator.h"
#include "ops/project_operator.h"
#include "order_generator.h"
#include "plan/binder.h"
#include "sql/parser.h"

namespace sluice {
namespace {

constexpr const char* kScenario0 =
    "CREATE STREAM high_value AS SELECT order_id, customer_id, order_date, total_amount FROM orders "
    "WHERE total_amount > 100 WITH ('orders.type' = 'file_source', 'orders.path' = 'in-memory', "
    "'orders.schema' = 'order_id BIGINT, customer_id STRING, order_date TIMESTAMP, total_amount DOUBLE')";

// Consumes batches and counts rows; reads one value per batch so nothing is optimised away.
class CountingSink final : public Operator {
 public:
  absl::Status Push(const Batch& batch) override {
    rows_ += batch.active_rows();
    if (batch.active_rows() > 0) checksum_ += batch.column(0).data<int64_t>()[batch.ActiveRow(0)];
    return absl::OkStatus();
  }
  std::string Describe() const override { return "CountingSink"; }
  uint64_t rows() const { return rows_; }

 private:
  uint64_t rows_ = 0;
  int64_t checksum_ = 0;
};

class EncodingSink final : public Operator {
 public:
  explicit EncodingSink(const Schema& schema) : encoder_(MakeJsonEncoder(schema)) {
    buffer_.reserve(1 << 22);
  }
  absl::Status Push(const Batch& batch) override {
    encoder_->Encode(batch, buffer_);
    rows_ += batch.active_rows();
    if (buffer_.size() > (1 << 21)) buffer_.clear();
    return absl::OkStatus();
  }
  std::string Describe() const override { return "EncodingSink"; }
  uint64_t rows() const { return rows_; }

 private:
  std::unique_ptr<RecordEncoder> encoder_;
  std::string buffer_;
  uint64_t rows_ = 0;
};

BoundJob BindScenario0() {
  auto parsed = ParseJob(kScenario0);
  if (!parsed.ok()) std::abort();
  auto job = BindJob(std::move(*parsed), BindOptions{});
  if (!job.ok()) {
    std::fprintf(stderr, "%s\n", std::string(job.status().message()).c_str());
    std::abort();
  }
  return std::move(*job);
}

// The logical chain is Project <- Filter <- Scan.
const LogicalOperator& ProjectNode(const BoundJob& job) {
  return *job.statements[0].plan;
}
const LogicalOperator& FilterNode(const BoundJob& job) {
  return *job.statements[0].plan->input;
}

void BM_Scenario0_Core(benchmark::State& state) {
  const size_t batch_size = static_cast<size_t>(state.range(0));
  const BoundJob job = BindScenario0();
  FilterOperator filter(*FilterNode(job).predicate);
  ProjectOperator project(ProjectNode(job).projections, ProjectNode(job).schema);
  CountingSink sink;
  filter.SetOutput(&project);
  project.SetOutput(&sink);
  // 1,000 pre-built batches, cycled.
  OrderGenerator generator;
  std::vector<Batch> batches(std::max<size_t>(1, (1 << 20) / batch_size));
  for (auto& batch : batches) {
    generator.FillBatch(batch_size, batch);
    // The generator gives 4 columns; the source schema adds _event_time after them.
    batch.AddColumn(batch.shared_column(2));
  }
  uint64_t records = 0;
  size_t next = 0;
  for (auto _ : state) {
    if (!filter.Push(batches[next]).ok()) state.SkipWithError("push failed");
    records += batches[next].num_rows();
    next = next + 1 == batches.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["selectivity"] = static_cast<double>(sink.rows()) / static_cast<double>(records);
}
BENCHMARK(BM_Scenario0_Core)->Arg(1024)->Arg(4096);

void BM_Scenario0_Codec(benchmark::State& state) {
  const BoundJob job = BindScenario0();
  const SourceDefinition& source = job.sources[0];
  auto decoder = MakeJsonDecoder(source.decoder);
  if (!decoder.ok()) std::abort();
  FilterOperator filter(*FilterNode(job).predicate);
  ProjectOperator project(ProjectNode(job).projections, ProjectNode(job).schema);
  EncodingSink sink(job.statements[0].output_schema);
  filter.SetOutput(&project);
  project.SetOutput(&sink);
  OrderGenerator generator;
  std::string input;
  generator.AppendJsonLines(200000, input);
  // Split into lines once per pass, as the file source does, batch by batch.
  constexpr size_t kBatch = 1024;
  std::vector<std::string_view> lines;
  lines.reserve(kBatch);
  std::vector<RecordError> errors;
  Batch batch;
  uint64_t records = 0;
  size_t offset = 0;
  for (auto _ : state) {
    lines.clear();
    while (lines.size() < kBatch) {
      if (offset >= input.size()) offset = 0;
      const char* begin = input.data() + offset;
      const char* newline = static_cast<const char*>(std::memchr(begin, '\n', input.size() - offset));
      lines.emplace_back(begin, newline - begin);
      offset += lines.back().size() + 1;
    }
    errors.clear();
    (*decoder)->Decode(lines, 1, batch, errors);
    // Without an event time field the source appends the ingestion time; mimic it.
    batch.AddColumn(batch.shared_column(2));
    if (!filter.Push(batch).ok()) state.SkipWithError("push failed");
    batch.Release();
    records += lines.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.SetBytesProcessed(static_cast<int64_t>(records * (input.size() / 200000)));
}
BENCHMARK(BM_Scenario0_Codec);

}  // namespace
}  // namespace sluice

BENCHMARK_MAIN();
