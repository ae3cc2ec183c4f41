// Derived tables and WITH queries, lowered into statements of their own.
//
// The runtime runs one keyed stage per statement and lets a statement read the stream of an
// earlier one; so `SELECT ... FROM (SELECT ... GROUP BY ...) AS t WHERE ...` becomes a hidden
// statement for the derived table, whose stream the query then reads by name, and a WITH query
// becomes one such statement that every later WITH query and the query itself may read (a
// stream read by several statements fans out). Lowering rewrites the query's FROM in place: a
// derived table or a reference to a WITH query becomes a named reference to the hidden stream
// (TableReference::lowered), which the query still knows by its alias alone.
//
// Hidden names are `<statement>$<alias>` (`select_1$t`, `report$a$b` when nested), made unique
// against every name the job uses, so no user stream, source or other hidden stream collides
// with one; `sluice explain` shows them with what they were lowered from.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sql/ast.h"

namespace sluice {

// A derived table or WITH query as a statement of its own, in the order they must be bound
// (what a query reads before the query).
struct LoweredQuery {
  std::string name;         // the hidden stream
  std::string description;  // "derived table 't' of select_1", "WITH query 'a' of report"
  SourcePosition position;  // of the query
  std::unique_ptr<SelectStatement> select;
};

// Case-insensitive set of the names a job uses (streams, sources, hidden streams so far).
struct NameLess {
  bool operator()(const std::string& a, const std::string& b) const;
};
using NameSet = std::set<std::string, NameLess>;

// Lowers every derived table and WITH query of `select` (at any depth) into `lowered`, hidden
// streams named after `statement_name`, and rewrites `select` to read them. Errors, at their
// position: a derived table without an alias, a WITH name defined twice in one WITH, a WITH
// query nothing reads. `taken` holds the names in use and receives the hidden ones.
absl::Status LowerDerivedTables(const SourceText& source, SelectStatement& select,
                                const std::string& statement_name, NameSet& taken,
                                std::vector<LoweredQuery>& lowered);

}  // namespace sluice
