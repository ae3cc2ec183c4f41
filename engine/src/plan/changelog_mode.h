// Changelog-mode inference: which statements of a job produce an updating stream, which
// operators must emit update-before rows, and how each sink writes what it receives.
//
// As in Flink's planner, a statement's output is *updating* (it may update or delete rows it
// emitted, not only insert) when it aggregates under EMIT CHANGES (an unwindowed GROUP BY, or
// a TUMBLING/SLIDING/SESSION window), when a window under EMIT FINAL has an allowed lateness
// (late rows re-emit corrected windows), or when it reads an updating stream without
// aggregating it. An aggregate that reads an updating stream consumes the changes: it
// retracts (AggregateDefinition::retract_input), and its own output is updating only under
// EMIT CHANGES.
//
// Update-before rows are emitted only where a consumer needs them (update-before
// elimination): a 'changelog' sink, an aggregate downstream that retracts, or a filter that may
// keep the old row of an update and drop the new one (the filtered view then loses the row).
// Without such a consumer an update is its new row alone, as an upsert, which is what every
// EMIT CHANGES job wrote before row kinds existed.
//
// Sinks ('<sink>.changelog.mode'): 'append' refuses an updating statement at plan time;
// 'changelog' writes Debezium-style records and needs JSON; 'upsert' writes a row per insert
// or update and a tombstone per delete, keyed by the statement's row key (its GROUP BY keys and
// _window_start as it outputs them; the whole row when the output lacks one of them) or a Kafka
// sink's 'key.field'. Unset: 'append' for an
// append-only statement, 'upsert' for an updating one.
#pragma once

#include "plan/logical_plan.h"
#include "sql/source_text.h"
#include "sql/sql_error_list.h"

namespace sluice {

// Fills BoundStatement::updating, updating_reason, may_delete and row_key_columns, the
// aggregates' retract_input and emit_update_before, and each sink's changelog_mode and
// upsert_key_columns. Every refusal goes to `errors` with its position: an aggregate function
// that cannot retract over an updating stream, a window or ROWS window over one, an 'append'
// sink of an updating statement, a 'changelog' sink in CSV, a sink that must write deletes
// in CSV. REQUIRES: the job's statements bound, sinks defaulted.
void InferChangelogModes(BoundJob& job, const SourceText& source, SqlErrorList& errors);

}  // namespace sluice
