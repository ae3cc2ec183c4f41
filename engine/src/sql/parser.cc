#include "sql/parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "common/strings.h"
#include "types/number_format.h"

namespace sluice {

std::optional<int64_t> IntervalUnitMillis(std::string_view unit) {
  std::string u = AsciiToLower(unit);
  if (u.size() > 1 && u.back() == 's' && u != "ms") u.pop_back();
  if (u == "ms" || u == "millisecond") return 1;
  if (u == "s" || u == "second") return 1000;
  if (u == "m" || u == "minute") return 60 * 1000;
  if (u == "h" || u == "hour") return 60 * 60 * 1000;
  if (u == "d" || u == "day") return 24 * 60 * 60 * 1000;
  return std::nullopt;
}

namespace {

// Words that end an expression or a select item and so cannot be used as bare aliases.
bool IsReservedWord(std::string_view word) {
  static constexpr std::string_view kReserved[] = {
      "SELECT", "FROM", "WHERE",   "GROUP",    "BY",   "HAVING", "ORDER",  "LIMIT", "WINDOW", "EMIT",
      "WITH",   "AS",   "AND",     "OR",       "NOT",  "JOIN",   "INNER",  "LEFT",  "RIGHT",  "FULL",
      "OUTER",  "ON",   "UNION",   "CASE",     "WHEN", "THEN",   "ELSE",   "END",   "IS",     "NULL",
      "IN",     "LIKE", "BETWEEN", "DISTINCT", "OVER", "CREATE", "WITHIN", "ASC",   "DESC"};
  for (std::string_view reserved : kReserved) {
    if (EqualsIgnoreCase(word, reserved)) return true;
  }
  return false;
}

class Parser {
 public:
  Parser(const SourceText& source, std::vector<Token> tokens) : source_(source), tokens_(std::move(tokens)) {}

  // Parses every statement into `statements`; a statement with a syntax error goes to
  // `errors` instead, and parsing resumes after the next ';' or at the next CREATE.
  void ParseStatements(std::vector<Statement>& statements, SqlErrorList& errors) {
    while (!AtEnd() && !errors.full()) {
      if (MatchOperator(";")) continue;
      std::vector<Statement> parsed;
      absl::Status status = ParseStatement(parsed);
      if (status.ok() && !AtEnd() && !MatchOperator(";")) {
        status = Unexpected("';' or the end of the job after the statement");
      }
      if (status.ok()) {
        for (Statement& statement : parsed) statements.push_back(std::move(statement));
        continue;
      }
      errors.Add(std::move(status));
      SkipToNextStatement();
    }
    if (statements.empty() && errors.empty()) errors.Add(source_.Error({1, 1}, "the job has no statement"));
  }

  // Flink's dialect: the CREATE TABLE definitions and SET settings parsed, and the first
  // statement of each dialect's own syntax (line 0: none).
  std::vector<TableDefinition> tables;
  std::vector<Property> settings;
  SourcePosition flink_syntax_position;
  std::string flink_syntax;
  SourcePosition sluice_syntax_position;
  std::string sluice_syntax;
  std::vector<std::string> notes;

  absl::StatusOr<ParsedExpressionPtr> ParseStandaloneExpression() {
    SLUICE_ASSIGN_OR_RETURN(auto expression, ParseExpr());
    if (!AtEnd()) return Unexpected("the end of the expression");
    return expression;
  }

 private:
  // --- token helpers ---------------------------------------------------------------------
  const Token& Peek(size_t ahead = 0) const { return tokens_[std::min(index_ + ahead, tokens_.size() - 1)]; }
  bool AtEnd() const { return Peek().kind == TokenKind::kEnd; }
  const Token& Next() {
    const Token& token = tokens_[index_];
    if (index_ + 1 < tokens_.size()) ++index_;
    return token;
  }
  bool IsKeyword(std::string_view word, size_t ahead = 0) const {
    const Token& token = Peek(ahead);
    return token.kind == TokenKind::kIdentifier && EqualsIgnoreCase(token.text, word);
  }
  bool MatchKeyword(std::string_view word) {
    if (!IsKeyword(word)) return false;
    Next();
    return true;
  }
  bool IsOperator(std::string_view op, size_t ahead = 0) const {
    const Token& token = Peek(ahead);
    return token.kind == TokenKind::kOperator && token.text == op;
  }
  bool MatchOperator(std::string_view op) {
    if (!IsOperator(op)) return false;
    Next();
    return true;
  }
  static std::string Describe(const Token& token) {
    switch (token.kind) {
      case TokenKind::kEnd: return "the end of the job";
      case TokenKind::kString: return StrCat("string '", token.text, "'");
      case TokenKind::kDuration: return StrCat("'", token.text, token.unit, "'");
      default: return StrCat("'", token.text, "'");
    }
  }
  absl::Status Unexpected(std::string_view expected) const {
    return source_.Error(Peek().position,
                         StrCat("syntax error: expected ", expected, ", found ", Describe(Peek())));
  }
  absl::Status ExpectKeyword(std::string_view word) {
    if (!MatchKeyword(word)) return Unexpected(word);
    return absl::OkStatus();
  }
  absl::Status ExpectOperator(std::string_view op) {
    if (!MatchOperator(op)) return Unexpected(StrCat("'", op, "'"));
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> ExpectName(std::string_view what) {
    const Token& token = Peek();
    if (token.kind == TokenKind::kQuotedIdentifier ||
        (token.kind == TokenKind::kIdentifier && !IsReservedWord(token.text))) {
      return Next().text;
    }
    return Unexpected(what);
  }
  // The value of a number literal as a DOUBLE; an error when it overflows one (1e999).
  // Underflow rounds toward zero, as SQLite and DuckDB read such literals.
  absl::StatusOr<double> DoubleLiteral(const Token& token) {
    const double value = std::strtod(token.text.c_str(), nullptr);
    if (std::isinf(value)) {
      return source_.Error(token.position, StrCat("number out of range for DOUBLE: ", token.text));
    }
    return value;
  }
  // A duration literal (10s, 5 MINUTE) in milliseconds; an error when it overflows BIGINT.
  absl::StatusOr<int64_t> DurationMillis(const Token& token) {
    int64_t count = 0;
    int64_t millis = 0;
    const auto [ptr, ec] = std::from_chars(token.text.data(), token.text.data() + token.text.size(), count);
    if (ec != std::errc() || ptr != token.text.data() + token.text.size() ||
        __builtin_mul_overflow(count, *IntervalUnitMillis(token.unit), &millis)) {
      return source_.Error(token.position, StrCat("duration out of range: ", token.text, token.unit));
    }
    return millis;
  }

  absl::StatusOr<int64_t> ExpectInteger(std::string_view what) {
    const Token& token = Peek();
    if (token.kind != TokenKind::kInteger) return Unexpected(what);
    int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
    if (ec != std::errc() || ptr != token.text.data() + token.text.size()) {
      return source_.Error(token.position, StrCat("integer out of range: ", token.text));
    }
    Next();
    return value;
  }

  // DECIMAL(p, s) from a type's arguments (DECIMAL is DECIMAL(10, 0), DECIMAL(p) DECIMAL(p, 0)),
  // or an error at the type naming the limit it breaks.
  absl::StatusOr<TypeId> DecimalTypeAt(SourcePosition position, const std::vector<int64_t>& arguments) {
    if (arguments.size() > 2) return source_.Error(position, "DECIMAL takes a precision and a scale");
    const int64_t precision = arguments.empty() ? 10 : arguments[0];
    const int64_t scale = arguments.size() < 2 ? 0 : arguments[1];
    absl::StatusOr<TypeId> type = MakeDecimalType(precision, scale);
    if (!type.ok()) return source_.Error(position, std::string(type.status().message()));
    return *type;
  }

  // After a syntax error: skips past the next ';' or up to the next CREATE STREAM|TABLE, where
  // the next statement starts. (SELECT is no such mark: it also starts subqueries.) The token at
  // which parsing failed may itself be that CREATE, when a ';' is missing; a statement never
  // fails before consuming its own CREATE, so the parser always moves on.
  void SkipToNextStatement() {
    while (!AtEnd()) {
      if (IsKeyword("CREATE") && (IsKeyword("STREAM", 1) || IsKeyword("TABLE", 1))) return;
      const Token& token = Next();
      if (token.kind == TokenKind::kOperator && token.text == ";") return;
    }
  }

  // --- depth (see kMaxExpressionDepth) ------------------------------------------------------
  // One level of nesting for as long as it lives.
  class NestingLevel {
   public:
    explicit NestingLevel(uint32_t& nesting) : nesting_(nesting) { ++nesting_; }
    ~NestingLevel() { --nesting_; }
    NestingLevel(const NestingLevel&) = delete;
    NestingLevel& operator=(const NestingLevel&) = delete;

   private:
    uint32_t& nesting_;
  };
  absl::Status TooDeep(SourcePosition position, std::string_view what) const {
    return source_.Error(position,
                         StrCat(what, " nested too deeply (more than ", kMaxExpressionDepth, " levels)"));
  }
  // Sets the height of `node` from its children's; a tree grown above the limit is an error at
  // the node that crosses it.
  absl::StatusOr<ParsedExpressionPtr> Finish(ParsedExpressionPtr node) const {
    uint32_t height = 0;
    for (const auto& child : node->children) height = std::max(height, child->height);
    if (node->filter) height = std::max(height, node->filter->height);
    node->height = height + 1;
    if (node->height > kMaxExpressionDepth) return TooDeep(node->position, "expression");
    return node;
  }

  // --- statements ------------------------------------------------------------------------
  void SawFlinkSyntax(SourcePosition position, std::string what) {
    if (flink_syntax_position.line == 0) {
      flink_syntax_position = position;
      flink_syntax = std::move(what);
    }
  }
  void SawSluiceSyntax(SourcePosition position, std::string what) {
    if (sluice_syntax_position.line == 0) {
      sluice_syntax_position = position;
      sluice_syntax = std::move(what);
    }
  }

  // One statement of the job into `out`: none for Flink's CREATE TABLE with columns and SET
  // (they go to `tables` and `settings`), several for a statement set.
  absl::Status ParseStatement(std::vector<Statement>& out) {
    const SourcePosition start = Peek().position;
    if (IsKeyword("INSERT")) {
      Statement statement;
      SLUICE_RETURN_IF_ERROR(ParseInsert(statement));
      out.push_back(std::move(statement));
      return absl::OkStatus();
    }
    if (IsKeyword("SET")) return ParseSet();
    if (IsKeyword("EXECUTE") || (IsKeyword("BEGIN") && IsKeyword("STATEMENT", 1)))
      return ParseStatementSet(out);
    if (IsKeyword("CREATE")) {
      size_t ahead = 1;
      if (IsKeyword("TEMPORARY", ahead)) ++ahead;
      if (IsKeyword("TABLE", ahead) && (IsOperator("(", ahead + 2) || IsKeyword("IF", ahead + 1))) {
        return ParseTableDefinition();
      }
      if (IsKeyword("VIEW", ahead)) {
        Statement statement;
        SLUICE_RETURN_IF_ERROR(ParseView(statement));
        out.push_back(std::move(statement));
        return absl::OkStatus();
      }
    }
    if (IsKeyword("CREATE"))
      SawSluiceSyntax(start, IsKeyword("STREAM", 1) ? "CREATE STREAM" : "CREATE TABLE ... AS");
    Statement statement;
    SLUICE_RETURN_IF_ERROR(ParseSluiceStatement(statement));
    out.push_back(std::move(statement));
    return absl::OkStatus();
  }

  absl::Status ParseSluiceStatement(Statement& statement) {
    statement.position = Peek().position;
    if (MatchKeyword("CREATE")) {
      if (MatchKeyword("STREAM")) {
        statement.kind = Statement::Kind::kCreateStream;
      } else if (MatchKeyword("TABLE")) {
        statement.kind = Statement::Kind::kCreateTable;
      } else if (IsKeyword("FUNCTION") || (IsKeyword("TEMPORARY") && IsKeyword("FUNCTION", 1)) ||
                 (IsKeyword("TEMPORARY") && IsKeyword("SYSTEM", 1) && IsKeyword("FUNCTION", 2))) {
        return source_.NotSupported(
            Peek().position,
            "CREATE FUNCTION (a user-defined function in Java or Python: Sluice runs no JVM or Python code; "
            "write the function as an expression of built-in functions)");
      } else {
        return Unexpected("STREAM, TABLE or VIEW after CREATE");
      }
      statement.name_position = Peek().position;
      SLUICE_ASSIGN_OR_RETURN(statement.name, ExpectName("the name of the stream"));
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("AS"));
    } else if (!IsKeyword("SELECT") && !IsKeyword("WITH")) {
      return Unexpected(
          "CREATE STREAM, CREATE TABLE, CREATE VIEW, SELECT, WITH, INSERT INTO, SET or EXECUTE STATEMENT "
          "SET");
    }
    SLUICE_ASSIGN_OR_RETURN(statement.select, ParseSelect());
    if (IsKeyword("WITH")) {
      SawSluiceSyntax(Peek().position, "WITH properties after a query");
      Next();
      SLUICE_RETURN_IF_ERROR(ParseProperties(statement.properties));
    }
    // EMIT may also follow WITH.
    if (IsKeyword("EMIT")) SLUICE_RETURN_IF_ERROR(ParseEmit(*statement.select));
    return absl::OkStatus();
  }

  // Flink: INSERT INTO name SELECT ...
  absl::Status ParseInsert(Statement& statement) {
    statement.position = Peek().position;
    statement.kind = Statement::Kind::kInsert;
    SawFlinkSyntax(statement.position, "INSERT INTO");
    Next();  // INSERT
    if (IsKeyword("OVERWRITE")) return source_.NotSupported(Peek().position, "INSERT OVERWRITE");
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("INTO"));
    statement.name_position = Peek().position;
    SLUICE_ASSIGN_OR_RETURN(statement.name, ExpectName("the name of the table to insert into"));
    if (IsOperator("(")) {
      return source_.NotSupported(Peek().position,
                                  "a column list after INSERT INTO's table (the query's columns fill the "
                                  "table's columns in order)");
    }
    if (IsKeyword("PARTITION")) return source_.NotSupported(Peek().position, "INSERT INTO ... PARTITION");
    if (IsKeyword("VALUES")) return source_.NotSupported(Peek().position, "INSERT INTO ... VALUES");
    if (!IsKeyword("SELECT") && !IsKeyword("WITH"))
      return Unexpected("SELECT or WITH after INSERT INTO's table");
    SLUICE_ASSIGN_OR_RETURN(statement.select, ParseSelect());
    return absl::OkStatus();
  }

  // Flink: CREATE [TEMPORARY] VIEW name AS SELECT ...
  absl::Status ParseView(Statement& statement) {
    statement.position = Peek().position;
    statement.kind = Statement::Kind::kCreateView;
    SawFlinkSyntax(statement.position, "CREATE VIEW");
    Next();  // CREATE
    MatchKeyword("TEMPORARY");
    Next();  // VIEW
    if (IsKeyword("IF")) return source_.NotSupported(Peek().position, "CREATE VIEW IF NOT EXISTS");
    statement.name_position = Peek().position;
    SLUICE_ASSIGN_OR_RETURN(statement.name, ExpectName("the name of the view"));
    if (IsOperator("(")) return source_.NotSupported(Peek().position, "column names after a view's name");
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("AS"));
    if (!IsKeyword("SELECT") && !IsKeyword("WITH")) return Unexpected("SELECT or WITH after AS");
    SLUICE_ASSIGN_OR_RETURN(statement.select, ParseSelect());
    return absl::OkStatus();
  }

  // Flink: SET 'key' = 'value' (the lowering maps the key onto a job property, or refuses it).
  absl::Status ParseSet() {
    SawFlinkSyntax(Peek().position, "SET");
    Next();  // SET
    Property property;
    property.key_position = Peek().position;
    if (Peek().kind != TokenKind::kString) return Unexpected("a quoted key after SET, like 'pipeline.name'");
    property.key = Next().text;
    SLUICE_RETURN_IF_ERROR(ExpectOperator("="));
    property.value_position = Peek().position;
    if (Peek().kind != TokenKind::kString) return Unexpected("a quoted value, like '10 s'");
    property.value = Next().text;
    settings.push_back(std::move(property));
    return absl::OkStatus();
  }

  // Flink: EXECUTE STATEMENT SET BEGIN INSERT ...; INSERT ...; END, or the SQL client's
  // BEGIN STATEMENT SET; INSERT ...; ... END. Each INSERT is a statement of the job, as it
  // would be outside the set: a job's statements all run together.
  absl::Status ParseStatementSet(std::vector<Statement>& out) {
    SawFlinkSyntax(Peek().position, "a statement set");
    if (MatchKeyword("EXECUTE")) {
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("STATEMENT"));
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("SET"));
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("BEGIN"));
    } else {
      Next();  // BEGIN
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("STATEMENT"));
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("SET"));
      SLUICE_RETURN_IF_ERROR(ExpectOperator(";"));
    }
    if (!IsKeyword("INSERT")) return Unexpected("INSERT INTO in the statement set");
    while (IsKeyword("INSERT")) {
      Statement statement;
      SLUICE_RETURN_IF_ERROR(ParseInsert(statement));
      out.push_back(std::move(statement));
      SLUICE_RETURN_IF_ERROR(ExpectOperator(";"));
    }
    if (!MatchKeyword("END")) return Unexpected("INSERT INTO or END in the statement set");
    return absl::OkStatus();
  }

  // Flink: CREATE [TEMPORARY] TABLE name (column TYPE, ..., [WATERMARK FOR c AS c - INTERVAL
  // ...], [[CONSTRAINT n] PRIMARY KEY (k, ...) NOT ENFORCED]) [PARTITIONED BY (c, ...)]
  // WITH ('connector' = ..., ...).
  absl::Status ParseTableDefinition() {
    TableDefinition table;
    table.position = Peek().position;
    SawFlinkSyntax(table.position, "CREATE TABLE with column definitions");
    Next();  // CREATE
    MatchKeyword("TEMPORARY");
    Next();  // TABLE
    if (IsKeyword("IF")) return source_.NotSupported(Peek().position, "CREATE TABLE IF NOT EXISTS");
    table.name_position = Peek().position;
    SLUICE_ASSIGN_OR_RETURN(table.name, ExpectName("the name of the table"));
    for (const TableDefinition& other : tables) {
      if (EqualsIgnoreCase(other.name, table.name)) {
        return source_.Error(table.name_position,
                             StrCat("table '", table.name, "' is defined twice (first at ",
                                    other.name_position.line, ":", other.name_position.column, ")"));
      }
    }
    SLUICE_RETURN_IF_ERROR(ExpectOperator("("));
    do {
      if (IsKeyword("WATERMARK")) {
        SLUICE_RETURN_IF_ERROR(ParseWatermark(table));
      } else if (IsKeyword("PRIMARY") || IsKeyword("CONSTRAINT")) {
        SLUICE_RETURN_IF_ERROR(ParsePrimaryKey(table));
      } else {
        SLUICE_RETURN_IF_ERROR(ParseColumnDefinition(table));
      }
    } while (MatchOperator(","));
    SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
    if (IsKeyword("COMMENT")) return source_.NotSupported(Peek().position, "COMMENT on a table");
    if (IsKeyword("PARTITIONED")) {
      table.partition_by_position = Peek().position;
      Next();  // PARTITIONED
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("BY"));
      SLUICE_RETURN_IF_ERROR(ExpectOperator("("));
      do {
        const SourcePosition position = Peek().position;
        SLUICE_ASSIGN_OR_RETURN(std::string column, ExpectName("a partition column"));
        const auto known =
            std::find_if(table.columns.begin(), table.columns.end(),
                         [&](const ColumnDefinition& c) { return EqualsIgnoreCase(c.name, column); });
        if (known == table.columns.end()) {
          return source_.Error(position, StrCat("PARTITIONED BY names '", column,
                                                "', which is not a column of table '", table.name, "'"));
        }
        for (const std::string& other : table.partition_by) {
          if (EqualsIgnoreCase(other, column)) {
            return source_.Error(position, StrCat("PARTITIONED BY names '", column, "' twice"));
          }
        }
        table.partition_by.push_back(known->name);
        table.partition_by_positions.push_back(position);
      } while (MatchOperator(","));
      SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
      if (table.partition_by.size() == table.columns.size()) {
        return source_.Error(table.partition_by_position,
                             StrCat("PARTITIONED BY names every column of table '", table.name,
                                    "': its files would hold no column"));
      }
    }
    if (IsKeyword("LIKE")) return source_.NotSupported(Peek().position, "CREATE TABLE ... LIKE");
    if (!MatchKeyword("WITH")) return Unexpected("WITH ('connector' = ...) after the columns");
    SLUICE_RETURN_IF_ERROR(ParseProperties(table.options));
    if (table.watermark_position.line != 0) {
      const auto column = std::find_if(
          table.columns.begin(), table.columns.end(),
          [&](const ColumnDefinition& c) { return EqualsIgnoreCase(c.name, table.watermark_column); });
      if (column == table.columns.end()) {
        return source_.Error(table.watermark_position,
                             StrCat("WATERMARK FOR '", table.watermark_column, "': no column of table '",
                                    table.name, "' has that name"));
      }
      if (column->type != TypeId::kTimestamp) {
        return source_.Error(table.watermark_position,
                             StrCat("WATERMARK FOR '", table.watermark_column, "': the column is ",
                                    column->type_text, ", not TIMESTAMP(3) or TIMESTAMP_LTZ(3)"));
      }
    }
    for (const std::string& key : table.primary_key) {
      if (std::none_of(table.columns.begin(), table.columns.end(),
                       [&](const ColumnDefinition& c) { return EqualsIgnoreCase(c.name, key); })) {
        return source_.Error(
            table.primary_key_position,
            StrCat("PRIMARY KEY names '", key, "', which is not a column of table '", table.name, "'"));
      }
    }
    tables.push_back(std::move(table));
    return absl::OkStatus();
  }

  absl::Status ParseColumnDefinition(TableDefinition& table) {
    ColumnDefinition column;
    column.position = Peek().position;
    SLUICE_ASSIGN_OR_RETURN(column.name, ExpectName("a column name, WATERMARK or PRIMARY KEY"));
    for (const ColumnDefinition& other : table.columns) {
      if (EqualsIgnoreCase(other.name, column.name)) {
        return source_.Error(column.position, StrCat("column '", column.name, "' is defined twice"));
      }
    }
    if (IsKeyword("AS")) {
      return source_.NotSupported(Peek().position, "computed columns (name AS expression) in CREATE TABLE");
    }
    column.type_position = Peek().position;
    const Token& type = Peek();
    if (type.kind != TokenKind::kIdentifier) return Unexpected("a column type");
    const std::string upper = AsciiToUpper(type.text);
    if (upper == "ROW" || upper == "ARRAY" || upper == "MAP" || upper == "MULTISET") {
      return source_.NotSupported(type.position, StrCat("the type ", upper, " (nested types)"));
    }
    std::optional<TypeId> parsed =
        upper == "TIMESTAMP_LTZ" ? std::optional<TypeId>(TypeId::kTimestamp) : ParseTypeName(type.text);
    if (!parsed) {
      return source_.Error(
          type.position,
          StrCat("unknown type '", type.text,
                 "' (expected INT, BIGINT, DOUBLE, DECIMAL, STRING, VARCHAR, BOOLEAN, TIMESTAMP(3) "
                 "or TIMESTAMP_LTZ(3))"));
    }
    column.type = *parsed;
    column.type_text = upper;
    Next();
    std::vector<int64_t> arguments;
    if (MatchOperator("(")) {
      do {
        SLUICE_ASSIGN_OR_RETURN(const int64_t argument, ExpectInteger("a precision"));
        arguments.push_back(argument);
      } while (MatchOperator(","));
      SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
      std::vector<std::string> texts;
      for (int64_t argument : arguments) texts.push_back(std::to_string(argument));
      StrAppend(&column.type_text, "(", StrJoin(texts, ", "), ")");
    }
    if (column.type == TypeId::kTimestamp) {
      if (!arguments.empty() && arguments[0] > 3) {
        return source_.NotSupported(column.type_position,
                                    StrCat(column.type_text, ": timestamps are milliseconds (TIMESTAMP(3))"));
      }
      if (IsKeyword("WITH") && IsKeyword("LOCAL", 1)) {
        Next();
        Next();
        SLUICE_RETURN_IF_ERROR(ExpectKeyword("TIME"));
        SLUICE_RETURN_IF_ERROR(ExpectKeyword("ZONE"));
        StrAppend(&column.type_text, " WITH LOCAL TIME ZONE");
      } else if (IsKeyword("WITHOUT")) {
        Next();
        SLUICE_RETURN_IF_ERROR(ExpectKeyword("TIME"));
        SLUICE_RETURN_IF_ERROR(ExpectKeyword("ZONE"));
        StrAppend(&column.type_text, " WITHOUT TIME ZONE");
      }
    }
    if (IsDecimalTypeName(upper)) {
      SLUICE_ASSIGN_OR_RETURN(column.type, DecimalTypeAt(column.type_position, arguments));
    } else if (upper == "FLOAT" || upper == "REAL") {
      notes.push_back(StrCat(column.type_position.line, ":", column.type_position.column, ": column '",
                             column.name, "' ", column.type_text, " is a DOUBLE"));
    }
    if (IsKeyword("NOT") || IsKeyword("NULL")) {
      return source_.NotSupported(Peek().position, "NOT NULL / NULL constraints on a column");
    }
    if (IsKeyword("PRIMARY")) {
      return source_.NotSupported(Peek().position,
                                  "PRIMARY KEY after a column (write PRIMARY KEY (column) NOT ENFORCED)");
    }
    if (IsKeyword("METADATA")) return source_.NotSupported(Peek().position, "METADATA columns");
    if (IsKeyword("COMMENT")) return source_.NotSupported(Peek().position, "COMMENT on a column");
    table.columns.push_back(std::move(column));
    return absl::OkStatus();
  }

  // WATERMARK FOR column AS column [- INTERVAL 'n' UNIT]
  absl::Status ParseWatermark(TableDefinition& table) {
    if (table.watermark_position.line != 0) {
      return source_.Error(Peek().position, "a table has one WATERMARK");
    }
    table.watermark_position = Peek().position;
    Next();  // WATERMARK
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("FOR"));
    SLUICE_ASSIGN_OR_RETURN(table.watermark_column, ExpectName("the event-time column"));
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("AS"));
    const SourcePosition strategy_position = Peek().position;
    SLUICE_ASSIGN_OR_RETURN(ParsedExpressionPtr strategy, ParseExpr());
    auto is_the_column = [&](const ParsedExpression& e) {
      return e.kind == ExpressionKind::kColumn && e.name_parts.size() == 1 &&
             EqualsIgnoreCase(e.name_parts[0], table.watermark_column);
    };
    if (is_the_column(*strategy)) {
      table.watermark_delay_millis = 0;
    } else if (strategy->kind == ExpressionKind::kBinary && strategy->op == "-" &&
               is_the_column(*strategy->children[0]) &&
               strategy->children[1]->kind == ExpressionKind::kInterval) {
      table.watermark_delay_millis = strategy->children[1]->interval_millis;
    } else {
      return source_.NotSupported(strategy_position,
                                  StrCat("a watermark other than `", table.watermark_column, "` or `",
                                         table.watermark_column, " - INTERVAL 'n' unit`"));
    }
    return absl::OkStatus();
  }

  // [CONSTRAINT name] PRIMARY KEY (column, ...) NOT ENFORCED
  absl::Status ParsePrimaryKey(TableDefinition& table) {
    if (table.primary_key_position.line != 0)
      return source_.Error(Peek().position, "a table has one PRIMARY KEY");
    table.primary_key_position = Peek().position;
    if (MatchKeyword("CONSTRAINT")) SLUICE_RETURN_IF_ERROR(ExpectName("the constraint's name").status());
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("PRIMARY"));
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("KEY"));
    SLUICE_RETURN_IF_ERROR(ExpectOperator("("));
    do {
      SLUICE_ASSIGN_OR_RETURN(std::string column, ExpectName("a column of the key"));
      table.primary_key.push_back(std::move(column));
    } while (MatchOperator(","));
    SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("NOT"));
    return ExpectKeyword("ENFORCED");
  }

  absl::Status ParseProperties(std::vector<Property>& properties) {
    SLUICE_RETURN_IF_ERROR(ExpectOperator("("));
    while (true) {
      Property property;
      property.key_position = Peek().position;
      if (Peek().kind != TokenKind::kString && Peek().kind != TokenKind::kQuotedIdentifier) {
        return Unexpected("a quoted property key like 'source.type'");
      }
      property.key = Next().text;
      SLUICE_RETURN_IF_ERROR(ExpectOperator("="));
      property.value_position = Peek().position;
      const Token& value = Peek();
      if (value.kind == TokenKind::kString || value.kind == TokenKind::kInteger ||
          value.kind == TokenKind::kDecimal || value.kind == TokenKind::kIdentifier) {
        property.value = Next().text;
      } else if (value.kind == TokenKind::kDuration) {
        property.value = value.text + value.unit;
        Next();
      } else {
        return Unexpected("a quoted property value");
      }
      properties.push_back(std::move(property));
      if (MatchOperator(",")) continue;
      return ExpectOperator(")");
    }
  }

  absl::Status ParseEmit(SelectStatement& select) {
    select.emit_position = Peek().position;
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("EMIT"));
    if (MatchKeyword("CHANGES")) {
      select.emit = EmitMode::kChanges;
    } else if (MatchKeyword("FINAL")) {
      select.emit = EmitMode::kFinal;
    } else {
      return Unexpected("CHANGES or FINAL after EMIT");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<SelectStatement>> ParseSelect() {
    const NestingLevel level(query_nesting_);
    if (query_nesting_ > kMaxExpressionDepth) return TooDeep(Peek().position, "query");
    auto select = std::make_unique<SelectStatement>();
    select->position = Peek().position;
    if (MatchKeyword("WITH")) {
      do {
        CommonTableExpression cte;
        cte.position = Peek().position;
        SLUICE_ASSIGN_OR_RETURN(cte.name, ExpectName("the name of a WITH query"));
        if (IsOperator("(")) {
          return source_.NotSupported(Peek().position, "column names after a WITH query's name");
        }
        SLUICE_RETURN_IF_ERROR(ExpectKeyword("AS"));
        SLUICE_RETURN_IF_ERROR(ExpectOperator("("));
        SLUICE_ASSIGN_OR_RETURN(cte.query, ParseSelect());
        SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
        select->with.push_back(std::move(cte));
      } while (MatchOperator(","));
      select->position = Peek().position;
    }
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("SELECT"));
    if (IsKeyword("DISTINCT")) {
      select->distinct_position = Peek().position;
      Next();
      select->distinct = true;
    } else {
      MatchKeyword("ALL");
    }
    do {
      SelectItem item;
      item.position = Peek().position;
      if (IsOperator("*")) {
        Next();
        item.expression = std::make_unique<ParsedExpression>();
        item.expression->kind = ExpressionKind::kStar;
        item.expression->position = item.position;
      } else {
        SLUICE_ASSIGN_OR_RETURN(item.expression, ParseExpr());
        if (MatchKeyword("AS")) {
          SLUICE_ASSIGN_OR_RETURN(item.alias, ExpectName("an alias after AS"));
        } else if (Peek().kind == TokenKind::kQuotedIdentifier ||
                   (Peek().kind == TokenKind::kIdentifier && !IsReservedWord(Peek().text))) {
          item.alias = Next().text;
        }
      }
      select->items.push_back(std::move(item));
    } while (MatchOperator(","));

    if (!MatchKeyword("FROM")) return Unexpected("',' or FROM after the select list");
    SLUICE_ASSIGN_OR_RETURN(select->from, ParseFrom());
    if (MatchKeyword("WHERE")) {
      SLUICE_ASSIGN_OR_RETURN(select->where, ParseExpr());
    }
    if (IsKeyword("GROUP")) {
      select->group_by_position = Peek().position;
      Next();
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("BY"));
      do {
        SLUICE_ASSIGN_OR_RETURN(auto key, ParseExpr());
        select->group_by.push_back(std::move(key));
      } while (MatchOperator(","));
    }
    if (IsKeyword("WINDOW")) {
      SLUICE_ASSIGN_OR_RETURN(select->window, ParseWindow());
    }
    if (IsKeyword("HAVING")) {
      select->having_position = Peek().position;
      Next();
      SLUICE_ASSIGN_OR_RETURN(select->having, ParseExpr());
    }
    if (IsKeyword("ORDER")) {
      select->order_by_position = Peek().position;
      Next();
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("BY"));
      do {
        OrderItem item;
        SLUICE_ASSIGN_OR_RETURN(item.expression, ParseExpr());
        if (MatchKeyword("DESC")) {
          item.descending = true;
        } else {
          MatchKeyword("ASC");
        }
        select->order_by.push_back(std::move(item));
      } while (MatchOperator(","));
    }
    if (IsKeyword("LIMIT")) {
      select->limit_position = Peek().position;
      Next();
      SLUICE_ASSIGN_OR_RETURN(select->limit, ExpectInteger("a row count after LIMIT"));
    }
    SLUICE_RETURN_IF_ERROR(MoveWindowFunction(*select));
    SLUICE_RETURN_IF_ERROR(MoveGroupWindowFunction(*select));
    if (IsKeyword("EMIT")) SLUICE_RETURN_IF_ERROR(ParseEmit(*select));
    while (IsKeyword("UNION")) {
      const SourcePosition position = Peek().position;
      Next();
      if (!MatchKeyword("ALL")) {
        return source_.NotSupported(position,
                                    "UNION without ALL (a set union removes duplicates: write SELECT DISTINCT * "
                                    "FROM (... UNION ALL ...) AS u)");
      }
      SLUICE_ASSIGN_OR_RETURN(auto branch, ParseSelect());
      // A UNION ALL B UNION ALL C: one list of branches.
      std::vector<std::unique_ptr<SelectStatement>> later = std::move(branch->union_all);
      std::vector<SourcePosition> later_positions = std::move(branch->union_positions);
      branch->union_all.clear();
      branch->union_positions.clear();
      select->union_all.push_back(std::move(branch));
      select->union_positions.push_back(position);
      for (size_t i = 0; i < later.size(); ++i) {
        select->union_all.push_back(std::move(later[i]));
        select->union_positions.push_back(later_positions[i]);
      }
    }
    return select;
  }

  absl::StatusOr<std::unique_ptr<TableReference>> ParseTablePrimary() {
    auto table = std::make_unique<TableReference>();
    table->position = Peek().position;
    if (MatchOperator("(")) {
      table->kind = TableReference::Kind::kSubquery;
      SLUICE_ASSIGN_OR_RETURN(table->subquery, ParseSelect());
      SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
    } else if (IsKeyword("TABLE") && IsOperator("(", 1)) {
      SLUICE_RETURN_IF_ERROR(ParseWindowTableFunction(*table));
    } else {
      SLUICE_ASSIGN_OR_RETURN(table->name, ExpectName("the name of a source or stream"));
      // Flink's order: t FOR SYSTEM_TIME AS OF x [AS] alias; also accepted after the alias.
      SLUICE_RETURN_IF_ERROR(ParseSystemTime(*table));
    }
    if (MatchKeyword("AS")) {
      SLUICE_ASSIGN_OR_RETURN(table->alias, ExpectName("an alias after AS"));
    } else if (Peek().kind == TokenKind::kQuotedIdentifier ||
               (Peek().kind == TokenKind::kIdentifier && !IsReservedWord(Peek().text))) {
      table->alias = Next().text;
    }
    if (table->kind == TableReference::Kind::kNamed && table->system_time == nullptr) {
      SLUICE_RETURN_IF_ERROR(ParseSystemTime(*table));
    }
    return table;
  }

  // Flink: TABLE(TUMBLE(TABLE name, DESCRIPTOR(ts), size)) or TABLE(HOP(TABLE name,
  // DESCRIPTOR(ts), slide, size)) (Flink's HOP takes the slide before the size).
  absl::Status ParseWindowTableFunction(TableReference& table) {
    WindowClause window;
    window.position = Peek().position;
    Next();  // TABLE
    Next();  // (
    const Token& function = Peek();
    const std::string upper = function.kind == TokenKind::kIdentifier ? AsciiToUpper(function.text) : "";
    if (upper == "CUMULATE" || upper == "SESSION") {
      return source_.NotSupported(function.position, StrCat("the ", upper, " window table function"));
    }
    if (upper == "TUMBLE") {
      window.kind = WindowKind::kTumbling;
    } else if (upper == "HOP") {
      window.kind = WindowKind::kSliding;
    } else {
      return Unexpected("a window table function (TUMBLE or HOP) after TABLE(");
    }
    Next();
    SLUICE_RETURN_IF_ERROR(ExpectOperator("("));
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("TABLE"));
    SLUICE_ASSIGN_OR_RETURN(table.name, ExpectName("the name of a table or view"));
    SLUICE_RETURN_IF_ERROR(ExpectOperator(","));
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("DESCRIPTOR"));
    SLUICE_RETURN_IF_ERROR(ExpectOperator("("));
    auto column = std::make_unique<ParsedExpression>();
    column->kind = ExpressionKind::kColumn;
    column->position = Peek().position;
    SLUICE_ASSIGN_OR_RETURN(std::string column_name, ExpectName("the time column"));
    column->name_parts.push_back(std::move(column_name));
    window.time_column = std::move(column);
    SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
    SLUICE_RETURN_IF_ERROR(ExpectOperator(","));
    SourcePosition size_position = Peek().position;
    SLUICE_ASSIGN_OR_RETURN(window.size_millis, ParseDuration());
    if (window.kind == WindowKind::kSliding) {
      if (window.size_millis <= 0) return source_.Error(size_position, "the window slide must be positive");
      window.advance_millis = window.size_millis;
      SLUICE_RETURN_IF_ERROR(ExpectOperator(","));
      size_position = Peek().position;
      SLUICE_ASSIGN_OR_RETURN(window.size_millis, ParseDuration());
    }
    if (window.size_millis <= 0) return source_.Error(size_position, "the window size must be positive");
    if (IsOperator(","))
      return source_.NotSupported(Peek().position, "the offset of a window table function");
    SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
    SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
    table.window_function = std::move(window);
    return absl::OkStatus();
  }

  // The first window table function in a join's inputs, or nullptr.
  static const TableReference* WindowFunctionIn(const TableReference* table) {
    if (table == nullptr) return nullptr;
    if (table->window_function) return table;
    if (const TableReference* left = WindowFunctionIn(table->left.get())) return left;
    return WindowFunctionIn(table->right.get());
  }

  // Whether `e` reads the window column `name` (window_start, ...) of a window table function
  // whose input is `table`: unqualified, or qualified by the table's alias or name.
  static bool IsWindowColumn(const ParsedExpression& e, std::string_view name, const TableReference& table) {
    if (e.kind != ExpressionKind::kColumn || e.name_parts.empty() ||
        !EqualsIgnoreCase(e.name_parts.back(), name)) {
      return false;
    }
    if (e.name_parts.size() == 1) return true;
    return e.name_parts.size() == 2 &&
           (EqualsIgnoreCase(e.name_parts[0], table.alias) || EqualsIgnoreCase(e.name_parts[0], table.name));
  }

  // Makes `e` _window_end - 1 ms: Flink's window_time, the last instant of the window.
  static void MakeWindowTime(ParsedExpression& e) {
    auto end = std::make_unique<ParsedExpression>();
    end->kind = ExpressionKind::kColumn;
    end->position = e.position;
    end->name_parts = {"_window_end"};
    auto millisecond = std::make_unique<ParsedExpression>();
    millisecond->kind = ExpressionKind::kInterval;
    millisecond->position = e.position;
    millisecond->interval_millis = 1;
    e.kind = ExpressionKind::kBinary;
    e.op = "-";
    e.name_parts.clear();
    e.children.clear();
    e.children.push_back(std::move(end));
    e.children.push_back(std::move(millisecond));
    e.height = 2;
  }

  // Rewrites window_start, window_end and window_time of a window table function over `table`
  // in `e` (not in its subqueries, which read other inputs) as our window columns.
  static void RewriteWindowColumns(ParsedExpression& e, const TableReference& table) {
    if (IsWindowColumn(e, "window_start", table)) {
      e.name_parts = {"_window_start"};
    } else if (IsWindowColumn(e, "window_end", table)) {
      e.name_parts = {"_window_end"};
    } else if (IsWindowColumn(e, "window_time", table)) {
      MakeWindowTime(e);
    }
    for (auto& child : e.children) RewriteWindowColumns(*child, table);
    SetHeight(e);
  }
  // The height of `e` from its children's, after a rewrite below it.
  static void SetHeight(ParsedExpression& e) {
    uint32_t height = 0;
    for (const auto& child : e.children) height = std::max(height, child->height);
    e.height = height + 1;
  }
  // A rewritten expression (window_time became _window_end - 1 ms) may have grown a level.
  absl::Status CheckHeights(const SelectStatement& select) const {
    for (const auto& item : select.items) {
      if (item.expression->height > kMaxExpressionDepth)
        return TooDeep(item.expression->position, "expression");
    }
    if (select.having != nullptr && select.having->height > kMaxExpressionDepth) {
      return TooDeep(select.having->position, "expression");
    }
    return absl::OkStatus();
  }
  static bool ReadsWindowColumn(const ParsedExpression& e, const TableReference& table) {
    for (std::string_view name : {"window_start", "window_end", "window_time"}) {
      if (IsWindowColumn(e, name, table)) return true;
    }
    return std::any_of(e.children.begin(), e.children.end(),
                       [&](const ParsedExpressionPtr& child) { return ReadsWindowColumn(*child, table); });
  }

  // A window table function in FROM becomes this SELECT's window: an aggregation GROUP BY
  // window_start, window_end [, window_time] and other keys is Sluice's GROUP BY keys WINDOW
  // TUMBLING|SLIDING (ts, ...), with window_start/end/time read as _window_start, _window_end
  // and _window_end - 1 ms. Anything else over the function is refused at its position.
  absl::Status MoveWindowFunction(SelectStatement& select) {
    TableReference* table = select.from.get();
    if (table->kind == TableReference::Kind::kJoin) {
      if (const TableReference* inside = WindowFunctionIn(table)) {
        return source_.NotSupported(inside->window_function->position,
                                    "a window table function as an input of a join (a window join: join two "
                                    "windowed aggregations on window_start and window_end instead)");
      }
      return absl::OkStatus();
    }
    if (!table->window_function) return absl::OkStatus();
    const SourcePosition position = table->window_function->position;
    if (select.window) {
      return source_.Error(select.window->position,
                           "a query over a window table function has its window already");
    }
    bool start = false, end = false;
    std::vector<ParsedExpressionPtr> keys;
    for (auto& key : select.group_by) {
      if (IsWindowColumn(*key, "window_start", *table)) {
        start = true;
      } else if (IsWindowColumn(*key, "window_end", *table)) {
        end = true;
      } else if (IsWindowColumn(*key, "window_time", *table)) {
        // the window's last instant: grouping by it groups by the window
      } else {
        keys.push_back(std::move(key));
      }
    }
    if (!start || !end) {
      for (auto& key : keys) select.group_by.push_back(std::move(key));  // nothing moved
      return source_.NotSupported(position,
                                  "a window table function whose rows are not grouped by window_start and "
                                  "window_end (window Top-N, deduplication and reading its rows come later)");
    }
    if (select.where != nullptr && ReadsWindowColumn(*select.where, *table)) {
      return source_.NotSupported(select.where->position, "window_start, window_end or window_time in WHERE");
    }
    select.group_by = std::move(keys);
    for (auto& item : select.items) RewriteWindowColumns(*item.expression, *table);
    if (select.having != nullptr) RewriteWindowColumns(*select.having, *table);
    select.window = std::move(table->window_function);
    table->window_function.reset();
    return CheckHeights(select);
  }

  // Flink's legacy group windows: GROUP BY ..., TUMBLE(ts, size) | HOP(ts, slide, size) |
  // SESSION(ts, gap) with TUMBLE_START/_END/_ROWTIME (HOP_..., SESSION_...) in the select list
  // and HAVING. The function becomes this SELECT's window; its _START/_END/_ROWTIME calls, which
  // must repeat its arguments, read _window_start, _window_end and _window_end - 1 ms.
  absl::Status MoveGroupWindowFunction(SelectStatement& select) {
    size_t found = select.group_by.size();
    std::string function;
    for (size_t i = 0; i < select.group_by.size(); ++i) {
      const ParsedExpression& key = *select.group_by[i];
      if (key.kind != ExpressionKind::kFunction || key.name_parts.size() != 1 || key.over != nullptr)
        continue;
      const std::string upper = AsciiToUpper(key.name_parts[0]);
      if (upper != "TUMBLE" && upper != "HOP" && upper != "SESSION") continue;
      if (found != select.group_by.size())
        return source_.Error(key.position, "a GROUP BY has one window function");
      found = i;
      function = upper;
    }
    if (found == select.group_by.size()) return absl::OkStatus();
    ParsedExpression& call = *select.group_by[found];
    const size_t arguments = function == "HOP" ? 3 : 2;
    if (call.children.size() != arguments) {
      return source_.Error(call.position,
                           StrCat(function, " takes ", arguments, " arguments: the time column, ",
                                  function == "HOP"      ? "the slide and the size"
                                  : function == "TUMBLE" ? "the size"
                                                         : "the gap"));
    }
    for (size_t a = 1; a < arguments; ++a) {
      if (call.children[a]->kind != ExpressionKind::kInterval || call.children[a]->interval_millis <= 0) {
        return source_.Error(call.children[a]->position,
                             StrCat("expected a positive interval in ", function));
      }
    }
    if (select.window) {
      return source_.Error(call.position,
                           StrCat("GROUP BY ", function, "(...) and a WINDOW clause: choose one"));
    }
    WindowClause window;
    window.position = call.position;
    window.kind = function == "TUMBLE" ? WindowKind::kTumbling
                  : function == "HOP"  ? WindowKind::kSliding
                                       : WindowKind::kSession;
    if (function == "HOP") {
      window.advance_millis = call.children[1]->interval_millis;
      window.size_millis = call.children[2]->interval_millis;
    } else {
      window.size_millis = call.children[1]->interval_millis;
    }
    std::vector<std::string> argument_texts;
    for (const auto& argument : call.children) argument_texts.push_back(argument->ToString());
    window.time_column = std::move(call.children[0]);
    select.group_by.erase(select.group_by.begin() + static_cast<ptrdiff_t>(found));
    select.window = std::move(window);
    for (auto& item : select.items) {
      SLUICE_RETURN_IF_ERROR(RewriteGroupWindowCalls(*item.expression, function, argument_texts));
    }
    if (select.having != nullptr) {
      SLUICE_RETURN_IF_ERROR(RewriteGroupWindowCalls(*select.having, function, argument_texts));
    }
    return CheckHeights(select);
  }

  absl::Status RewriteGroupWindowCalls(ParsedExpression& e, const std::string& function,
                                       const std::vector<std::string>& argument_texts) const {
    if (e.kind == ExpressionKind::kFunction && e.name_parts.size() == 1 && e.over == nullptr) {
      const std::string upper = AsciiToUpper(e.name_parts[0]);
      for (const char* family : {"TUMBLE", "HOP", "SESSION"}) {
        if (!StartsWith(upper, StrCat(family, "_"))) continue;
        const std::string suffix = upper.substr(std::string_view(family).size() + 1);
        if (suffix != "START" && suffix != "END" && suffix != "ROWTIME") continue;
        if (family != function) {
          return source_.Error(e.position, StrCat(upper, " in a query grouped by ", function, "(...)"));
        }
        std::vector<std::string> texts;
        for (const auto& argument : e.children) texts.push_back(argument->ToString());
        if (texts != argument_texts) {
          return source_.Error(e.position, StrCat(upper, " takes the arguments of the GROUP BY's ", function,
                                                  "(", StrJoin(argument_texts, ", "), ")"));
        }
        if (suffix == "ROWTIME") {
          MakeWindowTime(e);
          return absl::OkStatus();
        }
        e.kind = ExpressionKind::kColumn;
        e.children.clear();
        e.height = 1;
        e.name_parts = {suffix == "START" ? "_window_start" : "_window_end"};
        return absl::OkStatus();
      }
    }
    for (auto& child : e.children)
      SLUICE_RETURN_IF_ERROR(RewriteGroupWindowCalls(*child, function, argument_texts));
    SetHeight(e);
    return absl::OkStatus();
  }

  // FOR SYSTEM_TIME AS OF <expr>, if it comes next.
  absl::Status ParseSystemTime(TableReference& table) {
    if (!IsKeyword("FOR") || !IsKeyword("SYSTEM_TIME", 1)) return absl::OkStatus();
    table.system_time_position = Peek().position;
    Next();
    Next();  // SYSTEM_TIME
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("AS"));
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("OF"));
    SLUICE_ASSIGN_OR_RETURN(table.system_time, ParseExpr());
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<TableReference>> ParseFrom() {
    SLUICE_ASSIGN_OR_RETURN(auto left, ParseTablePrimary());
    for (uint32_t joins = 0;; ++joins) {
      const SourcePosition position = Peek().position;
      JoinType type = JoinType::kInner;
      bool comma = false;
      if (MatchOperator(",")) {
        comma = true;  // FROM a, b: an inner join whose conditions are in WHERE
      } else if (MatchKeyword("JOIN")) {
        type = JoinType::kInner;
      } else if (MatchKeyword("INNER")) {
        SLUICE_RETURN_IF_ERROR(ExpectKeyword("JOIN"));
      } else if (IsKeyword("LEFT") || IsKeyword("RIGHT") || IsKeyword("FULL")) {
        const std::string word = AsciiToUpper(Next().text);
        type = word == "LEFT" ? JoinType::kLeft : word == "RIGHT" ? JoinType::kRight : JoinType::kFull;
        MatchKeyword("OUTER");
        SLUICE_RETURN_IF_ERROR(ExpectKeyword("JOIN"));
      } else {
        break;
      }
      if (joins == kMaxExpressionDepth) {
        return source_.Error(
            position, StrCat("too many joins in one FROM clause (more than ", kMaxExpressionDepth, ")"));
      }
      auto join = std::make_unique<TableReference>();
      join->kind = TableReference::Kind::kJoin;
      join->position = position;
      join->join_type = type;
      join->left = std::move(left);
      SLUICE_ASSIGN_OR_RETURN(join->right, ParseTablePrimary());
      if (comma) {
        left = std::move(join);
        continue;
      }
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("ON"));
      SLUICE_ASSIGN_OR_RETURN(join->join_condition, ParseExpr());
      if (MatchKeyword("WITHIN")) {
        SLUICE_ASSIGN_OR_RETURN(join->within_millis, ParseDuration());
      }
      left = std::move(join);
    }
    return left;
  }

  // INTERVAL 'n' UNIT | INTERVAL 'n UNIT' | 10s | n UNIT
  absl::StatusOr<int64_t> ParseDuration() {
    const Token& token = Peek();
    if (token.kind == TokenKind::kDuration) {
      SLUICE_ASSIGN_OR_RETURN(const int64_t millis, DurationMillis(token));
      Next();
      return millis;
    }
    if (IsKeyword("INTERVAL")) {
      SLUICE_ASSIGN_OR_RETURN(auto interval, ParsePrimary());
      return interval->interval_millis;
    }
    return Unexpected("a duration like INTERVAL '1' MINUTE or 1m");
  }

  absl::StatusOr<WindowClause> ParseWindow() {
    WindowClause window;
    window.position = Peek().position;
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("WINDOW"));
    const SourcePosition kind_position = Peek().position;
    if (MatchKeyword("TUMBLING")) {
      window.kind = WindowKind::kTumbling;
    } else if (MatchKeyword("SLIDING") || MatchKeyword("HOPPING")) {
      window.kind = WindowKind::kSliding;
    } else if (MatchKeyword("SESSION")) {
      window.kind = WindowKind::kSession;
    } else {
      return Unexpected("TUMBLING, SLIDING or SESSION after WINDOW");
    }
    SLUICE_RETURN_IF_ERROR(ExpectOperator("("));
    // Optional leading time column: anything that is not a duration.
    if (Peek().kind != TokenKind::kDuration && !IsKeyword("INTERVAL")) {
      SLUICE_ASSIGN_OR_RETURN(window.time_column, ParseExpr());
      SLUICE_RETURN_IF_ERROR(ExpectOperator(","));
    }
    const SourcePosition size_position = Peek().position;
    SLUICE_ASSIGN_OR_RETURN(window.size_millis, ParseDuration());
    if (window.kind == WindowKind::kSliding) {
      SLUICE_RETURN_IF_ERROR(ExpectOperator(","));
      const SourcePosition advance_position = Peek().position;
      SLUICE_ASSIGN_OR_RETURN(window.advance_millis, ParseDuration());
      if (window.advance_millis <= 0) {
        return source_.Error(advance_position, "the window advance must be positive");
      }
    }
    if (window.size_millis <= 0) {
      return source_.Error(size_position, "the window size must be positive");
    }
    (void)kind_position;
    SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
    return window;
  }

  // --- expressions -----------------------------------------------------------------------
  absl::StatusOr<ParsedExpressionPtr> MakeBinary(std::string op, SourcePosition position,
                                                 ParsedExpressionPtr left, ParsedExpressionPtr right) const {
    auto node = std::make_unique<ParsedExpression>();
    node->kind = ExpressionKind::kBinary;
    node->op = std::move(op);
    node->position = position;
    node->children.push_back(std::move(left));
    node->children.push_back(std::move(right));
    return Finish(std::move(node));
  }

  absl::StatusOr<ParsedExpressionPtr> ParseExpr() {
    const NestingLevel level(expression_nesting_);
    if (expression_nesting_ > kMaxExpressionDepth) return TooDeep(Peek().position, "expression");
    return ParseOr();
  }

  absl::StatusOr<ParsedExpressionPtr> ParseOr() {
    SLUICE_ASSIGN_OR_RETURN(auto left, ParseAnd());
    while (IsKeyword("OR")) {
      const SourcePosition position = Next().position;
      SLUICE_ASSIGN_OR_RETURN(auto right, ParseAnd());
      SLUICE_ASSIGN_OR_RETURN(left, MakeBinary("OR", position, std::move(left), std::move(right)));
    }
    return left;
  }

  absl::StatusOr<ParsedExpressionPtr> ParseAnd() {
    SLUICE_ASSIGN_OR_RETURN(auto left, ParseNot());
    while (IsKeyword("AND")) {
      const SourcePosition position = Next().position;
      SLUICE_ASSIGN_OR_RETURN(auto right, ParseNot());
      SLUICE_ASSIGN_OR_RETURN(left, MakeBinary("AND", position, std::move(left), std::move(right)));
    }
    return left;
  }

  absl::StatusOr<ParsedExpressionPtr> ParseNot() {
    if (IsKeyword("NOT")) {
      auto node = std::make_unique<ParsedExpression>();
      node->kind = ExpressionKind::kUnary;
      node->op = "NOT";
      node->position = Next().position;
      const NestingLevel level(expression_nesting_);
      if (expression_nesting_ > kMaxExpressionDepth) return TooDeep(Peek().position, "expression");
      SLUICE_ASSIGN_OR_RETURN(auto operand, ParseNot());
      node->children.push_back(std::move(operand));
      return Finish(std::move(node));
    }
    return ParseComparison();
  }

  absl::StatusOr<ParsedExpressionPtr> ParseComparison() {
    SLUICE_ASSIGN_OR_RETURN(auto left, ParseAdditive());
    while (true) {
      const Token& token = Peek();
      if (token.kind == TokenKind::kOperator &&
          (token.text == "=" || token.text == "<>" || token.text == "<" || token.text == "<=" ||
           token.text == ">" || token.text == ">=")) {
        const std::string op = token.text;
        const SourcePosition position = Next().position;
        SLUICE_ASSIGN_OR_RETURN(auto right, ParseAdditive());
        SLUICE_ASSIGN_OR_RETURN(left, MakeBinary(op, position, std::move(left), std::move(right)));
        continue;
      }
      if (IsKeyword("IS")) {
        auto node = std::make_unique<ParsedExpression>();
        node->kind = ExpressionKind::kIsNull;
        node->position = Next().position;
        node->negated = MatchKeyword("NOT");
        SLUICE_RETURN_IF_ERROR(ExpectKeyword("NULL"));
        node->children.push_back(std::move(left));
        SLUICE_ASSIGN_OR_RETURN(left, Finish(std::move(node)));
        continue;
      }
      const bool negated =
          IsKeyword("NOT") && (IsKeyword("BETWEEN", 1) || IsKeyword("IN", 1) || IsKeyword("LIKE", 1));
      const size_t ahead = negated ? 1 : 0;
      if (IsKeyword("BETWEEN", ahead)) {
        auto node = std::make_unique<ParsedExpression>();
        node->kind = ExpressionKind::kBetween;
        node->negated = negated;
        if (negated) Next();
        node->position = Next().position;
        SLUICE_ASSIGN_OR_RETURN(auto low, ParseAdditive());
        SLUICE_RETURN_IF_ERROR(ExpectKeyword("AND"));
        SLUICE_ASSIGN_OR_RETURN(auto high, ParseAdditive());
        node->children.push_back(std::move(left));
        node->children.push_back(std::move(low));
        node->children.push_back(std::move(high));
        SLUICE_ASSIGN_OR_RETURN(left, Finish(std::move(node)));
        continue;
      }
      if (IsKeyword("IN", ahead)) {
        auto node = std::make_unique<ParsedExpression>();
        node->kind = ExpressionKind::kIn;
        node->negated = negated;
        if (negated) Next();
        node->position = Next().position;
        node->children.push_back(std::move(left));
        SLUICE_RETURN_IF_ERROR(ExpectOperator("("));
        if (IsKeyword("SELECT")) {
          // x IN (SELECT ...): a semi-join (the binder takes it from WHERE).
          SLUICE_ASSIGN_OR_RETURN(node->subquery, ParseSelect());
          SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
          SLUICE_ASSIGN_OR_RETURN(left, Finish(std::move(node)));
          continue;
        }
        do {
          SLUICE_ASSIGN_OR_RETURN(auto item, ParseExpr());
          node->children.push_back(std::move(item));
        } while (MatchOperator(","));
        SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
        SLUICE_ASSIGN_OR_RETURN(left, Finish(std::move(node)));
        continue;
      }
      if (IsKeyword("LIKE", ahead)) {
        auto node = std::make_unique<ParsedExpression>();
        node->kind = ExpressionKind::kLike;
        node->negated = negated;
        if (negated) Next();
        node->position = Next().position;
        SLUICE_ASSIGN_OR_RETURN(auto pattern, ParseAdditive());
        node->children.push_back(std::move(left));
        node->children.push_back(std::move(pattern));
        SLUICE_ASSIGN_OR_RETURN(left, Finish(std::move(node)));
        continue;
      }
      return left;
    }
  }

  absl::StatusOr<ParsedExpressionPtr> ParseAdditive() {
    SLUICE_ASSIGN_OR_RETURN(auto left, ParseMultiplicative());
    while (IsOperator("+") || IsOperator("-")) {
      const std::string op = Peek().text;
      const SourcePosition position = Next().position;
      SLUICE_ASSIGN_OR_RETURN(auto right, ParseMultiplicative());
      SLUICE_ASSIGN_OR_RETURN(left, MakeBinary(op, position, std::move(left), std::move(right)));
    }
    return left;
  }

  absl::StatusOr<ParsedExpressionPtr> ParseMultiplicative() {
    SLUICE_ASSIGN_OR_RETURN(auto left, ParseConcat());
    while (IsOperator("*") || IsOperator("/") || IsOperator("%")) {
      const std::string op = Peek().text;
      const SourcePosition position = Next().position;
      SLUICE_ASSIGN_OR_RETURN(auto right, ParseConcat());
      SLUICE_ASSIGN_OR_RETURN(left, MakeBinary(op, position, std::move(left), std::move(right)));
    }
    return left;
  }

  absl::StatusOr<ParsedExpressionPtr> ParseConcat() {
    SLUICE_ASSIGN_OR_RETURN(auto left, ParseUnary());
    while (IsOperator("||")) {
      const SourcePosition position = Next().position;
      SLUICE_ASSIGN_OR_RETURN(auto right, ParseUnary());
      SLUICE_ASSIGN_OR_RETURN(left, MakeBinary("||", position, std::move(left), std::move(right)));
    }
    return left;
  }

  absl::StatusOr<ParsedExpressionPtr> ParseUnary() {
    if (IsOperator("-") || IsOperator("+")) {
      auto node = std::make_unique<ParsedExpression>();
      node->kind = ExpressionKind::kUnary;
      node->op = Peek().text;
      node->position = Next().position;
      const NestingLevel level(expression_nesting_);
      if (expression_nesting_ > kMaxExpressionDepth) return TooDeep(Peek().position, "expression");
      SLUICE_ASSIGN_OR_RETURN(auto operand, ParseUnary());
      // Fold a sign into a numeric literal so that -9223372036854775808 works.
      if (node->op == "-" && operand->kind == ExpressionKind::kLiteral && !operand->literal.is_null()) {
        if (operand->literal.type() == TypeId::kInt64) {
          operand->literal =
              Value::Int64(static_cast<int64_t>(0ULL - static_cast<uint64_t>(operand->literal.int64())));
          operand->position = node->position;
          return operand;
        }
        if (operand->literal.type() == TypeId::kDouble) {
          operand->literal = Value::Double(-operand->literal.dbl());
          operand->position = node->position;
          return operand;
        }
      }
      // Unary plus is the identity on numbers; on anything else the binder refuses it.
      if (node->op == "+" && operand->kind == ExpressionKind::kLiteral &&
          (operand->literal.type() == TypeId::kInt64 || operand->literal.type() == TypeId::kDouble)) {
        return operand;
      }
      node->children.push_back(std::move(operand));
      return Finish(std::move(node));
    }
    return ParsePrimary();
  }

  absl::StatusOr<ParsedExpressionPtr> ParsePrimary() {
    const Token& token = Peek();
    auto node = std::make_unique<ParsedExpression>();
    node->position = token.position;
    switch (token.kind) {
      case TokenKind::kInteger: {
        node->kind = ExpressionKind::kLiteral;
        uint64_t value = 0;
        const auto [ptr, ec] =
            std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
        if (ec != std::errc() || value > 9223372036854775808ULL) {
          SLUICE_ASSIGN_OR_RETURN(const double number, DoubleLiteral(token));
          node->literal = Value::Double(number);
        } else {
          node->literal = Value::Int64(static_cast<int64_t>(value));
        }
        (void)ptr;
        Next();
        return node;
      }
      case TokenKind::kDecimal: {
        node->kind = ExpressionKind::kLiteral;
        SLUICE_ASSIGN_OR_RETURN(const double number, DoubleLiteral(token));
        node->literal = Value::Double(number);
        if (token.text.find_first_of("eE") == std::string::npos) node->decimal_literal_text = token.text;
        Next();
        return node;
      }
      case TokenKind::kString:
        node->kind = ExpressionKind::kLiteral;
        node->literal = Value::String(token.text);
        Next();
        return node;
      case TokenKind::kDuration: {
        node->kind = ExpressionKind::kInterval;
        SLUICE_ASSIGN_OR_RETURN(node->interval_millis, DurationMillis(token));
        Next();
        return node;
      }
      case TokenKind::kQuotedIdentifier: return ParseName();
      case TokenKind::kOperator:
        if (token.text == "(") {
          Next();
          if (IsKeyword("SELECT")) {
            node->kind = ExpressionKind::kSubquery;
            SLUICE_ASSIGN_OR_RETURN(node->subquery, ParseSelect());
          } else {
            SLUICE_ASSIGN_OR_RETURN(node, ParseExpr());
          }
          SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
          return node;
        }
        return Unexpected("an expression");
      case TokenKind::kEnd: return Unexpected("an expression");
      case TokenKind::kIdentifier: break;
    }
    // Keywords that start special forms.
    if (MatchKeyword("NULL")) {
      node->kind = ExpressionKind::kLiteral;
      node->literal = Value::Null();
      return node;
    }
    if (IsKeyword("TRUE") || IsKeyword("FALSE")) {
      node->kind = ExpressionKind::kLiteral;
      node->literal = Value::Boolean(EqualsIgnoreCase(Next().text, "TRUE"));
      return node;
    }
    if (IsKeyword("EXISTS") && IsOperator("(", 1) && IsKeyword("SELECT", 2)) {
      // EXISTS (SELECT ...): a subquery expression whose op says EXISTS.
      Next();
      Next();
      node->kind = ExpressionKind::kSubquery;
      node->op = "EXISTS";
      SLUICE_ASSIGN_OR_RETURN(node->subquery, ParseSelect());
      SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
      return node;
    }
    if (IsKeyword("INTERVAL")) return ParseInterval();
    if (IsKeyword("CASE")) return ParseCase();
    if (IsKeyword("CAST") && IsOperator("(", 1)) return ParseCast();
    if (IsKeyword("EXTRACT") && IsOperator("(", 1)) return ParseExtract();
    if (IsKeyword("TIMESTAMP") && Peek(1).kind == TokenKind::kString) {
      Next();
      const Token& text = Next();
      auto millis = ParseTimestamp(text.text);
      if (!millis) return source_.Error(text.position, StrCat("invalid timestamp '", text.text, "'"));
      node->kind = ExpressionKind::kLiteral;
      node->literal = Value::Timestamp(*millis);
      return node;
    }
    // CURRENT_TIMESTAMP without parentheses is the standard form of CURRENT_TIMESTAMP(). As in
    // PostgreSQL, SQLite and DuckDB, the bare keyword is always the function: a column of that
    // name is reached quoted ("current_timestamp") or qualified (t.current_timestamp), so that
    // what a query means does not depend on the columns its input happens to have.
    if (IsKeyword("CURRENT_TIMESTAMP") && !IsOperator("(", 1) && !IsOperator(".", 1)) {
      node->kind = ExpressionKind::kFunction;
      node->name_parts.push_back(Next().text);
      node->bare_keyword = true;
      return node;
    }
    // LEFT(s, n) and RIGHT(s, n) are functions although LEFT/RIGHT also start joins.
    const bool join_word_as_function =
        (EqualsIgnoreCase(token.text, "LEFT") || EqualsIgnoreCase(token.text, "RIGHT")) && IsOperator("(", 1);
    if (IsReservedWord(token.text) && !join_word_as_function) return Unexpected("an expression");
    return ParseName();
  }

  absl::StatusOr<ParsedExpressionPtr> ParseInterval() {
    auto node = std::make_unique<ParsedExpression>();
    node->kind = ExpressionKind::kInterval;
    node->position = Next().position;  // INTERVAL
    const Token& amount = Peek();
    std::string count_text;
    std::string unit;
    if (amount.kind == TokenKind::kString) {
      Next();
      std::vector<std::string_view> parts = StrSplit(StripWhitespace(amount.text), ' ', true);
      if (parts.empty() || parts.size() > 2) {
        return source_.Error(amount.position, StrCat("invalid interval '", amount.text, "'"));
      }
      count_text = std::string(parts[0]);
      if (parts.size() == 2) unit = std::string(parts[1]);
    } else if (amount.kind == TokenKind::kInteger) {
      count_text = Next().text;
    } else {
      return Unexpected("an interval amount like '5'");
    }
    SourcePosition unit_position = Peek().position;
    if (unit.empty()) {
      if (Peek().kind != TokenKind::kIdentifier) {
        return Unexpected("an interval unit (MILLISECOND, SECOND, MINUTE, HOUR or DAY)");
      }
      unit = Next().text;
    } else {
      unit_position = amount.position;
    }
    const auto count = ParseInt64(count_text);
    if (!count || *count < 0) {
      return source_.Error(amount.position,
                           StrCat("invalid interval amount '", count_text, "' (expected a whole number)"));
    }
    const auto millis = IntervalUnitMillis(unit);
    if (!millis) {
      return source_.Error(unit_position, StrCat("invalid interval unit '", unit,
                                                 "' (expected MILLISECOND, SECOND, MINUTE, HOUR or DAY)"));
    }
    if (__builtin_mul_overflow(*count, *millis, &node->interval_millis)) {
      return source_.Error(amount.position, StrCat("interval out of range: ", count_text, " ", unit));
    }
    return node;
  }

  absl::StatusOr<ParsedExpressionPtr> ParseCase() {
    auto node = std::make_unique<ParsedExpression>();
    node->kind = ExpressionKind::kCase;
    node->position = Next().position;
    if (!IsKeyword("WHEN")) {
      node->case_has_operand = true;
      SLUICE_ASSIGN_OR_RETURN(auto operand, ParseExpr());
      node->children.push_back(std::move(operand));
    }
    if (!IsKeyword("WHEN")) return Unexpected("WHEN in CASE");
    while (MatchKeyword("WHEN")) {
      SLUICE_ASSIGN_OR_RETURN(auto when, ParseExpr());
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("THEN"));
      SLUICE_ASSIGN_OR_RETURN(auto then, ParseExpr());
      node->children.push_back(std::move(when));
      node->children.push_back(std::move(then));
    }
    if (MatchKeyword("ELSE")) {
      node->case_has_else = true;
      SLUICE_ASSIGN_OR_RETURN(auto otherwise, ParseExpr());
      node->children.push_back(std::move(otherwise));
    }
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("END"));
    return Finish(std::move(node));
  }

  absl::StatusOr<ParsedExpressionPtr> ParseCast() {
    auto node = std::make_unique<ParsedExpression>();
    node->kind = ExpressionKind::kCast;
    node->position = Next().position;
    SLUICE_RETURN_IF_ERROR(ExpectOperator("("));
    SLUICE_ASSIGN_OR_RETURN(auto operand, ParseExpr());
    node->children.push_back(std::move(operand));
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("AS"));
    const Token& type = Peek();
    if (type.kind != TokenKind::kIdentifier) return Unexpected("a type name");
    const auto parsed = ParseTypeName(type.text);
    if (!parsed) {
      return source_.Error(
          type.position,
          StrCat("unknown type '", type.text, "' (expected BIGINT, DOUBLE, STRING, BOOLEAN or TIMESTAMP)"));
    }
    const SourcePosition type_position = type.position;
    const bool decimal = IsDecimalTypeName(type.text);
    Next();
    node->cast_type = *parsed;
    // DECIMAL(10, 2) is that DECIMAL; VARCHAR(20)'s length and TIMESTAMP(3)'s precision are
    // accepted and ignored (strings have no length limit, timestamps are milliseconds).
    if (MatchOperator("(")) {
      std::vector<int64_t> arguments;
      if (decimal) {
        do {
          SLUICE_ASSIGN_OR_RETURN(const int64_t argument,
                                  ExpectInteger(arguments.empty() ? "a precision" : "a scale"));
          arguments.push_back(argument);
        } while (arguments.size() < 2 && MatchOperator(","));
        SLUICE_ASSIGN_OR_RETURN(node->cast_type, DecimalTypeAt(type_position, arguments));
      } else {
        while (!IsOperator(")") && !AtEnd()) Next();
      }
      SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
    }
    SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
    return Finish(std::move(node));
  }

  absl::StatusOr<ParsedExpressionPtr> ParseExtract() {
    auto node = std::make_unique<ParsedExpression>();
    node->kind = ExpressionKind::kExtract;
    node->position = Next().position;
    SLUICE_RETURN_IF_ERROR(ExpectOperator("("));
    if (Peek().kind != TokenKind::kIdentifier && Peek().kind != TokenKind::kString) {
      return Unexpected("a field such as YEAR, MONTH, DAY, HOUR, MINUTE or SECOND");
    }
    node->extract_field = AsciiToLower(Next().text);
    SLUICE_RETURN_IF_ERROR(ExpectKeyword("FROM"));
    SLUICE_ASSIGN_OR_RETURN(auto operand, ParseExpr());
    node->children.push_back(std::move(operand));
    SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
    return Finish(std::move(node));
  }

  // name, qualified.name, or a function call name(args) [OVER (...)].
  absl::StatusOr<ParsedExpressionPtr> ParseName() {
    auto node = std::make_unique<ParsedExpression>();
    node->position = Peek().position;
    node->name_parts.push_back(Next().text);
    while (IsOperator(".")) {
      Next();
      if (IsOperator("*")) {
        Next();
        node->kind = ExpressionKind::kStar;
        return node;
      }
      SLUICE_ASSIGN_OR_RETURN(auto part, ExpectName("a column name after '.'"));
      node->name_parts.push_back(std::move(part));
    }
    if (!IsOperator("(")) {
      node->kind = ExpressionKind::kColumn;
      return node;
    }
    node->kind = ExpressionKind::kFunction;
    Next();  // (
    const std::string upper = AsciiToUpper(node->name_parts.back());
    if (MatchOperator("*")) {
      node->star_argument = true;
    } else if (!IsOperator(")")) {
      if (MatchKeyword("DISTINCT")) node->distinct = true;
      // POSITION(a IN b): the first argument must stop before IN.
      SLUICE_ASSIGN_OR_RETURN(auto first, upper == "POSITION" ? ParseAdditive() : ParseExpr());
      node->children.push_back(std::move(first));
      // SUBSTRING(x FROM a [FOR b]) and POSITION(a IN b).
      if (upper == "SUBSTRING" && MatchKeyword("FROM")) {
        SLUICE_ASSIGN_OR_RETURN(auto start, ParseExpr());
        node->children.push_back(std::move(start));
        if (MatchKeyword("FOR")) {
          SLUICE_ASSIGN_OR_RETURN(auto length, ParseExpr());
          node->children.push_back(std::move(length));
        }
      } else if (upper == "POSITION" && MatchKeyword("IN")) {
        SLUICE_ASSIGN_OR_RETURN(auto haystack, ParseExpr());
        node->children.push_back(std::move(haystack));
      } else {
        while (MatchOperator(",")) {
          SLUICE_ASSIGN_OR_RETURN(auto argument, ParseExpr());
          node->children.push_back(std::move(argument));
        }
      }
    }
    SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
    // An aggregate's FILTER (WHERE condition): the binder refuses it on anything else.
    if (IsKeyword("FILTER") && IsOperator("(", 1) && IsKeyword("WHERE", 2)) {
      Next();  // FILTER
      Next();  // (
      Next();  // WHERE
      SLUICE_ASSIGN_OR_RETURN(node->filter, ParseExpr());
      SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
      if (IsKeyword("OVER")) return source_.NotSupported(Peek().position, "FILTER (WHERE ...) with OVER");
    }
    if (IsKeyword("OVER")) {
      SLUICE_ASSIGN_OR_RETURN(node->over, ParseOver());
    }
    return Finish(std::move(node));
  }

  absl::StatusOr<std::unique_ptr<OverClause>> ParseOver() {
    auto over = std::make_unique<OverClause>();
    over->position = Next().position;  // OVER
    SLUICE_RETURN_IF_ERROR(ExpectOperator("("));
    if (IsKeyword("ROWS") && IsKeyword("WINDOW", 1)) {
      Next();
      Next();
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("BUFFER"));
      const SourcePosition position = Peek().position;
      SLUICE_ASSIGN_OR_RETURN(over->buffer_rows, ExpectInteger("the buffer size in rows"));
      if (*over->buffer_rows <= 0) return source_.Error(position, "the ROWS buffer size must be positive");
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("ROWS"));
    }
    if (IsKeyword("PARTITION")) {
      Next();
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("BY"));
      do {
        SLUICE_ASSIGN_OR_RETURN(auto key, ParseExpr());
        over->partition_by.push_back(std::move(key));
      } while (MatchOperator(","));
    }
    if (IsKeyword("ORDER")) {
      Next();
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("BY"));
      do {
        SLUICE_ASSIGN_OR_RETURN(auto key, ParseExpr());
        over->order_by.push_back(std::move(key));
        bool descending = false;
        if (MatchKeyword("DESC")) {
          descending = true;
        } else {
          MatchKeyword("ASC");
        }
        over->order_descending.push_back(descending);
      } while (MatchOperator(","));
    }
    if (MatchKeyword("ROWS")) {
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("BETWEEN"));
      if (MatchKeyword("UNBOUNDED")) {
        over->unbounded_preceding = true;
      } else {
        SLUICE_ASSIGN_OR_RETURN(over->preceding_rows, ExpectInteger("a row count before PRECEDING"));
      }
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("PRECEDING"));
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("AND"));
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("CURRENT"));
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("ROW"));
    }
    if (MatchKeyword("EXPIRE")) {
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("AFTER"));
      SLUICE_ASSIGN_OR_RETURN(over->expire_after_millis, ParseDuration());
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("INACTIVITY"));
    }
    SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
    return over;
  }

  const SourceText& source_;
  std::vector<Token> tokens_;
  size_t index_ = 0;
  // Levels open now (see kMaxExpressionDepth): expressions, and SELECTs (subqueries).
  uint32_t expression_nesting_ = 0;
  uint32_t query_nesting_ = 0;
};

std::string PositionText(SourcePosition position) {
  return StrCat(position.line, ":", position.column);
}

// The job's dialect: a `-- dialect: flink|sluice` line, else the first statement that only one
// dialect has (Flink: CREATE TABLE with columns, CREATE VIEW, INSERT INTO, SET, a statement
// set; Sluice: CREATE STREAM, CREATE TABLE ... AS, WITH properties after a query). A file that
// uses both dialects' own statements, or the other dialect's under a `-- dialect:` line, is an
// error at the first statement of the other dialect.
void ChooseDialect(ParsedJob& job, SourcePosition flink_position, const std::string& flink,
                   SourcePosition sluice_position, const std::string& sluice, SqlErrorList& errors) {
  std::optional<Dialect> declared;
  SourcePosition declared_position;
  const std::string& text = job.source.text();
  uint32_t line = 1;
  for (size_t begin = 0; begin < text.size(); ++line) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string_view content = StripWhitespace(std::string_view(text).substr(begin, end - begin));
    if (StartsWith(content, "--")) {
      const std::string_view comment = StripWhitespace(content.substr(2));
      if (StartsWithIgnoreCase(comment, "dialect:")) {
        const std::string value = AsciiToLower(StripWhitespace(comment.substr(8)));
        const SourcePosition position{line, static_cast<uint32_t>(content.data() - text.data() - begin + 1)};
        if (value == "flink") {
          declared = Dialect::kFlink;
        } else if (value == "sluice") {
          declared = Dialect::kSluice;
        } else {
          errors.Add(
              job.source.Error(position, StrCat("unknown dialect '", value, "' (expected flink or sluice)")));
          return;
        }
        declared_position = position;
        break;
      }
    }
    begin = end + 1;
  }
  if (declared) {
    job.dialect = *declared;
    job.dialect_reason = StrCat("the '-- dialect:' line at ", PositionText(declared_position));
    if (*declared == Dialect::kFlink && sluice_position.line != 0) {
      errors.Add(job.source.Error(
          sluice_position,
          StrCat(sluice, " is Sluice's dialect, and this file is Flink's (", job.dialect_reason, ")")));
    } else if (*declared == Dialect::kSluice && flink_position.line != 0) {
      errors.Add(job.source.Error(
          flink_position,
          StrCat(flink, " is Flink's dialect, and this file is Sluice's (", job.dialect_reason, ")")));
    }
    return;
  }
  if (flink_position.line == 0) {
    job.dialect = Dialect::kSluice;
    job.dialect_reason =
        sluice_position.line != 0 ? StrCat(sluice, " at ", PositionText(sluice_position)) : "the default";
    return;
  }
  job.dialect = Dialect::kFlink;
  job.dialect_reason = StrCat(flink, " at ", PositionText(flink_position));
  if (sluice_position.line != 0) {
    errors.Add(
        job.source.Error(sluice_position, StrCat(sluice, " is Sluice's dialect, and this file is Flink's (",
                                                 job.dialect_reason, "): one file, one dialect")));
  }
}

}  // namespace

ParsedJob ParseJob(std::string text, SqlErrorList& errors) {
  ParsedJob job;
  job.source = SourceText(std::move(text));
  absl::StatusOr<LexResult> lexed = Lex(job.source);
  if (!lexed.ok()) {
    errors.Add(lexed.status());
    return job;
  }
  job.annotations = std::move(lexed->annotations);
  Parser parser(job.source, std::move(lexed->tokens));
  parser.ParseStatements(job.statements, errors);
  job.tables = std::move(parser.tables);
  job.settings = std::move(parser.settings);
  job.dialect_notes = std::move(parser.notes);
  ChooseDialect(job, parser.flink_syntax_position, parser.flink_syntax, parser.sluice_syntax_position,
                parser.sluice_syntax, errors);
  return job;
}

absl::StatusOr<ParsedJob> ParseJob(std::string text) {
  SqlErrorList errors(/*limit=*/1);
  ParsedJob job = ParseJob(std::move(text), errors);
  if (!errors.empty()) return errors.first();
  return job;
}

absl::StatusOr<ParsedExpressionPtr> ParseExpression(const SourceText& source) {
  SLUICE_ASSIGN_OR_RETURN(LexResult lexed, Lex(source));
  Parser parser(source, std::move(lexed.tokens));
  return parser.ParseStandaloneExpression();
}

}  // namespace sluice
