#include "plan/binder.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <span>

#include "catalog/connector_registry.h"
#include "catalog/lookup_table_provider.h"
#include "common/strings.h"
#include "expr/expression_executor.h"
#include "plan/changelog_mode.h"
#include "plan/connector_properties.h"
#include "plan/derived_tables.h"
#include "plan/flink_dialect.h"
#include "plan/top_n_pattern.h"
#include "sql/parser.h"
#include "types/decimal.h"
#include "types/number_format.h"

namespace sluice {
namespace {

// Functions of aggregates, windows and ROWS windows: not in the scalar registry.
constexpr std::string_view kAggregateFunctions[] = {
    "count",       "sum",        "avg",           "min",        "max",          "stddev",
    "stddev_samp", "stddev_pop", "variance",      "var_samp",   "var_pop",      "first_value",
    "last_value",  "lag",        "lead",          "row_number", "tumble_start", "tumble_end",
    "hop_start",   "hop_end",    "session_start", "session_end"};

bool IsAggregateFunction(std::string_view name) {
  for (std::string_view aggregate : kAggregateFunctions) {
    if (EqualsIgnoreCase(name, aggregate)) return true;
  }
  return false;
}

// The registry name of a function as SQL calls it (the aliases SUBSTR, CEILING, ...).
std::string RegistryName(const std::string& lower_name) {
  if (lower_name == "substr") return "substring";
  if (lower_name == "ceiling") return "ceil";
  if (lower_name == "pow") return "power";
  if (lower_name == "current_timestamp") return "now";
  if (lower_name == "char_length" || lower_name == "character_length") return "length";
  return lower_name;
}

// "unknown function 'NAME'", with the nearest name SQL can call (a scalar function, an alias,
// an aggregate or window function) when one is close.
absl::Status UnknownFunction(const SourceText& source, const ParsedExpression& call) {
  const std::string& name = call.name_parts.back();
  std::vector<std::string> candidates;
  for (std::string& known : FunctionRegistry::Default().Names()) {
    // Operators (=, ||, ...) and the words AND, OR, NOT are no function calls.
    if (!IsAsciiAlpha(known[0]) || known == "and" || known == "or" || known == "not") continue;
    candidates.push_back(std::move(known));
  }
  for (const char* alias : {"substr", "ceiling", "pow", "char_length", "character_length"}) {
    candidates.emplace_back(alias);
  }
  for (std::string_view aggregate : kAggregateFunctions) candidates.emplace_back(aggregate);
  std::string message = StrCat("unknown function '", AsciiToUpper(name), "'");
  if (auto nearest = NearestName(name, candidates)) {
    StrAppend(&message, "; did you mean '", AsciiToUpper(*nearest), "'?");
  }
  return source.Error(call.position, message);
}

// Registry name of a binary SQL operator.
std::string OperatorFunction(const std::string& op) {
  if (op == "AND") return "and";
  if (op == "OR") return "or";
  return op;
}

// One input of a join as the query sees it: the names it is known by, and its columns in the
// joined row ([begin, end) of the join's schema).
struct InputSide {
  std::vector<std::string> qualifiers;
  size_t begin = 0;
  size_t end = 0;
};

class ExpressionBinder {
 public:
  ExpressionBinder(const SourceText& source, const Schema& schema, std::vector<std::string> qualifiers)
      : source_(source), schema_(schema), qualifiers_(std::move(qualifiers)) {}

  // Flink's dialect: a number literal with a point ("0.908") is the exact DECIMAL it spells
  // (DECIMAL(3, 3)), not a DOUBLE.
  void SetExactDecimalLiterals(bool exact) { exact_decimal_literals_ = exact; }

  // The input is a join of these sides: a qualified column is looked up in its side's
  // columns, an unqualified one in every side, and a name two sides have is ambiguous.
  void SetSides(std::vector<InputSide> sides) { sides_ = std::move(sides); }

  // `conjuncts` bound and joined by AND; each must be a BOOLEAN condition (`clause` names
  // where it was written, for the error).
  absl::StatusOr<BoundExpressionPtr> BindConjunction(const std::vector<const ParsedExpression*>& conjuncts,
                                                     const char* clause) {
    BoundExpressionPtr all;
    for (const ParsedExpression* conjunct : conjuncts) {
      SLUICE_ASSIGN_OR_RETURN(auto bound, Bind(*conjunct));
      if (bound->type != TypeId::kBoolean && bound->type != TypeId::kNull) {
        return source_.Error(conjunct->position,
                             StrCat(clause, " must be a BOOLEAN condition, found ", TypeName(bound->type)));
      }
      if (all == nullptr) {
        all = std::move(bound);
        continue;
      }
      std::vector<BoundExpressionPtr> both;
      both.push_back(std::move(all));
      both.push_back(std::move(bound));
      SLUICE_ASSIGN_OR_RETURN(all, Call("and", "AND", std::move(both), conjunct->position));
    }
    return all;
  }

  // `operand` converted to `type` (an error at `position` when no cast exists).
  absl::StatusOr<BoundExpressionPtr> CastTo(BoundExpressionPtr operand, TypeId type, SourcePosition position) {
    return Cast(std::move(operand), type, position);
  }

  // The input column `e` (a column reference) names, resolved as BindColumn does.
  absl::StatusOr<size_t> ResolveColumn(const ParsedExpression& e) const {
    const std::string& name = e.name_parts.back();
    if (e.name_parts.size() > 2) {
      return source_.Error(e.position, StrCat("too many qualifiers in '", StrJoin(e.name_parts, "."), "'"));
    }
    if (e.name_parts.size() == 2) {
      bool known = false;
      for (const auto& qualifier : qualifiers_) known = known || EqualsIgnoreCase(qualifier, e.name_parts[0]);
      if (!known) {
        return source_.Error(e.position, StrCat("unknown source or alias '", e.name_parts[0],
                                                "' (this query reads ", StrJoin(qualifiers_, " / "), ")"));
      }
    }
    std::optional<size_t> index;
    if (sides_.empty()) {
      index = schema_.Find(name);
    } else {
      std::vector<std::string> holders;
      for (const InputSide& side : sides_) {
        if (e.name_parts.size() == 2) {
          bool named = false;
          for (const auto& qualifier : side.qualifiers) named = named || EqualsIgnoreCase(qualifier, e.name_parts[0]);
          if (!named) continue;
        }
        for (size_t i = side.begin; i < side.end; ++i) {
          if (!EqualsIgnoreCase(schema_.field(i).name, name)) continue;
          if (!index) index = i;
          holders.push_back(side.qualifiers.back());
          break;
        }
      }
      if (holders.size() > 1) {
        return source_.Error(e.position, StrCat("ambiguous column '", name, "': ", StrJoin(holders, " and "),
                                                " both have it; qualify it (", holders[0], ".", name, ")"));
      }
    }
    if (!index) {
      std::vector<std::string> names;
      for (const auto& field : schema_.fields()) names.push_back(field.name);
      std::string message = StrCat("unknown column '", name, "'");
      if (auto nearest = NearestName(name, names)) {
        StrAppend(&message, "; did you mean '", *nearest, "'?");
      } else {
        StrAppend(&message, "; the input has: ", schema_.ToString());
      }
      return source_.Error(e.position, message);
    }
    return *index;
  }

  // Called first for every node; a non-null result replaces normal binding of that node.
  // The aggregate binder uses it to turn aggregate calls and GROUP BY expressions into
  // references to the aggregate's output columns.
  using Interceptor = std::function<absl::StatusOr<BoundExpressionPtr>(const ParsedExpression&)>;
  void SetInterceptor(Interceptor interceptor) { interceptor_ = std::move(interceptor); }

  absl::StatusOr<BoundExpressionPtr> Bind(const ParsedExpression& e) {
    if (interceptor_) {
      SLUICE_ASSIGN_OR_RETURN(BoundExpressionPtr replaced, interceptor_(e));
      if (replaced != nullptr) return replaced;
    }
    switch (e.kind) {
      case ExpressionKind::kColumn: return BindColumn(e);
      case ExpressionKind::kLiteral:
        if (exact_decimal_literals_ && !e.decimal_literal_text.empty()) return DecimalLiteral(e);
        return MakeConstant(e.literal);
      case ExpressionKind::kInterval: return MakeConstant(Value::Int64(e.interval_millis));
      case ExpressionKind::kStar:
        return source_.Error(e.position, "'*' is only allowed in the select list or COUNT(*)");
      case ExpressionKind::kUnary: {
        SLUICE_ASSIGN_OR_RETURN(auto operand, Bind(*e.children[0]));
        if (e.op == "+") {
          // The identity, on numbers only.
          if (!IsNumeric(operand->type) && operand->type != TypeId::kNull) {
            return source_.Error(e.position, StrCat("unary + cannot be applied to ", TypeName(operand->type),
                                                    " (a number only)"));
          }
          return operand;
        }
        std::vector<BoundExpressionPtr> arguments;
        arguments.push_back(std::move(operand));
        return Call(e.op == "NOT" ? "not" : "negate", e.op, std::move(arguments), e.position);
      }
      case ExpressionKind::kBinary: {
        SLUICE_ASSIGN_OR_RETURN(auto left, Bind(*e.children[0]));
        SLUICE_ASSIGN_OR_RETURN(auto right, Bind(*e.children[1]));
        CoerceStringConstantToTimestamp(left, right);
        std::vector<BoundExpressionPtr> arguments;
        arguments.push_back(std::move(left));
        arguments.push_back(std::move(right));
        return Call(OperatorFunction(e.op), e.op, std::move(arguments), e.position);
      }
      case ExpressionKind::kFunction: return BindFunction(e);
      case ExpressionKind::kCase: return BindCase(e);
      case ExpressionKind::kCast: {
        SLUICE_ASSIGN_OR_RETURN(auto operand, Bind(*e.children[0]));
        return Cast(std::move(operand), e.cast_type, e.position);
      }
      case ExpressionKind::kBetween: {
        // x BETWEEN a AND b  ==  x >= a AND x <= b
        SLUICE_ASSIGN_OR_RETURN(auto low, Compare(*e.children[0], *e.children[1], ">=", e.position));
        SLUICE_ASSIGN_OR_RETURN(auto high, Compare(*e.children[0], *e.children[2], "<=", e.position));
        std::vector<BoundExpressionPtr> both;
        both.push_back(std::move(low));
        both.push_back(std::move(high));
        SLUICE_ASSIGN_OR_RETURN(auto between, Call("and", "BETWEEN", std::move(both), e.position));
        return e.negated ? Not(std::move(between), e.position) : std::move(between);
      }
      case ExpressionKind::kIn: {
        // x IN (a, b)  ==  x = a OR x = b  (the same three-valued result)
        std::vector<BoundExpressionPtr> equals;
        for (size_t i = 1; i < e.children.size(); ++i) {
          SLUICE_ASSIGN_OR_RETURN(auto equal,
                                  Compare(*e.children[0], *e.children[i], "=", e.children[i]->position));
          equals.push_back(std::move(equal));
        }
        SLUICE_ASSIGN_OR_RETURN(auto any, AnyOf(equals, 0, equals.size(), e.position));
        return e.negated ? Not(std::move(any), e.position) : std::move(any);
      }
      case ExpressionKind::kIsNull: {
        SLUICE_ASSIGN_OR_RETURN(auto operand, Bind(*e.children[0]));
        std::vector<BoundExpressionPtr> arguments;
        arguments.push_back(std::move(operand));
        return Call(e.negated ? "is_not_null" : "is_null", e.negated ? "IS NOT NULL" : "IS NULL",
                    std::move(arguments), e.position);
      }
      case ExpressionKind::kLike: {
        SLUICE_ASSIGN_OR_RETURN(auto value, Bind(*e.children[0]));
        SLUICE_ASSIGN_OR_RETURN(auto pattern, Bind(*e.children[1]));
        std::vector<BoundExpressionPtr> arguments;
        arguments.push_back(std::move(value));
        arguments.push_back(std::move(pattern));
        return Call(e.negated ? "not_like" : "like", "LIKE", std::move(arguments), e.position);
      }
      case ExpressionKind::kExtract: {
        static constexpr std::string_view kFields[] = {"year", "quarter", "month",  "day",
                                                       "hour", "minute",  "second", "millisecond",
                                                       "dow",  "doy",     "epoch"};
        bool known = false;
        for (std::string_view field : kFields) known = known || e.extract_field == field;
        if (!known) {
          return source_.Error(e.position, StrCat("unknown EXTRACT field '", e.extract_field,
                                                  "' (expected YEAR, QUARTER, MONTH, DAY, HOUR, MINUTE, "
                                                  "SECOND, MILLISECOND, DOW, DOY or EPOCH)"));
        }
        SLUICE_ASSIGN_OR_RETURN(auto operand, Bind(*e.children[0]));
        std::vector<BoundExpressionPtr> arguments;
        arguments.push_back(std::move(operand));
        return Call(StrCat("extract_", e.extract_field), "EXTRACT", std::move(arguments), e.position);
      }
      case ExpressionKind::kSubquery: return source_.NotSupported(e.position, "subqueries in expressions");
    }
    return source_.Error(e.position, "unsupported expression");
  }

 private:
  absl::StatusOr<BoundExpressionPtr> BindColumn(const ParsedExpression& e) {
    SLUICE_ASSIGN_OR_RETURN(const size_t index, ResolveColumn(e));
    const Field& field = schema_.field(index);
    return MakeColumnReference(index, field.type, field.name);
  }

  absl::StatusOr<BoundExpressionPtr> BindFunction(const ParsedExpression& e) {
    const std::string name = AsciiToLower(e.name_parts.back());
    if (e.over != nullptr) {
      return source_.Error(
          e.over->position,
          StrCat(AsciiToUpper(name), "(...) OVER (...) is only allowed in the select list, not nested"));
    }
    if (FindAggregate(name, e.distinct, e.star_argument)) {
      return source_.Error(
          e.position, StrCat("aggregate function ", AsciiToUpper(name),
                             " is not allowed here (only in the select list and HAVING, and not nested)"));
    }
    if (IsAggregateFunction(name)) {
      return source_.Error(e.position, StrCat(AsciiToUpper(name), " needs an OVER (...) clause or a window"));
    }
    if (e.star_argument) {
      return source_.Error(e.position, StrCat(AsciiToUpper(name), "(*) is not a valid call"));
    }
    if (e.filter != nullptr) {
      return source_.Error(
          e.filter->position,
          StrCat("FILTER (WHERE ...) is only valid on an aggregate function, not ", AsciiToUpper(name)));
    }
    if (e.distinct) {
      return source_.Error(e.position,
                           StrCat("DISTINCT is only valid inside an aggregate, not ", AsciiToUpper(name)));
    }
    const std::string function = RegistryName(name);
    // Before the arguments: over an aggregate's output, their errors ("column 'x' must appear
    // in GROUP BY") would hide that the function itself is unknown.
    if (!FunctionRegistry::Default().Contains(function)) return UnknownFunction(source_, e);
    std::vector<BoundExpressionPtr> arguments;
    for (const auto& child : e.children) {
      SLUICE_ASSIGN_OR_RETURN(auto argument, Bind(*child));
      arguments.push_back(std::move(argument));
    }
    std::vector<SourcePosition> argument_positions;
    for (const auto& child : e.children) argument_positions.push_back(child->position);
    return Call(function, AsciiToUpper(name), std::move(arguments), e.position, argument_positions);
  }

  absl::StatusOr<BoundExpressionPtr> BindCase(const ParsedExpression& e) {
    std::vector<BoundExpressionPtr> children;
    size_t i = 0;
    const ParsedExpression* operand = e.case_has_operand ? e.children[i++].get() : nullptr;
    const size_t pairs_end = e.children.size() - (e.case_has_else ? 1 : 0);
    std::vector<size_t> result_indexes;
    for (; i < pairs_end; i += 2) {
      BoundExpressionPtr condition;
      if (operand != nullptr) {
        SLUICE_ASSIGN_OR_RETURN(condition, Compare(*operand, *e.children[i], "=", e.children[i]->position));
      } else {
        SLUICE_ASSIGN_OR_RETURN(condition, Bind(*e.children[i]));
        if (condition->type != TypeId::kBoolean && condition->type != TypeId::kNull) {
          return source_.Error(e.children[i]->position,
                               StrCat("WHEN condition must be BOOLEAN, found ", TypeName(condition->type)));
        }
      }
      SLUICE_ASSIGN_OR_RETURN(auto result, Bind(*e.children[i + 1]));
      children.push_back(std::move(condition));
      result_indexes.push_back(children.size());
      children.push_back(std::move(result));
    }
    if (e.case_has_else) {
      SLUICE_ASSIGN_OR_RETURN(auto otherwise, Bind(*e.children.back()));
      children.push_back(std::move(otherwise));
    } else {
      children.push_back(MakeConstant(Value::Null()));
    }
    result_indexes.push_back(children.size() - 1);
    TypeId type = TypeId::kNull;
    for (size_t index : result_indexes) {
      const auto common = CommonType(type, children[index]->type);
      if (!common) {
        return source_.Error(e.position, StrCat("CASE branches have incompatible types ", TypeName(type),
                                                " and ", TypeName(children[index]->type)));
      }
      type = *common;
    }
    for (size_t index : result_indexes) {
      SLUICE_ASSIGN_OR_RETURN(children[index], Cast(std::move(children[index]), type, e.position));
    }
    auto node = std::make_unique<BoundExpression>();
    node->kind = BoundExpressionKind::kCase;
    node->type = type;
    node->children = std::move(children);
    return node;
  }

  absl::StatusOr<BoundExpressionPtr> Compare(const ParsedExpression& left, const ParsedExpression& right,
                                             const std::string& op, SourcePosition position) {
    SLUICE_ASSIGN_OR_RETURN(auto l, Bind(left));
    SLUICE_ASSIGN_OR_RETURN(auto r, Bind(right));
    CoerceStringConstantToTimestamp(l, r);
    std::vector<BoundExpressionPtr> arguments;
    arguments.push_back(std::move(l));
    arguments.push_back(std::move(r));
    return Call(op, op, std::move(arguments), position);
  }

  // The OR of terms[begin, end) (begin < end) as a balanced tree: an IN list of n items binds to
  // an expression of height log2(n), not n, which keeps the executor's recursion shallow.
  absl::StatusOr<BoundExpressionPtr> AnyOf(std::vector<BoundExpressionPtr>& terms, size_t begin, size_t end,
                                           SourcePosition position) {
    if (end - begin == 1) return std::move(terms[begin]);
    const size_t middle = begin + (end - begin) / 2;
    SLUICE_ASSIGN_OR_RETURN(auto low, AnyOf(terms, begin, middle, position));
    SLUICE_ASSIGN_OR_RETURN(auto high, AnyOf(terms, middle, end, position));
    std::vector<BoundExpressionPtr> either;
    either.push_back(std::move(low));
    either.push_back(std::move(high));
    return Call("or", "IN", std::move(either), position);
  }

  absl::StatusOr<BoundExpressionPtr> Not(BoundExpressionPtr operand, SourcePosition position) {
    std::vector<BoundExpressionPtr> arguments;
    arguments.push_back(std::move(operand));
    return Call("not", "NOT", std::move(arguments), position);
  }

  // "0.908" as DECIMAL(3, 3): the scale is the digits after the point, the precision the
  // significant digits (at least the scale).
  absl::StatusOr<BoundExpressionPtr> DecimalLiteral(const ParsedExpression& e) const {
    const std::string& text = e.decimal_literal_text;
    const size_t point = text.find('.');
    const int scale = point == std::string::npos ? 0 : static_cast<int>(text.size() - point - 1);
    int significant = 0;
    for (char c : text) {
      if (c >= '1' && c <= '9')
        significant = significant > 0 ? significant + 1 : 1;
      else if (c == '0' && significant > 0)
        ++significant;
    }
    // Leading zeros of the fraction do not count above, but the scale covers them.
    const int precision = std::max({significant, scale, 1});
    if (precision > kMaxDecimalPrecision) {
      return source_.Error(e.position, StrCat("the number ", text, " has ", precision,
                                              " digits; a DECIMAL holds at most ", kMaxDecimalPrecision));
    }
    const TypeId type = DecimalType(precision, scale);
    const std::optional<Int128> unscaled = ParseDecimal(text, precision, scale);
    if (!unscaled) return source_.Error(e.position, StrCat("invalid number ", text));
    return MakeConstant(Value::Decimal(*unscaled, type));
  }

  // `ts > '2024-01-01'`: a string literal compared with a timestamp is a timestamp literal.
  static void CoerceStringConstantToTimestamp(BoundExpressionPtr& left, BoundExpressionPtr& right) {
    auto coerce = [](const BoundExpressionPtr& other, BoundExpressionPtr& constant) {
      if (other->type != TypeId::kTimestamp || constant->kind != BoundExpressionKind::kConstant ||
          constant->type != TypeId::kString || constant->constant.is_null()) {
        return;
      }
      if (auto millis = ParseTimestamp(constant->constant.str()))
        constant = MakeConstant(Value::Timestamp(*millis));
    };
    coerce(left, right);
    coerce(right, left);
  }

  absl::StatusOr<BoundExpressionPtr> Cast(BoundExpressionPtr operand, TypeId type, SourcePosition position) {
    if (operand->type == type) return operand;
    ScalarKernel kernel = GetCastKernel(operand->type, type);
    if (kernel == nullptr) {
      return source_.Error(position, StrCat("cannot cast ", TypeName(operand->type), " to ", TypeName(type)));
    }
    return FoldConstants(MakeCast(std::move(operand), type, kernel));
  }

  absl::StatusOr<BoundExpressionPtr> Call(const std::string& function, const std::string& display,
                                          std::vector<BoundExpressionPtr> arguments, SourcePosition position,
                                          std::span<const SourcePosition> argument_positions = {}) {
    std::vector<TypeId> types;
    for (const auto& argument : arguments) types.push_back(argument->type);
    auto resolved = FunctionRegistry::Default().Resolve(function, types);
    if (!resolved.ok()) {
      if (absl::IsNotFound(resolved.status()))
        return source_.Error(position, std::string(resolved.status().message()));
      std::vector<std::string> names;
      for (TypeId type : types) names.emplace_back(TypeName(type));
      const bool is_operator = !function.empty() && !IsAsciiAlpha(function[0]);
      if (is_operator || function == "and" || function == "or" || function == "not") {
        return source_.Error(
            position, StrCat("type mismatch: cannot apply ", display, " to ", StrJoin(names, " and ")));
      }
      return source_.Error(position, StrCat("type mismatch: ", resolved.status().message()));
    }
    for (size_t i = 0; i < arguments.size(); ++i) {
      SLUICE_ASSIGN_OR_RETURN(arguments[i],
                              Cast(std::move(arguments[i]), resolved->argument_types[i], position));
    }
    // A constant pattern or unit is checked now, at its position, rather than yield NULLs.
    if (const auto check = resolved->signature->check_constant_argument; check != nullptr) {
      for (size_t i = 0; i < arguments.size(); ++i) {
        if (arguments[i]->kind != BoundExpressionKind::kConstant || arguments[i]->constant.is_null())
          continue;
        if (auto problem = check(i, arguments[i]->constant)) {
          return source_.Error(i < argument_positions.size() ? argument_positions[i] : position, *problem);
        }
      }
    }
    auto node = std::make_unique<BoundExpression>();
    node->kind = BoundExpressionKind::kCall;
    node->type = resolved->return_type;
    node->function = resolved->signature;
    node->name = is_operator_display(function) ? function : AsciiToUpper(function);
    node->children = std::move(arguments);
    // NOW() and UNIX_TIMESTAMP() read the clock: never fold them.
    if (node->children.empty()) return node;
    return FoldConstants(std::move(node));
  }

  // A call or cast whose arguments are all constants is evaluated once, here.
  static BoundExpressionPtr FoldConstants(BoundExpressionPtr node) {
    for (const auto& child : node->children) {
      if (child->kind != BoundExpressionKind::kConstant) return node;
    }
    Batch one_row;
    one_row.SetNumRows(1);
    ExpressionExecutor executor(*node);
    const std::shared_ptr<Column> result = executor.Evaluate(one_row);
    Value value = result->GetValue(0);
    if (value.is_null()) value = Value::Null(node->type);
    auto folded = MakeConstant(std::move(value));
    folded->type = node->type;
    return folded;
  }

  static bool is_operator_display(const std::string& function) {
    return !function.empty() && !IsAsciiAlpha(function[0]);
  }

  const SourceText& source_;
  const Schema& schema_;
  std::vector<std::string> qualifiers_;
  std::vector<InputSide> sides_;
  Interceptor interceptor_;
  bool exact_decimal_literals_ = false;
};

// agg(x) FILTER (WHERE condition) aggregates CASE WHEN condition THEN x END: the aggregates
// that take it skip NULLs, so a row the condition rejects (FALSE or NULL) counts for nothing.
// COUNT(*) becomes COUNT(CASE WHEN condition THEN 1 END). FIRST_VALUE and LAST_VALUE keep NULLs,
// so the rewrite would change them: refused.
template <typename InputBinder>
absl::Status ApplyAggregateFilterTo(const SourceText& source, const ParsedExpression& filter,
                                    InputBinder& input_binder, AggregateCall& call) {
  if (call.kind == AggregateKind::kFirstValue || call.kind == AggregateKind::kLastValue) {
    return source.NotSupported(filter.position, StrCat("FILTER (WHERE ...) on ", AggregateName(call.kind)));
  }
  SLUICE_ASSIGN_OR_RETURN(auto condition, input_binder.Bind(filter));
  if (condition->type != TypeId::kBoolean && condition->type != TypeId::kNull) {
    return source.Error(filter.position, StrCat("FILTER (WHERE ...) needs a BOOLEAN condition, found ",
                                                TypeName(condition->type)));
  }
  if (call.kind == AggregateKind::kCountStar) {
    call.kind = AggregateKind::kCount;
    call.argument = MakeConstant(Value::Int64(1));
  }
  const TypeId type = call.argument->type;
  auto otherwise = MakeConstant(Value::Null(type));
  otherwise->type = type;
  auto node = std::make_unique<BoundExpression>();
  node->kind = BoundExpressionKind::kCase;
  node->type = type;
  node->children.push_back(std::move(condition));
  node->children.push_back(std::move(call.argument));
  node->children.push_back(std::move(otherwise));
  call.argument = std::move(node);
  return absl::OkStatus();
}

bool ContainsAggregate(const ParsedExpression& e) {
  if (e.kind == ExpressionKind::kFunction && e.over == nullptr &&
      FindAggregate(e.name_parts.back(), e.distinct, e.star_argument)) {
    return true;
  }
  for (const auto& child : e.children) {
    if (ContainsAggregate(*child)) return true;
  }
  return false;
}

bool ContainsOver(const ParsedExpression& e) {
  if (e.kind == ExpressionKind::kFunction && e.over != nullptr) return true;
  for (const auto& child : e.children) {
    if (ContainsOver(*child)) return true;
  }
  return false;
}

void CollectOverCalls(const ParsedExpression& e, std::vector<const ParsedExpression*>& calls) {
  if (e.kind == ExpressionKind::kFunction && e.over != nullptr) {
    calls.push_back(&e);
    return;
  }
  for (const auto& child : e.children) CollectOverCalls(*child, calls);
}

// Text that identifies an OVER clause's window (all calls of a query must share one).
std::string OverKey(const OverClause& over) {
  std::string key =
      StrCat("buffer=", over.buffer_rows.value_or(-1), ";preceding=", over.preceding_rows.value_or(-1),
             ";unbounded=", over.unbounded_preceding ? 1 : 0,
             ";expire=", over.expire_after_millis.value_or(-1), ";partition=");
  for (const auto& p : over.partition_by) StrAppend(&key, p->ToString(), ",");
  key += ";order=";
  for (const auto& o : over.order_by) StrAppend(&key, o->ToString(), ",");
  return key;
}

// Marker column indexes for the window bounds until the aggregate count is known.
constexpr size_t kWindowStartMarker = SIZE_MAX - 1;
constexpr size_t kWindowEndMarker = SIZE_MAX - 2;

void ResolveWindowMarkers(BoundExpression& e, size_t window_start_index) {
  if (e.kind == BoundExpressionKind::kColumn) {
    if (e.column_index == kWindowStartMarker) e.column_index = window_start_index;
    if (e.column_index == kWindowEndMarker) e.column_index = window_start_index + 1;
  }
  for (auto& child : e.children) ResolveWindowMarkers(*child, window_start_index);
}

// Whether a plan aggregates (GROUP BY or a window) anywhere in its chain.
bool Aggregates(const LogicalOperator& plan) {
  for (const LogicalOperator* node = &plan; node != nullptr; node = node->input.get()) {
    if (node->kind == LogicalOperatorKind::kAggregate) return true;
  }
  return false;
}

// Binds one job: sources first (on demand, as FROM clauses name them), then each statement.
class JobBinder {
 public:
  JobBinder(BoundJob& job, bool read_files)
      : job_(job), source_(job.parsed.source), read_files_(read_files) {}

  // Binds every statement, reporting errors to `errors`: every bad property, then each
  // statement's first error. A statement that reads the stream of a statement that failed is
  // skipped (its errors would only follow from the first). The job is complete when `errors`
  // stays empty.
  void Run(SqlErrorList& errors) {
    std::vector<std::string> names;
    for (const auto& statement : job_.parsed.statements) {
      if (!statement.name.empty()) names.push_back(statement.name);
      CollectQueryNames(*statement.select, names);
    }
    // A source or sink declared with '<name>.type' is a known scope even if nothing reads it.
    for (const auto& [key, value] : job_.properties.all()) {
      if (EndsWith(key, ".type")) names.push_back(key.substr(0, key.size() - 5));
    }
    job_.properties.Validate(source_, names, errors);
    if (const PropertyValue* limit = job_.properties.Find("state.max.bytes")) {
      job_.state_max_bytes = ParseByteSize(limit->value);
      if (!job_.state_max_bytes) {
        errors.Add(source_.Error(limit->value_position,
                                 StrCat("invalid size '", limit->value,
                                        "' for 'state.max.bytes' (a number of bytes, optionally with a unit: "
                                        "512MB, 2GiB)")));
      }
    }
    if (const PropertyValue* dir = job_.properties.Find("checkpoint.dir")) {
      job_.checkpoint_dir = dir->value;
      if (dir->value.empty()) {
        errors.Add(source_.Error(dir->value_position, "'checkpoint.dir' needs a directory"));
      }
    }
    if (const PropertyValue* interval = job_.properties.Find("checkpoint.interval")) {
      const std::optional<int64_t> millis = ParseDurationText(interval->value);
      if (!millis || *millis <= 0) {
        errors.Add(source_.Error(interval->value_position,
                                 StrCat("invalid duration '", interval->value,
                                        "' for 'checkpoint.interval' (a positive duration: 500ms, 10s, 1m)")));
      } else {
        job_.checkpoint_interval_millis = *millis;
      }
    }
    if (const PropertyValue* retained = job_.properties.Find("checkpoint.retained")) {
      const std::optional<int64_t> count = ParseInt64(retained->value);
      if (!count || *count < 1 || *count > 1000) {
        errors.Add(source_.Error(retained->value_position,
                                 StrCat("invalid count '", retained->value,
                                        "' for 'checkpoint.retained' (a whole number from 1 to 1000)")));
      } else {
        job_.checkpoint_retained = static_cast<int>(*count);
      }
    }
    // The restart strategy: 'none' (the default) or 'fixed-delay', whose attempts and delay
    // are refused under 'none' (they would be ignored).
    const PropertyValue* strategy = job_.properties.Find("restart.strategy");
    const bool fixed_delay = strategy != nullptr && EqualsIgnoreCase(strategy->value, "fixed-delay");
    if (strategy != nullptr && !fixed_delay && !EqualsIgnoreCase(strategy->value, "none")) {
      errors.Add(
          source_.Error(strategy->value_position, StrCat("unknown restart strategy '", strategy->value,
                                                         "' for 'restart.strategy' (none, fixed-delay)")));
    }
    if (fixed_delay) job_.restart_attempts = 3;
    for (const char* key : {"restart.attempts", "restart.delay"}) {
      const PropertyValue* value = job_.properties.Find(key);
      if (value != nullptr && !fixed_delay) {
        errors.Add(source_.Error(value->key_position,
                                 StrCat("'", key, "' needs 'restart.strategy' = 'fixed-delay'")));
      }
    }
    if (const PropertyValue* attempts = job_.properties.Find("restart.attempts");
        attempts != nullptr && fixed_delay) {
      const std::optional<int64_t> count = ParseInt64(attempts->value);
      if (!count || *count < 1 || *count > 1000000) {
        errors.Add(source_.Error(attempts->value_position,
                                 StrCat("invalid count '", attempts->value,
                                        "' for 'restart.attempts' (a whole number from 1 to 1000000)")));
      } else {
        job_.restart_attempts = static_cast<int>(*count);
      }
    }
    if (const PropertyValue* delay = job_.properties.Find("restart.delay"); delay != nullptr && fixed_delay) {
      const std::optional<int64_t> millis = ParseDurationText(delay->value);
      if (!millis || *millis < 0) {
        errors.Add(source_.Error(delay->value_position,
                                 StrCat("invalid duration '", delay->value,
                                        "' for 'restart.delay' (a duration: 0s, 500ms, 10s, 1m)")));
      } else {
        job_.restart_delay_millis = *millis;
      }
    }
    BindStateBackendProperties(errors);
    // Every name the job uses: hidden streams (derived tables, WITH queries) avoid them all.
    taken_.insert(names.begin(), names.end());
    int anonymous = 0;
    for (const auto& statement : job_.parsed.statements) {
      if (statement.name.empty()) taken_.insert(StrCat("select_", ++anonymous));
    }
    const std::vector<std::string> uids = StatementUids(errors);
    std::vector<std::string> created;  // the streams of the statements so far, bound or not
    std::vector<std::string> failed;   // those of the statements that failed
    anonymous = 0;
    for (auto& statement : job_.parsed.statements) {
      if (errors.full()) return;
      BoundStatement bound;
      bound.position = statement.position;
      bound.name = statement.name.empty() ? StrCat("select_", ++anonymous) : statement.name;
      bound.uid = uids[static_cast<size_t>(&statement - job_.parsed.statements.data())];
      const bool created_twice = std::find(created.begin(), created.end(), bound.name) != created.end();
      created.push_back(bound.name);
      absl::Status status;
      std::vector<LoweredQuery> lowered;
      if (created_twice && statement.kind == Statement::Kind::kInsert) {
        status = source_.NotSupported(
            statement.name_position,
            StrCat("a second INSERT INTO '", bound.name, "' (write one INSERT of the queries' UNION ALL)"));
      } else if (created_twice) {
        status = source_.Error(statement.name_position, StrCat("stream '", bound.name, "' is created twice"));
      } else if (statement.kind == Statement::Kind::kInsert &&
                 FindTableDefinition(job_.parsed, statement.name) == nullptr) {
        status = source_.Error(statement.name_position,
                               StrCat("INSERT INTO '", statement.name, "': no CREATE TABLE ", statement.name,
                                      " (columns...) WITH ('connector' = ...) declares the table"));
      } else {
        status = FindTopNPatterns(source_, *statement.select, top_n_patterns_);
        if (status.ok()) status = LowerDerivedTables(source_, *statement.select, bound.name, taken_, lowered);
      }
      std::vector<std::string> inputs;
      CollectTableNames(statement.select->from.get(), inputs);
      for (const auto& query : lowered) CollectTableNames(query.select->from.get(), inputs);
      const bool reads_failed = std::any_of(inputs.begin(), inputs.end(), [&](const std::string& input) {
        return std::find(failed.begin(), failed.end(), input) != failed.end();
      });
      if (status.ok() && !reads_failed) {
        // The derived tables and WITH queries first, each a statement whose stream the next
        // ones read; they have no sink.
        for (auto& query : lowered) {
          BoundStatement hidden;
          hidden.name = query.name;
          hidden.position = query.position;
          hidden.lowered_from = query.description;
          status = BindSelect(*query.select, hidden);
          if (!status.ok()) break;
          job_.statements.push_back(std::move(hidden));
        }
      }
      if (status.ok() && !reads_failed) {
        status = BindSelect(*statement.select, bound);
        if (status.ok() && statement.kind == Statement::Kind::kCreateTable && !Aggregates(*bound.plan)) {
          // A table is keyed: over a GROUP BY its stream is the table's changes (the rows CREATE
          // STREAM gives); a table of other rows would need an upsert key, which comes later.
          status =
              source_.NotSupported(statement.position,
                                   "CREATE TABLE over a query without GROUP BY or a window (a table needs a "
                                   "key; write CREATE STREAM)");
        }
        if (status.ok() && statement.kind == Statement::Kind::kInsert)
          status = BindInsertTarget(statement, bound);
        if (status.ok()) status = BindSink(statement, bound);
      }
      if (!status.ok()) errors.Add(std::move(status));
      if (!status.ok() || reads_failed) {
        failed.push_back(bound.name);
        continue;
      }
      job_.statements.push_back(std::move(bound));
    }
    if (!errors.empty()) return;
    std::map<std::string, const Statement*> views;
    for (const Statement& statement : job_.parsed.statements) {
      if (statement.kind == Statement::Kind::kCreateView) views[statement.name] = &statement;
    }
    // A stream that no later statement reads and that has no sink goes to stdout.
    for (size_t i = 0; i < job_.statements.size(); ++i) {
      auto& statement = job_.statements[i];
      if (statement.sink) continue;
      bool read_later = false;
      for (size_t j = i + 1; j < job_.statements.size(); ++j) {
        read_later = read_later ||
                     (job_.statements[j].input_is_stream && job_.statements[j].input_name == statement.name) ||
                     job_.statements[j].second_input_name == statement.name;
      }
      if (!read_later && views.count(statement.name) != 0) {
        const Statement& view = *views.at(statement.name);
        errors.Add(
            source_.Error(view.name_position,
                          StrCat("view '", statement.name,
                                 "' is read by no statement (a Flink job runs its INSERTs; drop the view or "
                                 "INSERT INTO a table from it)")));
        continue;
      }
      if (!read_later) {
        statement.sink.emplace();
        statement.sink->name = statement.name;
        statement.sink->type = "stdout_sink";  // JSON Lines (SinkDefinition's defaults)
      }
    }
    if (!errors.empty()) return;
    InferChangelogModes(job_, source_, errors);
    for (auto& statement : job_.statements) {
      if (statement.plan != nullptr) RefuseWideDecimals(statement, *statement.plan, errors);
    }
    if (rocksdb_) {
      for (auto& statement : job_.statements) {
        if (statement.plan != nullptr) PlaceStateInRocksDb(statement, *statement.plan, errors);
      }
    }
  }

 private:
  // The names a FROM clause reads, also in its derived tables and WITH queries (there, the
  // names of WITH queries too, before lowering replaces them).
  static void CollectTableNames(const TableReference* table, std::vector<std::string>& names) {
    if (table == nullptr) return;
    if (table->kind == TableReference::Kind::kNamed) names.push_back(table->name);
    if (table->subquery != nullptr) CollectQueryNames(*table->subquery, names);
    CollectTableNames(table->left.get(), names);
    CollectTableNames(table->right.get(), names);
  }
  static void CollectQueryNames(const SelectStatement& select, std::vector<std::string>& names) {
    for (const auto& cte : select.with) {
      if (cte.query != nullptr) CollectQueryNames(*cte.query, names);
    }
    CollectTableNames(select.from.get(), names);
    for (const auto& branch : select.union_all) CollectQueryNames(*branch, names);
  }

  absl::Status RejectUnsupported(const SelectStatement& select) {
    if (!select.order_by.empty())
      return source_.NotSupported(select.order_by_position, "ORDER BY on a stream");
    return absl::OkStatus();
  }

  // The `-- @uid: <id>` of each statement (empty without one): an annotation names the first
  // statement after it. Refused at the annotation: an empty id, an id with a character other
  // than letters, digits, '_', '-' and '.', an id another statement has, a second uid for a
  // statement, and a uid after the last statement.
  std::vector<std::string> StatementUids(SqlErrorList& errors) {
    const auto& statements = job_.parsed.statements;
    std::vector<std::string> uids(statements.size());
    const auto before = [](SourcePosition a, SourcePosition b) {
      return a.line < b.line || (a.line == b.line && a.column < b.column);
    };
    for (const Annotation& annotation : job_.parsed.annotations) {
      if (annotation.name != "uid") continue;
      const std::string& id = annotation.value;
      const bool valid = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
        return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '_' || c == '-' || c == '.';
      });
      if (!valid) {
        errors.Add(source_.Error(annotation.position,
                                 StrCat("invalid operator id '", id,
                                        "' in -- @uid: (letters, digits, '_', '-' and '.'; not empty)")));
        continue;
      }
      auto next = std::find_if(statements.begin(), statements.end(), [&](const Statement& statement) {
        return before(annotation.position, statement.position);
      });
      if (next == statements.end()) {
        errors.Add(source_.Error(annotation.position, "-- @uid: is followed by no statement"));
        continue;
      }
      std::string& uid = uids[static_cast<size_t>(next - statements.begin())];
      if (!uid.empty()) {
        errors.Add(source_.Error(annotation.position,
                                 StrCat("a second -- @uid: for one statement (it has '", uid, "')")));
        continue;
      }
      if (std::find(uids.begin(), uids.end(), id) != uids.end()) {
        errors.Add(
            source_.Error(annotation.position, StrCat("operator id '", id, "' is given to two statements")));
        continue;
      }
      uid = id;
    }
    // A uid another statement is named, that statement having no uid: both ids would start so.
    for (size_t i = 0; i < statements.size(); ++i) {
      if (uids[i].empty()) continue;
      for (size_t j = 0; j < statements.size(); ++j) {
        if (j == i || !uids[j].empty() || statements[j].name != uids[i]) continue;
        errors.Add(source_.Error(statements[i].position,
                                 StrCat("operator id '", uids[i], "' (-- @uid:) is the name of statement '",
                                        statements[j].name, "', whose operators' ids start with it")));
        uids[i].clear();
        break;
      }
    }
    return uids;
  }

  absl::Status BindSelect(const SelectStatement& select, BoundStatement& bound) {
    if (!select.union_inputs.empty()) return BindUnion(select, bound);
    SLUICE_RETURN_IF_ERROR(RejectUnsupported(select));
    const TableReference& table = *select.from;
    std::unique_ptr<LogicalOperator> plan;
    std::vector<std::string> qualifiers;
    sides_.clear();
    // The WHERE conditions still to apply after the input (a join takes some of them).
    std::vector<const ParsedExpression*> where;
    if (select.where) SplitConjuncts(*select.where, where);
    if (table.kind == TableReference::Kind::kJoin) {
      SLUICE_RETURN_IF_ERROR(BindJoin(select, bound, plan, qualifiers, where));
    } else {
      if (table.system_time != nullptr) return SystemTimeOutsideLookup(table);
      auto scan = std::make_unique<LogicalOperator>();
      scan->kind = LogicalOperatorKind::kScan;
      scan->scan_name = table.name;
      if (const BoundStatement* stream = FindStream(table.name)) {
        scan->schema = stream->output_schema;
        scan->scan_is_stream = true;
      } else {
        SLUICE_ASSIGN_OR_RETURN(const SourceDefinition* definition, DefineSource(table));
        scan->schema = definition->schema;
      }
      bound.input_name = table.name;
      bound.input_is_stream = scan->scan_is_stream;
      // A derived table or WITH query is known by its alias alone, not by its hidden name.
      if (!table.lowered) qualifiers.push_back(table.name);
      if (!table.alias.empty()) qualifiers.push_back(table.alias);
      plan = std::move(scan);
    }
    const Schema input_schema = plan->schema;
    std::unique_ptr<ExpressionBinder> input_binder = MakeInputBinder(input_schema, qualifiers);
    ExpressionBinder& binder = *input_binder;

    if (!where.empty()) {
      // The whole WHERE when a join took none of it (its errors point at it as a whole).
      const bool whole = select.where != nullptr && table.kind != TableReference::Kind::kJoin;
      BoundExpressionPtr predicate;
      if (whole) {
        SLUICE_ASSIGN_OR_RETURN(predicate, binder.BindConjunction({select.where.get()}, "WHERE"));
      } else {
        SLUICE_ASSIGN_OR_RETURN(predicate, binder.BindConjunction(where, "WHERE"));
      }
      auto filter = std::make_unique<LogicalOperator>();
      filter->kind = LogicalOperatorKind::kFilter;
      filter->schema = input_schema;
      filter->predicate = std::move(predicate);
      filter->input = std::move(plan);
      plan = std::move(filter);
    }

    bool is_aggregate = !select.group_by.empty() || select.window.has_value() || select.having != nullptr;
    bool is_rows_window = false;
    for (const auto& item : select.items) {
      is_aggregate = is_aggregate || ContainsAggregate(*item.expression);
      is_rows_window = is_rows_window || ContainsOver(*item.expression);
    }
    // SELECT DISTINCT: a GROUP BY over every selected column (each `*` expanded), with no
    // aggregate; the select list then reads the keys.
    std::vector<const ParsedExpression*> group_by;
    for (const auto& key : select.group_by) group_by.push_back(key.get());
    std::vector<ParsedExpressionPtr> star_columns;  // the columns of each `*`, in select-list order
    if (select.distinct) {
      if (is_aggregate || is_rows_window) {
        return source_.NotSupported(
            select.distinct_position,
            "SELECT DISTINCT with GROUP BY, a window, aggregates or OVER (...) (select "
            "DISTINCT from it as a derived table: SELECT DISTINCT ... FROM (...) AS t)");
      }
      for (const auto& item : select.items) {
        const ParsedExpression& e = *item.expression;
        if (e.kind != ExpressionKind::kStar) {
          group_by.push_back(&e);
          continue;
        }
        for (const Field& field : input_schema.fields()) {
          if (field.is_system) continue;
          auto column = std::make_unique<ParsedExpression>();
          column->kind = ExpressionKind::kColumn;
          column->position = e.position;
          column->name_parts = {field.name};
          group_by.push_back(column.get());
          star_columns.push_back(std::move(column));
        }
      }
      is_aggregate = true;
    }
    const auto top_n = top_n_patterns_.find(&select);
    const TopNPattern* top_n_pattern = top_n != top_n_patterns_.end() ? &top_n->second : nullptr;
    if (top_n_pattern != nullptr) {
      SLUICE_RETURN_IF_ERROR(BindTopNSelect(select, *top_n_pattern, input_schema, binder, qualifiers, plan));
    } else if (is_rows_window) {
      SLUICE_RETURN_IF_ERROR(BindRowsWindowSelect(select, input_schema, binder, qualifiers, plan));
    } else if (is_aggregate) {
      SLUICE_RETURN_IF_ERROR(BindAggregateSelect(select, group_by, input_schema, binder, qualifiers, plan));
    } else if (select.emit == EmitMode::kFinal) {
      return source_.Error(select.emit_position, "EMIT FINAL needs GROUP BY, an aggregate or a WINDOW");
    }
    const Schema& project_input = plan->schema;

    auto project = std::make_unique<LogicalOperator>();
    project->kind = LogicalOperatorKind::kProject;
    std::set<std::string> seen;
    auto add_column = [&](BoundExpressionPtr expression, std::string name,
                          SourcePosition position) -> absl::Status {
      if (!seen.insert(AsciiToLower(name)).second) {
        return source_.Error(
            position, StrCat("duplicate output column '", name, "'; give one a different name with AS"));
      }
      project->schema.Add(Field{name, expression->type, false});
      project->projections.push_back(std::move(expression));
      return absl::OkStatus();
    };
    // The input columns [first, second) a `*` or `t.*` stands for; an error for an unknown t.
    auto star_columns_of = [&](const ParsedExpression& e) -> absl::StatusOr<std::pair<size_t, size_t>> {
      if (e.name_parts.empty()) return std::make_pair(size_t{0}, input_schema.size());
      for (const InputSide& side : sides_) {
        for (const auto& qualifier : side.qualifiers) {
          if (EqualsIgnoreCase(qualifier, e.name_parts[0])) return std::make_pair(side.begin, side.end);
        }
      }
      for (const auto& qualifier : qualifiers) {
        if (sides_.empty() && EqualsIgnoreCase(qualifier, e.name_parts[0]))
          return std::make_pair(size_t{0}, input_schema.size());
      }
      return source_.Error(e.position, StrCat("unknown source or alias '", e.name_parts[0], "'"));
    };
    size_t star_column = 0;  // the next of star_columns (SELECT DISTINCT *)
    for (const auto& item : select.items) {
      const ParsedExpression& e = *item.expression;
      // A Top-N's rank column that no reader reads is not computed (TopNSpec::emit_rank).
      if (top_n_pattern != nullptr && !top_n_pattern->emit_rank &&
          &item == &select.items[top_n_pattern->rank_item]) {
        continue;
      }
      if (e.kind == ExpressionKind::kStar && select.distinct) {
        // Checked like any `*` (its qualifier), then the keys it stands for, in order.
        SLUICE_RETURN_IF_ERROR(star_columns_of(e).status());
        // Every `*` stands for all the input's columns (star_columns holds them once per `*`).
        for (const Field& field : input_schema.fields()) {
          if (field.is_system) continue;
          const ParsedExpression& column = *star_columns[star_column++];
          SLUICE_ASSIGN_OR_RETURN(auto expression, aggregate_binder_->Bind(column));
          SLUICE_RETURN_IF_ERROR(add_column(std::move(expression), column.name_parts[0], item.position));
        }
        continue;
      }
      if (e.kind == ExpressionKind::kStar) {
        if (is_aggregate && !is_rows_window) {
          return source_.Error(e.position,
                               "SELECT * cannot be used with GROUP BY or aggregates; list the columns");
        }
        SLUICE_ASSIGN_OR_RETURN(const auto range, star_columns_of(e));
        for (size_t i = range.first; i < range.second; ++i) {
          const Field& field = input_schema.field(i);
          if (field.is_system) continue;
          // Over a join, a name both inputs have is numbered in the second: k, k0 (as Flink).
          std::string name = field.name;
          for (int n = 0; !sides_.empty() && seen.count(AsciiToLower(name)) != 0; ++n) name = StrCat(field.name, n);
          SLUICE_RETURN_IF_ERROR(add_column(MakeColumnReference(i, field.type, field.name), name, item.position));
        }
        continue;
      }
      const bool rebinds = is_aggregate || is_rows_window;
      SLUICE_ASSIGN_OR_RETURN(auto expression, rebinds ? aggregate_binder_->Bind(e) : binder.Bind(e));
      if (is_aggregate && !is_rows_window) ResolveWindowMarkers(*expression, project_input.size() - 2);
      std::string name = item.alias;
      if (name.empty()) name = e.kind == ExpressionKind::kColumn ? e.name_parts.back() : e.ToString();
      if (expression->type == TypeId::kNull) expression->type = TypeId::kString;  // SELECT NULL
      SLUICE_RETURN_IF_ERROR(add_column(std::move(expression), name, item.position));
    }
    project->input = std::move(plan);
    plan = std::move(project);
    bound.output_schema = plan->schema;

    if (select.limit) {
      auto limit = std::make_unique<LogicalOperator>();
      limit->kind = LogicalOperatorKind::kLimit;
      limit->schema = plan->schema;
      limit->limit = *select.limit;
      limit->input = std::move(plan);
      plan = std::move(limit);
    }
    bound.plan = std::move(plan);
    bound.time_attributes = TimeAttributesOf(*bound.plan);
    MarkUsedJoinColumns(*bound.plan);
    return absl::OkStatus();
  }

  static void MarkColumns(const BoundExpression* expression, std::vector<bool>& used) {
    if (expression == nullptr) return;
    if (expression->kind == BoundExpressionKind::kColumn && expression->column_index < used.size()) {
      used[expression->column_index] = true;
    }
    for (const auto& child : expression->children) MarkColumns(child.get(), used);
  }

  // A join's JoinDefinition::used_columns: what the nodes reading its output (filters, then the
  // first other node) and its residual read.
  static void MarkUsedJoinColumns(LogicalOperator& top) {
    std::vector<LogicalOperator*> chain;
    for (LogicalOperator* node = &top; node != nullptr; node = node->input.get()) chain.push_back(node);
    LogicalOperator* join = chain.back()->kind == LogicalOperatorKind::kScan && chain.size() >= 2
                                ? chain[chain.size() - 2]
                                : nullptr;
    if (join == nullptr || join->kind != LogicalOperatorKind::kJoin) return;
    // Sized for both inputs: a semi-join's output is the left's columns, its residual reads both.
    std::vector<bool> used(join->input->schema.size() + join->right_input->schema.size(), false);
    MarkColumns(join->join->residual.get(), used);
    for (size_t i = chain.size() - 2; i-- > 0;) {
      const LogicalOperator& node = *chain[i];
      switch (node.kind) {
        case LogicalOperatorKind::kFilter: MarkColumns(node.predicate.get(), used); break;
        case LogicalOperatorKind::kProject:
          for (const auto& projection : node.projections) MarkColumns(projection.get(), used);
          break;
        case LogicalOperatorKind::kAggregate:
          for (const auto& key : node.aggregate->keys) MarkColumns(key.get(), used);
          for (const auto& call : node.aggregate->aggregates) MarkColumns(call.argument.get(), used);
          if (node.aggregate->window) MarkColumns(node.aggregate->window->time.get(), used);
          MarkColumns(node.aggregate->ttl_time.get(), used);
          break;
        default: used.assign(used.size(), true); break;
      }
      if (node.kind != LogicalOperatorKind::kFilter) break;
    }
    join->join->used_columns = std::move(used);
  }

  // The time attributes of `plan`'s output (see TimeAttribute).
  std::vector<TimeAttribute> TimeAttributesOf(const LogicalOperator& node) const {
    if (node.kind == LogicalOperatorKind::kScan) {
      if (const BoundStatement* stream = node.scan_is_stream ? FindStream(node.scan_name) : nullptr) {
        return stream->time_attributes;
      }
      const SourceDefinition* source = node.scan_is_stream ? nullptr : job_.FindSource(node.scan_name);
      return source != nullptr ? SourceTimeAttributes(*source) : std::vector<TimeAttribute>{};
    }
    if (node.kind == LogicalOperatorKind::kFilter || node.kind == LogicalOperatorKind::kLimit ||
        node.kind == LogicalOperatorKind::kLookupJoin) {
      return TimeAttributesOf(*node.input);  // a lookup join keeps its stream's columns first
    }
    if (node.kind == LogicalOperatorKind::kUnion) {
      // A column that keeps time in both inputs, with the larger lag.
      std::vector<TimeAttribute> united;
      const std::vector<TimeAttribute> right = TimeAttributesOf(*node.right_input);
      for (const TimeAttribute& attribute : TimeAttributesOf(*node.input)) {
        for (const TimeAttribute& other : right) {
          if (other.column == attribute.column) united.push_back({attribute.column, std::max(attribute.lag, other.lag)});
        }
      }
      return united;
    }
    std::vector<TimeAttribute> attributes;
    if (node.kind == LogicalOperatorKind::kProject) {
      const std::vector<TimeAttribute> input = TimeAttributesOf(*node.input);
      for (size_t p = 0; p < node.projections.size(); ++p) {
        const BoundExpression& projection = *node.projections[p];
        if (projection.kind != BoundExpressionKind::kColumn) continue;
        for (const TimeAttribute& attribute : input) {
          if (attribute.column == projection.column_index) attributes.push_back({p, attribute.lag});
        }
      }
    } else if (node.kind == LogicalOperatorKind::kAggregate) {
      // A window's rows arrive when it closes (EMIT FINAL, no lateness): its bounds keep time.
      const AggregateDefinition& aggregate = *node.aggregate;
      if (aggregate.window && aggregate.window->kind != WindowKind::kSession &&
          aggregate.emit == EmitMode::kFinal && aggregate.allowed_lateness_millis == 0) {
        const size_t start = aggregate.keys.size() + aggregate.aggregates.size();
        attributes.push_back({start, aggregate.window->size_millis - 1});
        attributes.push_back({start + 1, 0});
      }
    }
    return attributes;
  }

  // A projection of every column of `schema`, as it is (system columns stay system columns).
  static std::unique_ptr<LogicalOperator> ProjectAllColumns(const Schema& schema) {
    auto project = std::make_unique<LogicalOperator>();
    project->kind = LogicalOperatorKind::kProject;
    for (size_t i = 0; i < schema.size(); ++i) {
      const Field& field = schema.field(i);
      project->schema.Add(field);
      project->projections.push_back(MakeColumnReference(i, field.type, field.name));
    }
    return project;
  }

  // A binder over the statement's input (a join's: with its sides, so that a qualified name
  // finds its own input's column).
  std::unique_ptr<ExpressionBinder> MakeInputBinder(const Schema& input_schema,
                                                    const std::vector<std::string>& qualifiers) const {
    auto binder = std::make_unique<ExpressionBinder>(source_, input_schema, qualifiers);
    binder->SetExactDecimalLiterals(job_.parsed.dialect == Dialect::kFlink);
    binder->SetSides(sides_);
    return binder;
  }

  static void SplitConjuncts(const ParsedExpression& e, std::vector<const ParsedExpression*>& conjuncts) {
    if (e.kind == ExpressionKind::kBinary && e.op == "AND") {
      SplitConjuncts(*e.children[0], conjuncts);
      SplitConjuncts(*e.children[1], conjuncts);
      return;
    }
    conjuncts.push_back(&e);
  }

  // One input of a join as bound: the stream it reads (a source is read through a hidden
  // statement of its own, which keeps every column and takes the filters pushed down to it).
  struct JoinInput {
    const TableReference* table = nullptr;
    std::string stream;
    Schema schema;
    std::vector<std::string> qualifiers;
    std::vector<TimeAttribute> time_attributes;
    std::optional<BoundStatement> hidden;  // reads a source
  };

  // `base`, or `base$2`, `base$3`, ...: the first name the job does not use.
  std::string UniqueName(const std::string& base) {
    std::string name = base;
    for (int suffix = 2; taken_.count(name) != 0; ++suffix) name = StrCat(base, "$", suffix);
    taken_.insert(name);
    return name;
  }

  absl::StatusOr<JoinInput> BindJoinInput(const TableReference& table, const BoundStatement& join) {
    if (table.kind == TableReference::Kind::kJoin) {
      return source_.NotSupported(table.position,
                                  "a join of more than two inputs (join two of them in a WITH query, then join "
                                  "its result with the third)");
    }
    JoinInput input;
    input.table = &table;
    // An input with an alias is known by the alias alone (a self-join names both sides apart).
    input.qualifiers.push_back(table.alias.empty() ? table.name : table.alias);
    if (const BoundStatement* stream = FindStream(table.name)) {
      input.stream = stream->name;
      input.schema = stream->output_schema;
      input.time_attributes = stream->time_attributes;
      return input;
    }
    SLUICE_ASSIGN_OR_RETURN(const SourceDefinition* definition, DefineSource(table));
    // The source through a statement of its own that keeps every column, system ones too.
    BoundStatement hidden;
    hidden.name = UniqueName(StrCat(join.name, "$", table.alias.empty() ? table.name : table.alias));
    hidden.position = table.position;
    hidden.lowered_from = StrCat("input '", input.qualifiers.back(), "' of the join in ", join.name);
    hidden.input_name = definition->name;
    auto scan = std::make_unique<LogicalOperator>();
    scan->kind = LogicalOperatorKind::kScan;
    scan->scan_name = definition->name;
    scan->schema = definition->schema;
    std::unique_ptr<LogicalOperator> project = ProjectAllColumns(definition->schema);
    project->input = std::move(scan);
    hidden.output_schema = project->schema;
    hidden.plan = std::move(project);
    hidden.time_attributes = SourceTimeAttributes(*definition);
    input.stream = hidden.name;
    input.schema = hidden.output_schema;
    input.time_attributes = hidden.time_attributes;
    input.hidden = std::move(hidden);
    return input;
  }

  // A time attribute of a join input plus a constant: `column`, `column + INTERVAL`, ...
  struct TimeTerm {
    size_t column = 0;  // in the joined row
    int64_t offset = 0;
  };

  std::optional<TimeTerm> ParseTimeTerm(const ParsedExpression& e, const ExpressionBinder& joined) const {
    if (e.kind == ExpressionKind::kColumn) {
      auto column = joined.ResolveColumn(e);
      if (!column.ok()) return std::nullopt;
      return TimeTerm{*column, 0};
    }
    if (e.kind == ExpressionKind::kBinary && (e.op == "+" || e.op == "-") &&
        e.children[1]->kind == ExpressionKind::kInterval) {
      std::optional<TimeTerm> term = ParseTimeTerm(*e.children[0], joined);
      if (!term) return std::nullopt;
      term->offset += e.op == "+" ? e.children[1]->interval_millis : -e.children[1]->interval_millis;
      return term;
    }
    return std::nullopt;
  }

  // Which inputs the columns of `e` come from: bit 0 the left, bit 1 the right.
  absl::StatusOr<int> InputsOf(const ParsedExpression& e, const ExpressionBinder& joined, size_t left_size) const {
    if (e.kind == ExpressionKind::kColumn) {
      SLUICE_ASSIGN_OR_RETURN(const size_t column, joined.ResolveColumn(e));
      return column < left_size ? 1 : 2;
    }
    int inputs = 0;
    for (const auto& child : e.children) {
      SLUICE_ASSIGN_OR_RETURN(const int of_child, InputsOf(*child, joined, left_size));
      inputs |= of_child;
    }
    return inputs;
  }

  // Binds FROM a JOIN b ON ... (and, for an inner join, the conditions of WHERE) into a Join
  // node over the two inputs' streams. Equalities between the inputs become the join's keys;
  // comparisons of the two inputs' time attributes that bound them from both sides, its time
  // bound; the rest of the conditions on both inputs, its residual. An inner join's conditions
  // on one input are applied before the join (pushed into the input's hidden statement when it
  // reads a source), an outer join's become part of the residual. `where` keeps the WHERE
  // conditions left to apply after the join.
  absl::Status BindJoin(const SelectStatement& select, BoundStatement& bound, std::unique_ptr<LogicalOperator>& plan,
                        std::vector<std::string>& qualifiers, std::vector<const ParsedExpression*>& where) {
    const TableReference& table = *select.from;
    if (table.left->system_time != nullptr) return SystemTimeOutsideLookup(*table.left);
    if (table.right->system_time != nullptr || IsTable(*table.right)) {
      return BindLookupJoin(select, bound, plan, qualifiers, where);
    }
    SLUICE_ASSIGN_OR_RETURN(JoinInput left, BindJoinInput(*table.left, bound));
    SLUICE_ASSIGN_OR_RETURN(JoinInput right, BindJoinInput(*table.right, bound));
    for (const auto& name : left.qualifiers) {
      for (const auto& other : right.qualifiers) {
        if (EqualsIgnoreCase(name, other)) {
          return source_.Error(table.right->position,
                               StrCat("both inputs of the join are named '", name, "'; give one an alias"));
        }
      }
    }
    const size_t left_size = left.schema.size();
    Schema joined_schema;
    for (const Field& field : left.schema.fields()) joined_schema.Add(field);
    for (const Field& field : right.schema.fields()) joined_schema.Add(field);
    sides_ = {InputSide{left.qualifiers, 0, left_size}, InputSide{right.qualifiers, left_size, joined_schema.size()}};
    qualifiers = left.qualifiers;
    qualifiers.insert(qualifiers.end(), right.qualifiers.begin(), right.qualifiers.end());
    ExpressionBinder joined(source_, joined_schema, qualifiers);
    joined.SetExactDecimalLiterals(job_.parsed.dialect == Dialect::kFlink);
    joined.SetSides(sides_);
    ExpressionBinder left_binder(source_, left.schema, left.qualifiers);
    ExpressionBinder right_binder(source_, right.schema, right.qualifiers);

    auto definition = std::make_unique<JoinDefinition>();
    definition->type = table.join_type;
    const bool inner = table.join_type == JoinType::kInner;
    std::vector<const ParsedExpression*> conditions;
    if (table.join_condition) SplitConjuncts(*table.join_condition, conditions);
    if (inner) {
      // An inner join's WHERE is one with its ON: the join takes the conditions it can use.
      conditions.insert(conditions.end(), where.begin(), where.end());
      where.clear();
    }
    auto time_lag = [](const JoinInput& input, size_t column) -> std::optional<int64_t> {
      for (const TimeAttribute& attribute : input.time_attributes) {
        if (attribute.column == column) return attribute.lag;
      }
      return std::nullopt;
    };
    // The time bound: one pair of time attributes, bounded from below and above.
    std::optional<std::pair<size_t, size_t>> time_columns;  // left, right (each in its input)
    int64_t lower = INT64_MIN, upper = INT64_MAX;
    std::vector<const ParsedExpression*> bound_conditions;  // residual if no full bound forms
    std::vector<std::string> bound_texts;
    // Applies `x op y` to the time bound when x and y are time attributes of different inputs
    // (plus constants); false when it does not apply.
    auto take_comparison = [&](const ParsedExpression& x, std::string op, const ParsedExpression& y) -> bool {
      std::optional<TimeTerm> a = ParseTimeTerm(x, joined), b = ParseTimeTerm(y, joined);
      if (!a || !b || (a->column < left_size) == (b->column < left_size)) return false;
      if (a->column >= left_size) {
        std::swap(a, b);
        op = op == ">=" ? "<=" : op == "<=" ? ">=" : op == ">" ? "<" : op == "<" ? ">" : op;
      }
      const size_t left_column = a->column, right_column = b->column - left_size;
      if (!time_lag(left, left_column) || !time_lag(right, right_column)) return false;
      if (time_columns && *time_columns != std::make_pair(left_column, right_column)) return false;
      time_columns = std::make_pair(left_column, right_column);
      // left + a.offset  op  right + b.offset   <=>   left - right  op  b.offset - a.offset
      const int64_t c = b->offset - a->offset;
      if (op == ">=" || op == "=") lower = std::max(lower, c);
      if (op == ">") lower = std::max(lower, c + 1);
      if (op == "<=" || op == "=") upper = std::min(upper, c);
      if (op == "<") upper = std::min(upper, c - 1);
      return true;
    };
    if (table.within_millis) {
      // JOIN ... WITHIN d: the inputs' event times at most d apart.
      const auto left_time = left.schema.Find(kEventTimeColumn);
      const auto right_time = right.schema.Find(kEventTimeColumn);
      if (!left_time || !right_time || !time_lag(left, *left_time) || !time_lag(right, *right_time)) {
        return source_.Error(table.position,
                             "JOIN ... WITHIN needs the event time (_event_time) of both inputs; join sources, "
                             "or write the time bound in ON with each input's time column");
      }
      time_columns = std::make_pair(*left_time, *right_time);
      lower = -*table.within_millis;
      upper = *table.within_millis;
      bound_texts.push_back(StrCat("WITHIN ", *table.within_millis, " ms"));
    }
    std::vector<const ParsedExpression*> residual, left_only, right_only;
    for (const ParsedExpression* condition : conditions) {
      SLUICE_ASSIGN_OR_RETURN(const int inputs, InputsOf(*condition, joined, left_size));
      if (inputs == 1 || inputs == 2) {
        if (!inner) {
          residual.push_back(condition);
        } else {
          (inputs == 1 ? left_only : right_only).push_back(condition);
        }
        continue;
      }
      if (inputs == 0) {
        residual.push_back(condition);
        continue;
      }
      const ParsedExpression& e = *condition;
      if (e.kind == ExpressionKind::kBinary && e.op == "=") {
        SLUICE_ASSIGN_OR_RETURN(const int first, InputsOf(*e.children[0], joined, left_size));
        SLUICE_ASSIGN_OR_RETURN(const int second, InputsOf(*e.children[1], joined, left_size));
        if ((first == 1 && second == 2) || (first == 2 && second == 1)) {
          const ParsedExpression& on_left = first == 1 ? *e.children[0] : *e.children[1];
          const ParsedExpression& on_right = first == 1 ? *e.children[1] : *e.children[0];
          SLUICE_ASSIGN_OR_RETURN(auto left_key, left_binder.Bind(on_left));
          SLUICE_ASSIGN_OR_RETURN(auto right_key, right_binder.Bind(on_right));
          if (left_key->type != right_key->type) {
            const bool numeric = (left_key->type == TypeId::kInt64 || left_key->type == TypeId::kDouble) &&
                                 (right_key->type == TypeId::kInt64 || right_key->type == TypeId::kDouble);
            if (!numeric) {
              return source_.Error(e.position, StrCat("join keys of different types: ", on_left.ToString(), " is ",
                                                      TypeName(left_key->type), ", ", on_right.ToString(), " is ",
                                                      TypeName(right_key->type), "; CAST one of them"));
            }
            if (left_key->type == TypeId::kInt64) {
              SLUICE_ASSIGN_OR_RETURN(left_key, left_binder.CastTo(std::move(left_key), TypeId::kDouble, e.position));
            } else {
              SLUICE_ASSIGN_OR_RETURN(right_key,
                                      right_binder.CastTo(std::move(right_key), TypeId::kDouble, e.position));
            }
          }
          definition->left_keys.push_back(std::move(left_key));
          definition->right_keys.push_back(std::move(right_key));
          // Equal time attributes also bound the time (a window join: equal window starts).
          if (take_comparison(*e.children[0], "=", *e.children[1])) bound_texts.push_back(e.ToString());
          continue;
        }
      }
      bool taken = false;
      if (e.kind == ExpressionKind::kBinary && (e.op == ">=" || e.op == "<=" || e.op == ">" || e.op == "<")) {
        taken = take_comparison(*e.children[0], e.op, *e.children[1]);
      } else if (e.kind == ExpressionKind::kBetween && !e.negated) {
        // Both halves, or neither: a half taken alone would lose the other.
        const auto saved_columns = time_columns;
        const int64_t saved_lower = lower, saved_upper = upper;
        taken = take_comparison(*e.children[0], ">=", *e.children[1]) &&
                take_comparison(*e.children[0], "<=", *e.children[2]);
        if (!taken) {
          time_columns = saved_columns;
          lower = saved_lower;
          upper = saved_upper;
        }
      }
      if (taken) {
        bound_conditions.push_back(condition);
        bound_texts.push_back(e.ToString());
      } else {
        residual.push_back(condition);
      }
    }
    if (time_columns && lower != INT64_MIN && upper != INT64_MAX) {
      if (lower > upper) {
        return source_.Error(table.position, StrCat("the join's time bound is empty: ", StrJoin(bound_texts, " AND "),
                                                    " leaves no time difference"));
      }
      JoinTimeBound time_bound;
      const Field& left_field = left.schema.field(time_columns->first);
      const Field& right_field = right.schema.field(time_columns->second);
      time_bound.left_time = MakeColumnReference(time_columns->first, left_field.type, left_field.name);
      time_bound.right_time = MakeColumnReference(time_columns->second, right_field.type, right_field.name);
      time_bound.lower = lower;
      time_bound.upper = upper;
      time_bound.left_lag = *time_lag(left, time_columns->first);
      time_bound.right_lag = *time_lag(right, time_columns->second);
      time_bound.text = StrJoin(bound_texts, " AND ");
      definition->time_bound = std::move(time_bound);
    } else {
      // Not bounded from both sides: a regular join, whose residual checks these too.
      residual.insert(residual.end(), bound_conditions.begin(), bound_conditions.end());
      if (table.within_millis) SLUICE_CHECK(false);
    }
    // 'state.ttl' bounds a regular join's rows by their inputs' event time (a time bound
    // frees them sooner by itself).
    const PropertyValue* ttl = job_.properties.Find("state.ttl");
    if (ttl != nullptr && !definition->time_bound) {
      const auto millis = ParseDurationText(ttl->value);
      if (!millis) {
        return source_.Error(ttl->value_position, StrCat("invalid duration '", ttl->value, "' for 'state.ttl'"));
      }
      for (auto [input, slot] : {std::make_pair(&left, &definition->left_ttl_time),
                                 std::make_pair(&right, &definition->right_ttl_time)}) {
        // The input's event time: _event_time when it has it, else its first time attribute.
        const TimeAttribute* chosen = nullptr;
        for (const TimeAttribute& attribute : input->time_attributes) {
          if (chosen == nullptr || input->schema.field(attribute.column).name == kEventTimeColumn) chosen = &attribute;
        }
        if (chosen == nullptr) {
          return source_.Error(input->table->position,
                               StrCat("'state.ttl' on a join needs the event time of both inputs, and '",
                                      input->qualifiers.back(),
                                      "' has none (a source's, or a window's bounds, passed on by projections)"));
        }
        const Field& field = input->schema.field(chosen->column);
        *slot = MakeColumnReference(chosen->column, field.type, field.name);
      }
      definition->state_ttl_millis = *millis;
    }
    if (definition->left_keys.empty()) {
      return source_.NotSupported(
          table.position,
          "a join without an equality between its inputs (write ON a.key = b.key; a join on time or other "
          "conditions alone would compare every pair of rows)");
    }
    if (!residual.empty()) {
      SLUICE_ASSIGN_OR_RETURN(definition->residual, joined.BindConjunction(residual, "a join condition"));
    }
    // An inner join's conditions on one input: before the join, in the input's own statement
    // when it reads a source, else right after the join.
    for (auto [input, only, binder] : {std::make_tuple(&left, &left_only, &left_binder),
                                       std::make_tuple(&right, &right_only, &right_binder)}) {
      if (only->empty()) continue;
      if (!input->hidden) {
        where.insert(where.end(), only->begin(), only->end());
        continue;
      }
      SLUICE_ASSIGN_OR_RETURN(auto predicate, binder->BindConjunction(*only, "WHERE"));
      LogicalOperator& project = *input->hidden->plan;
      auto filter = std::make_unique<LogicalOperator>();
      filter->kind = LogicalOperatorKind::kFilter;
      filter->schema = project.input->schema;
      filter->predicate = std::move(predicate);
      filter->input = std::move(project.input);
      project.input = std::move(filter);
    }
    static constexpr const char* kJoinWords[] = {"JOIN",      "LEFT JOIN", "RIGHT JOIN",
                                                 "FULL JOIN", "SEMI JOIN", "ANTI JOIN"};
    definition->text = StrCat(left.qualifiers.back(), " ", kJoinWords[static_cast<int>(table.join_type)], " ",
                              right.qualifiers.back());

    auto join = std::make_unique<LogicalOperator>();
    join->kind = LogicalOperatorKind::kJoin;
    join->schema = joined_schema;
    if (table.join_type == JoinType::kSemi || table.join_type == JoinType::kAnti) {
      // IN / EXISTS: the query goes on with the left input's rows alone.
      join->schema = left.schema;
      sides_.resize(1);
      qualifiers = left.qualifiers;
    }
    for (auto [input, scan_slot] : {std::make_pair(&left, &join->input), std::make_pair(&right, &join->right_input)}) {
      auto scan = std::make_unique<LogicalOperator>();
      scan->kind = LogicalOperatorKind::kScan;
      scan->scan_name = input->stream;
      scan->scan_is_stream = true;
      scan->schema = input->schema;
      *scan_slot = std::move(scan);
    }
    join->join = std::move(definition);
    for (JoinInput* input : {&left, &right}) {
      if (input->hidden) job_.statements.push_back(std::move(*input->hidden));
    }
    bound.input_name = left.stream;
    bound.input_is_stream = true;
    bound.second_input_name = right.stream;
    plan = std::move(join);
    return absl::OkStatus();
  }

  // Whether `table` names a table: a source declared with '<name>.primary.key' (and no stream
  // of that name).
  bool IsTable(const TableReference& table) const {
    return table.kind == TableReference::Kind::kNamed && !table.lowered &&
           FindStream(table.name) == nullptr &&
           job_.properties.FindScoped(table.name, "primary.key") != nullptr;
  }

  absl::Status SystemTimeOutsideLookup(const TableReference& table) const {
    return source_.Error(table.system_time_position,
                         "FOR SYSTEM_TIME AS OF applies to the table of a lookup join, its right input: FROM "
                         "stream s JOIN t FOR SYSTEM_TIME AS OF s.time ON s.key = t.key");
  }

  // The table `table` names, bound through its connector: the columns of its primary key and
  // the source's event time, which versions it.
  absl::StatusOr<std::shared_ptr<LookupTableProvider>> DefineTable(const TableReference& table) {
    const std::string& name = table.name;
    // A table that several joins read is read once, and held once.
    if (auto defined = tables_.find(name); defined != tables_.end() && IsTable(table)) return defined->second;
    const PropertyValue* key = IsTable(table) ? job_.properties.FindScoped(name, "primary.key") : nullptr;
    const PropertyValue* type = job_.properties.FindScoped(name, "type");
    if (key == nullptr || type == nullptr) {
      const SourcePosition position =
          table.system_time != nullptr ? table.system_time_position : table.position;
      const std::string what = table.lowered ? StrCat("the derived table '", table.alias, "'")
                               : FindStream(name) != nullptr
                                   ? StrCat("stream '", name, "' of an earlier statement")
                                   : StrCat("'", name, "'");
      return source_.Error(position, StrCat("FOR SYSTEM_TIME AS OF needs a table, and ", what,
                                            " is not one: declare a file source with '<name>.primary.key' = "
                                            "'column, ...' to read it as a table"));
    }
    const ConnectorRegistry& registry = ConnectorRegistry::Default();
    const SourceConnector* connector = registry.FindSource(type->value);
    if (connector == nullptr) {
      return source_.Error(type->value_position, StrCat("invalid source type '", type->value, "' (expected ",
                                                        registry.SourceTypeList(), ")"));
    }
    if (!connector->make_lookup_table) {
      return source_.NotSupported(
          key->key_position, StrCat("a table from a ", type->value, " ('", name,
                                    ".primary.key'); a lookup join's table is a file_source for now (tables "
                                    "from compacted Kafka topics come later)"));
    }
    SourceDefinition definition;
    definition.name = name;
    definition.type = type->value;
    definition.position = table.position;
    const SourceBindContext context{job_.properties, source_, name, *type, read_files_};
    SLUICE_RETURN_IF_ERROR(connector->bind(context, definition));
    if (connector->single_thread_reason) {
      const std::string reason = connector->single_thread_reason(definition);
      if (!reason.empty()) {
        return source_.Error(type->key_position,
                             StrCat("table '", name, "' is read to its end at start, and ", reason,
                                    ": give it a regular file"));
      }
    }
    std::vector<size_t> key_columns;
    for (std::string_view piece : StrSplit(key->value, ',', /*skip_blank=*/false)) {
      const std::string column(StripWhitespace(piece));
      const auto index = definition.decoder.schema.Find(column);
      if (column.empty() || !index) {
        return source_.Error(key->value_position, StrCat("'", name, ".primary.key' names '", column,
                                                         "', which is not a column of table '", name, "' (",
                                                         definition.decoder.schema.ToString(), ")"));
      }
      if (std::find(key_columns.begin(), key_columns.end(), *index) != key_columns.end()) {
        return source_.Error(key->value_position,
                             StrCat("'", name, ".primary.key' names '", column, "' twice"));
      }
      key_columns.push_back(*index);
    }
    SLUICE_ASSIGN_OR_RETURN(std::optional<int64_t> reload,
                            BindPositiveDuration(job_.properties, source_, name, "reload.interval"));
    std::shared_ptr<LookupTableProvider> lookup =
        connector->make_lookup_table(std::move(definition), std::move(key_columns), reload);
    tables_[name] = lookup;
    return lookup;
  }

  // Binds FROM stream JOIN table [FOR SYSTEM_TIME AS OF x] ON ... (and, for an inner join, the
  // conditions of WHERE) into a LookupJoin node over the stream's scan. Every primary key
  // column of the table must be equated with an expression of the stream: those equalities
  // are the lookup's key; every other condition is the residual, checked on the row found.
  absl::Status BindLookupJoin(const SelectStatement& select, BoundStatement& bound,
                              std::unique_ptr<LogicalOperator>& plan, std::vector<std::string>& qualifiers,
                              std::vector<const ParsedExpression*>& where) {
    const TableReference& join = *select.from;
    const TableReference& stream = *join.left;
    const TableReference& table = *join.right;
    if (join.join_type != JoinType::kInner && join.join_type != JoinType::kLeft) {
      return source_.Error(
          join.position,
          StrCat("a ", join.join_type == JoinType::kRight ? "RIGHT" : "FULL", " JOIN of table '", table.name,
                 "': a lookup join keeps the stream's rows, so it is INNER or LEFT (a table's "
                 "rows are not a stream whose unmatched rows could be emitted)"));
    }
    if (join.within_millis) {
      return source_.Error(join.position,
                           StrCat("JOIN ... WITHIN bounds two streams' times, and '", table.name,
                                  "' is a table: write FOR SYSTEM_TIME AS OF to look it up "
                                  "as of a time"));
    }
    if (stream.kind == TableReference::Kind::kJoin) {
      return source_.NotSupported(
          stream.position,
          "a join of more than two inputs (join two of them in a WITH query, then join "
          "its result with the third)");
    }
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<LookupTableProvider> lookup, DefineTable(table));
    const SourceDefinition& table_definition = lookup->definition();

    // The stream: the statement's input, as the FROM of a query of one input is.
    auto scan = std::make_unique<LogicalOperator>();
    scan->kind = LogicalOperatorKind::kScan;
    scan->scan_name = stream.name;
    if (const BoundStatement* upstream = FindStream(stream.name)) {
      scan->schema = upstream->output_schema;
      scan->scan_is_stream = true;
    } else {
      SLUICE_ASSIGN_OR_RETURN(const SourceDefinition* definition, DefineSource(stream));
      scan->schema = definition->schema;
    }
    bound.input_name = stream.name;
    bound.input_is_stream = scan->scan_is_stream;
    // Each input is known by its alias when it has one (a derived table by its alias alone).
    const std::vector<std::string> stream_qualifiers = {stream.alias.empty() ? stream.name : stream.alias};
    const std::vector<std::string> table_qualifiers = {table.alias.empty() ? table.name : table.alias};
    if (EqualsIgnoreCase(stream_qualifiers[0], table_qualifiers[0])) {
      return source_.Error(table.position, StrCat("both inputs of the join are named '", table_qualifiers[0],
                                                  "'; give one an alias"));
    }
    const Schema stream_schema = scan->schema;
    const size_t stream_size = stream_schema.size();
    Schema joined_schema = stream_schema;
    for (size_t c = 0; c < lookup->output_columns(); ++c) joined_schema.Add(table_definition.schema.field(c));
    sides_ = {InputSide{stream_qualifiers, 0, stream_size},
              InputSide{table_qualifiers, stream_size, joined_schema.size()}};
    qualifiers = {stream_qualifiers[0], table_qualifiers[0]};
    ExpressionBinder joined(source_, joined_schema, qualifiers);
    joined.SetExactDecimalLiterals(job_.parsed.dialect == Dialect::kFlink);
    joined.SetSides(sides_);
    ExpressionBinder stream_binder(source_, stream_schema, stream_qualifiers);

    auto definition = std::make_unique<LookupJoinDefinition>();
    definition->type = join.join_type;
    definition->table = lookup;
    std::vector<const ParsedExpression*> conditions;
    if (join.join_condition) SplitConjuncts(*join.join_condition, conditions);
    if (join.join_type == JoinType::kInner) {
      // An inner join's WHERE is one with its ON (the comma form writes its keys there).
      conditions.insert(conditions.end(), where.begin(), where.end());
      where.clear();
    }
    const std::vector<size_t>& key_columns = lookup->key_columns();
    std::vector<BoundExpressionPtr> keys(key_columns.size());
    std::vector<const ParsedExpression*> residual;
    for (const ParsedExpression* condition : conditions) {
      const ParsedExpression& e = *condition;
      if (e.kind == ExpressionKind::kBinary && e.op == "=") {
        SLUICE_ASSIGN_OR_RETURN(const int first, InputsOf(*e.children[0], joined, stream_size));
        SLUICE_ASSIGN_OR_RETURN(const int second, InputsOf(*e.children[1], joined, stream_size));
        const ParsedExpression* on_stream = nullptr;
        const ParsedExpression* on_table = nullptr;
        if (first == 1 && second == 2) {
          on_stream = e.children[0].get();
          on_table = e.children[1].get();
        } else if (first == 2 && second == 1) {
          on_stream = e.children[1].get();
          on_table = e.children[0].get();
        }
        if (on_stream != nullptr && on_table->kind == ExpressionKind::kColumn) {
          SLUICE_ASSIGN_OR_RETURN(const size_t column, joined.ResolveColumn(*on_table));
          const auto k = std::find(key_columns.begin(), key_columns.end(), column - stream_size);
          const size_t slot = static_cast<size_t>(k - key_columns.begin());
          if (k != key_columns.end() && keys[slot] == nullptr) {
            const TypeId key_type = table_definition.schema.field(*k).type;
            SLUICE_ASSIGN_OR_RETURN(auto key, stream_binder.Bind(*on_stream));
            if (key->type != key_type) {
              // A BIGINT looks up a DOUBLE key as a DOUBLE (as a join of two streams compares
              // them); a NULL literal finds nothing, as whatever type.
              if (key->type != TypeId::kNull &&
                  !(key->type == TypeId::kInt64 && key_type == TypeId::kDouble)) {
                return source_.Error(e.position,
                                     StrCat("join keys of different types: ", on_stream->ToString(), " is ",
                                            TypeName(key->type), ", ", on_table->ToString(), " is ",
                                            TypeName(key_type), "; CAST one of them"));
              }
              SLUICE_ASSIGN_OR_RETURN(key, stream_binder.CastTo(std::move(key), key_type, e.position));
            }
            keys[slot] = std::move(key);
            continue;
          }
        }
      }
      residual.push_back(condition);
    }
    std::vector<std::string> missing;
    for (size_t k = 0; k < keys.size(); ++k) {
      if (keys[k] == nullptr) missing.push_back(table_definition.schema.field(key_columns[k]).name);
    }
    if (!missing.empty()) {
      return source_.Error(
          join.position,
          StrCat("a lookup join of table '", table.name,
                 "' needs an equality of each of its "
                 "primary key columns with the stream, and ",
                 StrJoin(missing, ", "), missing.size() == 1 ? " has" : " have", " none (write ON ",
                 stream_qualifiers[0], ".<column> = ", table_qualifiers[0], ".", missing[0], ")"));
    }
    definition->keys = std::move(keys);
    if (table.system_time != nullptr) {
      SLUICE_ASSIGN_OR_RETURN(definition->as_of, stream_binder.Bind(*table.system_time));
      // AS OF the stream's processing time (Flink's PROCTIME()): the table as it is when the row
      // is looked up, which is what an unversioned table holds.
      const bool processing_time = definition->as_of->kind == BoundExpressionKind::kColumn &&
                                   IsProcessingTimeColumn(*scan, definition->as_of->column_index);
      if (processing_time) definition->as_of = nullptr;
      if (!lookup->versioned() && !processing_time) {
        return source_.Error(
            table.system_time_position,
            StrCat("FOR SYSTEM_TIME AS OF needs a versioned table, and table '", table.name,
                   "' has one row per key: give it '", table.name,
                   ".event.time.field' (the column each row's version is valid from), or join it without "
                   "FOR SYSTEM_TIME AS OF"));
      }
      if (definition->as_of != nullptr && definition->as_of->type != TypeId::kTimestamp &&
          definition->as_of->type != TypeId::kInt64) {
        return source_.Error(
            table.system_time->position,
            StrCat("FOR SYSTEM_TIME AS OF needs a TIMESTAMP (or BIGINT epoch milliseconds) of "
                   "the stream, found ",
                   TypeName(definition->as_of->type)));
      }
    }
    if (!residual.empty()) {
      SLUICE_ASSIGN_OR_RETURN(definition->residual, joined.BindConjunction(residual, "a join condition"));
    }
    definition->text =
        StrCat(stream_qualifiers[0], join.join_type == JoinType::kLeft ? " LEFT JOIN " : " JOIN ",
               table_qualifiers[0],
               table.system_time != nullptr ? StrCat(" FOR SYSTEM_TIME AS OF ", table.system_time->ToString())
                                            : std::string());
    auto node = std::make_unique<LogicalOperator>();
    node->kind = LogicalOperatorKind::kLookupJoin;
    node->schema = joined_schema;
    node->input = std::move(scan);
    node->lookup_join = std::move(definition);
    plan = std::move(node);
    return absl::OkStatus();
  }

  // SELECT ... UNION ALL SELECT ...: its branches are hidden statements (union_inputs); a
  // Union node unites two streams, so n branches take n - 1 of them, each but the last a
  // hidden statement of its own. Branches must agree on the number and types of their columns;
  // the first one's names are the output's.
  absl::Status BindUnion(const SelectStatement& select, BoundStatement& bound) {
    std::string current = select.union_inputs[0];
    for (size_t i = 1; i < select.union_inputs.size(); ++i) {
      const BoundStatement* left = FindStream(current);
      const BoundStatement* right = FindStream(select.union_inputs[i]);
      if (left == nullptr || right == nullptr) return absl::InternalError("a UNION ALL branch is not bound");
      const SourcePosition position = select.union_positions[i - 1];
      const Schema& first = left->output_schema;
      const Schema& other = right->output_schema;
      if (first.size() != other.size()) {
        return source_.Error(position, StrCat("UNION ALL branch ", i + 1, " has ", other.size(),
                                              " columns, the branches before it ", first.size()));
      }
      for (size_t c = 0; c < first.size(); ++c) {
        if (first.field(c).type != other.field(c).type) {
          return source_.Error(position, StrCat("UNION ALL branch ", i + 1, "'s column ", c + 1, " '",
                                                other.field(c).name, "' is ", TypeName(other.field(c).type),
                                                ", the first branch's '", first.field(c).name, "' is ",
                                                TypeName(first.field(c).type), "; CAST one of them"));
        }
      }
      const bool last = i + 1 == select.union_inputs.size();
      BoundStatement hidden;
      BoundStatement& target = last ? bound : hidden;
      if (!last) {
        hidden.name = UniqueName(StrCat(bound.name, "$union"));
        hidden.position = position;
        hidden.lowered_from = StrCat("UNION ALL of the first ", i + 1, " branches in ", bound.name);
      }
      auto node = std::make_unique<LogicalOperator>();
      node->kind = LogicalOperatorKind::kUnion;
      node->schema = first;
      for (auto [name, schema, slot] : {std::make_tuple(static_cast<const std::string*>(&current), &first, &node->input),
                                        std::make_tuple(&select.union_inputs[i], &other, &node->right_input)}) {
        auto scan = std::make_unique<LogicalOperator>();
        scan->kind = LogicalOperatorKind::kScan;
        scan->scan_name = *name;
        scan->scan_is_stream = true;
        scan->schema = *schema;
        *slot = std::move(scan);
      }
      std::unique_ptr<LogicalOperator> project = ProjectAllColumns(first);
      project->input = std::move(node);
      target.input_name = current;
      target.input_is_stream = true;
      target.second_input_name = select.union_inputs[i];
      target.output_schema = project->schema;
      target.plan = std::move(project);
      target.time_attributes = TimeAttributesOf(*target.plan);
      if (!last) {
        current = hidden.name;
        job_.statements.push_back(std::move(hidden));
      }
    }
    return absl::OkStatus();
  }

  // A source's time attributes: _event_time, and the column it is read from when that is a
  // TIMESTAMP (the same values).
  static std::vector<TimeAttribute> SourceTimeAttributes(const SourceDefinition& definition) {
    std::vector<TimeAttribute> attributes;
    if (auto index = definition.schema.Find(kEventTimeColumn)) attributes.push_back({*index, 0});
    const int field = definition.decoder.event_time_field;
    if (definition.has_event_time && field >= 0 && static_cast<size_t>(field) < definition.schema.size() &&
        definition.schema.field(field).type == TypeId::kTimestamp) {
      attributes.push_back({static_cast<size_t>(field), 0});
    }
    return attributes;
  }

  // Binds GROUP BY, WINDOW, the aggregates of the select list and HAVING. Appends an Aggregate
  // (and a Filter for HAVING) to `plan` and leaves aggregate_binder_ ready to bind the select
  // list over the aggregate's output.
  absl::Status BindAggregateSelect(const SelectStatement& select,
                                   const std::vector<const ParsedExpression*>& group_by,
                                   const Schema& input_schema, ExpressionBinder& input_binder,
                                   const std::vector<std::string>& qualifiers,
                                   std::unique_ptr<LogicalOperator>& plan) {
    auto definition = std::make_unique<AggregateDefinition>();
    std::vector<std::string> key_texts;
    std::vector<std::string> key_names;
    for (const ParsedExpression* key : group_by) {
      if (ContainsAggregate(*key))
        return source_.Error(key->position, "GROUP BY cannot contain an aggregate");
      SLUICE_ASSIGN_OR_RETURN(auto bound_key, input_binder.Bind(*key));
      key_texts.push_back(key->ToString());
      key_names.push_back(key->kind == ExpressionKind::kColumn ? key->name_parts.back() : key->ToString());
      definition->keys.push_back(std::move(bound_key));
    }
    if (select.window) {
      WindowDefinition window;
      window.kind = select.window->kind;
      window.size_millis = select.window->size_millis;
      window.advance_millis = select.window->advance_millis;
      if (select.window->time_column) {
        SLUICE_ASSIGN_OR_RETURN(window.time, input_binder.Bind(*select.window->time_column));
      } else if (!sides_.empty()) {
        return source_.Error(select.window->position,
                             "over a join, name the window's time column: TUMBLING(a.time_column, size)");
      } else if (auto index = input_schema.Find(kEventTimeColumn)) {
        window.time = MakeColumnReference(*index, TypeId::kTimestamp, kEventTimeColumn);
      } else {
        return source_.Error(
            select.window->position,
            "this input has no _event_time; name the time column: TUMBLING(time_column, size)");
      }
      window.processing_time = window.time->kind == BoundExpressionKind::kColumn &&
                               IsProcessingTimeColumn(select.from->name, window.time->column_index);
      if (window.processing_time && window.kind == WindowKind::kSession) {
        return source_.NotSupported(select.window->position,
                                    "a SESSION window over processing time (PROCTIME())");
      }
      if (window.time->type != TypeId::kTimestamp && window.time->type != TypeId::kInt64) {
        return source_.Error(select.window->position, StrCat("the window time column must be a TIMESTAMP or "
                                                             "epoch milliseconds (BIGINT), found ",
                                                             TypeName(window.time->type)));
      }
      if (window.kind == WindowKind::kSliding && window.size_millis % window.advance_millis != 0) {
        return source_.Error(select.window->position,
                             "a SLIDING window's size must be a multiple of its advance");
      }
      definition->window = std::move(window);
    }
    definition->emit = select.emit != EmitMode::kDefault
                           ? select.emit
                           : (select.window ? EmitMode::kFinal : EmitMode::kChanges);
    definition->distinct_rows = select.distinct;
    SLUICE_RETURN_IF_ERROR(BindLateDataProperties(*definition));
    definition->input_out_of_orderness_millis = InputOutOfOrderness(select.from->name);
    if (definition->state_ttl_millis) {
      const auto index = input_schema.Find(kEventTimeColumn);
      if (!index) {
        return source_.Error(select.position,
                             "'state.ttl' needs an input with _event_time (a source, not a stream)");
      }
      definition->ttl_time = MakeColumnReference(*index, TypeId::kTimestamp, kEventTimeColumn);
    }

    // The aggregate's output: keys, then aggregates as they are found, then the window bounds.
    auto aggregate = std::make_unique<LogicalOperator>();
    aggregate->kind = LogicalOperatorKind::kAggregate;
    AggregateDefinition* raw = definition.get();
    const bool windowed = select.window.has_value();
    aggregate_binder_ = MakeInputBinder(input_schema, qualifiers);
    aggregate_binder_->SetInterceptor([this, raw, key_texts, key_names, windowed, &input_binder,
                                       &input_schema](
                                          const ParsedExpression& e) -> absl::StatusOr<BoundExpressionPtr> {
      const std::string text = e.ToString();
      for (size_t i = 0; i < key_texts.size(); ++i) {
        if (key_texts[i] == text) return MakeColumnReference(i, raw->keys[i]->type, key_names[i]);
      }
      if (e.kind == ExpressionKind::kFunction && e.over == nullptr) {
        const std::string name = AsciiToLower(e.name_parts.back());
        if (auto kind = FindAggregate(name, e.distinct, e.star_argument)) {
          for (size_t j = 0; j < raw->aggregates.size(); ++j) {
            if (raw->aggregates[j].text == text) {
              return FlinkTyped(
                  raw->aggregates[j],
                  MakeColumnReference(key_texts.size() + j, raw->aggregates[j].result_type, text));
            }
          }
          AggregateCall call;
          call.kind = *kind;
          call.text = text;
          call.position = e.position;
          TypeId argument_type = TypeId::kNull;
          if (*kind != AggregateKind::kCountStar) {
            if (e.children.size() != 1) {
              return source_.Error(e.position, StrCat(AsciiToUpper(name), " takes one argument"));
            }
            SLUICE_ASSIGN_OR_RETURN(call.argument, input_binder.Bind(*e.children[0]));
            // The variance family computes in DOUBLE (Welford's update), also over DECIMALs.
            const bool variance = *kind == AggregateKind::kVarSamp || *kind == AggregateKind::kVarPop ||
                                  *kind == AggregateKind::kStddevSamp || *kind == AggregateKind::kStddevPop;
            if (variance && IsDecimal(call.argument->type)) {
              SLUICE_ASSIGN_OR_RETURN(
                  call.argument, input_binder.CastTo(std::move(call.argument), TypeId::kDouble, e.position));
            }
            argument_type = call.argument->type;
          }
          if (e.filter != nullptr)
            SLUICE_RETURN_IF_ERROR(ApplyAggregateFilterTo(source_, *e.filter, input_binder, call));
          auto result_type = AggregateResultType(*kind, argument_type);
          if (!result_type.ok())
            return source_.Error(e.position, std::string(result_type.status().message()));
          call.result_type = *result_type;
          raw->aggregates.push_back(std::move(call));
          return FlinkTyped(
              raw->aggregates.back(),
              MakeColumnReference(key_texts.size() + raw->aggregates.size() - 1, *result_type, text));
        }
        const bool is_start = name == "tumble_start" || name == "hop_start" || name == "session_start";
        const bool is_end = name == "tumble_end" || name == "hop_end" || name == "session_end";
        if (is_start || is_end) {
          if (!windowed)
            return source_.Error(e.position, StrCat(AsciiToUpper(name), " needs a WINDOW clause"));
          return MakeColumnReference(is_start ? kWindowStartMarker : kWindowEndMarker, TypeId::kTimestamp,
                                     is_start ? kWindowStartColumn : kWindowEndColumn);
        }
      }
      if (e.kind == ExpressionKind::kColumn) {
        const std::string& name = e.name_parts.back();
        for (size_t i = 0; i < key_names.size(); ++i) {
          if (raw->keys[i]->kind == BoundExpressionKind::kColumn && EqualsIgnoreCase(key_names[i], name)) {
            return MakeColumnReference(i, raw->keys[i]->type, key_names[i]);
          }
        }
        const bool is_start = EqualsIgnoreCase(name, kWindowStartColumn);
        if (is_start || EqualsIgnoreCase(name, kWindowEndColumn)) {
          if (!windowed) return source_.Error(e.position, StrCat(name, " needs a WINDOW clause"));
          return MakeColumnReference(is_start ? kWindowStartMarker : kWindowEndMarker, TypeId::kTimestamp,
                                     is_start ? kWindowStartColumn : kWindowEndColumn);
        }
        if (input_schema.Find(name)) {
          return source_.Error(
              e.position,
              StrCat("column '", name, "' must appear in GROUP BY or be used in an aggregate function"));
        }
        return input_binder.Bind(e);  // unknown column: the usual error and suggestion
      }
      return BoundExpressionPtr();
    });

    // Bind HAVING now (it may add aggregates); the select list is bound by the caller, after
    // which the aggregate list is complete.
    BoundExpressionPtr having;
    if (select.having) {
      SLUICE_ASSIGN_OR_RETURN(having, aggregate_binder_->Bind(*select.having));
      if (having->type != TypeId::kBoolean && having->type != TypeId::kNull) {
        return source_.Error(select.having->position,
                             StrCat("HAVING must be a BOOLEAN condition, found ", TypeName(having->type)));
      }
    }
    // Pre-bind the select list once so that every aggregate is known before the schema is
    // fixed; the caller binds it again (the interceptor dedupes aggregates by text).
    for (const auto& item : select.items) {
      if (item.expression->kind == ExpressionKind::kStar) continue;
      SLUICE_RETURN_IF_ERROR(aggregate_binder_->Bind(*item.expression).status());
    }
    for (size_t i = 0; i < definition->keys.size(); ++i) {
      aggregate->schema.Add(Field{key_names[i], definition->keys[i]->type, false});
    }
    for (const auto& call : definition->aggregates)
      aggregate->schema.Add(Field{call.text, call.result_type, false});
    aggregate->schema.Add(Field{kWindowStartColumn, TypeId::kTimestamp, true});
    aggregate->schema.Add(Field{kWindowEndColumn, TypeId::kTimestamp, true});
    aggregate->aggregate = std::move(definition);
    aggregate->input = std::move(plan);
    plan = std::move(aggregate);
    if (having) {
      ResolveWindowMarkers(*having, plan->schema.size() - 2);
      auto filter = std::make_unique<LogicalOperator>();
      filter->kind = LogicalOperatorKind::kFilter;
      filter->schema = plan->schema;
      filter->predicate = std::move(having);
      filter->input = std::move(plan);
      plan = std::move(filter);
    }
    return absl::OkStatus();
  }

  // Binds the OVER (...) calls of a select list: a projection that keeps the input's columns and
  // adds computed partition keys and arguments, then a RowsWindow node; aggregate_binder_ then
  // binds the select list with each OVER call as a reference to its function column.
  absl::Status BindRowsWindowSelect(const SelectStatement& select, const Schema& input_schema,
                                    ExpressionBinder& input_binder,
                                    const std::vector<std::string>& qualifiers,
                                    std::unique_ptr<LogicalOperator>& plan) {
    std::vector<const ParsedExpression*> calls;
    for (const auto& item : select.items) CollectOverCalls(*item.expression, calls);
    const OverClause& over = *calls[0]->over;
    if (!select.group_by.empty() || select.window || select.having) {
      return source_.NotSupported(over.position, "OVER (...) together with GROUP BY, WINDOW or HAVING");
    }
    for (const auto& item : select.items) {
      if (ContainsAggregate(*item.expression)) {
        return source_.Error(item.position,
                             "an aggregate without OVER cannot be mixed with OVER (...) windows");
      }
    }
    const std::string key = OverKey(over);
    for (const ParsedExpression* call : calls) {
      if (OverKey(*call->over) != key) {
        return source_.NotSupported(call->over->position, "different OVER (...) windows in one query");
      }
    }
    // Pre-projection: every input column, then computed keys and arguments.
    std::unique_ptr<LogicalOperator> pre = ProjectAllColumns(input_schema);
    auto column_for = [&](const ParsedExpression& e) -> absl::StatusOr<size_t> {
      SLUICE_ASSIGN_OR_RETURN(auto bound, input_binder.Bind(e));
      if (bound->kind == BoundExpressionKind::kColumn) return bound->column_index;
      pre->schema.Add(Field{StrCat("__over_", pre->projections.size()), bound->type, true});
      pre->projections.push_back(std::move(bound));
      return pre->projections.size() - 1;
    };
    auto spec = std::make_unique<RowsWindowSpec>();
    for (const auto& partition : over.partition_by) {
      SLUICE_ASSIGN_OR_RETURN(size_t column, column_for(*partition));
      spec->partition_columns.push_back(column);
    }
    // The operator takes rows in arrival order and does not sort: the only order it honours
    // is one ascending BIGINT or TIMESTAMP key that the input arrives in (rows out of that
    // order are late). Every other ordering would be parsed and ignored, so it is refused.
    if (!over.order_by.empty()) {
      const ParsedExpression& order = *over.order_by[0];
      if (over.order_by.size() > 1) {
        return source_.NotSupported(over.order_by[1]->position,
                                    "more than one ORDER BY key in OVER (...) (the ROWS window takes rows in "
                                    "arrival order, ascending in one BIGINT or TIMESTAMP column)");
      }
      if (over.order_descending[0]) {
        return source_.NotSupported(
            order.position, StrCat("ORDER BY ", order.ToString(),
                                   " DESC in OVER (...) (the ROWS window takes rows in arrival order, "
                                   "ascending; a descending order is Top-N)"));
      }
      SLUICE_ASSIGN_OR_RETURN(auto bound, input_binder.Bind(order));
      if (bound->type != TypeId::kTimestamp && bound->type != TypeId::kInt64) {
        return source_.NotSupported(
            order.position, StrCat("ORDER BY ", order.ToString(), " (", TypeName(bound->type),
                                   ") in OVER (...) (the ROWS window takes rows in arrival order, which it "
                                   "can only hold to an ascending BIGINT or TIMESTAMP column; ordering by "
                                   "another value is Top-N)"));
      }
      SLUICE_ASSIGN_OR_RETURN(size_t column, column_for(order));
      spec->order_column = static_cast<int>(column);
    }
    {
      SLUICE_ASSIGN_OR_RETURN(const LateDataStrategy strategy, BindLateDataStrategy());
      spec->dead_letter_late_rows = strategy == LateDataStrategy::kDeadLetter;
    }
    std::vector<std::string> texts;
    int64_t max_offset = 0;
    bool needs_frame = false;
    for (const ParsedExpression* call : calls) {
      const std::string text = call->ToString();
      bool seen = false;
      for (const auto& existing : texts) seen = seen || existing == text;
      if (seen) continue;
      const std::string name = AsciiToLower(call->name_parts.back());
      RowsWindowFunction function;
      using Kind = RowsWindowFunction::Kind;
      if (name == "avg")
        function.kind = Kind::kAvg;
      else if (name == "sum")
        function.kind = Kind::kSum;
      else if (name == "count")
        function.kind = call->star_argument ? Kind::kCountStar : Kind::kCount;
      else if (name == "min")
        function.kind = Kind::kMin;
      else if (name == "max")
        function.kind = Kind::kMax;
      else if (name == "first_value")
        function.kind = Kind::kFirstValue;
      else if (name == "last_value")
        function.kind = Kind::kLastValue;
      else if (name == "lag")
        function.kind = Kind::kLag;
      else if (name == "lead")
        function.kind = Kind::kLead;
      else if (name == "row_number")
        function.kind = Kind::kRowNumber;
      else if (!IsAggregateFunction(name) && !FunctionRegistry::Default().Contains(RegistryName(name)))
        return UnknownFunction(source_, *call);
      else
        return source_.NotSupported(call->position, StrCat(AsciiToUpper(name), "(...) OVER (...)"));
      if (call->distinct) return source_.NotSupported(call->position, "DISTINCT in OVER (...) functions");
      const bool takes_argument = function.kind != Kind::kCountStar && function.kind != Kind::kRowNumber;
      const size_t max_arguments = (function.kind == Kind::kLag || function.kind == Kind::kLead) ? 2 : 1;
      if (takes_argument != !call->children.empty() || call->children.size() > max_arguments) {
        return source_.Error(call->position, StrCat("wrong number of arguments for ", AsciiToUpper(name)));
      }
      if (takes_argument) {
        SLUICE_ASSIGN_OR_RETURN(size_t column, column_for(*call->children[0]));
        function.argument_column = static_cast<int>(column);
        function.argument_type = pre->schema.field(column).type;
        if (IsDecimal(function.argument_type) && function.kind != Kind::kCount) {
          return source_.NotSupported(call->position, StrCat("a DECIMAL argument of ", AsciiToUpper(name),
                                                             "(...) OVER (...) (CAST it to DOUBLE)"));
        }
      }
      if (call->children.size() == 2) {
        const ParsedExpression& offset = *call->children[1];
        if (offset.kind != ExpressionKind::kLiteral || offset.literal.type() != TypeId::kInt64 ||
            offset.literal.int64() < 0) {
          return source_.Error(offset.position, "the offset of LAG/LEAD must be a whole number literal");
        }
        function.offset = offset.literal.int64();
      }
      switch (function.kind) {
        case Kind::kAvg: function.result_type = TypeId::kDouble; break;
        case Kind::kSum: function.result_type = function.argument_type; break;
        case Kind::kCount:
        case Kind::kCountStar:
        case Kind::kRowNumber: function.result_type = TypeId::kInt64; break;
        default: function.result_type = function.argument_type; break;
      }
      if (function.kind == Kind::kLag || function.kind == Kind::kLead) {
        max_offset = std::max(max_offset, function.offset);
      } else if (function.kind != Kind::kRowNumber) {
        needs_frame = true;
      }
      spec->functions.push_back(function);
      texts.push_back(text);
    }
    // Buffer: ROWS WINDOW BUFFER n, else the frame of ROWS BETWEEN k PRECEDING, else (only
    // ROW_NUMBER/LAG/LEAD) what the offsets need.
    if (over.buffer_rows) {
      spec->buffer_rows = *over.buffer_rows;
    } else if (over.preceding_rows) {
      spec->buffer_rows = std::max<int64_t>(*over.preceding_rows + 1, max_offset + 1);
    } else if (!needs_frame) {
      spec->buffer_rows = max_offset + 1;
    } else {
      return source_.Error(
          over.position,
          "an unbounded OVER window keeps every row: write ROWS WINDOW BUFFER n ROWS or ROWS BETWEEN "
          "n PRECEDING AND CURRENT ROW");
    }
    spec->frame_rows =
        over.preceding_rows && !over.unbounded_preceding ? *over.preceding_rows + 1 : spec->buffer_rows;
    spec->expire_after_millis = over.expire_after_millis;
    spec->input_out_of_orderness_millis = InputOutOfOrderness(select.from->name);
    // 'state.ttl' bounds ROWS partitions too, unless the OVER clause says EXPIRE AFTER.
    if (const PropertyValue* ttl = job_.properties.Find("state.ttl");
        ttl != nullptr && !spec->expire_after_millis) {
      const auto millis = ParseDurationText(ttl->value);
      if (!millis || *millis <= 0) {
        return source_.Error(ttl->value_position,
                             StrCat("invalid duration '", ttl->value, "' for 'state.ttl'"));
      }
      spec->expire_after_millis = *millis;
    }
    if (auto index = input_schema.Find(kEventTimeColumn)) spec->event_time_column = static_cast<int>(*index);
    for (size_t f = 0; f < spec->functions.size(); ++f) {
      const RowsWindowFunction& function = spec->functions[f];
      const bool offset_function =
          function.kind == RowsWindowFunction::Kind::kLag || function.kind == RowsWindowFunction::Kind::kLead;
      if (offset_function && function.offset >= spec->buffer_rows) {
        return source_.Error(
            over.position, StrCat(texts[f], ": the offset (", function.offset,
                                  ") must be less than the window's buffer (", spec->buffer_rows, " rows)"));
      }
    }
    std::vector<TypeId> pre_types;
    for (const auto& field : pre->schema.fields()) pre_types.push_back(field.type);
    const absl::Status valid = ValidateRowsWindowSpec(*spec, pre_types);
    if (!valid.ok()) return source_.Error(over.position, std::string(valid.message()));

    auto window = std::make_unique<LogicalOperator>();
    window->kind = LogicalOperatorKind::kRowsWindow;
    window->schema = pre->schema;
    const size_t first_function = pre->schema.size();
    for (size_t f = 0; f < spec->functions.size(); ++f) {
      window->schema.Add(Field{texts[f], spec->functions[f].result_type, false});
    }
    window->rows_window = std::move(spec);
    pre->input = std::move(plan);
    window->input = std::move(pre);
    plan = std::move(window);

    aggregate_binder_ = MakeInputBinder(input_schema, qualifiers);
    const Schema* window_schema = &plan->schema;
    aggregate_binder_->SetInterceptor([texts, first_function, window_schema](
                                          const ParsedExpression& e) -> absl::StatusOr<BoundExpressionPtr> {
      if (e.kind != ExpressionKind::kFunction || e.over == nullptr) return BoundExpressionPtr();
      const std::string text = e.ToString();
      for (size_t f = 0; f < texts.size(); ++f) {
        if (texts[f] == text) {
          return MakeColumnReference(first_function + f, window_schema->field(first_function + f).type, text);
        }
      }
      return BoundExpressionPtr();
    });
    return absl::OkStatus();
  }

  // Binds a derived table that FindTopNPatterns (plan/top_n_pattern.h) marked: a projection that
  // keeps the input's columns and adds computed PARTITION BY and ORDER BY keys, then a TopN
  // node; aggregate_binder_ then binds the select list with the ranking function as a reference
  // to the rank column.
  absl::Status BindTopNSelect(const SelectStatement& select, const TopNPattern& pattern,
                              const Schema& input_schema, ExpressionBinder& input_binder,
                              const std::vector<std::string>& qualifiers,
                              std::unique_ptr<LogicalOperator>& plan) {
    std::vector<const ParsedExpression*> calls;
    for (const auto& item : select.items) CollectOverCalls(*item.expression, calls);
    const ParsedExpression& call = *select.items[pattern.rank_item].expression;
    for (const ParsedExpression* other : calls) {
      if (other != &call) {
        return source_.NotSupported(other->position,
                                    "another OVER (...) function beside a Top-N's ranking function");
      }
    }
    const OverClause& over = *call.over;
    if (!select.group_by.empty() || select.window || select.having || select.distinct) {
      return source_.NotSupported(
          over.position,
          "a Top-N over GROUP BY, WINDOW, HAVING or DISTINCT in the same query (rank the "
          "aggregate's stream: put the aggregate in a statement or derived table of its own)");
    }
    if (select.limit) return source_.NotSupported(select.position, "LIMIT in a Top-N's query");
    for (const auto& item : select.items) {
      if (ContainsAggregate(*item.expression)) {
        return source_.Error(item.position,
                             "an aggregate without OVER cannot be mixed with OVER (...) windows");
      }
    }
    if (over.buffer_rows || over.preceding_rows || over.unbounded_preceding || over.expire_after_millis) {
      return source_.NotSupported(
          over.position,
          "a ROWS frame, BUFFER or EXPIRE AFTER in a Top-N's OVER (...) (a ranking function "
          "ranks the whole partition)");
    }
    const std::string name = AsciiToUpper(call.name_parts.back());
    if (!call.children.empty() || call.star_argument || call.distinct) {
      return source_.Error(call.position, StrCat(name, "() takes no argument"));
    }
    if (over.order_by.empty()) {
      return source_.Error(over.position, StrCat(name, "() in a Top-N needs ORDER BY in its OVER (...)"));
    }
    if (const PropertyValue* ttl = job_.properties.Find("state.ttl")) {
      return source_.NotSupported(
          ttl->value_position,
          "'state.ttl' with a Top-N or deduplication (its state is bounded by N rows per "
          "key, and a window Top-N frees a window's when it closes; a key's entry stays)");
    }
    std::unique_ptr<LogicalOperator> pre = ProjectAllColumns(input_schema);
    auto column_for = [&](const ParsedExpression& e) -> absl::StatusOr<size_t> {
      SLUICE_ASSIGN_OR_RETURN(auto bound, input_binder.Bind(e));
      if (bound->type == TypeId::kNull) return source_.Error(e.position, "a Top-N key cannot be a bare NULL");
      if (bound->kind == BoundExpressionKind::kColumn) return bound->column_index;
      pre->schema.Add(Field{StrCat("__over_", pre->projections.size()), bound->type, true});
      pre->projections.push_back(std::move(bound));
      return pre->projections.size() - 1;
    };
    auto spec = std::make_unique<TopNSpec>();
    spec->function = pattern.function;
    spec->limit = pattern.limit;
    spec->emit_rank = pattern.emit_rank;
    bool windowed = false;
    SourcePosition window_position;
    for (const auto& partition : over.partition_by) {
      SLUICE_ASSIGN_OR_RETURN(size_t column, column_for(*partition));
      spec->partition_columns.push_back(column);
      if (partition->kind == ExpressionKind::kColumn &&
          EqualsIgnoreCase(partition->name_parts.back(), kWindowStartColumn)) {
        windowed = true;
        window_position = partition->position;
      }
    }
    for (size_t k = 0; k < over.order_by.size(); ++k) {
      SLUICE_ASSIGN_OR_RETURN(size_t column, column_for(*over.order_by[k]));
      spec->order.push_back(TopNOrderKey{column, over.order_descending[k]});
    }
    const SourceDefinition* source =
        FindStream(select.from->name) == nullptr ? job_.FindSource(select.from->name) : nullptr;
    auto is_event_time = [&](size_t column) {
      if (column >= input_schema.size()) return false;
      if (EqualsIgnoreCase(input_schema.field(column).name, kEventTimeColumn)) return true;
      return source != nullptr && source->has_event_time && source->decoder.event_time_field >= 0 &&
             static_cast<size_t>(source->decoder.event_time_field) == column;
    };
    if (windowed) {
      spec->strategy = TopNStrategy::kWindow;
      const auto end = input_schema.Find(kWindowEndColumn);
      if (!end) {
        return source_.Error(
            window_position,
            "a window Top-N (PARTITION BY _window_start) closes each window at its end: its input "
            "needs the column _window_end (select it in the windowed query it reads)");
      }
      spec->window_end_column = static_cast<int>(*end);
    } else if (pattern.limit == 1 && pattern.function == RankFunction::kRowNumber &&
               spec->order.size() == 1 && is_event_time(spec->order[0].column)) {
      spec->strategy = spec->order[0].descending ? TopNStrategy::kKeepLast : TopNStrategy::kKeepFirst;
      spec->event_time_column = static_cast<int>(spec->order[0].column);
    } else {
      spec->strategy = TopNStrategy::kUpdating;
    }
    {
      SLUICE_ASSIGN_OR_RETURN(const LateDataStrategy strategy, BindLateDataStrategy());
      spec->dead_letter_late_rows = strategy == LateDataStrategy::kDeadLetter;
    }
    spec->input_out_of_orderness_millis = InputOutOfOrderness(select.from->name);
    std::vector<TypeId> pre_types;
    for (const auto& field : pre->schema.fields()) pre_types.push_back(field.type);
    const absl::Status valid = ValidateTopNSpec(*spec, pre_types);
    if (!valid.ok()) return source_.Error(over.position, std::string(valid.message()));

    auto top = std::make_unique<LogicalOperator>();
    top->kind = LogicalOperatorKind::kTopN;
    top->schema = pre->schema;
    const std::string text = call.ToString();
    const size_t rank_column = top->schema.size();
    if (spec->emit_rank) top->schema.Add(Field{select.items[pattern.rank_item].alias, TypeId::kInt64, false});
    top->top_n = std::move(spec);
    pre->input = std::move(plan);
    top->input = std::move(pre);
    plan = std::move(top);

    aggregate_binder_ = MakeInputBinder(input_schema, qualifiers);
    aggregate_binder_->SetInterceptor([this, text, rank_column, emit_rank = pattern.emit_rank](
                                          const ParsedExpression& e) -> absl::StatusOr<BoundExpressionPtr> {
      if (e.kind != ExpressionKind::kFunction || e.over == nullptr) return BoundExpressionPtr();
      if (e.ToString() != text || !emit_rank) {
        return source_.NotSupported(e.position, "a ranking function outside the Top-N's select item");
      }
      return MakeColumnReference(rank_column, TypeId::kInt64, text);
    });
    return absl::OkStatus();
  }

  // 'late.data.strategy': drop (the default) or dead_letter.
  absl::StatusOr<LateDataStrategy> BindLateDataStrategy() const {
    const PropertyValue* strategy = job_.properties.Find("late.data.strategy");
    if (strategy == nullptr || EqualsIgnoreCase(strategy->value, "drop")) return LateDataStrategy::kDrop;
    if (EqualsIgnoreCase(strategy->value, "dead_letter")) return LateDataStrategy::kDeadLetter;
    return source_.Error(strategy->value_position,
                         StrCat("invalid value '", strategy->value,
                                "' for 'late.data.strategy' (expected drop, dead_letter)"));
  }

  absl::Status BindLateDataProperties(AggregateDefinition& definition) {
    if (const PropertyValue* lateness = job_.properties.Find("late.data.allowed_lateness")) {
      auto millis = ParseDurationText(lateness->value);
      if (!millis)
        return source_.Error(lateness->value_position, StrCat("invalid duration '", lateness->value, "'"));
      definition.allowed_lateness_millis = *millis;
    }
    SLUICE_ASSIGN_OR_RETURN(definition.late_data, BindLateDataStrategy());
    if (const PropertyValue* ttl = job_.properties.Find("state.ttl")) {
      const auto millis = ParseDurationText(ttl->value);
      if (!millis || *millis <= 0) {
        return source_.Error(ttl->value_position,
                             StrCat("invalid duration '", ttl->value, "' for 'state.ttl'"));
      }
      // Windows free their state when they close; TTL applies to unwindowed GROUP BY.
      if (!definition.window) definition.state_ttl_millis = *millis;
    }
    return absl::OkStatus();
  }

  // 'state.backend' ('memory', the default, or 'rocksdb'), 'state.rocksdb.dir' and
  // 'state.rocksdb.memory' (which need 'rocksdb': they would be ignored).
  void BindStateBackendProperties(SqlErrorList& errors) {
    if (const PropertyValue* backend = job_.properties.Find("state.backend")) {
      if (EqualsIgnoreCase(backend->value, "rocksdb")) {
        rocksdb_.emplace();
      } else if (!EqualsIgnoreCase(backend->value, "memory")) {
        errors.Add(source_.Error(backend->value_position, StrCat("unknown state backend '", backend->value,
                                                                 "' for 'state.backend' (memory, rocksdb)")));
      }
    }
    for (const char* key : {"state.rocksdb.dir", "state.rocksdb.memory"}) {
      const PropertyValue* value = job_.properties.Find(key);
      if (value != nullptr && !rocksdb_) {
        errors.Add(
            source_.Error(value->key_position, StrCat("'", key, "' needs 'state.backend' = 'rocksdb'")));
      }
    }
    if (!rocksdb_) return;
    if (const PropertyValue* dir = job_.properties.Find("state.rocksdb.dir")) {
      if (dir->value.empty()) {
        errors.Add(source_.Error(dir->value_position, "'state.rocksdb.dir' needs a directory"));
      }
      rocksdb_->dir = dir->value;
    }
    if (const PropertyValue* memory = job_.properties.Find("state.rocksdb.memory")) {
      const std::optional<uint64_t> bytes = ParseByteSize(memory->value);
      if (!bytes || *bytes < (16ull << 20)) {
        errors.Add(source_.Error(memory->value_position,
                                 StrCat("invalid size '", memory->value,
                                        "' for 'state.rocksdb.memory' (at least 16MiB: 64MiB, 1GiB)")));
      } else {
        rocksdb_->memory_bytes = *bytes;
      }
    }
  }

  // Keyed state holds a key's value in one 64-bit word (state/key_table.h), and joins, Top-N and
  // ROWS windows hold their rows' values so: a DECIMAL of more than 18 digits cannot be a GROUP
  // BY or COUNT(DISTINCT) key, nor pass through those operators, yet.
  void RefuseWideDecimals(const BoundStatement& statement, const LogicalOperator& node,
                          SqlErrorList& errors) {
    auto check = [&](TypeId type, const std::string& what) {
      if (!IsWideDecimal(type)) return;
      errors.Add(source_.NotSupported(
          statement.position,
          StrCat(what, " of type ", TypeName(type),
                 " (an operator that keeps rows or keys holds a DECIMAL of at most 18 digits: "
                 "CAST it to DECIMAL(18, s) or STRING before it)")));
    };
    if (node.aggregate != nullptr) {
      for (const auto& key : node.aggregate->keys) check(key->type, "a GROUP BY key");
      for (const auto& call : node.aggregate->aggregates) {
        if (call.kind == AggregateKind::kCountDistinct && call.argument != nullptr)
          check(call.argument->type, "COUNT(DISTINCT ...)");
      }
    }
    const char* holder = node.join != nullptr          ? "a join"
                         : node.lookup_join != nullptr ? "a lookup join"
                         : node.top_n != nullptr       ? "a Top-N or deduplication"
                         : node.rows_window != nullptr ? "a ROWS window"
                                                       : nullptr;
    if (holder != nullptr) {
      for (const Field& field : node.schema.fields())
        check(field.type, StrCat("column '", field.name, "' of ", holder));
    }
    if (node.input != nullptr) RefuseWideDecimals(statement, *node.input, errors);
    if (node.right_input != nullptr) RefuseWideDecimals(statement, *node.right_input, errors);
  }

  // 'state.backend' = 'rocksdb': every GROUP BY of `statement` keeps its state in RocksDB; the
  // forms RocksDB cannot hold yet, and operators of other kinds (which would keep their state
  // in memory regardless), are refused by name.
  void PlaceStateInRocksDb(const BoundStatement& statement, LogicalOperator& node, SqlErrorList& errors) {
    const char* other = nullptr;
    switch (node.kind) {
      case LogicalOperatorKind::kAggregate: {
        const std::string reason = RocksDbUnsupportedReason(*node.aggregate);
        if (reason.empty()) {
          node.aggregate->rocksdb = *rocksdb_;
        } else {
          errors.Add(source_.NotSupported(
              statement.position,
              StrCat("'state.backend' = 'rocksdb' for this GROUP BY: ", reason,
                     " (RocksDB holds the state of a GROUP BY without a window over an append-only input)")));
        }
        break;
      }
      case LogicalOperatorKind::kRowsWindow: other = "a ROWS window"; break;
      case LogicalOperatorKind::kJoin: other = "a join"; break;
      case LogicalOperatorKind::kTopN: other = "a Top-N or deduplication"; break;
      default: break;
    }
    if (other != nullptr) {
      errors.Add(source_.NotSupported(
          statement.position, StrCat("'state.backend' = 'rocksdb' for ", other,
                                     " (RocksDB holds the state of a GROUP BY without a window; ", other,
                                     " would keep its state in memory)")));
    }
    if (node.input != nullptr) PlaceStateInRocksDb(statement, *node.input, errors);
    if (node.right_input != nullptr) PlaceStateInRocksDb(statement, *node.right_input, errors);
  }

  // The watermark bound of the source a source or stream ultimately reads.
  // Flink types AVG of an integer column as that integer type: the average truncated toward
  // zero (sum / count in integer arithmetic). The accumulator's average is a DOUBLE, exact to
  // the integer quotient while |sum| < 2^53; `reference` to it is cast in Flink's dialect.
  BoundExpressionPtr FlinkTyped(const AggregateCall& call, BoundExpressionPtr reference) const {
    if (job_.parsed.dialect != Dialect::kFlink || call.kind != AggregateKind::kAvg ||
        call.argument == nullptr || call.argument->type != TypeId::kInt64) {
      return reference;
    }
    return MakeCast(std::move(reference), TypeId::kInt64, GetCastKernel(TypeId::kDouble, TypeId::kInt64));
  }

  int64_t InputOutOfOrderness(const std::string& name) const {
    if (const BoundStatement* stream = FindStream(name)) return InputOutOfOrderness(stream->input_name);
    const SourceDefinition* source = job_.FindSource(name);
    return source != nullptr ? source->max_out_of_orderness_millis : 0;
  }

  // Whether column `column` of what `scan` reads is Flink's processing-time attribute: computed
  // by PROCTIME() in the statement that makes the stream, or passed on unchanged (through
  // projections and filters) from one that does.
  bool IsProcessingTimeColumn(const LogicalOperator& scan, size_t column) const {
    if (scan.kind != LogicalOperatorKind::kScan || !scan.scan_is_stream) return false;
    return IsProcessingTimeColumn(scan.scan_name, column);
  }
  bool IsProcessingTimeColumn(const std::string& stream, size_t column) const {
    const BoundStatement* statement = FindStream(stream);
    if (statement == nullptr) return false;
    const LogicalOperator* node = statement->plan.get();
    while (node != nullptr) {
      if (node->kind == LogicalOperatorKind::kFilter) {
        node = node->input.get();
        continue;
      }
      if (node->kind == LogicalOperatorKind::kScan) return IsProcessingTimeColumn(*node, column);
      if (node->kind != LogicalOperatorKind::kProject || column >= node->projections.size()) return false;
      const BoundExpression& e = *node->projections[column];
      if (e.kind == BoundExpressionKind::kCall) return e.name == "PROCTIME";
      if (e.kind != BoundExpressionKind::kColumn) return false;
      column = e.column_index;
      node = node->input.get();
    }
    return false;
  }

  const BoundStatement* FindStream(const std::string& name) const {
    for (const auto& statement : job_.statements) {
      if (statement.name == name) return &statement;
    }
    return nullptr;
  }

  // Defines the source `table` names through the connector of its '<name>.type'
  // (catalog/connector_registry.h), then binds the job-wide watermark settings.
  absl::StatusOr<const SourceDefinition*> DefineSource(const TableReference& table) {
    if (const SourceDefinition* existing = job_.FindSource(table.name)) return existing;
    const std::string& name = table.name;
    if (IsTable(table)) {
      return source_.Error(table.position,
                           StrCat("'", name, "' is a table ('", name,
                                  ".primary.key'): a query reads a table only as the right input of a lookup "
                                  "join (FROM stream s JOIN ",
                                  name, " ON s.key = ", name, ".key)"));
    }
    if (const PropertyValue* reload = job_.properties.FindScoped(name, "reload.interval")) {
      return source_.Error(reload->key_position,
                           StrCat("'", name, ".reload.interval' re-reads a table, and '", name,
                                  "' is a stream: give it '", name, ".primary.key' to read it as a table"));
    }
    const PropertyValue* type = job_.properties.FindScoped(name, "type");
    if (type == nullptr) {
      return source_.Error(
          table.position,
          StrCat("unknown source or stream '", name, "': declare it with '", name,
                 ".type' = 'file_source' (and '", name,
                 ".path') in WITH, or create it with an earlier CREATE STREAM ", name, " AS ..."));
    }
    const ConnectorRegistry& registry = ConnectorRegistry::Default();
    const SourceConnector* connector = registry.FindSource(type->value);
    if (connector == nullptr) {
      return source_.Error(type->value_position, StrCat("invalid source type '", type->value, "' (expected ",
                                                        registry.SourceTypeList(), ")"));
    }
    if (!connector->supported) return source_.NotSupported(type->value_position, type->value);
    SourceDefinition definition;
    definition.name = name;
    definition.type = type->value;
    definition.position = table.position;
    const SourceBindContext context{job_.properties, source_, name, *type, read_files_};
    SLUICE_RETURN_IF_ERROR(connector->bind(context, definition));
    SLUICE_RETURN_IF_ERROR(BindWatermark(job_.properties, source_, definition));
    job_.sources.push_back(std::move(definition));
    return &job_.sources.back();
  }

  // INSERT INTO table SELECT ...: the query's columns fill the table's (Flink's CREATE TABLE
  // with columns) in order, so the stream takes the table's column names; each column's type
  // must be the table's (a CAST makes it so).
  absl::Status BindInsertTarget(const Statement& statement, BoundStatement& bound) {
    const TableDefinition* table = FindTableDefinition(job_.parsed, statement.name);
    if (table == nullptr) {
      return source_.Error(statement.name_position,
                           StrCat("INSERT INTO '", statement.name, "': no CREATE TABLE ", statement.name,
                                  " (columns...) WITH ('connector' = ...) declares the table"));
    }
    const SelectStatement& select = *statement.select;
    if (table->columns.size() != bound.output_schema.size()) {
      return source_.Error(select.position,
                           StrCat("the query has ", bound.output_schema.size(), " columns (",
                                  bound.output_schema.ToString(), ") and table '", table->name, "' has ",
                                  table->columns.size(), ": INSERT INTO fills the table's columns in order"));
    }
    // The position of the query's i-th column, when its select list has no *.
    const bool items_are_columns =
        select.items.size() == bound.output_schema.size() && select.union_all.empty();
    std::vector<Field> fields;
    // Flink casts a number to the table's wider number implicitly (DECIMAL(13, 4) into
    // DECIMAL(38, 6), BIGINT into a DECIMAL, a DECIMAL into DOUBLE): a projection over the plan
    // does it here, when the plan's columns are the query's.
    if (bound.plan != nullptr && bound.plan->schema.size() == table->columns.size()) {
      std::vector<BoundExpressionPtr> projections;
      bool widens = false;
      for (size_t i = 0; i < table->columns.size(); ++i) {
        const Field& field = bound.output_schema.field(i);
        const TypeId to = table->columns[i].type;
        auto reference = MakeColumnReference(i, field.type, field.name);
        if (field.type != to && ((IsDecimal(to) && (IsDecimal(field.type) || field.type == TypeId::kInt64)) ||
                                 (IsDecimal(field.type) && to == TypeId::kDouble))) {
          reference = MakeCast(std::move(reference), to, GetCastKernel(field.type, to));
          widens = true;
        }
        projections.push_back(std::move(reference));
      }
      if (widens) {
        std::vector<Field> widened = bound.plan->schema.fields();
        for (size_t i = 0; i < widened.size(); ++i) widened[i].type = projections[i]->type;
        auto project = std::make_unique<LogicalOperator>();
        project->kind = LogicalOperatorKind::kProject;
        project->projections = std::move(projections);
        project->schema = Schema(std::move(widened));
        project->input = std::move(bound.plan);
        bound.plan = std::move(project);
        std::vector<Field> output = bound.output_schema.fields();
        for (size_t i = 0; i < output.size(); ++i) output[i].type = bound.plan->schema.field(i).type;
        bound.output_schema = Schema(std::move(output));
      }
    }
    for (size_t i = 0; i < table->columns.size(); ++i) {
      const ColumnDefinition& column = table->columns[i];
      Field field = bound.output_schema.field(i);
      if (field.type != column.type && field.type != TypeId::kNull) {
        const std::string what = items_are_columns ? select.items[i].expression->ToString() : field.name;
        return source_.Error(items_are_columns ? select.items[i].position : select.position,
                             StrCat("column ", i + 1, " of the query (", what, ") is ", TypeName(field.type),
                                    ", and column '", column.name, "' of table '", table->name, "' is ",
                                    column.type_text, " (", TypeName(column.type), "): CAST it"));
      }
      field.name = column.name;
      field.type = column.type;
      fields.push_back(std::move(field));
    }
    bound.output_schema = Schema(fields);
    if (bound.plan->schema.size() == fields.size()) bound.plan->schema = Schema(std::move(fields));
    return absl::OkStatus();
  }

  // The sink a statement's '<name>.type' names, bound by its connector.
  absl::Status BindSink(const Statement& statement, BoundStatement& bound) {
    if (statement.name.empty()) return absl::OkStatus();  // bare SELECT: stdout, decided later
    const PropertyValue* type = job_.properties.FindScoped(statement.name, "type");
    if (type == nullptr) return absl::OkStatus();
    const ConnectorRegistry& registry = ConnectorRegistry::Default();
    const SinkConnector* connector = registry.FindSink(type->value);
    if (connector == nullptr) {
      return source_.Error(type->value_position, StrCat("invalid sink type '", type->value, "' (expected ",
                                                        registry.SinkTypeList(), ")"));
    }
    SinkDefinition sink;
    sink.name = statement.name;
    sink.type = type->value;
    const SinkBindContext context{job_.properties, source_, statement.name, *type, bound.output_schema};
    SLUICE_RETURN_IF_ERROR(connector->bind(context, sink));
    bound.sink = std::move(sink);
    return absl::OkStatus();
  }

  BoundJob& job_;
  const SourceText& source_;
  // 'state.backend' = 'rocksdb': the options every aggregate gets (BindStateBackend).
  std::optional<RocksDbStateOptions> rocksdb_;
  const bool read_files_;                               // BindOptions::read_files
  NameSet taken_;                                       // every name the job uses, hidden ones too
  std::vector<InputSide> sides_;                        // the statement's join inputs, if it joins
  std::unique_ptr<ExpressionBinder> aggregate_binder_;  // binds over an aggregate's output
  // The derived tables and WITH queries that are Top-N queries (plan/top_n_pattern.h).
  std::map<const SelectStatement*, TopNPattern> top_n_patterns_;
  // The tables lookup joins read, by name: each bound (and later read) once per job.
  std::map<std::string, std::shared_ptr<LookupTableProvider>> tables_;
};

}  // namespace

std::optional<BoundJob> BindJob(ParsedJob parsed, const BindOptions& options, SqlErrorList& errors) {
  SLUICE_CHECK(errors.empty());
  BoundJob job;
  LowerFlinkDialect(parsed, errors);
  if (!errors.empty()) return std::nullopt;
  job.properties = JobProperties::Collect(parsed, options.substitution, errors);
  // A property left out would only cause more errors, each less to the point than its own.
  if (!errors.empty()) return std::nullopt;
  job.parsed = std::move(parsed);
  JobBinder binder(job, options.read_files);
  binder.Run(errors);
  if (!errors.empty()) return std::nullopt;
  return job;
}

absl::StatusOr<BoundJob> BindJob(ParsedJob parsed, const BindOptions& options) {
  SqlErrorList errors(/*limit=*/1);
  std::optional<BoundJob> job = BindJob(std::move(parsed), options, errors);
  if (!job) return errors.first();
  return std::move(*job);
}

absl::StatusOr<BoundExpressionPtr> BindExpression(const SourceText& source,
                                                  const ParsedExpression& expression, const Schema& schema) {
  ExpressionBinder binder(source, schema, {});
  return binder.Bind(expression);
}

}  // namespace sluice
