#include "plan/changelog_mode.h"

#include <algorithm>

#include "common/strings.h"
#include "catalog/lookup_table_provider.h"

namespace sluice {
namespace {

// The nodes above the scan, input first.
std::vector<LogicalOperator*> Chain(BoundStatement& statement) {
  std::vector<LogicalOperator*> chain;
  for (LogicalOperator* node = statement.plan.get(); node != nullptr; node = node->input.get()) {
    if (node->kind != LogicalOperatorKind::kScan) chain.push_back(node);
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

// Follows `columns` (of the output of chain[from - 1], or of the scan when from == 0) up to the
// statement's output: nullopt when a projection drops one of them.
std::optional<std::vector<size_t>> TraceColumns(const std::vector<LogicalOperator*>& chain, size_t from,
                                                std::vector<size_t> columns) {
  for (size_t i = from; i < chain.size(); ++i) {
    const LogicalOperator& node = *chain[i];
    if (node.kind == LogicalOperatorKind::kFilter || node.kind == LogicalOperatorKind::kLimit) continue;
    if (node.kind != LogicalOperatorKind::kProject) return std::nullopt;
    for (size_t& column : columns) {
      std::optional<size_t> found;
      for (size_t p = 0; p < node.projections.size() && !found; ++p) {
        const BoundExpression& projection = *node.projections[p];
        if (projection.kind == BoundExpressionKind::kColumn && projection.column_index == column) found = p;
      }
      if (!found) return std::nullopt;
      column = *found;
    }
  }
  return columns;
}

const char* ModeName(ChangelogMode mode) {
  switch (mode) {
    case ChangelogMode::kAppend: return "append";
    case ChangelogMode::kChangelog: return "changelog";
    case ChangelogMode::kUpsert: return "upsert";
  }
  return "?";
}

bool Retracts(AggregateKind kind) {
  return kind == AggregateKind::kCountStar || kind == AggregateKind::kCount || kind == AggregateKind::kSum ||
         kind == AggregateKind::kAvg;
}

// Why the statement of `node` (an aggregate) is updating, naming its GROUP BY keys as written.
std::string UpdatingReason(const LogicalOperator& node) {
  const AggregateDefinition& aggregate = *node.aggregate;
  if (!aggregate.window) {
    std::vector<std::string> keys;
    for (size_t k = 0; k < aggregate.keys.size(); ++k) keys.push_back(node.schema.field(k).name);
    return keys.empty() ? "an aggregate without GROUP BY under EMIT CHANGES"
                        : StrCat("GROUP BY ", StrJoin(keys, ", "), " EMIT CHANGES");
  }
  static constexpr const char* kKinds[] = {"TUMBLING", "SLIDING", "SESSION"};
  const char* kind = kKinds[static_cast<int>(aggregate.window->kind)];
  if (aggregate.emit == EmitMode::kFinal) {
    return StrCat("WINDOW ", kind, " EMIT FINAL with allowed lateness: late rows re-emit corrected windows");
  }
  if (aggregate.window->kind == WindowKind::kSession) {
    return "WINDOW SESSION EMIT CHANGES: a merge retracts the sessions it supersedes";
  }
  return StrCat("WINDOW ", kind, " EMIT CHANGES");
}

struct StatementInfo {
  LogicalOperator* aggregate = nullptr;  // its aggregate node, if any
  size_t aggregate_index = 0;            // in the chain
  LogicalOperator* top_n = nullptr;      // its Top-N node, if any
  size_t top_n_index = 0;
  bool filter_above_aggregate = false;   // HAVING, or a WHERE of a statement without aggregate
  bool has_filter = false;
  int input = -1;         // index of the statement whose stream it reads
  int second_input = -1;  // a join's right input
  LogicalOperator* join = nullptr;
  bool united = false;  // a UNION ALL of its two inputs
};

}  // namespace

void InferChangelogModes(BoundJob& job, const SourceText& source, SqlErrorList& errors) {
  std::vector<BoundStatement>& statements = job.statements;
  std::vector<StatementInfo> info(statements.size());
  // Forward: what each statement's output is.
  for (size_t s = 0; s < statements.size(); ++s) {
    BoundStatement& statement = statements[s];
    StatementInfo& about = info[s];
    if (statement.input_is_stream) {
      for (size_t u = 0; u < s; ++u) {
        if (statements[u].name == statement.input_name) about.input = static_cast<int>(u);
        if (statements[u].name == statement.second_input_name) about.second_input = static_cast<int>(u);
      }
    }
    const std::vector<LogicalOperator*> chain = Chain(statement);
    if (!chain.empty() && chain[0]->kind == LogicalOperatorKind::kJoin) about.join = chain[0];
    if (!chain.empty() && chain[0]->kind == LogicalOperatorKind::kUnion) about.united = true;
    for (size_t i = 0; i < chain.size(); ++i) {
      if (chain[i]->kind == LogicalOperatorKind::kAggregate && about.aggregate == nullptr) {
        about.aggregate = chain[i];
        about.aggregate_index = i;
      } else if (chain[i]->kind == LogicalOperatorKind::kTopN) {
        about.top_n = chain[i];
        about.top_n_index = i;
      } else if (chain[i]->kind == LogicalOperatorKind::kFilter) {
        about.has_filter = true;
        if (about.aggregate != nullptr) about.filter_above_aggregate = true;
      }
    }
    const BoundStatement* upstream = about.input >= 0 ? &statements[about.input] : nullptr;
    bool input_updating = upstream != nullptr && upstream->updating;
    std::string why;
    if (input_updating) {
      why = StrCat("stream '", upstream->name, "' is an updating stream (", upstream->updating_reason, ")");
    }
    if (about.united) {
      // UNION ALL forwards both inputs' rows: it updates when either does.
      const BoundStatement* right = about.second_input >= 0 ? &statements[about.second_input] : nullptr;
      if (!input_updating && right != nullptr && right->updating) {
        input_updating = true;
        why = StrCat("stream '", right->name, "' is an updating stream (", right->updating_reason, ")");
        upstream = right;
      }
    }
    if (about.join != nullptr) {
      // A join applies its inputs' retractions; its output updates when an input does, or when
      // a regular outer join retracts the NULL-padded row a first match supersedes.
      JoinDefinition& join = *about.join->join;
      const BoundStatement* right = about.second_input >= 0 ? &statements[about.second_input] : nullptr;
      join.left_updating = input_updating;
      join.right_updating = right != nullptr && right->updating;
      if (join.time_bound && (join.left_updating || join.right_updating)) {
        const BoundStatement& updating = join.left_updating ? *upstream : *right;
        errors.Add(source.NotSupported(
            statement.position,
            StrCat("a time-bounded join over an updating stream (stream '", updating.name, "' is one: ",
                   updating.updating_reason, "; a retraction may arrive after the rows it joined were freed)")));
        continue;
      }
      // A semi-join's rows only appear (matches of append-only inputs never go); an anti-join's
      // disappear when a match arrives, like an outer join's padded rows.
      join.output_updating = join.left_updating || join.right_updating ||
                             (join.type != JoinType::kInner && join.type != JoinType::kSemi && !join.time_bound);
      input_updating = join.output_updating;
      if (input_updating) {
        const BoundStatement* updating = join.left_updating ? upstream : join.right_updating ? right : nullptr;
        why = updating != nullptr
                  ? StrCat("the join reads the updating stream '", updating->name, "' (", updating->updating_reason,
                           ")")
                  : join.type == JoinType::kAnti
                  ? StrCat("NOT EXISTS (", join.text, ") retracts a row when its first match arrives")
                  : StrCat("the outer join ", join.text,
                           " retracts a NULL-padded row when the row's first match arrives");
      }
      upstream = nullptr;
    }
    if (input_updating) {
      bool refused = false;
      for (const LogicalOperator* node : chain) {
        if (node->kind == LogicalOperatorKind::kRowsWindow) {
          errors.Add(source.NotSupported(statement.position,
                                         StrCat("a ROWS window over an updating stream (", why,
                                                "; a ROWS window cannot take back a row it has framed)")));
          refused = true;
        }
        if (node->kind == LogicalOperatorKind::kLookupJoin &&
            node->lookup_join->table->reload_interval_millis()) {
          const std::string& table = node->lookup_join->table->definition().name;
          errors.Add(source.NotSupported(
              statement.position,
              StrCat("a lookup join of a table re-read while the job runs ('", table,
                     ".reload.interval') over an updating stream (", why,
                     "; a retraction could find another row than the one its row joined)")));
          refused = true;
        }
        if (node->kind == LogicalOperatorKind::kTopN) {
          errors.Add(source.NotSupported(
              statement.position, StrCat("a Top-N or deduplication over an updating stream (", why,
                                         "; it keeps only the top rows, so it cannot take one back)")));
          refused = true;
        }
      }
      if (about.aggregate != nullptr) {
        AggregateDefinition& aggregate = *about.aggregate->aggregate;
        if (aggregate.window) {
          errors.Add(source.NotSupported(
              statement.position,
              StrCat("a window over an updating stream (", why,
                     "; a retraction may arrive after its window closed); aggregate it without a window")));
          refused = true;
        } else if (aggregate.state_ttl_millis) {
          errors.Add(source.NotSupported(statement.position,
                                         StrCat("'state.ttl' on an aggregate over an updating stream (", why,
                                                "; a retraction would reach a key its TTL evicted)")));
          refused = true;
        }
        for (const AggregateCall& call : aggregate.aggregates) {
          if (Retracts(call.kind)) continue;
          errors.Add(source.Error(
              call.position,
              StrCat(call.text, " cannot read an updating stream: ", why, ", and ", AggregateName(call.kind),
                     " cannot take a value back out (only COUNT, COUNT(*), SUM and AVG retract)")));
          refused = true;
        }
        if (refused) continue;
        aggregate.retract_input = true;
      } else if (refused) {
        continue;
      }
    }
    if (about.aggregate != nullptr) {
      const AggregateDefinition& aggregate = *about.aggregate->aggregate;
      // SELECT DISTINCT over an append-only input emits each row once (AggregateDefinition::
      // distinct_rows): it only inserts.
      const bool inserts_only = aggregate.distinct_rows && !aggregate.retract_input && !aggregate.window;
      statement.updating =
          (aggregate.emit == EmitMode::kChanges && !inserts_only) ||
          (aggregate.window && aggregate.emit == EmitMode::kFinal && aggregate.allowed_lateness_millis > 0);
      if (statement.updating) {
        statement.updating_reason = UpdatingReason(*about.aggregate);
        std::vector<size_t> keys;
        for (size_t k = 0; k < aggregate.keys.size(); ++k) keys.push_back(k);
        if (aggregate.window) keys.push_back(aggregate.keys.size() + aggregate.aggregates.size());
        statement.row_key_columns = TraceColumns(chain, about.aggregate_index + 1, std::move(keys));
      }
    } else if (about.top_n != nullptr) {
      const TopNSpec& top_n = *about.top_n->top_n;
      if (top_n.strategy == TopNStrategy::kUpdating) {
        statement.updating = true;
        statement.updating_reason =
            StrCat("a Top-N without a window: a row that leaves the top ", top_n.limit, " is deleted");
      } else if (top_n.strategy == TopNStrategy::kKeepLast) {
        statement.updating = true;
        statement.updating_reason = "a deduplication keeping the last row: a later row replaces it";
        statement.row_key_columns = TraceColumns(chain, about.top_n_index + 1, top_n.partition_columns);
      }
    } else if (input_updating) {
      statement.updating = true;
      if (upstream == nullptr) {
        statement.updating_reason = why;
      } else {
        statement.updating_reason = StrCat("it reads the updating stream '", upstream->name, "'");
        if (upstream->row_key_columns)
          statement.row_key_columns = TraceColumns(chain, 0, *upstream->row_key_columns);
      }
    }
  }
  // Sink modes: as set, or by what the statement is.
  for (BoundStatement& statement : statements) {
    if (!statement.sink) continue;
    SinkDefinition& sink = *statement.sink;
    sink.changelog_mode = statement.updating ? ChangelogMode::kUpsert : ChangelogMode::kAppend;
    const PropertyValue* mode = job.properties.FindScoped(sink.name, "changelog.mode");
    if (mode == nullptr) continue;
    if (EqualsIgnoreCase(mode->value, "append")) {
      sink.changelog_mode = ChangelogMode::kAppend;
    } else if (EqualsIgnoreCase(mode->value, "changelog")) {
      sink.changelog_mode = ChangelogMode::kChangelog;
    } else if (EqualsIgnoreCase(mode->value, "upsert")) {
      sink.changelog_mode = ChangelogMode::kUpsert;
    } else {
      errors.Add(source.Error(mode->value_position,
                              StrCat("invalid value '", mode->value, "' for '", sink.name,
                                     ".changelog.mode' (expected append, changelog, upsert)")));
    }
  }
  // Backward: who needs update-before rows. A statement's output needs them when its sink
  // writes a changelog or a statement reading it needs them from its input.
  std::vector<bool> output_needs_before(statements.size(), false);
  for (size_t s = statements.size(); s-- > 0;) {
    BoundStatement& statement = statements[s];
    const StatementInfo& about = info[s];
    if (statement.sink && statement.sink->changelog_mode == ChangelogMode::kChangelog)
      output_needs_before[s] = true;
    if (about.aggregate != nullptr) {
      AggregateDefinition& aggregate = *about.aggregate->aggregate;
      aggregate.emit_update_before =
          statement.updating && (output_needs_before[s] || about.filter_above_aggregate);
    }
    // What this statement needs from its input. A join retracts joined rows by the old row
    // of an update: it needs the update-before rows of an updating input.
    if (about.join != nullptr) {
      if (about.join->join->left_updating) output_needs_before[about.input] = true;
      if (about.join->join->right_updating) output_needs_before[about.second_input] = true;
      continue;
    }
    const bool needs = about.aggregate != nullptr || about.has_filter || output_needs_before[s];
    if (about.united && needs && about.second_input >= 0 && statements[about.second_input].updating) {
      output_needs_before[about.second_input] = true;
    }
    if (about.input < 0 || !statements[about.input].updating) continue;
    if (needs) output_needs_before[about.input] = true;
  }
  // Forward again: which outputs may delete rows (and so need a key to name them).
  for (size_t s = 0; s < statements.size(); ++s) {
    BoundStatement& statement = statements[s];
    const StatementInfo& about = info[s];
    if (!statement.updating) continue;
    if (about.aggregate != nullptr) {
      const AggregateDefinition& aggregate = *about.aggregate->aggregate;
      statement.may_delete = (aggregate.retract_input && aggregate.emit == EmitMode::kChanges) ||
                             (aggregate.window && aggregate.window->kind == WindowKind::kSession) ||
                             (about.filter_above_aggregate && aggregate.emit_update_before);
    } else if (about.join != nullptr) {
      statement.may_delete = true;  // a retracted input row or a superseded padded row
    } else if (about.united) {
      statement.may_delete = statements[about.input].may_delete || about.has_filter ||
                             (about.second_input >= 0 && statements[about.second_input].may_delete);
    } else if (about.top_n != nullptr) {
      // A Top-N deletes rows that leave it; a keep-last deduplication only updates.
      statement.may_delete = about.top_n->top_n->strategy == TopNStrategy::kUpdating || about.has_filter;
    } else {
      statement.may_delete = statements[about.input].may_delete || about.has_filter;
    }
  }
  // Sinks: what each mode can write.
  for (BoundStatement& statement : statements) {
    if (!statement.sink) continue;
    SinkDefinition& sink = *statement.sink;
    const PropertyValue* mode = job.properties.FindScoped(sink.name, "changelog.mode");
    const SourcePosition mode_position = mode != nullptr ? mode->value_position : statement.position;
    const bool own_key = sink.key_column >= 0;  // e.g. a Kafka sink's 'key.field'
    switch (sink.changelog_mode) {
      case ChangelogMode::kAppend:
        if (statement.updating) {
          errors.Add(source.Error(statement.position,
                                  StrCat("statement '", statement.name, "' is an updating query (",
                                         statement.updating_reason, "); sink '", sink.name,
                                         "' with changelog.mode 'append' accepts inserts only; use 'upsert' "
                                         "or 'changelog'")));
        }
        break;
      case ChangelogMode::kChangelog:
        if (sink.format != "json") {
          errors.Add(
              source.Error(mode_position, StrCat("sink '", sink.name,
                                                 "': changelog.mode 'changelog' writes Debezium-style "
                                                 "JSON records, not ",
                                                 sink.format, "; set '", sink.name, ".format' = 'json'")));
        }
        break;
      case ChangelogMode::kUpsert:
        if (statement.row_key_columns) sink.upsert_key_columns = *statement.row_key_columns;
        if (!statement.may_delete) break;
        if (sink.format != "json") {
          errors.Add(
              source.Error(mode_position,
                           StrCat("sink '", sink.name, "': statement '", statement.name,
                                  "' may delete rows (", statement.updating_reason, "), and changelog.mode '",
                                  ModeName(sink.changelog_mode), "' writes a delete as a JSON record, not ",
                                  sink.format, "; set '", sink.name, ".format' = 'json'")));
        } else if (!statement.row_key_columns && !own_key) {
          // The output lacks the row key (a GROUP BY key or _window_start is not selected): a
          // delete names the whole row it takes back.
          sink.upsert_key_columns.clear();
          for (size_t c = 0; c < statement.output_schema.size(); ++c) sink.upsert_key_columns.push_back(c);
        }
        break;
    }
  }
}

}  // namespace sluice
