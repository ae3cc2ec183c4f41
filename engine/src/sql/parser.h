// Recursive-descent parser for the Sluice (Velostream) SQL dialect and Flink's.
//
//   job        := statement (';' statement)* [';']
//   statement  := CREATE (STREAM|TABLE) name AS select [EMIT ...] [WITH (props)]
//               | select [WITH (props)]
//               -- Flink's dialect (one file, one dialect: see ParsedJob::dialect):
//               | CREATE [TEMPORARY] TABLE name (column type, ..., [WATERMARK FOR c AS c [- INTERVAL ...]],
//                   [[CONSTRAINT n] PRIMARY KEY (c, ...) NOT ENFORCED]) WITH (options)
//               | CREATE [TEMPORARY] VIEW name AS select
//               | INSERT INTO name select
//               | SET 'key' = 'value'
//               | EXECUTE STATEMENT SET BEGIN (INSERT ...;)+ END  |  BEGIN STATEMENT SET; (INSERT ...;)+ END
//   FROM also takes Flink's window table functions, TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), size))
//   and TABLE(HOP(TABLE t, DESCRIPTOR(ts), slide, size)), and GROUP BY Flink's legacy TUMBLE(ts,
//   size), HOP(ts, slide, size) and SESSION(ts, gap): each becomes the SELECT's WINDOW, with
//   window_start / window_end / window_time (TUMBLE_START, ... _END, ... _ROWTIME) read as
//   _window_start, _window_end and _window_end - 1 ms.
//   select     := SELECT [DISTINCT] items FROM source [JOIN ...]* [WHERE e] [GROUP BY e,...]
//                 [WINDOW window] [HAVING e] [ORDER BY e [ASC|DESC],...] [LIMIT n]
//                 [EMIT CHANGES|FINAL]
//
// Errors name the line and column of the unexpected token and what was expected there.
//
// Depth: input nested deeper than kMaxExpressionDepth is an error at the token where the limit
// is crossed, never a stack overflow. Three measures are bounded, each at kMaxExpressionDepth:
//   - expression nesting, the parser's own recursion: the whole expression is level 1, and each
//     parenthesised expression, argument, CASE part and operand of a prefix NOT or sign opens
//     one more level;
//   - the height of every expression tree built (ParsedExpression::height): a chain such as
//     `a + a + a ...` is parsed in a loop but builds one level per operator;
//   - query nesting: each SELECT (a subquery, in FROM or in an expression) opens a level.
// A FROM clause holds at most kMaxExpressionDepth joins (they build a left-deep tree).
// Everything downstream recurses over these trees (the binder, ToString, the bound expression
// and its executor, destructors) and relies on the bound. In a Release build the deepest input
// takes about 2 KiB of stack per level to parse and well under 1 KiB to bind or run:
// engine/tests/expression_depth_test.cc runs it in half the stack of the main thread (parse,
// bind) and of a worker thread (executor) as they are by default.
#pragma once

#include <cstdint>
#include <string>

#include "sql/ast.h"
#include "sql/sql_error_list.h"

namespace sluice {

// The deepest expression accepted, the limit SQLite (SQLITE_MAX_EXPR_DEPTH) and DuckDB
// (max_expression_depth) use.
inline constexpr uint32_t kMaxExpressionDepth = 1000;

// Parses a job, reporting every syntax error to `errors` (until it is full) rather than the
// first: after an error the parser skips past the next ';' or to the next CREATE STREAM|TABLE
// and parses on. The statements with errors are left out of the job. A lexical error (an
// unterminated string, a stray character) ends parsing: it is the only error then.
ParsedJob ParseJob(std::string text, SqlErrorList& errors);

// The job, or its first error.
absl::StatusOr<ParsedJob> ParseJob(std::string text);

// Parses `text` as one expression (tests and tools).
absl::StatusOr<ParsedExpressionPtr> ParseExpression(const SourceText& source);

// Milliseconds of `count` units, where unit is a SQL interval unit (MILLISECOND[S], SECOND[S],
// MINUTE[S], HOUR[S], DAY[S], case-insensitive) or a shorthand (ms, s, m, h, d).
std::optional<int64_t> IntervalUnitMillis(std::string_view unit);

}  // namespace sluice
