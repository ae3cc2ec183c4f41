// Binder: resolves a parsed job against its sources, streams and functions.
//
// It collects and validates the WITH properties, defines every source (reading a file's first
// records to infer its schema when none is declared), resolves names and types in every
// expression (inserting implicit casts), and builds one logical plan per statement. Clauses
// whose execution has not landed yet are rejected here with "not supported yet: ..." at their
// position, so `sluice validate` reports them before anything runs.
#pragma once

#include "plan/logical_plan.h"

namespace sluice {

struct BindOptions {
  SubstitutionContext substitution;
};

absl::StatusOr<BoundJob> BindJob(ParsedJob parsed, const BindOptions& options);

// Binds a standalone expression against `schema` (tests and tools).
// REQUIRES: `expression` is as the parser builds it: no taller than kMaxExpressionDepth.
absl::StatusOr<BoundExpressionPtr> BindExpression(const SourceText& source,
                                                  const ParsedExpression& expression, const Schema& schema);

}  // namespace sluice
