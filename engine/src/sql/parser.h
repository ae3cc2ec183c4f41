// Recursive-descent parser for the Sluice (Velostream) SQL dialect.
//
//   job        := statement (';' statement)* [';']
//   statement  := CREATE (STREAM|TABLE) name AS select [EMIT ...] [WITH (props)]
//               | select [WITH (props)]
//   select     := SELECT [DISTINCT] items FROM source [JOIN ...]* [WHERE e] [GROUP BY e,...]
//                 [WINDOW window] [HAVING e] [ORDER BY e [ASC|DESC],...] [LIMIT n]
//                 [EMIT CHANGES|FINAL]
//
// Errors name the line and column of the unexpected token and what was expected there.
#pragma once

#include <string>

#include "sql/ast.h"

namespace sluice {

absl::StatusOr<ParsedJob> ParseJob(std::string text);

// Parses `text` as one expression (tests and tools).
absl::StatusOr<ParsedExpressionPtr> ParseExpression(const SourceText& source);

// Milliseconds of `count` units, where unit is a SQL interval unit (MILLISECOND[S], SECOND[S],
// MINUTE[S], HOUR[S], DAY[S], case-insensitive) or a shorthand (ms, s, m, h, d).
std::optional<int64_t> IntervalUnitMillis(std::string_view unit);

}  // namespace sluice
