// Binder: resolves a parsed job against its sources, streams and functions.
//
// It collects and validates the WITH properties, defines every source and sink through the
// connector its '<name>.type' names (catalog/connector_registry.h: the connector binds its own keys; a
// file source reads its file's first records to infer a schema when none is declared), resolves
// names and types in every expression (inserting implicit casts), and builds one logical plan
// per statement. Clauses
// whose execution has not landed yet are rejected here with "not supported yet: ..." at their
// position, so `sluice validate` reports them before anything runs.
#pragma once

#include <optional>

#include "plan/logical_plan.h"
#include "sql/sql_error_list.h"

namespace sluice {

struct BindOptions {
  SubstitutionContext substitution;
  // Whether binding looks at the file system: expands a file source's path (a glob, a
  // directory) into its files and reads the first records of a file whose schema is not
  // declared. Off (the fuzz targets, which must not touch files): a path names one file, which
  // is neither opened nor checked, and a file source needs '<name>.schema'.
  bool read_files = true;
};

// Binds a job, reporting every error to `errors` (until it is full) rather than the first:
// every bad WITH property, then the first error of each statement, going on with the next
// statement after one fails. A statement that reads the stream of a failed statement is skipped
// (its errors would follow from that one), and so is binding when a property's value could not
// be substituted. Returns the job when there was no error.
// REQUIRES: errors.empty().
std::optional<BoundJob> BindJob(ParsedJob parsed, const BindOptions& options, SqlErrorList& errors);

// The job, or its first error.
absl::StatusOr<BoundJob> BindJob(ParsedJob parsed, const BindOptions& options);

// Binds a standalone expression against `schema` (tests and tools).
// REQUIRES: `expression` is as the parser builds it: no taller than kMaxExpressionDepth.
absl::StatusOr<BoundExpressionPtr> BindExpression(const SourceText& source,
                                                  const ParsedExpression& expression, const Schema& schema);

}  // namespace sluice
