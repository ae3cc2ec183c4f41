// Abstract syntax tree of a job file, as the parser produces it and before any binding.
//
// Every node carries the SourcePosition of its first token so that the binder can report
// errors at the right place. Nodes own their children.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sql/source_text.h"
#include "sql/token.h"
#include "types/value.h"

namespace sluice {

struct SelectStatement;
struct ParsedExpression;
using ParsedExpressionPtr = std::unique_ptr<ParsedExpression>;

enum class ExpressionKind : uint8_t {
  kColumn,    // name_parts = [qualifier..., name]
  kLiteral,   // literal
  kInterval,  // INTERVAL '5' MINUTE or 5m: interval_millis
  kStar,      // * or t.* (only as a select item or COUNT(*))
  kUnary,     // op = "-", "+", "NOT"; children = [operand]
  kBinary,    // op = "+", "-", "*", "/", "%", "||", "=", "<>", "<", "<=", ">", ">=", "AND", "OR"
  kFunction,  // name_parts = [name]; children = arguments; distinct; star_argument; filter; over;
              // bare_keyword
  kCase,      // children = [operand?] then (when, then)* then [else?]
  kCast,      // children = [operand]; cast_type
  kBetween,   // children = [value, low, high]; negated
  kIn,        // children = [value, item...] or [value] and subquery (IN (SELECT ...)); negated
  kIsNull,    // children = [value]; negated = IS NOT NULL
  kLike,      // children = [value, pattern]; negated
  kExtract,   // EXTRACT(field FROM value): extract_field; children = [value]
  kSubquery,  // (SELECT ...) as an expression, or EXISTS (SELECT ...) when op is "EXISTS"
};

// The OVER clause of a ROWS window (Velostream's ROWS WINDOW BUFFER or the standard form).
struct OverClause {
  SourcePosition position;
  std::optional<int64_t> buffer_rows;  // ROWS WINDOW BUFFER n ROWS
  std::vector<ParsedExpressionPtr> partition_by;
  std::vector<ParsedExpressionPtr> order_by;
  std::vector<bool> order_descending;
  std::optional<int64_t> preceding_rows;  // ROWS BETWEEN n PRECEDING AND CURRENT ROW
  bool unbounded_preceding = false;
  std::optional<int64_t> expire_after_millis;  // EXPIRE AFTER INTERVAL ... INACTIVITY
};

struct ParsedExpression {
  ExpressionKind kind = ExpressionKind::kLiteral;
  SourcePosition position;
  // Nodes on the longest path from this node down to a leaf (1 for a leaf). The parser keeps
  // it at most kMaxExpressionDepth (sql/parser.h), which bounds the recursion of everything that
  // walks the tree: the binder, ToString, the destructor.
  uint32_t height = 1;
  std::vector<std::string> name_parts;
  Value literal;
  // A number literal with a point and no exponent as written ("0.908"): in Flink's dialect it is
  // an exact DECIMAL (DECIMAL(3, 3)), in ours the DOUBLE in `literal`.
  std::string decimal_literal_text;
  int64_t interval_millis = 0;
  std::string op;
  std::vector<ParsedExpressionPtr> children;
  bool negated = false;
  bool distinct = false;
  bool star_argument = false;
  bool bare_keyword = false;  // kFunction: CURRENT_TIMESTAMP, written without parentheses
  bool case_has_operand = false;
  bool case_has_else = false;
  TypeId cast_type = TypeId::kNull;
  std::string extract_field;
  std::unique_ptr<OverClause> over;
  // kFunction: the condition of an aggregate's FILTER (WHERE condition); counted in height.
  std::unique_ptr<ParsedExpression> filter;
  std::unique_ptr<SelectStatement> subquery;

  // SQL text of the expression, normalised (used for default column names and EXPLAIN).
  std::string ToString() const;
};

struct SelectItem {
  SourcePosition position;
  ParsedExpressionPtr expression;  // kStar for * and t.*
  std::string alias;               // empty when none was written
};

enum class WindowKind : uint8_t { kTumbling, kSliding, kSession };

struct WindowClause {
  SourcePosition position;
  WindowKind kind = WindowKind::kTumbling;
  ParsedExpressionPtr time_column;  // null: the source's event time
  int64_t size_millis = 0;          // tumbling/sliding size, session gap
  int64_t advance_millis = 0;       // sliding only
};

// kSemi and kAnti are never parsed: LowerDerivedTables makes them of `x IN (SELECT ...)`,
// `EXISTS (SELECT ...)` and `NOT EXISTS (SELECT ...)` in WHERE. Their output is the left input's
// rows that have a match (semi) or none (anti).
enum class JoinType : uint8_t { kInner, kLeft, kRight, kFull, kSemi, kAnti };

struct TableReference {
  enum class Kind : uint8_t { kNamed, kSubquery, kJoin };
  Kind kind = Kind::kNamed;
  SourcePosition position;
  std::string name;   // kNamed
  std::string alias;  // optional for every kind
  // kNamed: a derived table or a CTE that LowerDerivedTables (plan/derived_tables.h) replaced by
  // a reference to the hidden statement `name`; the query knows it by `alias` alone.
  bool lowered = false;
  std::unique_ptr<SelectStatement> subquery;
  std::unique_ptr<TableReference> left, right;  // kJoin
  JoinType join_type = JoinType::kInner;
  ParsedExpressionPtr join_condition;
  std::optional<int64_t> within_millis;  // JOIN ... WITHIN INTERVAL (time-bounded join)
  // kNamed: `name FOR SYSTEM_TIME AS OF <expr>`, a lookup of a table as of a time (the
  // expression reads the other input of the join); system_time_position is that of FOR.
  ParsedExpressionPtr system_time;
  SourcePosition system_time_position;
  // kNamed: Flink's window table function TABLE(TUMBLE|HOP(TABLE name, DESCRIPTOR(ts), ...)),
  // whose position is that of the outer TABLE. The parser moves it into the SELECT that reads
  // it (SelectStatement::window, with window_start/window_end read as _window_start/_window_end)
  // and refuses it anywhere else, so the binder never sees one.
  std::optional<WindowClause> window_function;
};

enum class EmitMode : uint8_t { kDefault, kChanges, kFinal };

struct OrderItem {
  ParsedExpressionPtr expression;
  bool descending = false;
};

// WITH name AS (SELECT ...): a named query, visible to the CTEs after it and to the query.
struct CommonTableExpression {
  SourcePosition position;  // of the name
  std::string name;
  std::unique_ptr<SelectStatement> query;
};

struct SelectStatement {
  SourcePosition position;
  std::vector<CommonTableExpression> with;  // WITH a AS (...), b AS (...) before SELECT
  bool distinct = false;
  SourcePosition distinct_position;
  std::vector<SelectItem> items;
  std::unique_ptr<TableReference> from;
  ParsedExpressionPtr where;
  std::vector<ParsedExpressionPtr> group_by;
  SourcePosition group_by_position;
  std::optional<WindowClause> window;
  ParsedExpressionPtr having;
  SourcePosition having_position;
  std::vector<OrderItem> order_by;
  SourcePosition order_by_position;
  std::optional<int64_t> limit;
  SourcePosition limit_position;
  EmitMode emit = EmitMode::kDefault;
  SourcePosition emit_position;
  // SELECT ... UNION ALL SELECT ... : the branches after this one, in order (each without
  // branches of its own). LowerDerivedTables (plan/derived_tables.h) turns every branch into a
  // hidden statement and leaves their names in union_inputs, which the binder unites.
  std::vector<std::unique_ptr<SelectStatement>> union_all;
  std::vector<SourcePosition> union_positions;  // of each UNION keyword
  std::vector<std::string> union_inputs;
};

struct Property {
  std::string key;
  std::string value;
  SourcePosition key_position;
  SourcePosition value_position;
};

struct Statement {
  // kInsert (Flink: INSERT INTO name SELECT ...) and kCreateView (Flink: CREATE VIEW name AS
  // SELECT ...) bind like kCreateStream: an INSERT's stream is the sink table `name` (declared
  // by a TableDefinition of the job), a view's stream has no sink and feeds later statements.
  enum class Kind : uint8_t { kCreateStream, kCreateTable, kSelect, kInsert, kCreateView };
  Kind kind = Kind::kSelect;
  SourcePosition position;
  std::string name;  // the created stream or table; empty for a bare SELECT
  SourcePosition name_position;
  std::unique_ptr<SelectStatement> select;
  std::vector<Property> properties;
};

// Flink's dialect: one column of CREATE TABLE name (column TYPE, ...).
struct ColumnDefinition {
  std::string name;
  SourcePosition position;
  TypeId type = TypeId::kNull;
  std::string type_text;  // as written, e.g. "TIMESTAMP(3)", "DECIMAL(23, 3)"
  SourcePosition type_position;
};

// Flink's dialect: CREATE TABLE name (columns, [WATERMARK FOR c AS c - INTERVAL ...],
// [PRIMARY KEY (k, ...) NOT ENFORCED]) [PARTITIONED BY (c, ...)] WITH ('connector' = ..., ...).
// LowerFlinkTables (sql/flink_dialect.h) turns each into the '<name>.<key>' properties of one of our
// connectors.
struct TableDefinition {
  SourcePosition position;  // of CREATE
  std::string name;
  SourcePosition name_position;
  std::vector<ColumnDefinition> columns;
  // WATERMARK FOR column AS column [- INTERVAL ...]: the event-time column and how far the
  // watermark trails it.
  std::string watermark_column;
  SourcePosition watermark_position;  // of WATERMARK; line 0 when there is none
  int64_t watermark_delay_millis = 0;
  std::vector<std::string> primary_key;
  SourcePosition primary_key_position;  // of PRIMARY; line 0 when there is none
  // PARTITIONED BY (column, ...): columns of the table (the parser checks), each at its position.
  std::vector<std::string> partition_by;
  std::vector<SourcePosition> partition_by_positions;
  SourcePosition partition_by_position;  // of PARTITIONED; line 0 when there is none
  std::vector<Property> options;         // WITH ('connector' = ..., ...)
};

enum class Dialect : uint8_t { kSluice, kFlink };

// A parsed job file: its statements in order, the annotations, and the text for errors.
struct ParsedJob {
  SourceText source;
  std::vector<Statement> statements;
  std::vector<Annotation> annotations;
  // The dialect of the file and why (a `-- dialect:` line, or the first statement that only
  // one dialect has), for explain: "flink (INSERT INTO at 12:1)".
  Dialect dialect = Dialect::kSluice;
  std::string dialect_reason;
  // What a Flink job means in Sluice's terms that its text does not say, for explain: "3:9:
  // column 'ratio' FLOAT is a DOUBLE".
  std::vector<std::string> dialect_notes;
  // Flink's dialect: the tables of CREATE TABLE with columns and the SET 'key' = 'value'
  // settings as written; LowerFlinkDialect (plan/flink_dialect.h) turns them into `properties`,
  // job-wide properties that JobProperties::Collect reads with those of every statement.
  std::vector<TableDefinition> tables;
  std::vector<Property> settings;
  std::vector<Property> properties;
};

}  // namespace sluice
