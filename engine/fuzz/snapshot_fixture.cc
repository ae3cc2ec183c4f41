#include "snapshot_fixture.h"

#include <cstdio>
#include <cstdlib>

#include "common/strings.h"
#include "connectors/source.h"
#include "formats/record_format.h"
#include "plan/binder.h"
#include "runtime/physical_plan.h"
#include "sql/parser.h"
#include "state/key_table.h"

namespace sluice::fuzz {
namespace {

constexpr const char* kSourceProperties =
    "'t.type' = 'file_source', 't.path' = 'unused.jsonl', "
    "'t.schema' = 'k STRING, g BIGINT, x DOUBLE, flag BOOLEAN, ts TIMESTAMP', "
    "'event.time.field' = 'ts', 'watermark.max_out_of_orderness' = '2s'";

constexpr const char* kOver =
    "OVER (ROWS WINDOW BUFFER 4 ROWS PARTITION BY k ORDER BY ts EXPIRE AFTER INTERVAL '30' SECOND "
    "INACTIVITY)";

// Statements 0-4 of the first job: kTumblingAggregate, kSlidingAggregate, kGroupByStringKey,
// kSessionWindow, kRowsWindow.
std::string MainJob() {
  return StrCat(
      "CREATE STREAM tumbling AS SELECT k, g, COUNT(*) AS n, COUNT(x) AS nx, COUNT(DISTINCT g) AS dg, "
      "SUM(x) AS sx, AVG(x) AS ax, MIN(k) AS mink, MAX(x) AS maxx, STDDEV_SAMP(x) AS ss, "
      "STDDEV_POP(x) AS sp, VAR_SAMP(x) AS vs, VAR_POP(x) AS vp, FIRST_VALUE(k) AS fk, "
      "LAST_VALUE(ts) AS lt, MIN(flag) AS mf "
      "FROM t GROUP BY k, g WINDOW TUMBLING (ts, INTERVAL '10' SECOND) EMIT FINAL;\n",
      "CREATE STREAM sliding AS SELECT k, COUNT(*) AS n, SUM(g) AS sg, MAX(k) AS mk "
      "FROM t GROUP BY k WINDOW SLIDING (ts, 10s, 5s) EMIT CHANGES;\n",
      "CREATE STREAM by_key AS SELECT k, COUNT(*) AS n, SUM(x) AS sx, FIRST_VALUE(g) AS fg, "
      "COUNT(DISTINCT k) AS dk FROM t GROUP BY k EMIT CHANGES;\n",
      "CREATE STREAM sessions AS SELECT k, COUNT(*) AS n, SUM(g) AS sg, MAX(ts) AS mt, AVG(x) AS ax, "
      "COUNT(DISTINCT g) AS dg FROM t GROUP BY k WINDOW SESSION (ts, 3s) EMIT FINAL;\n",
      "CREATE STREAM rows_window AS SELECT k, AVG(x) ", kOver, " AS ax, SUM(g) ", kOver, " AS sg, COUNT(x) ",
      kOver, " AS cx, COUNT(*) ", kOver, " AS n, MIN(k) ", kOver, " AS mink, MAX(x) ", kOver,
      " AS maxx, FIRST_VALUE(k) ", kOver, " AS fk, LAST_VALUE(flag) ", kOver, " AS lf, LAG(x, 2) ", kOver,
      " AS lag2, LEAD(k, 1) ", kOver, " AS lead1, ROW_NUMBER() ", kOver, " AS rn FROM t\n", "WITH (",
      kSourceProperties, ", 'late.data.allowed_lateness' = '2s')");
}

// Statements 0-1 of the second job: kGroupByTtl, kGroupByStringKeyTtl.
std::string TtlJob() {
  return StrCat(
      "CREATE STREAM ttl AS SELECT k, g, flag, COUNT(*) AS n, MIN(x) AS mx, MAX(g) AS mg, SUM(g) AS sg "
      "FROM t GROUP BY k, g, flag EMIT CHANGES;\n",
      "CREATE STREAM ttl_by_key AS SELECT k, COUNT(*) AS n, AVG(g) AS ag FROM t GROUP BY k EMIT CHANGES\n",
      "WITH (", kSourceProperties, ", 'state.ttl' = '5s')");
}

BoundJob BindFixed(const std::string& text) {
  absl::StatusOr<ParsedJob> parsed = ParseJob(text);
  absl::StatusOr<BoundJob> job = parsed.ok() ? BindJob(std::move(*parsed), BindOptions{}) : parsed.status();
  if (!job.ok()) {
    std::fprintf(stderr, "snapshot fixture: the fixed job does not bind: %s\n",
                 std::string(job.status().message()).c_str());
    std::abort();
  }
  return std::move(*job);
}

// The sample input: a few keys (one longer than a key table keeps inline, and NULL), event
// time mostly rising with some disorder, a late record, NULL values.
constexpr const char* kSampleRecords[] = {
    R"({"k":"a","g":1,"x":1.5,"flag":true,"ts":1000})",
    R"({"k":"b","g":2,"x":-2.25,"flag":false,"ts":1500})",
    R"({"k":"a","g":1,"x":null,"flag":true,"ts":2500})",
    R"({"k":"a-key-longer-than-fifteen-bytes","g":3,"x":4,"flag":null,"ts":3000})",
    R"({"k":null,"g":4,"x":0.5,"flag":true,"ts":2900})",
    R"({"k":"b","g":null,"x":1e10,"flag":false,"ts":6000})",
    R"({"k":"c","g":-7,"x":3.25,"flag":true,"ts":7000})",
    R"({"k":"a","g":1,"x":2,"flag":false,"ts":9000})",
    R"({"k":"c","g":-7,"x":null,"flag":true,"ts":12000})",
    R"({"k":"a","g":2,"x":8,"flag":true,"ts":12500})",
    R"({"k":"b","g":2,"x":-1,"flag":false,"ts":4000})",
    R"({"k":"d","g":5,"x":6.5,"flag":true,"ts":15000})",
    R"({"k":"a-key-longer-than-fifteen-bytes","g":3,"x":7,"flag":false,"ts":16000})",
    R"({"k":"a","g":1,"x":1,"flag":true,"ts":21000})",
    R"({"k":"e","g":6,"x":2.5,"flag":null,"ts":22000})",
    R"({"k":"c","g":-7,"x":9,"flag":true,"ts":23500})",
};
constexpr size_t kSampleBatchRows = 4;

// Builds a statement's operator chain (input first) and wires each to the next.
std::vector<std::unique_ptr<Operator>> BuildChain(const BoundStatement& statement) {
  std::vector<std::unique_ptr<Operator>> chain;
  for (const LogicalOperator* node : StatementChain(statement)) {
    chain.push_back(MakeOperator(*node, /*late_sink=*/nullptr));
    if (chain.size() > 1) chain[chain.size() - 2]->SetOutput(chain.back().get());
  }
  return chain;
}

// The key columns of a bare KeyTable target, from a sample batch's columns (k, g, x, flag, ts).
std::vector<const Column*> KeyColumns(SnapshotTarget target, const Batch& batch) {
  if (target == SnapshotTarget::kKeyTableHashed) {
    return {&batch.column(0), &batch.column(1), &batch.column(2), &batch.column(3), &batch.column(4)};
  }
  return {&batch.column(0)};
}

KeyTable MakeKeyTable(SnapshotTarget target) {
  switch (target) {
    case SnapshotTarget::kKeyTableHashed:
      return KeyTable(
          {TypeId::kString, TypeId::kInt64, TypeId::kDouble, TypeId::kBoolean, TypeId::kTimestamp});
    case SnapshotTarget::kKeyTableDirect: return KeyTable({TypeId::kString}, KeyTable::Erasure::kAllowed);
    default: return KeyTable({TypeId::kString}, KeyTable::Erasure::kNever);
  }
}

bool IsKeyTable(SnapshotTarget target) {
  return target == SnapshotTarget::kKeyTableHashed || target == SnapshotTarget::kKeyTableDirect ||
         target == SnapshotTarget::kKeyTableIdentity;
}

}  // namespace

std::string_view SnapshotTargetName(SnapshotTarget target) {
  switch (target) {
    case SnapshotTarget::kTumblingAggregate: return "tumbling_aggregate";
    case SnapshotTarget::kSlidingAggregate: return "sliding_aggregate";
    case SnapshotTarget::kGroupByStringKey: return "group_by_string_key";
    case SnapshotTarget::kGroupByTtl: return "group_by_ttl";
    case SnapshotTarget::kGroupByStringKeyTtl: return "group_by_string_key_ttl";
    case SnapshotTarget::kSessionWindow: return "session_window";
    case SnapshotTarget::kRowsWindow: return "rows_window";
    case SnapshotTarget::kKeyTableHashed: return "key_table_hashed";
    case SnapshotTarget::kKeyTableDirect: return "key_table_direct";
    case SnapshotTarget::kKeyTableIdentity: return "key_table_identity";
  }
  return "unknown";
}

SnapshotFixture& SnapshotFixture::Get() {
  static SnapshotFixture* fixture = new SnapshotFixture();
  return *fixture;
}

SnapshotFixture::SnapshotFixture() : job_(BindFixed(MainJob())), ttl_job_(BindFixed(TtlJob())) {}

const BoundStatement& SnapshotFixture::Statement(SnapshotTarget target) const {
  switch (target) {
    case SnapshotTarget::kTumblingAggregate: return job_.statements[0];
    case SnapshotTarget::kSlidingAggregate: return job_.statements[1];
    case SnapshotTarget::kGroupByStringKey: return job_.statements[2];
    case SnapshotTarget::kSessionWindow: return job_.statements[3];
    case SnapshotTarget::kRowsWindow: return job_.statements[4];
    case SnapshotTarget::kGroupByTtl: return ttl_job_.statements[0];
    case SnapshotTarget::kGroupByStringKeyTtl: return ttl_job_.statements[1];
    default: break;
  }
  std::abort();  // a bare key table has no statement
}

const LogicalOperator& SnapshotFixture::StatefulNode(SnapshotTarget target) const {
  const std::vector<const LogicalOperator*> chain = StatementChain(Statement(target));
  return *chain[StatefulIndex(chain).value()];
}

absl::Status SnapshotFixture::RestoreOnce(SnapshotTarget target, std::string_view bytes,
                                          std::string* snapshot) {
  StateReader reader(bytes);
  StateWriter writer;
  if (IsKeyTable(target)) {
    KeyTable table = MakeKeyTable(target);
    SLUICE_RETURN_IF_ERROR(table.Restore(reader));
    table.Snapshot(writer);
  } else {
    std::unique_ptr<Operator> op = MakeOperator(StatefulNode(target), /*late_sink=*/nullptr);
    SLUICE_RETURN_IF_ERROR(op->Restore(reader));
    SLUICE_RETURN_IF_ERROR(op->Snapshot(writer));
  }
  *snapshot = writer.Release();
  return absl::OkStatus();
}

absl::Status SnapshotFixture::Restore(SnapshotTarget target, std::string_view bytes) {
  std::string snapshot;
  SLUICE_RETURN_IF_ERROR(RestoreOnce(target, bytes, &snapshot));
  // What the engine itself wrote must restore, and describe the same state again.
  std::string again;
  if (!RestoreOnce(target, snapshot, &again).ok() || again != snapshot) __builtin_trap();
  return RunRestored(target, bytes);
}

absl::Status SnapshotFixture::RunRestored(SnapshotTarget target, std::string_view bytes) {
  if (sample_batches_.empty()) sample_batches_ = SampleBatches();
  StateReader reader(bytes);
  StateWriter writer;
  if (IsKeyTable(target)) {
    KeyTable table = MakeKeyTable(target);
    SLUICE_RETURN_IF_ERROR(table.Restore(reader));
    std::vector<uint32_t> ids(kSampleBatchRows);
    for (size_t b = 0; b < sample_batches_.size(); ++b) {
      const std::vector<const Column*> keys = KeyColumns(target, sample_batches_[b]);
      table.FindOrInsert(keys.data(), nullptr, sample_batches_[b].num_rows(), ids.data());
      if (target != SnapshotTarget::kKeyTableIdentity && b % 2 == 0) table.Erase(ids[b % kSampleBatchRows]);
    }
    table.Snapshot(writer);
    return absl::OkStatus();
  }
  // The restored operator in its statement's chain, fed the sample records to the end.
  const BoundStatement& statement = Statement(target);
  std::vector<std::unique_ptr<Operator>> chain = BuildChain(statement);
  const size_t stateful = StatefulIndex(StatementChain(statement)).value();
  SLUICE_RETURN_IF_ERROR(chain[stateful]->Restore(reader));
  // Watermarks as the source derives them, whatever watermark the snapshot holds (an operator
  // ignores one that does not advance its own).
  EventTimeTracker tracker(job_.sources[0].max_out_of_orderness_millis);
  for (const Batch& batch : sample_batches_) {
    SLUICE_RETURN_IF_ERROR(chain[0]->Push(batch));
    tracker.Observe(batch.column(batch.num_columns() - 1), batch.num_rows());
    SLUICE_RETURN_IF_ERROR(chain[0]->OnWatermark(tracker.watermark()));
  }
  SLUICE_RETURN_IF_ERROR(chain[stateful]->Snapshot(writer));
  SLUICE_RETURN_IF_ERROR(chain[0]->OnWatermark(kMaxWatermark));
  return chain[0]->Finish();
}

std::vector<Batch> SnapshotFixture::SampleBatches() {
  const SourceDefinition& source = job_.sources[0];
  std::unique_ptr<RecordDecoder> decoder = MakeJsonDecoder(source.decoder).value();
  std::vector<Batch> batches;
  std::vector<RecordError> errors;
  const size_t records = std::size(kSampleRecords);
  for (size_t begin = 0; begin < records; begin += kSampleBatchRows) {
    std::vector<std::string_view> lines;
    for (size_t i = begin; i < std::min(records, begin + kSampleBatchRows); ++i)
      lines.push_back(kSampleRecords[i]);
    Batch decoded;
    decoder->Decode(lines, begin + 1, decoded, errors);
    // The decoder reuses its columns from batch to batch: keep a copy of each.
    Batch copy;
    std::vector<std::shared_ptr<Column>> columns;
    for (size_t c = 0; c < decoded.num_columns(); ++c) {
      const Column& from = decoded.column(c);
      auto column = std::make_shared<Column>(from.type(), decoded.num_rows());
      for (size_t r = 0; r < decoded.num_rows(); ++r) {
        if (!from.IsValid(r)) {
          column->SetNull(r);
        } else if (from.type() == TypeId::kString) {
          column->data<std::string_view>()[r] = column->heap().Add(from.data<std::string_view>()[r]);
          column->validity()[r] = 1;
        } else {
          const size_t width = PhysicalSize(from.type());
          std::memcpy(column->data<uint8_t>() + r * width, from.data<uint8_t>() + r * width, width);
          column->validity()[r] = 1;
        }
      }
      columns.push_back(std::move(column));
    }
    copy.SetColumns(std::move(columns), decoded.num_rows());
    batches.push_back(std::move(copy));
  }
  if (!errors.empty()) std::abort();  // the sample records are all well-formed
  return batches;
}

std::string SnapshotFixture::SampleSnapshot(SnapshotTarget target) {
  const std::vector<Batch> batches = SampleBatches();
  StateWriter writer;
  if (IsKeyTable(target)) {
    KeyTable table = MakeKeyTable(target);
    std::vector<uint32_t> ids(kSampleBatchRows);
    for (size_t b = 0; b < batches.size(); ++b) {
      const std::vector<const Column*> keys = KeyColumns(target, batches[b]);
      table.FindOrInsert(keys.data(), nullptr, batches[b].num_rows(), ids.data());
      // A table that may erase frees a group now and then, so that its snapshot holds free ids.
      if (target != SnapshotTarget::kKeyTableIdentity && b % 2 == 1) table.Erase(ids[0]);
    }
    table.Snapshot(writer);
    return writer.Release();
  }
  std::vector<std::unique_ptr<Operator>> chain = BuildChain(Statement(target));
  const std::vector<const LogicalOperator*> nodes = StatementChain(Statement(target));
  Operator* stateful = chain[StatefulIndex(nodes).value()].get();
  EventTimeTracker tracker(job_.sources[0].max_out_of_orderness_millis);
  for (const Batch& batch : batches) {
    if (!chain[0]->Push(batch).ok()) std::abort();
    tracker.Observe(batch.column(batch.num_columns() - 1), batch.num_rows());
    if (!chain[0]->OnWatermark(tracker.watermark()).ok()) std::abort();
  }
  if (!stateful->Snapshot(writer).ok()) std::abort();
  return writer.Release();
}

}  // namespace sluice::fuzz
