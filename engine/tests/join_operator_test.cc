// JoinOperator on its own: a snapshot taken between any two steps and restored into a fresh
// operator continues exactly as the uninterrupted one (regular, outer and time-bounded joins),
// and 'state.ttl' frees a regular join's rows by event time. The oracle tests
// (join_oracle_test.cc) check results against SQLite through whole jobs; these drive the
// operator step by step, so that the order of inputs and watermarks is exact.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/strings.h"
#include "ops/join_operator.h"

namespace sluice {
namespace {

// Records every row it receives as text: "+I a,1000,5|a,1200,7" (left columns | right columns).
class Collector final : public Operator {
 public:
  explicit Collector(size_t left_columns) : left_columns_(left_columns) {}
  absl::Status Push(const Batch& batch) override {
    for (size_t i = 0; i < batch.active_rows(); ++i) {
      const uint32_t row = batch.ActiveRow(i);
      std::string text = StrCat(RowKindName(batch.has_row_kinds() ? batch.row_kind(row) : RowKind::kInsert), " ");
      for (size_t c = 0; c < batch.num_columns(); ++c) {
        if (c > 0) text += c == left_columns_ ? "|" : ",";
        const Value value = batch.column(c).GetValue(row);
        text += value.is_null()                     ? std::string("NULL")
                : value.type() == TypeId::kString ? value.str()
                                                  : std::to_string(value.int64());
      }
      rows.push_back(std::move(text));
    }
    return absl::OkStatus();
  }
  std::string Describe() const override { return "Collector"; }
  std::vector<std::string> rows;

 private:
  size_t left_columns_;
};

Schema InputSchema(const char* value_column) {
  Schema schema;
  schema.Add(Field{"k", TypeId::kString, false});
  schema.Add(Field{"t", TypeId::kTimestamp, false});
  schema.Add(Field{value_column, TypeId::kInt64, false});
  return schema;
}

struct Row {
  const char* key;  // null: NULL
  int64_t time;
  int64_t value;
};

Batch MakeBatch(const std::vector<Row>& rows) {
  auto keys = std::make_shared<Column>(TypeId::kString, rows.size());
  auto times = std::make_shared<Column>(TypeId::kTimestamp, rows.size());
  auto values = std::make_shared<Column>(TypeId::kInt64, rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].key == nullptr) {
      keys->SetNull(i);
    } else {
      keys->data<std::string_view>()[i] = rows[i].key;
      keys->validity()[i] = 1;
    }
    times->data<int64_t>()[i] = rows[i].time;
    times->validity()[i] = 1;
    values->data<int64_t>()[i] = rows[i].value;
    values->validity()[i] = 1;
  }
  Batch batch;
  batch.SetColumns({keys, times, values}, rows.size());
  return batch;
}

// One step of a run: rows or a watermark into one input, or the end of both.
struct Step {
  int input = 0;  // 0 left, 1 right
  std::vector<Row> rows;
  int64_t watermark = INT64_MIN;  // when set, a watermark instead of rows
  bool finish = false;
};

absl::Status Apply(JoinOperator& join, const Step& step) {
  Operator& input = step.input == 0 ? static_cast<Operator&>(join) : *join.second_input();
  if (step.finish) return input.Finish();
  if (step.watermark != INT64_MIN) return input.OnWatermark(step.watermark);
  return input.Push(MakeBatch(step.rows));
}

std::unique_ptr<JoinDefinition> Definition(JoinType type, bool time_bounded, std::optional<int64_t> ttl = {}) {
  auto definition = std::make_unique<JoinDefinition>();
  definition->type = type;
  definition->left_keys.push_back(MakeColumnReference(0, TypeId::kString, "k"));
  definition->right_keys.push_back(MakeColumnReference(0, TypeId::kString, "k"));
  if (time_bounded) {
    JoinTimeBound bound;
    bound.left_time = MakeColumnReference(1, TypeId::kTimestamp, "t");
    bound.right_time = MakeColumnReference(1, TypeId::kTimestamp, "t");
    bound.lower = -1000;
    bound.upper = 1000;
    definition->time_bound = std::move(bound);
  }
  if (ttl) {
    definition->state_ttl_millis = ttl;
    definition->left_ttl_time = MakeColumnReference(1, TypeId::kTimestamp, "t");
    definition->right_ttl_time = MakeColumnReference(1, TypeId::kTimestamp, "t");
  }
  definition->text = "l JOIN r";
  return definition;
}

std::vector<Step> Steps() {
  std::vector<Step> steps;
  steps.push_back({0, {{"a", 1000, 1}, {"b", 1100, 2}, {nullptr, 1200, 3}}});
  steps.push_back({1, {{"a", 1500, 10}, {"c", 1600, 11}}});
  steps.push_back({0, {}, 900});
  steps.push_back({1, {}, 1400});
  steps.push_back({0, {{"a", 2400, 4}, {"c", 2500, 5}}});
  steps.push_back({1, {{"b", 2800, 12}, {"a", 3000, 13}}});
  steps.push_back({0, {}, 2399});
  steps.push_back({1, {}, 2999});
  steps.push_back({0, {{"c", 4000, 6}}});
  steps.push_back({1, {{"c", 4100, 14}, {"d", 4200, 15}}});
  steps.push_back({0, {}, kMaxWatermark});
  steps.push_back({1, {}, kMaxWatermark});
  steps.push_back({0, {}, INT64_MIN, true});
  steps.push_back({1, {}, INT64_MIN, true});
  return steps;
}

// The rows of an uninterrupted run of `steps`.
std::vector<std::string> RunSteps(const JoinDefinition& definition, const std::vector<Step>& steps) {
  JoinOperator join(definition, InputSchema("v"), InputSchema("w"));
  Collector out(3);
  join.SetOutput(&out);
  for (const Step& step : steps) EXPECT_TRUE(Apply(join, step).ok());
  return out.rows;
}

TEST(JoinOperatorTest, SnapshotBetweenAnyTwoStepsContinuesExactly) {
  for (JoinType type : {JoinType::kInner, JoinType::kLeft, JoinType::kFull, JoinType::kSemi, JoinType::kAnti}) {
    for (bool time_bounded : {false, true}) {
      const auto definition = Definition(type, time_bounded);
      const std::vector<Step> steps = Steps();
      const std::vector<std::string> expected = RunSteps(*definition, steps);
      ASSERT_FALSE(expected.empty());
      for (size_t cut = 0; cut <= steps.size(); ++cut) {
        const std::string context = StrCat("join type ", static_cast<int>(type), time_bounded ? ", time-bounded" : "",
                                           ", snapshot after step ", cut);
        Collector out(3);
        std::string snapshot;
        {
          JoinOperator first(*definition, InputSchema("v"), InputSchema("w"));
          first.SetOutput(&out);
          for (size_t s = 0; s < cut; ++s) ASSERT_TRUE(Apply(first, steps[s]).ok()) << context;
          StateWriter writer;
          ASSERT_TRUE(first.Snapshot(writer).ok()) << context;
          snapshot = writer.bytes();
        }
        JoinOperator second(*definition, InputSchema("v"), InputSchema("w"));
        second.SetOutput(&out);
        StateReader reader(snapshot);
        ASSERT_TRUE(second.Restore(reader).ok()) << context;
        for (size_t s = cut; s < steps.size(); ++s) ASSERT_TRUE(Apply(second, steps[s]).ok()) << context;
        EXPECT_EQ(out.rows, expected) << context;
      }
    }
  }
}

// An interval join pads an unmatched row when the other input's watermark frees it; a
// regular left join pads it at once and deletes the padded row when a match comes.
TEST(JoinOperatorTest, OuterJoinsPadWhenTheyShould) {
  const std::vector<std::string> interval = RunSteps(*Definition(JoinType::kLeft, true), Steps());
  const std::vector<std::string> regular = RunSteps(*Definition(JoinType::kLeft, false), Steps());
  // b@1100 has no right row within 1 s (b@2800 is 1.7 s later): padded once, never deleted.
  size_t padded_b = 0, deleted = 0;
  for (const std::string& row : interval) {
    if (row.rfind("+I b,", 0) == 0 && row.find("|NULL") != std::string::npos) ++padded_b;
    if (row.rfind("-D", 0) == 0) ++deleted;
  }
  EXPECT_EQ(padded_b, 1u);
  EXPECT_EQ(deleted, 0u) << "a time-bounded join appends";
  size_t regular_deleted = 0;
  for (const std::string& row : regular) regular_deleted += row.rfind("-D", 0) == 0 ? 1 : 0;
  EXPECT_GT(regular_deleted, 0u) << "a regular left join deletes a padded row when its first match comes";
}

// 'state.ttl': rows freed once the other input's watermark is the TTL past them no longer meet
// later rows; without it they do.
TEST(JoinOperatorTest, StateTtlFreesRowsByEventTime) {
  std::vector<Step> steps;
  steps.push_back({0, {{"a", 0, 1}}});
  steps.push_back({1, {{"a", 0, 10}}});
  steps.push_back({0, {{"b", 10000, 2}}});
  steps.push_back({1, {{"b", 10000, 11}}});
  steps.push_back({0, {}, 9999});
  steps.push_back({1, {}, 9999});
  steps.push_back({0, {{"a", 20000, 3}}});
  steps.push_back({1, {{"a", 20000, 12}}});
  const std::vector<std::string> kept = RunSteps(*Definition(JoinType::kInner, false), steps);
  const std::vector<std::string> expiring = RunSteps(*Definition(JoinType::kInner, false, 5000), steps);
  EXPECT_EQ(kept.size(), 5u) << "a@0 and a@20000 meet, both ways";
  EXPECT_EQ(expiring.size(), 3u) << "a@0 was freed before a@20000 came";
  JoinOperator join(*Definition(JoinType::kInner, false, 5000), InputSchema("v"), InputSchema("w"));
  Collector out(3);
  join.SetOutput(&out);
  for (const Step& step : steps) ASSERT_TRUE(Apply(join, step).ok());
  EXPECT_EQ(join.retained_rows(), 4u) << "b@10000 and a@20000 on each side";
  EXPECT_EQ(join.metrics().evicted, 2u) << "a@0 on each side";
}

}  // namespace
}  // namespace sluice
