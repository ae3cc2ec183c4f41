#include "sql/ast.h"

#include "common/strings.h"

namespace sluice {

std::string ParsedExpression::ToString() const {
  auto child = [this](size_t i) { return children[i]->ToString(); };
  switch (kind) {
    case ExpressionKind::kColumn: return StrJoin(name_parts, ".");
    case ExpressionKind::kLiteral: return literal.ToSql();
    case ExpressionKind::kInterval: return StrCat("INTERVAL '", interval_millis, "' MILLISECOND");
    case ExpressionKind::kStar: return name_parts.empty() ? "*" : StrCat(StrJoin(name_parts, "."), ".*");
    case ExpressionKind::kUnary: return op == "NOT" ? StrCat("NOT ", child(0)) : StrCat(op, child(0));
    case ExpressionKind::kBinary: return StrCat(child(0), " ", op, " ", child(1));
    case ExpressionKind::kFunction: {
      if (bare_keyword) return AsciiToUpper(name_parts.back());
      std::vector<std::string> arguments;
      for (const auto& argument : children) arguments.push_back(argument->ToString());
      std::string out = StrCat(AsciiToUpper(name_parts.back()), "(", distinct ? "DISTINCT " : "",
                               star_argument ? "*" : StrJoin(arguments, ", "), ")");
      if (filter) StrAppend(&out, " FILTER (WHERE ", filter->ToString(), ")");
      if (over) StrAppend(&out, " OVER (...)");
      return out;
    }
    case ExpressionKind::kCase: {
      std::string out = "CASE";
      size_t i = 0;
      if (case_has_operand) StrAppend(&out, " ", child(i++));
      const size_t pairs_end = children.size() - (case_has_else ? 1 : 0);
      for (; i + 1 < pairs_end + 1 && i < pairs_end; i += 2) {
        StrAppend(&out, " WHEN ", child(i), " THEN ", child(i + 1));
      }
      if (case_has_else) StrAppend(&out, " ELSE ", child(children.size() - 1));
      return out + " END";
    }
    case ExpressionKind::kCast: return StrCat("CAST(", child(0), " AS ", TypeName(cast_type), ")");
    case ExpressionKind::kBetween:
      return StrCat(child(0), negated ? " NOT" : "", " BETWEEN ", child(1), " AND ", child(2));
    case ExpressionKind::kIn: {
      if (subquery != nullptr) return StrCat(child(0), negated ? " NOT" : "", " IN (SELECT ...)");
      std::vector<std::string> items;
      for (size_t i = 1; i < children.size(); ++i) items.push_back(child(i));
      return StrCat(child(0), negated ? " NOT" : "", " IN (", StrJoin(items, ", "), ")");
    }
    case ExpressionKind::kIsNull: return StrCat(child(0), negated ? " IS NOT NULL" : " IS NULL");
    case ExpressionKind::kLike: return StrCat(child(0), negated ? " NOT" : "", " LIKE ", child(1));
    case ExpressionKind::kExtract:
      return StrCat("EXTRACT(", AsciiToUpper(extract_field), " FROM ", child(0), ")");
    case ExpressionKind::kSubquery: return op == "EXISTS" ? "EXISTS (SELECT ...)" : "(SELECT ...)";
  }
  return "?";
}

}  // namespace sluice
