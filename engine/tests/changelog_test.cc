// Changelog rows at the operator and encoder level: an aggregate that retracts its input's
// update-before and delete rows, and the records the changelog and upsert sinks write.
#include <gtest/gtest.h>

#include <tuple>
#include <utility>

#include "common/strings.h"
#include "connectors/change_encoder.h"
#include "ops/aggregate_operator.h"
#include "plan/binder.h"
#include "sql/parser.h"

namespace sluice {
namespace {

// Writes each row it receives as "<kind> <JSON>".
class KindSink final : public Operator {
 public:
  explicit KindSink(const Schema& schema) : encoder_(MakeJsonEncoder(schema)) {}
  absl::Status Push(const Batch& batch) override {
    std::string text;
    encoder_->Encode(batch, text);
    size_t begin = 0;
    for (size_t i = 0; i < batch.active_rows(); ++i) {
      const size_t end = text.find('\n', begin);
      lines_.push_back(
          StrCat(RowKindName(batch.row_kind(batch.ActiveRow(i))), " ", text.substr(begin, end - begin)));
      begin = end + 1;
    }
    return absl::OkStatus();
  }
  std::string Describe() const override { return "KindSink"; }
  std::vector<std::string> Take() { return std::exchange(lines_, {}); }

 private:
  std::unique_ptr<RecordEncoder> encoder_;
  std::vector<std::string> lines_;
};

// One batch of (k, v) rows with the given kinds.
Batch Rows(const std::vector<std::tuple<RowKind, std::string, int64_t>>& rows) {
  auto k = std::make_shared<Column>(TypeId::kString, rows.size());
  auto v = std::make_shared<Column>(TypeId::kInt64, rows.size());
  auto kinds = std::make_shared<Column>(TypeId::kBoolean, rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    k->data<std::string_view>()[i] = k->heap().Add(std::get<1>(rows[i]));
    k->validity()[i] = 1;
    v->data<int64_t>()[i] = std::get<2>(rows[i]);
    v->validity()[i] = 1;
    kinds->data<uint8_t>()[i] = static_cast<uint8_t>(std::get<0>(rows[i]));
    kinds->validity()[i] = 1;
  }
  Batch batch;
  batch.SetColumns({k, v}, rows.size());
  batch.SetRowKinds(kinds);
  return batch;
}

TEST(ChangelogTest, AggregateRetractsAndDeletesAGroupWhoseRowsAreAllRetracted) {
  auto parsed = ParseJob(
      "CREATE STREAM out AS SELECT k, SUM(v) AS total, COUNT(*) AS n, AVG(v) AS mean FROM t GROUP BY k "
      "WITH ('t.type' = 'file_source', 't.path' = 'unused', 't.schema' = 'k STRING, v BIGINT')");
  ASSERT_TRUE(parsed.ok());
  auto job = BindJob(std::move(*parsed), BindOptions{});
  ASSERT_TRUE(job.ok()) << job.status().message();
  LogicalOperator* node = job->statements[0].plan.get();
  while (node->kind != LogicalOperatorKind::kAggregate) node = node->input.get();
  // As the planner sets them for an aggregate reading an updating stream into a changelog sink.
  node->aggregate->retract_input = true;
  node->aggregate->emit_update_before = true;
  AggregateOperator op(*node->aggregate, node->schema);
  // The aggregate's first four output columns (then come _window_start and _window_end).
  KindSink sink(Schema({Field{"k", TypeId::kString, false}, Field{"total", TypeId::kInt64, false},
                        Field{"n", TypeId::kInt64, false}, Field{"mean", TypeId::kDouble, false}}));
  op.SetOutput(&sink);

  ASSERT_TRUE(op.Push(Rows({{RowKind::kInsert, "a", 5}, {RowKind::kInsert, "b", 3}})).ok());
  EXPECT_EQ(sink.Take(), (std::vector<std::string>{R"(+I {"k":"a","total":5,"n":1,"mean":5})",
                                                   R"(+I {"k":"b","total":3,"n":1,"mean":3})"}));
  ASSERT_TRUE(op.Push(Rows({{RowKind::kUpdateBefore, "a", 5}, {RowKind::kUpdateAfter, "a", 7}})).ok());
  EXPECT_EQ(sink.Take(), (std::vector<std::string>{R"(-U {"k":"a","total":5,"n":1,"mean":5})",
                                                   R"(+U {"k":"a","total":7,"n":1,"mean":7})"}));
  ASSERT_TRUE(op.Push(Rows({{RowKind::kDelete, "b", 3}, {RowKind::kInsert, "a", 1}})).ok());
  EXPECT_EQ(sink.Take(), (std::vector<std::string>{R"(-D {"k":"b","total":3,"n":1,"mean":3})",
                                                   R"(-U {"k":"a","total":7,"n":1,"mean":7})",
                                                   R"(+U {"k":"a","total":8,"n":2,"mean":4})"}));
  // b's state was freed: it starts afresh.
  ASSERT_TRUE(op.Push(Rows({{RowKind::kInsert, "b", 4}})).ok());
  EXPECT_EQ(sink.Take(), (std::vector<std::string>{R"(+I {"k":"b","total":4,"n":1,"mean":4})"}));
  EXPECT_EQ(op.group_count(), 2u);
}

TEST(ChangelogTest, ChangelogRecordsPairUpdatesAcrossBatchesAndReadLoneRowsAsInsertOrDelete) {
  const Schema schema({Field{"k", TypeId::kString, false}, Field{"v", TypeId::kInt64, false}});
  ChangeEncoder encoder(schema, ChangelogMode::kChangelog, {0});
  std::string out;
  encoder.Encode(Rows({{RowKind::kInsert, "a", 1}, {RowKind::kUpdateBefore, "a", 1}}), out);
  EXPECT_TRUE(encoder.pending());
  encoder.Encode(Rows({{RowKind::kUpdateAfter, "a", 2},
                       {RowKind::kUpdateAfter, "b", 9},
                       {RowKind::kUpdateBefore, "c", 3},
                       {RowKind::kDelete, "a", 2}}),
                 out);
  encoder.Encode(Rows({{RowKind::kUpdateBefore, "d", 4}}), out);
  encoder.Finish(out);
  EXPECT_EQ(out,
            "{\"before\":null,\"after\":{\"k\":\"a\",\"v\":1},\"op\":\"c\"}\n"
            "{\"before\":{\"k\":\"a\",\"v\":1},\"after\":{\"k\":\"a\",\"v\":2},\"op\":\"u\"}\n"
            "{\"before\":null,\"after\":{\"k\":\"b\",\"v\":9},\"op\":\"c\"}\n"
            "{\"before\":{\"k\":\"c\",\"v\":3},\"after\":null,\"op\":\"d\"}\n"
            "{\"before\":{\"k\":\"a\",\"v\":2},\"after\":null,\"op\":\"d\"}\n"
            "{\"before\":{\"k\":\"d\",\"v\":4},\"after\":null,\"op\":\"d\"}\n");
}

TEST(ChangelogTest, UpsertRecordsWriteRowsAndKeyedDeletes) {
  const Schema schema({Field{"k", TypeId::kString, false}, Field{"v", TypeId::kInt64, false}});
  ChangeEncoder encoder(schema, ChangelogMode::kUpsert, {0});
  std::string out;
  std::vector<ChangeEncoder::Record> records;
  encoder.Encode(Rows({{RowKind::kInsert, "a", 1},
                       {RowKind::kUpdateBefore, "a", 1},
                       {RowKind::kUpdateAfter, "a", 2},
                       {RowKind::kDelete, "a", 2}}),
                 out, &records);
  EXPECT_EQ(out,
            "{\"k\":\"a\",\"v\":1}\n"
            "{\"k\":\"a\",\"v\":2}\n"
            "{\"key\":{\"k\":\"a\"},\"deleted\":true}\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_FALSE(records[1].tombstone);
  EXPECT_TRUE(records[2].tombstone);
  EXPECT_EQ(encoder.record_keys().substr(records[2].key_begin, records[2].key_end - records[2].key_begin),
            "{\"k\":\"a\"}");
}

}  // namespace
}  // namespace sluice
