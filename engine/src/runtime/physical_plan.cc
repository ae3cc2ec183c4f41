#include "runtime/physical_plan.h"

#include "common/strings.h"
#include "formats/record_format.h"
#include "ops/aggregate_operator.h"
#include "ops/fan_out_operator.h"
#include "ops/filter_operator.h"
#include "ops/join_operator.h"
#include "ops/limit_operator.h"
#include "ops/lookup_join_operator.h"
#include "ops/project_operator.h"
#include "ops/rocksdb_aggregate_operator.h"
#include "ops/rows_window_operator.h"
#include "ops/session_window_operator.h"
#include "ops/top_n_operator.h"
#include "ops/union_operator.h"

namespace sluice {

namespace {

// Writes late rows to a source's dead-letter output: the row as JSON, with `reason`.
class DeadLetterLateSink final : public LateRecordSink {
 public:
  DeadLetterLateSink(const Schema& schema, DeadLetterWriter& writer, std::string reason)
      : encoder_(MakeJsonEncoder(schema)), writer_(writer), reason_(std::move(reason)) {}

  absl::Status OnLateRecord(const Batch& batch, uint32_t row) override {
    one_row_.ShareColumns(batch);
    one_row_.MutableSelection()[0] = row;
    one_row_.SetSelectionCount(1);
    text_.clear();
    encoder_->Encode(one_row_, text_);
    one_row_.Release();
    if (!text_.empty() && text_.back() == '\n') text_.pop_back();
    RecordError error;
    error.reason = reason_;
    error.raw = text_;
    return writer_.Write(error);
  }

 private:
  std::unique_ptr<RecordEncoder> encoder_;
  DeadLetterWriter& writer_;
  const std::string reason_;
  Batch one_row_;
  std::string text_;
};

void MarkColumns(const BoundExpression* expression, std::vector<bool>& used) {
  if (expression == nullptr) return;
  if (expression->kind == BoundExpressionKind::kColumn && expression->column_index < used.size()) {
    used[expression->column_index] = true;
  }
  for (const auto& child : expression->children) MarkColumns(child.get(), used);
}

}  // namespace

std::vector<bool> ColumnsReadBy(const LogicalOperator& stateful, bool keys) {
  const size_t columns = stateful.input->schema.fields().size();
  if (stateful.kind != LogicalOperatorKind::kAggregate || LateRowsDeadLettered(stateful)) {
    return std::vector<bool>(columns, true);
  }
  std::vector<bool> used(columns, false);
  const AggregateDefinition& aggregate = *stateful.aggregate;
  if (keys) {
    for (const auto& key : aggregate.keys) MarkColumns(key.get(), used);
  }
  for (const auto& call : aggregate.aggregates) MarkColumns(call.argument.get(), used);
  if (aggregate.window) MarkColumns(aggregate.window->time.get(), used);
  MarkColumns(aggregate.ttl_time.get(), used);
  return used;
}

std::string DescribeOperators(const Operator* op, int indent, std::string_view suffix) {
  // A fan-out: its consumers at its own level.
  if (const std::vector<Operator*>* consumers = op->consumers()) {
    std::string out;
    for (const Operator* consumer : *consumers) out += DescribeOperators(consumer, indent, suffix);
    return out;
  }
  std::string out = StrCat(std::string(indent * 2, ' '), op->Describe(), suffix, "\n");
  if (op->output() != nullptr) out += DescribeOperators(op->output(), indent + 1, suffix);
  return out;
}

std::vector<const LogicalOperator*> StatementChain(const BoundStatement& statement) {
  std::vector<const LogicalOperator*> chain;
  for (const LogicalOperator* node = statement.plan.get(); node != nullptr; node = node->input.get()) {
    if (node->kind != LogicalOperatorKind::kScan) chain.push_back(node);
  }
  return {chain.rbegin(), chain.rend()};
}

std::string OriginSource(const BoundJob& job, const BoundStatement& statement) {
  std::string name = statement.input_name;
  bool is_stream = statement.input_is_stream;
  while (is_stream) {
    const BoundStatement* upstream = nullptr;
    for (const auto& candidate : job.statements) {
      if (candidate.name == name) upstream = &candidate;
    }
    if (upstream == nullptr) break;
    name = upstream->input_name;
    is_stream = upstream->input_is_stream;
  }
  return name;
}

bool InputInterleaves(const BoundJob& job, const BoundStatement& statement) {
  // Rows of two inputs (a join, UNION ALL) interleave, at this statement or upstream.
  for (const BoundStatement* at = &statement; at != nullptr;) {
    if (!at->second_input_name.empty()) return true;
    const BoundStatement* upstream = nullptr;
    for (const auto& candidate : job.statements) {
      if (at->input_is_stream && candidate.name == at->input_name) upstream = &candidate;
    }
    at = upstream;
  }
  const SourceDefinition* source = job.FindSource(OriginSource(job, statement));
  return source != nullptr && source->interleaves_partitions();
}

std::unique_ptr<LateRecordSink> MakeDeadLetterLateSink(const LogicalOperator& node,
                                                       DeadLetterWriter& writer) {
  std::string reason = node.kind == LogicalOperatorKind::kRowsWindow
                           ? "late: out of the ROWS window's ORDER BY order (its ORDER BY value is below an "
                             "earlier row's of its partition)"
                       : node.kind == LogicalOperatorKind::kTopN
                           ? "late: behind the watermark (its window or deduplication was already final)"
                           : "late: its window had closed (event time behind the watermark)";
  return std::make_unique<DeadLetterLateSink>(node.input->schema, writer, std::move(reason));
}

bool LateRowsDeadLettered(const LogicalOperator& node) {
  if (node.kind == LogicalOperatorKind::kAggregate)
    return node.aggregate->late_data == LateDataStrategy::kDeadLetter;
  if (node.kind == LogicalOperatorKind::kRowsWindow) return node.rows_window->dead_letter_late_rows;
  if (node.kind == LogicalOperatorKind::kTopN) return node.top_n->dead_letter_late_rows;
  return false;
}

std::unique_ptr<Operator> MakeOperator(const LogicalOperator& node, LateRecordSink* late_sink) {
  switch (node.kind) {
    case LogicalOperatorKind::kScan: break;
    case LogicalOperatorKind::kJoin:
      return std::make_unique<JoinOperator>(*node.join, node.input->schema, node.right_input->schema);
    case LogicalOperatorKind::kUnion: return std::make_unique<UnionOperator>();
    case LogicalOperatorKind::kLookupJoin:
      return std::make_unique<LookupJoinOperator>(*node.lookup_join, node.input->schema);
    case LogicalOperatorKind::kFilter: return std::make_unique<FilterOperator>(*node.predicate);
    case LogicalOperatorKind::kProject:
      return std::make_unique<ProjectOperator>(node.projections, node.schema);
    case LogicalOperatorKind::kLimit: return std::make_unique<LimitOperator>(node.limit);
    case LogicalOperatorKind::kRowsWindow: {
      std::vector<TypeId> input_types;
      for (const auto& field : node.input->schema.fields()) input_types.push_back(field.type);
      auto op = std::make_unique<RowsWindowOperator>(*node.rows_window, std::move(input_types));
      op->SetLateRecordSink(late_sink);
      return op;
    }
    case LogicalOperatorKind::kTopN: {
      std::vector<TypeId> input_types;
      for (const auto& field : node.input->schema.fields()) input_types.push_back(field.type);
      auto op = std::make_unique<TopNOperator>(*node.top_n, std::move(input_types));
      op->SetLateRecordSink(late_sink);
      return op;
    }
    case LogicalOperatorKind::kAggregate: {
      if (node.aggregate->window && node.aggregate->window->kind == WindowKind::kSession) {
        auto op = std::make_unique<SessionWindowOperator>(*node.aggregate, node.schema);
        op->SetLateRecordSink(late_sink);
        return op;
      }
      if (node.aggregate->rocksdb)
        return std::make_unique<RocksDbAggregateOperator>(*node.aggregate, node.schema);
      auto op = std::make_unique<AggregateOperator>(*node.aggregate, node.schema);
      op->SetLateRecordSink(late_sink);
      return op;
    }
  }
  SLUICE_CHECK(false);
  return nullptr;
}

std::optional<size_t> StatefulIndex(const std::vector<const LogicalOperator*>& chain) {
  for (size_t i = 0; i < chain.size(); ++i) {
    if (chain[i]->kind == LogicalOperatorKind::kAggregate ||
        chain[i]->kind == LogicalOperatorKind::kRowsWindow || chain[i]->kind == LogicalOperatorKind::kTopN) {
      return i;
    }
  }
  return std::nullopt;
}

ExchangeKey ExchangeKeyOf(const LogicalOperator& stateful) {
  ExchangeKey key;
  std::vector<std::string> names;
  if (stateful.kind == LogicalOperatorKind::kAggregate) {
    for (const auto& expression : stateful.aggregate->keys) {
      key.expressions.push_back(expression.get());
      names.push_back(expression->ToString());
    }
  } else if (stateful.kind == LogicalOperatorKind::kRowsWindow) {
    key.columns = stateful.rows_window->partition_columns;
    for (size_t column : key.columns) names.push_back(stateful.input->schema.field(column).name);
  } else if (stateful.kind == LogicalOperatorKind::kTopN) {
    // Keyed by the PARTITION BY columns, like a GROUP BY by its keys.
    key.columns = stateful.top_n->partition_columns;
    for (size_t column : key.columns) names.push_back(stateful.input->schema.field(column).name);
  }
  key.text = names.empty() ? "single (no key: one worker holds all state)"
                           : StrCat("hash(", StrJoin(names, ", "), ")");
  return key;
}

}  // namespace sluice
