#include "plan/logical_plan.h"

#include "common/strings.h"
#include "catalog/lookup_table_provider.h"

namespace sluice {

std::string LogicalOperator::ToString(int indent) const {
  std::string out(indent * 2, ' ');
  switch (kind) {
    case LogicalOperatorKind::kScan:
      StrAppend(&out, "Scan ", scan_name, scan_is_stream ? " (stream)" : " (source)", " [", schema.ToString(),
                "]");
      break;
    case LogicalOperatorKind::kFilter: StrAppend(&out, "Filter ", predicate->ToString()); break;
    case LogicalOperatorKind::kProject: {
      std::vector<std::string> items;
      for (size_t i = 0; i < projections.size(); ++i) {
        items.push_back(StrCat(projections[i]->ToString(), " AS ", schema.field(i).name));
      }
      StrAppend(&out, "Project ", StrJoin(items, ", "));
      break;
    }
    case LogicalOperatorKind::kLimit: StrAppend(&out, "Limit ", limit); break;
    case LogicalOperatorKind::kRowsWindow: {
      std::vector<std::string> functions;
      for (size_t f = 0; f < rows_window->functions.size(); ++f) {
        functions.push_back(schema.field(schema.size() - rows_window->functions.size() + f).name);
      }
      std::vector<std::string> partition;
      for (size_t column : rows_window->partition_columns)
        partition.push_back(input->schema.field(column).name);
      StrAppend(&out, "RowsWindow [", StrJoin(functions, ", "), "] partition by [", StrJoin(partition, ", "),
                "] buffer ", rows_window->buffer_rows, " rows, frame ", rows_window->frame_rows, " rows");
      if (rows_window->expire_after_millis)
        StrAppend(&out, ", expire after ", *rows_window->expire_after_millis, " ms");
      break;
    }
    case LogicalOperatorKind::kJoin: {
      static constexpr const char* kTypes[] = {"INNER", "LEFT", "RIGHT", "FULL", "SEMI", "ANTI"};
      std::vector<std::string> keys;
      for (size_t k = 0; k < join->left_keys.size(); ++k) {
        keys.push_back(StrCat(join->left_keys[k]->ToString(), " = ", join->right_keys[k]->ToString()));
      }
      StrAppend(&out, "Join ", kTypes[static_cast<int>(join->type)], " keys [", StrJoin(keys, ", "), "]");
      if (join->time_bound) {
        const JoinTimeBound& bound = *join->time_bound;
        StrAppend(&out, " time bound ", bound.left_time->ToString(), " - ", bound.right_time->ToString(), " in [",
                  bound.lower, ", ", bound.upper, "] ms");
      }
      if (join->residual) StrAppend(&out, " residual ", join->residual->ToString());
      break;
    }
    case LogicalOperatorKind::kUnion: out += "Union ALL"; break;
    case LogicalOperatorKind::kLookupJoin: {
      const LookupTableProvider& table = *lookup_join->table;
      std::vector<std::string> keys;
      for (size_t k = 0; k < lookup_join->keys.size(); ++k) {
        keys.push_back(StrCat(lookup_join->keys[k]->ToString(), " = ",
                              table.definition().schema.field(table.key_columns()[k]).name));
      }
      StrAppend(&out, "LookupJoin ", lookup_join->type == JoinType::kLeft ? "LEFT" : "INNER", " table ",
                table.definition().name, " keys [", StrJoin(keys, ", "), "]");
      StrAppend(&out,
                lookup_join->as_of ? StrCat(" as of ", lookup_join->as_of->ToString()) : " latest version");
      if (lookup_join->residual) StrAppend(&out, " residual ", lookup_join->residual->ToString());
      break;
    }
    case LogicalOperatorKind::kTopN: {
      std::vector<std::string> partition, order;
      for (size_t column : top_n->partition_columns) partition.push_back(input->schema.field(column).name);
      for (const TopNOrderKey& key : top_n->order)
        order.push_back(StrCat(input->schema.field(key.column).name, key.descending ? " DESC" : ""));
      StrAppend(&out, "TopN ", TopNStrategyName(top_n->strategy), " ", RankFunctionName(top_n->function),
                " <= ", top_n->limit, " partition by [", StrJoin(partition, ", "), "] order by [",
                StrJoin(order, ", "), "]",
                top_n->emit_rank ? StrCat(" as ", schema.field(schema.size() - 1).name) : ", no rank column");
      break;
    }
    case LogicalOperatorKind::kAggregate: {
      std::vector<std::string> keys, calls;
      for (const auto& key : aggregate->keys) keys.push_back(key->ToString());
      for (const auto& call : aggregate->aggregates) calls.push_back(call.text);
      StrAppend(&out, "Aggregate keys [", StrJoin(keys, ", "), "] aggregates [", StrJoin(calls, ", "), "]");
      if (aggregate->window) {
        const auto& window = *aggregate->window;
        static constexpr const char* kKinds[] = {"TUMBLING", "SLIDING", "SESSION"};
        StrAppend(&out, " window ", kKinds[static_cast<int>(window.kind)], "(", window.time->ToString(), ", ",
                  window.size_millis, " ms");
        if (window.kind == WindowKind::kSliding) StrAppend(&out, ", advance ", window.advance_millis, " ms");
        out += ")";
      }
      StrAppend(&out, aggregate->emit == EmitMode::kFinal ? " EMIT FINAL" : " EMIT CHANGES");
      break;
    }
  }
  out += '\n';
  if (input) out += input->ToString(indent + 1);
  if (right_input) out += right_input->ToString(indent + 1);
  return out;
}

const SourceDefinition* BoundJob::FindSource(const std::string& name) const {
  for (const auto& source : sources) {
    if (source.name == name) return &source;
  }
  return nullptr;
}

std::string RocksDbUnsupportedReason(const AggregateDefinition& definition) {
  if (definition.window) {
    switch (definition.window->kind) {
      case WindowKind::kTumbling: return "it has a TUMBLING window";
      case WindowKind::kSliding: return "it has a SLIDING window";
      case WindowKind::kSession: return "it has a SESSION window";
    }
  }
  if (definition.state_ttl_millis) return "'state.ttl' applies to it";
  if (definition.retract_input) return "its input is an updating stream";
  if (definition.emit_update_before && definition.emit == EmitMode::kFinal)
    return "its consumer needs update-before rows of an EMIT FINAL";
  if (definition.distinct_rows) return "it is a SELECT DISTINCT";
  for (const auto& call : definition.aggregates) {
    const bool string_argument = call.argument != nullptr && call.argument->type == TypeId::kString;
    switch (call.kind) {
      case AggregateKind::kCountDistinct: return StrCat("its aggregate ", call.text, " keeps a set per key");
      case AggregateKind::kMin:
      case AggregateKind::kMax:
      case AggregateKind::kFirstValue:
      case AggregateKind::kLastValue:
        if (string_argument) return StrCat("its aggregate ", call.text, " keeps a string per key");
        break;
      default: break;
    }
  }
  return "";
}

}  // namespace sluice
