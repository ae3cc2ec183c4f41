#include "plan/derived_tables.h"

#include <algorithm>

#include "common/strings.h"

namespace sluice {

bool NameLess::operator()(const std::string& a, const std::string& b) const {
  return AsciiToLower(a) < AsciiToLower(b);
}

namespace {

// The WITH queries visible at one level of nesting, innermost first through `parent`.
struct CteScope {
  struct Entry {
    const CommonTableExpression* cte;
    std::string hidden_name;
    bool used = false;
  };
  std::vector<Entry> entries;
  CteScope* parent = nullptr;

  Entry* Find(const std::string& name) {
    for (CteScope* scope = this; scope != nullptr; scope = scope->parent) {
      // The latest definition of a name wins (a nested WITH may shadow an outer one).
      for (auto it = scope->entries.rbegin(); it != scope->entries.rend(); ++it) {
        if (EqualsIgnoreCase(it->cte->name, name)) return &*it;
      }
    }
    return nullptr;
  }
};

class Lowering {
 public:
  Lowering(const SourceText& source, NameSet& taken, std::vector<LoweredQuery>& lowered)
      : source_(source), taken_(taken), lowered_(lowered) {}

  // Lowers the WITH queries and derived tables of `select`, whose stream is `owner`.
  absl::Status LowerSelect(SelectStatement& select, const std::string& owner, CteScope* parent) {
    CteScope scope;
    scope.parent = parent;
    for (CommonTableExpression& cte : select.with) {
      for (const auto& earlier : scope.entries) {
        if (EqualsIgnoreCase(earlier.cte->name, cte.name)) {
          return source_.Error(cte.position, StrCat("WITH query '", cte.name, "' is defined twice"));
        }
      }
      const std::string hidden = UniqueName(StrCat(owner, "$", cte.name));
      // A WITH query sees the ones before it, not itself (no recursive WITH).
      SLUICE_RETURN_IF_ERROR(LowerSelect(*cte.query, hidden, &scope));
      Emit(hidden, StrCat("WITH query '", cte.name, "' of ", owner), std::move(cte.query));
      scope.entries.push_back(CteScope::Entry{&cte, hidden});
    }
    if (!select.union_all.empty()) {
      SLUICE_RETURN_IF_ERROR(LowerUnion(select, owner, scope));
    } else {
      SLUICE_RETURN_IF_ERROR(LowerSubqueryCondition(select, owner, scope));
      SLUICE_RETURN_IF_ERROR(LowerTable(*select.from, owner, scope));
    }
    for (const auto& entry : scope.entries) {
      if (!entry.used) {
        return source_.Error(entry.cte->position,
                             StrCat("WITH query '", entry.cte->name, "' is not used; remove it"));
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status LowerTable(TableReference& table, const std::string& owner, CteScope& scope) {
    switch (table.kind) {
      case TableReference::Kind::kJoin:
        SLUICE_RETURN_IF_ERROR(LowerTable(*table.left, owner, scope));
        return LowerTable(*table.right, owner, scope);
      case TableReference::Kind::kNamed: {
        if (table.lowered) return absl::OkStatus();
        CteScope::Entry* entry = scope.Find(table.name);
        if (entry == nullptr) return absl::OkStatus();  // a source or an earlier statement's stream
        entry->used = true;
        if (table.alias.empty()) table.alias = table.name;
        table.name = entry->hidden_name;
        table.lowered = true;
        return absl::OkStatus();
      }
      case TableReference::Kind::kSubquery: {
        if (table.alias.empty()) {
          return source_.Error(table.position, "a derived table needs a name: write (SELECT ...) AS name");
        }
        const std::string hidden = UniqueName(StrCat(owner, "$", table.alias));
        SLUICE_RETURN_IF_ERROR(LowerSelect(*table.subquery, hidden, &scope));
        Emit(hidden, StrCat("derived table '", table.alias, "' of ", owner), std::move(table.subquery));
        table.kind = TableReference::Kind::kNamed;
        table.name = hidden;
        table.lowered = true;
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

  static void TakeConjuncts(ParsedExpressionPtr e, std::vector<ParsedExpressionPtr>& out) {
    if (e->kind == ExpressionKind::kBinary && e->op == "AND") {
      TakeConjuncts(std::move(e->children[0]), out);
      TakeConjuncts(std::move(e->children[1]), out);
      return;
    }
    out.push_back(std::move(e));
  }
  static ParsedExpressionPtr AndOf(std::vector<ParsedExpressionPtr> conjuncts) {
    ParsedExpressionPtr all;
    for (auto& conjunct : conjuncts) {
      if (all == nullptr) {
        all = std::move(conjunct);
        continue;
      }
      auto both = std::make_unique<ParsedExpression>();
      both->kind = ExpressionKind::kBinary;
      both->op = "AND";
      both->position = all->position;
      both->height = std::max(all->height, conjunct->height) + 1;
      both->children.push_back(std::move(all));
      both->children.push_back(std::move(conjunct));
      all = std::move(both);
    }
    return all;
  }
  // The names a FROM clause's tables are known by (their aliases, else their names).
  static void CollectQualifiers(const TableReference& table, std::vector<std::string>& names) {
    if (table.kind == TableReference::Kind::kJoin) {
      CollectQualifiers(*table.left, names);
      CollectQualifiers(*table.right, names);
      return;
    }
    names.push_back(table.alias.empty() ? table.name : table.alias);
  }
  // Whether `e` names a column qualified by a name not in `inner`: a reference to the outer query.
  static bool ReferencesOuter(const ParsedExpression& e, const std::vector<std::string>& inner) {
    if (e.kind == ExpressionKind::kColumn && e.name_parts.size() == 2) {
      bool known = false;
      for (const auto& name : inner) known = known || EqualsIgnoreCase(name, e.name_parts[0]);
      if (!known) return true;
    }
    for (const auto& child : e.children) {
      if (ReferencesOuter(*child, inner)) return true;
    }
    return false;
  }
  // Qualifies the unqualified columns of `e` with `qualifier` (an inner column, as SQL scoping
  // reads an unqualified name in a subquery).
  static void Qualify(ParsedExpression& e, const std::string& qualifier) {
    if (e.kind == ExpressionKind::kColumn && e.name_parts.size() == 1) e.name_parts.insert(e.name_parts.begin(), qualifier);
    for (auto& child : e.children) Qualify(*child, qualifier);
  }

  // A WHERE condition `x IN (SELECT y ...)`, `EXISTS (SELECT ... WHERE inner.k = outer.k ...)` or
  // `NOT EXISTS (...)`: the subquery becomes a hidden statement, and the FROM a semi-join (anti-join
  // for NOT EXISTS) of the query's input with it. An EXISTS subquery's conditions that name the
  // outer query move into the join's condition (decorrelation).
  absl::Status LowerSubqueryCondition(SelectStatement& select, const std::string& owner, CteScope& scope) {
    if (select.where == nullptr) return absl::OkStatus();
    auto is_subquery_condition = [](const ParsedExpression& e) {
      if (e.kind == ExpressionKind::kIn && e.subquery != nullptr) return true;
      if (e.kind == ExpressionKind::kSubquery && e.op == "EXISTS") return true;
      return e.kind == ExpressionKind::kUnary && e.op == "NOT" && e.children[0]->kind == ExpressionKind::kSubquery &&
             e.children[0]->op == "EXISTS";
    };
    std::vector<ParsedExpressionPtr> conjuncts;
    TakeConjuncts(std::move(select.where), conjuncts);
    std::vector<ParsedExpressionPtr> rest;
    ParsedExpressionPtr condition;
    absl::Status status;
    for (auto& conjunct : conjuncts) {
      if (!is_subquery_condition(*conjunct)) {
        rest.push_back(std::move(conjunct));
      } else if (condition != nullptr && status.ok()) {
        status = source_.NotSupported(conjunct->position,
                                      "a second IN (SELECT ...) or EXISTS in one WHERE (write the first in a WITH "
                                      "query and the second over it)");
      } else {
        condition = std::move(conjunct);
      }
    }
    if (condition != nullptr && status.ok() && condition->kind == ExpressionKind::kIn && condition->negated) {
      status = source_.NotSupported(condition->position,
                                    "NOT IN (SELECT ...) (a NULL in the subquery makes it unknown for every row; "
                                    "write NOT EXISTS (SELECT ... WHERE ...))");
    }
    if (condition != nullptr && status.ok() && select.from->kind == TableReference::Kind::kJoin) {
      status = source_.NotSupported(condition->position,
                                    "IN (SELECT ...) or EXISTS over a join (write the join in a WITH query)");
    }
    if (condition == nullptr || !status.ok()) {
      if (condition != nullptr) rest.push_back(std::move(condition));
      select.where = AndOf(std::move(rest));
      return status;
    }
    const SourcePosition position = condition->position;
    const std::string description = StrCat("subquery of ", condition->ToString(), " in ", owner);
    const bool anti = condition->kind == ExpressionKind::kUnary;
    ParsedExpression& subquery_node = anti ? *condition->children[0] : *condition;
    std::unique_ptr<SelectStatement> subquery = std::move(subquery_node.subquery);
    auto join = std::make_unique<TableReference>();
    join->kind = TableReference::Kind::kJoin;
    join->position = position;
    join->join_type = anti ? JoinType::kAnti : JoinType::kSemi;
    auto right = std::make_unique<TableReference>();
    right->kind = TableReference::Kind::kNamed;
    right->position = subquery->position;
    right->lowered = true;
    std::vector<ParsedExpressionPtr> on;
    if (condition->kind == ExpressionKind::kIn) {
      if (subquery->items.size() != 1 || subquery->items[0].expression->kind == ExpressionKind::kStar) {
        select.where = AndOf(std::move(rest));
        return source_.Error(subquery->position, "the subquery of IN (SELECT ...) must select one column");
      }
      const SelectItem& item = subquery->items[0];
      right->alias = "in";
      auto column = std::make_unique<ParsedExpression>();
      column->kind = ExpressionKind::kColumn;
      column->position = item.position;
      const ParsedExpression& e = *item.expression;
      column->name_parts = {right->alias, !item.alias.empty() ? item.alias
                                          : e.kind == ExpressionKind::kColumn ? e.name_parts.back()
                                                                              : e.ToString()};
      // The value's columns are the outer query's (its one input): qualified so, since the
      // subquery's column may have the same name.
      Qualify(*condition->children[0], select.from->alias.empty() ? select.from->name : select.from->alias);
      auto equal = std::make_unique<ParsedExpression>();
      equal->kind = ExpressionKind::kBinary;
      equal->op = "=";
      equal->position = position;
      equal->height = condition->children[0]->height + 1;
      equal->children.push_back(std::move(condition->children[0]));
      equal->children.push_back(std::move(column));
      on.push_back(std::move(equal));
    } else {
      // EXISTS: the conditions naming the outer query join; the subquery keeps the others.
      std::vector<std::string> inner;
      CollectQualifiers(*subquery->from, inner);
      right->alias = inner.size() == 1 ? inner[0] : "exists";
      if (subquery->where != nullptr) {
        std::vector<ParsedExpressionPtr> parts, kept;
        TakeConjuncts(std::move(subquery->where), parts);
        for (auto& part : parts) {
          if (ReferencesOuter(*part, inner)) {
            if (inner.size() == 1) Qualify(*part, inner[0]);
            on.push_back(std::move(part));
          } else {
            kept.push_back(std::move(part));
          }
        }
        subquery->where = AndOf(std::move(kept));
      }
      if (!on.empty() && (!subquery->group_by.empty() || subquery->having != nullptr || subquery->window)) {
        select.where = AndOf(std::move(rest));
        return source_.NotSupported(position,
                                    "a correlated EXISTS over GROUP BY, HAVING or a window (aggregate in a WITH "
                                    "query, then use EXISTS over it)");
      }
      // Every inner column, for the moved conditions.
      subquery->items.clear();
      SelectItem star;
      star.position = subquery->position;
      star.expression = std::make_unique<ParsedExpression>();
      star.expression->kind = ExpressionKind::kStar;
      star.expression->position = subquery->position;
      subquery->items.push_back(std::move(star));
    }
    const std::string hidden =
        UniqueName(StrCat(owner, "$", condition->kind == ExpressionKind::kIn ? "in" : "exists"));
    SLUICE_RETURN_IF_ERROR(LowerSelect(*subquery, hidden, &scope));
    Emit(hidden, description, std::move(subquery));
    right->name = hidden;
    join->left = std::move(select.from);
    join->right = std::move(right);
    join->join_condition = AndOf(std::move(on));
    select.from = std::move(join);
    select.where = AndOf(std::move(rest));
    return absl::OkStatus();
  }

  // A UNION ALL: every branch (this select's own query first) becomes a hidden statement, in
  // the scope of the select's WITH queries; the select keeps only their names.
  absl::Status LowerUnion(SelectStatement& select, const std::string& owner, CteScope& scope) {
    std::vector<std::unique_ptr<SelectStatement>> branches;
    std::vector<SourcePosition> positions = std::move(select.union_positions);
    branches.push_back(std::make_unique<SelectStatement>());
    SelectStatement& first = *branches.back();
    first.position = select.position;
    first.distinct = select.distinct;
    first.distinct_position = select.distinct_position;
    first.items = std::move(select.items);
    first.from = std::move(select.from);
    first.where = std::move(select.where);
    first.group_by = std::move(select.group_by);
    first.group_by_position = select.group_by_position;
    first.window = std::move(select.window);
    first.having = std::move(select.having);
    first.having_position = select.having_position;
    first.order_by = std::move(select.order_by);
    first.order_by_position = select.order_by_position;
    first.limit = select.limit;
    first.limit_position = select.limit_position;
    first.emit = select.emit;
    first.emit_position = select.emit_position;
    for (auto& branch : select.union_all) branches.push_back(std::move(branch));
    select.union_all.clear();
    select.limit.reset();
    for (size_t i = 0; i < branches.size(); ++i) {
      SelectStatement& branch = *branches[i];
      if (branch.limit) {
        return source_.NotSupported(branch.limit_position,
                                    "LIMIT in a UNION ALL branch (write SELECT * FROM (... UNION ALL ...) AS u "
                                    "LIMIT n)");
      }
      if (!branch.with.empty()) {
        return source_.NotSupported(branch.position, "WITH inside a UNION ALL branch (write it before the first)");
      }
      const std::string hidden = UniqueName(StrCat(owner, "$union", i + 1));
      SLUICE_RETURN_IF_ERROR(LowerSelect(branch, hidden, &scope));
      Emit(hidden, StrCat("branch ", i + 1, " of the UNION ALL in ", owner), std::move(branches[i]));
      select.union_inputs.push_back(hidden);
    }
    select.union_positions = std::move(positions);
    return absl::OkStatus();
  }

  void Emit(const std::string& name, std::string description, std::unique_ptr<SelectStatement> select) {
    LoweredQuery query;
    query.name = name;
    query.description = std::move(description);
    query.position = select->position;
    query.select = std::move(select);
    lowered_.push_back(std::move(query));
  }

  // `base`, or `base$2`, `base$3`, ... : the first that no name in the job has.
  std::string UniqueName(const std::string& base) {
    std::string name = base;
    for (int suffix = 2; taken_.count(name) != 0; ++suffix) name = StrCat(base, "$", suffix);
    taken_.insert(name);
    return name;
  }

  const SourceText& source_;
  NameSet& taken_;
  std::vector<LoweredQuery>& lowered_;
};

}  // namespace

absl::Status LowerDerivedTables(const SourceText& source, SelectStatement& select,
                                const std::string& statement_name, NameSet& taken,
                                std::vector<LoweredQuery>& lowered) {
  Lowering lowering(source, taken, lowered);
  return lowering.LowerSelect(select, statement_name, nullptr);
}

}  // namespace sluice
