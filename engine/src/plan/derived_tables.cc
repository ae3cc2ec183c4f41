#include "plan/derived_tables.h"

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
