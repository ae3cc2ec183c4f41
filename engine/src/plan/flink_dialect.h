// Flink's dialect, lowered onto Sluice's: the tables of CREATE TABLE name (columns) WITH
// ('connector' = ...) and the SET 'key' = 'value' settings of a parsed job become the job-wide
// '<name>.<key>' properties of our connectors, which the binder then reads as it reads a Sluice
// job's WITH properties.
//
// A table is a sink when some INSERT INTO names it, else a source:
//   'connector'                       source          sink
//   filesystem                        file_source     file_sink
//   kafka                             kafka_source    kafka_sink
//   print                             (refused)       stdout_sink
//   blackhole                         (refused)       blackhole_sink
// The Flink options each maps (FlinkOptionsOf) become our keys ('format' = 'debezium-json' on a
// sink: format json and 'changelog.mode' = 'changelog'); any other option, connector or
// setting is an error at its position naming it, never ignored. A source's columns become its
// '<name>.schema'; WATERMARK FOR ts AS ts - INTERVAL ... its '<name>.event.time.field' and the
// job's bounded-out-of-orderness watermark (one delay per job: tables that disagree are an
// error); PRIMARY KEY (...) NOT ENFORCED on a source its '<name>.primary.key' (a table that
// lookup joins read); PARTITIONED BY (...) on a filesystem sink its '<name>.partition.by', with
// the partition-commit and rolling options mapped (elsewhere PARTITIONED BY is an error at it).
// A sink's columns are checked against each INSERT's query by the binder.
#pragma once

#include "sql/ast.h"
#include "sql/sql_error_list.h"

namespace sluice {

// Fills job.properties from job.tables and job.settings, reporting every refused option to
// `errors`.
void LowerFlinkDialect(ParsedJob& job, SqlErrorList& errors);

// The Flink options of a connector ('filesystem', 'kafka', ...) for a source or a sink, each with
// the Sluice key it maps to, for errors and documentation. Empty for a connector Sluice does not
// have.
std::vector<std::pair<std::string, std::string>> FlinkOptionsOf(std::string_view connector, bool sink);

// The table `name` of job.tables (case-insensitive), or nullptr.
const TableDefinition* FindTableDefinition(const ParsedJob& job, std::string_view name);

}  // namespace sluice
