#include "sql/parser.h"

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
      Statement statement;
      absl::Status status = ParseStatement(statement);
      if (status.ok() && !AtEnd() && !MatchOperator(";")) {
        status = Unexpected("';' or the end of the job after the statement");
      }
      if (status.ok()) {
        statements.push_back(std::move(statement));
        continue;
      }
      errors.Add(std::move(status));
      SkipToNextStatement();
    }
    if (statements.empty() && errors.empty()) errors.Add(source_.Error({1, 1}, "the job has no statement"));
  }

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
    node->height = height + 1;
    if (node->height > kMaxExpressionDepth) return TooDeep(node->position, "expression");
    return node;
  }

  // --- statements ------------------------------------------------------------------------
  absl::Status ParseStatement(Statement& statement) {
    statement.position = Peek().position;
    if (MatchKeyword("CREATE")) {
      if (MatchKeyword("STREAM")) {
        statement.kind = Statement::Kind::kCreateStream;
      } else if (MatchKeyword("TABLE")) {
        statement.kind = Statement::Kind::kCreateTable;
      } else {
        return Unexpected("STREAM or TABLE after CREATE");
      }
      statement.name_position = Peek().position;
      SLUICE_ASSIGN_OR_RETURN(statement.name, ExpectName("the name of the stream"));
      if (IsOperator("(")) {
        return source_.NotSupported(Peek().position, "column definitions in CREATE (Flink dialect DDL)");
      }
      SLUICE_RETURN_IF_ERROR(ExpectKeyword("AS"));
    } else if (!IsKeyword("SELECT") && !IsKeyword("WITH")) {
      return Unexpected("CREATE STREAM, CREATE TABLE, SELECT or WITH");
    }
    SLUICE_ASSIGN_OR_RETURN(statement.select, ParseSelect());
    if (MatchKeyword("WITH")) SLUICE_RETURN_IF_ERROR(ParseProperties(statement.properties));
    // EMIT may also follow WITH.
    if (IsKeyword("EMIT")) SLUICE_RETURN_IF_ERROR(ParseEmit(*statement.select));
    return absl::OkStatus();
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
    Next();
    // VARCHAR(20), DECIMAL(10, 2): the precision is accepted and ignored.
    if (MatchOperator("(")) {
      while (!IsOperator(")") && !AtEnd()) Next();
      SLUICE_RETURN_IF_ERROR(ExpectOperator(")"));
    }
    node->cast_type = *parsed;
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
