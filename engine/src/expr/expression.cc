#include "expr/expression.h"

#include "common/strings.h"

namespace sluice {

namespace {
bool IsOperatorName(const std::string& name) {
  return !name.empty() && !std::isalpha(static_cast<unsigned char>(name[0]));
}
}  // namespace

std::string BoundExpression::ToString() const {
  switch (kind) {
    case BoundExpressionKind::kColumn: return StrCat(name, "#", column_index);
    case BoundExpressionKind::kConstant: return constant.ToSql();
    case BoundExpressionKind::kCast:
      return StrCat("CAST(", children[0]->ToString(), " AS ", TypeName(type), ")");
    case BoundExpressionKind::kCase: {
      std::string out = "CASE";
      for (size_t i = 0; i + 1 < children.size(); i += 2) {
        StrAppend(&out, " WHEN ", children[i]->ToString(), " THEN ", children[i + 1]->ToString());
      }
      StrAppend(&out, " ELSE ", children.back()->ToString(), " END");
      return out;
    }
    case BoundExpressionKind::kCall: {
      if ((IsOperatorName(name) || name == "AND" || name == "OR") && children.size() == 2) {
        return StrCat("(", children[0]->ToString(), " ", name, " ", children[1]->ToString(), ")");
      }
      std::vector<std::string> arguments;
      for (const auto& child : children) arguments.push_back(child->ToString());
      return StrCat(name, "(", StrJoin(arguments, ", "), ")");
    }
  }
  return "?";
}

BoundExpressionPtr MakeColumnReference(size_t index, TypeId type, std::string name) {
  auto node = std::make_unique<BoundExpression>();
  node->kind = BoundExpressionKind::kColumn;
  node->type = type;
  node->column_index = index;
  node->name = std::move(name);
  return node;
}

BoundExpressionPtr MakeCast(BoundExpressionPtr operand, TypeId type, ScalarKernel kernel) {
  auto node = std::make_unique<BoundExpression>();
  node->kind = BoundExpressionKind::kCast;
  node->type = type;
  node->cast_kernel = kernel;
  node->children.push_back(std::move(operand));
  return node;
}

BoundExpressionPtr MakeConstant(Value value) {
  auto node = std::make_unique<BoundExpression>();
  node->kind = BoundExpressionKind::kConstant;
  node->type = value.type();
  node->constant = std::move(value);
  return node;
}

}  // namespace sluice
