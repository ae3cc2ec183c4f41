// The lab's checking sink (ResultChecksum::AddBatch) on Scenario 0's output: order_id BIGINT,
// customer_id STRING, order_date TIMESTAMP, total_amount DOUBLE, the rows with total_amount >
// 100 selected. Arg 1: batches kept hot in cache by cycling over 1 MiB of them; Arg 0: 2M rows
// (about 120 MB), so that each batch comes from memory, as in a lab run. Items/s is rows
// offered per second, the unit of the lab's Scenario 0 figure.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "order_generator.h"
#include "result_checksum.h"

namespace sluice::bench {
namespace {

void BM_ResultChecksum_Scenario0(benchmark::State& state) {
  const bool hot = state.range(0) != 0;
  constexpr size_t kBatchRows = 1024;
  OrderGenerator generator;
  std::vector<Batch> batches(hot ? 16 : (size_t{2} << 20) / kBatchRows);
  for (Batch& batch : batches) {
    generator.FillBatch(kBatchRows, batch);
    const double* amounts = batch.column(3).data<double>();
    uint32_t* selection = batch.MutableSelection();
    size_t selected = 0;
    for (size_t row = 0; row < kBatchRows; ++row) {
      if (amounts[row] > 100) selection[selected++] = static_cast<uint32_t>(row);
    }
    batch.SetSelectionCount(selected);
  }
  // The checksum logs every row: it is started afresh every 2M rows (32 MB of log), on the
  // blocks of a pool, as the lab's sink reuses them run after run.
  const std::vector<TypeId> types = {TypeId::kInt64, TypeId::kString, TypeId::kTimestamp, TypeId::kDouble};
  LogBlockPool pool;
  auto checksum = std::make_unique<ResultChecksum>(types, std::vector<size_t>{}, &pool);
  uint64_t rows = 0;
  size_t next = 0;
  size_t batches_in_log = 0;
  for (auto _ : state) {
    if (++batches_in_log == 2048) {
      checksum = std::make_unique<ResultChecksum>(types, std::vector<size_t>{}, &pool);
      batches_in_log = 1;
    }
    checksum->AddBatch(batches[next]);
    rows += kBatchRows;
    next = next + 1 == batches.size() ? 0 : next + 1;
  }
  benchmark::DoNotOptimize(checksum->Value().rows);
  state.SetItemsProcessed(static_cast<int64_t>(rows));
}
BENCHMARK(BM_ResultChecksum_Scenario0)->ArgNames({"hot"})->Arg(1)->Arg(0);

}  // namespace
}  // namespace sluice::bench
