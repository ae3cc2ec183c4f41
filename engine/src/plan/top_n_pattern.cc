#include "plan/top_n_pattern.h"

#include <vector>

#include "common/strings.h"

namespace sluice {
namespace {

std::optional<RankFunction> RankFunctionOf(const ParsedExpression& e) {
  if (e.kind != ExpressionKind::kFunction || e.over == nullptr || e.name_parts.empty()) return std::nullopt;
  const std::string name = AsciiToLower(e.name_parts.back());
  if (name == "row_number") return RankFunction::kRowNumber;
  if (name == "rank") return RankFunction::kRank;
  if (name == "dense_rank") return RankFunction::kDenseRank;
  return std::nullopt;
}

bool ContainsRankFunction(const ParsedExpression& e) {
  if (RankFunctionOf(e)) return true;
  for (const auto& child : e.children) {
    if (ContainsRankFunction(*child)) return true;
  }
  return false;
}

// Whether `e` names column `name` of the derived table known as `alias`.
bool IsRankColumn(const ParsedExpression& e, const std::string& name, const std::string& alias) {
  if (e.kind != ExpressionKind::kColumn || e.name_parts.empty()) return false;
  if (!EqualsIgnoreCase(e.name_parts.back(), name)) return false;
  return e.name_parts.size() == 1 || EqualsIgnoreCase(e.name_parts[e.name_parts.size() - 2], alias);
}

bool References(const ParsedExpression& e, const std::string& name, const std::string& alias) {
  if (IsRankColumn(e, name, alias)) return true;
  if (e.kind == ExpressionKind::kStar) {
    return e.name_parts.empty() || EqualsIgnoreCase(e.name_parts[0], alias);
  }
  for (const auto& child : e.children) {
    if (References(*child, name, alias)) return true;
  }
  return false;
}

void SplitConjuncts(ParsedExpressionPtr e, std::vector<ParsedExpressionPtr>& out) {
  if (e->kind == ExpressionKind::kBinary && EqualsIgnoreCase(e->op, "AND")) {
    SplitConjuncts(std::move(e->children[0]), out);
    SplitConjuncts(std::move(e->children[1]), out);
    return;
  }
  out.push_back(std::move(e));
}

ParsedExpressionPtr JoinConjuncts(std::vector<ParsedExpressionPtr> conjuncts) {
  ParsedExpressionPtr result;
  for (auto& conjunct : conjuncts) {
    if (result == nullptr) {
      result = std::move(conjunct);
      continue;
    }
    auto both = std::make_unique<ParsedExpression>();
    both->kind = ExpressionKind::kBinary;
    both->op = "AND";
    both->position = result->position;
    both->height = 1 + std::max(result->height, conjunct->height);
    both->children.push_back(std::move(result));
    both->children.push_back(std::move(conjunct));
    result = std::move(both);
  }
  return result;
}

class PatternFinder {
 public:
  PatternFinder(const SourceText& source, std::map<const SelectStatement*, TopNPattern>& found)
      : source_(source), found_(found) {}

  absl::Status Find(SelectStatement& select) {
    for (auto& cte : select.with) {
      if (cte.query != nullptr) SLUICE_RETURN_IF_ERROR(Find(*cte.query));
    }
    if (select.from != nullptr) SLUICE_RETURN_IF_ERROR(FindInTable(*select.from));
    return FindHere(select);
  }

 private:
  absl::Status FindInTable(TableReference& table) {
    if (table.subquery != nullptr) SLUICE_RETURN_IF_ERROR(Find(*table.subquery));
    if (table.left != nullptr) SLUICE_RETURN_IF_ERROR(FindInTable(*table.left));
    if (table.right != nullptr) SLUICE_RETURN_IF_ERROR(FindInTable(*table.right));
    return absl::OkStatus();
  }

  static bool ReadsName(const TableReference* table, const std::string& name) {
    if (table == nullptr) return false;
    if (table->kind == TableReference::Kind::kNamed && EqualsIgnoreCase(table->name, name)) return true;
    return ReadsName(table->left.get(), name) || ReadsName(table->right.get(), name);
  }

  // The pattern with `select` as the outer query.
  absl::Status FindHere(SelectStatement& select) {
    if (select.from == nullptr || select.where == nullptr) return absl::OkStatus();
    TableReference& table = *select.from;
    SelectStatement* inner = nullptr;
    std::string alias = table.alias;
    if (table.kind == TableReference::Kind::kSubquery) {
      inner = table.subquery.get();
    } else if (table.kind == TableReference::Kind::kNamed) {
      for (auto& cte : select.with) {
        if (EqualsIgnoreCase(cte.name, table.name)) inner = cte.query.get();
      }
      if (alias.empty()) alias = table.name;
    }
    if (inner == nullptr) return absl::OkStatus();
    // Exactly one ranking function, as a whole select item with a name.
    std::optional<size_t> rank_item;
    for (size_t i = 0; i < inner->items.size(); ++i) {
      const ParsedExpression& e = *inner->items[i].expression;
      if (!ContainsRankFunction(e)) continue;
      if (rank_item) {
        return source_.NotSupported(
            inner->items[i].position,
            "more than one ranking function (ROW_NUMBER, RANK, DENSE_RANK) in a Top-N query");
      }
      rank_item = i;
    }
    if (!rank_item) return absl::OkStatus();
    const SelectItem& item = inner->items[*rank_item];
    const std::optional<RankFunction> function = RankFunctionOf(*item.expression);
    if (!function || item.alias.empty()) return absl::OkStatus();
    const std::string& name = item.alias;

    std::vector<ParsedExpressionPtr> conjuncts;
    SplitConjuncts(std::move(select.where), conjuncts);
    std::vector<ParsedExpressionPtr> kept;
    std::optional<int64_t> limit;
    SourcePosition filter_position;
    absl::Status status;
    for (auto& conjunct : conjuncts) {
      if (!status.ok() || !References(*conjunct, name, alias)) {
        kept.push_back(std::move(conjunct));
        continue;
      }
      const ParsedExpression& e = *conjunct;
      const bool comparison = e.kind == ExpressionKind::kBinary &&
                              (e.op == "<=" || e.op == "<" || e.op == "=" || e.op == ">=" || e.op == ">");
      const bool rank_left = comparison && IsRankColumn(*e.children[0], name, alias);
      const bool rank_right = comparison && IsRankColumn(*e.children[1], name, alias);
      const ParsedExpression* bound = rank_left    ? e.children[1].get()
                                      : rank_right ? e.children[0].get()
                                                   : nullptr;
      const bool literal = bound != nullptr && bound->kind == ExpressionKind::kLiteral &&
                           bound->literal.type() == TypeId::kInt64;
      if (!literal || rank_left == rank_right) {
        status = source_.NotSupported(
            e.position, StrCat("this condition on the rank column '", name,
                               "' (a Top-N takes an upper bound on it with a whole number: ", name, " <= N, ",
                               name, " < N or ", name, " = 1, joined to other conditions with AND)"));
        continue;
      }
      // The operator with the rank on its left.
      std::string op = e.op;
      if (rank_right) op = op == "<=" ? ">=" : op == "<" ? ">" : op == ">=" ? "<=" : op == ">" ? "<" : op;
      const int64_t n = bound->literal.int64();
      if (op == ">" || op == ">=") {
        status = source_.NotSupported(e.position, StrCat("a lower bound on the rank column '", name,
                                                         "' (a Top-N keeps the first rows: ", name, " <= N, ",
                                                         name, " < N or ", name, " = 1)"));
        continue;
      }
      if (op == "=" && n != 1) {
        status = source_.NotSupported(
            e.position, StrCat("'", name, " = ", n, "' (a Top-N keeps ranks 1 to N: write ", name,
                               " <= N, or ", name, " = 1)"));
        continue;
      }
      if (limit) {
        status = source_.NotSupported(e.position, StrCat("a second bound on the rank column '", name, "'"));
        continue;
      }
      const int64_t keep = op == "<" ? n - 1 : n;
      if (keep < 1) {
        status = source_.Error(bound->position, StrCat("the condition ", e.ToString(), " keeps no row"));
        continue;
      }
      if (keep > kMaxTopNLimit) {
        status = source_.Error(bound->position, StrCat("a Top-N keeps at most ", kMaxTopNLimit,
                                                       " rows per partition (kMaxTopNLimit); ", e.ToString(),
                                                       " asks for ", keep));
        continue;
      }
      limit = keep;
      filter_position = e.position;
    }
    select.where = JoinConjuncts(std::move(kept));
    SLUICE_RETURN_IF_ERROR(status);
    if (!limit) return absl::OkStatus();
    if (table.kind == TableReference::Kind::kNamed) {
      for (const auto& cte : select.with) {
        if (cte.query.get() != inner && ReadsName(cte.query->from.get(), table.name)) {
          return source_.NotSupported(
              filter_position,
              StrCat("a rank filter on WITH query '", table.name,
                     "', which another WITH query also reads (write it as a derived table)"));
        }
      }
    }
    TopNPattern pattern;
    pattern.function = *function;
    pattern.limit = *limit;
    pattern.rank_item = *rank_item;
    pattern.filter_position = filter_position;
    for (const auto& outer_item : select.items) {
      pattern.emit_rank = pattern.emit_rank || References(*outer_item.expression, name, alias);
    }
    for (const auto& key : select.group_by)
      pattern.emit_rank = pattern.emit_rank || References(*key, name, alias);
    if (select.where) pattern.emit_rank = pattern.emit_rank || References(*select.where, name, alias);
    if (select.having) pattern.emit_rank = pattern.emit_rank || References(*select.having, name, alias);
    found_[inner] = pattern;
    return absl::OkStatus();
  }

  const SourceText& source_;
  std::map<const SelectStatement*, TopNPattern>& found_;
};

}  // namespace

absl::Status FindTopNPatterns(const SourceText& source, SelectStatement& select,
                              std::map<const SelectStatement*, TopNPattern>& found) {
  PatternFinder finder(source, found);
  return finder.Find(select);
}

}  // namespace sluice
