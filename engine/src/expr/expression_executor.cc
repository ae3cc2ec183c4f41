#include "expr/expression_executor.h"

namespace sluice {

struct ExpressionExecutor::Node {
  const BoundExpression* expression;
  std::vector<std::unique_ptr<Node>> children;
  ColumnPool pool;
  std::vector<std::shared_ptr<Column>> argument_columns;
  std::vector<const Column*> argument_pointers;
  std::shared_ptr<Column> constant_column;  // kConstant: filled once, grown on demand

  explicit Node(const BoundExpression& e) : expression(&e), pool(e.type) {
    for (const auto& child : e.children) children.push_back(std::make_unique<Node>(*child));
    argument_columns.resize(children.size());
    argument_pointers.resize(children.size());
  }
};

namespace {

using Node = ExpressionExecutor::Node;

void FillConstant(const Value& value, size_t rows, Column& column) {
  column.Clear();
  column.Resize(rows);
  if (value.is_null()) {
    for (size_t i = 0; i < rows; ++i) column.SetNull(i);
    return;
  }
  column.SetAllValid(rows);
  if (IsDecimal(value.type())) {
    for (size_t i = 0; i < rows; ++i) column.SetDecimal(i, value.decimal());
    return;
  }
  switch (value.type()) {
    case TypeId::kBoolean: {
      uint8_t* data = column.data<uint8_t>();
      for (size_t i = 0; i < rows; ++i) data[i] = value.boolean() ? 1 : 0;
      break;
    }
    case TypeId::kInt64:
    case TypeId::kTimestamp: {
      int64_t* data = column.data<int64_t>();
      for (size_t i = 0; i < rows; ++i) data[i] = value.int64();
      break;
    }
    case TypeId::kDouble: {
      double* data = column.data<double>();
      for (size_t i = 0; i < rows; ++i) data[i] = value.dbl();
      break;
    }
    case TypeId::kString: {
      const std::string_view copy = column.heap().Add(value.str());
      auto* data = column.data<std::string_view>();
      for (size_t i = 0; i < rows; ++i) data[i] = copy;
      break;
    }
    case TypeId::kNull: break;
  }
}

template <typename T>
void CombineCase(const KernelContext& context, const std::vector<std::shared_ptr<Column>>& branches,
                 Column& out) {
  T* out_data = out.data<T>();
  uint8_t* out_valid = out.validity();
  const size_t pairs = (branches.size() - 1) / 2;
  const Column& otherwise = *branches.back();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    const Column* chosen = &otherwise;
    for (size_t p = 0; p < pairs; ++p) {
      const Column& condition = *branches[2 * p];
      if (condition.IsValid(row) && condition.data<uint8_t>()[row] != 0) {
        chosen = branches[2 * p + 1].get();
        break;
      }
    }
    if (chosen->IsValid(row)) {
      out_valid[row] = 1;
      out_data[row] = chosen->data<T>()[row];
    } else {
      out_valid[row] = 0;
      out_data[row] = T();
    }
  });
}

std::shared_ptr<Column> EvaluateNode(Node& node, const Batch& input) {
  const BoundExpression& e = *node.expression;
  const size_t rows = input.num_rows();
  const KernelContext context{input.selection(), input.active_rows()};
  switch (e.kind) {
    case BoundExpressionKind::kColumn: return input.shared_column(e.column_index);
    case BoundExpressionKind::kConstant: {
      if (node.constant_column == nullptr || node.constant_column->size() < rows) {
        node.constant_column = std::make_shared<Column>(e.type, 0);
        FillConstant(e.constant, std::max<size_t>(rows, 1024), *node.constant_column);
      }
      return node.constant_column;
    }
    case BoundExpressionKind::kCall:
    case BoundExpressionKind::kCast:
    case BoundExpressionKind::kCase: break;
  }
  // Acquire the output first: this releases what the previous result pinned, so that the
  // children's pools can reuse their columns.
  std::shared_ptr<Column> out = node.pool.Acquire(rows);
  for (size_t i = 0; i < node.children.size(); ++i) {
    node.argument_columns[i] = EvaluateNode(*node.children[i], input);
    node.argument_pointers[i] = node.argument_columns[i].get();
  }
  if (e.kind == BoundExpressionKind::kCase && IsDecimal(e.type)) {
    if (IsWideDecimal(e.type)) {
      CombineCase<__int128>(context, node.argument_columns, *out);
    } else {
      CombineCase<int64_t>(context, node.argument_columns, *out);
    }
  } else if (e.kind == BoundExpressionKind::kCase) {
    switch (PhysicalSize(e.type) == 1 ? TypeId::kBoolean : e.type) {
      case TypeId::kBoolean:
      case TypeId::kNull: CombineCase<uint8_t>(context, node.argument_columns, *out); break;
      case TypeId::kInt64:
      case TypeId::kTimestamp: CombineCase<int64_t>(context, node.argument_columns, *out); break;
      case TypeId::kDouble: CombineCase<double>(context, node.argument_columns, *out); break;
      case TypeId::kString:
        CombineCase<std::string_view>(context, node.argument_columns, *out);
        for (size_t i = 1; i < node.argument_columns.size(); i += 2) {
          out->KeepAliveStringsOf(*node.argument_columns[i]);
        }
        out->KeepAliveStringsOf(*node.argument_columns.back());
        break;
    }
  } else {
    const bool propagate =
        e.kind == BoundExpressionKind::kCast || e.function->null_handling == NullHandling::kPropagate;
    if (propagate) {
      uint8_t* valid = out->validity();
      const size_t arguments = node.argument_pointers.size();
      if (arguments == 0) {
        ForEachActiveRow(context.selection, context.count, [&](size_t row) { valid[row] = 1; });
      } else {
        const uint8_t* first = node.argument_pointers[0]->validity();
        ForEachActiveRow(context.selection, context.count, [&](size_t row) { valid[row] = first[row]; });
        for (size_t a = 1; a < arguments; ++a) {
          const uint8_t* other = node.argument_pointers[a]->validity();
          ForEachActiveRow(context.selection, context.count, [&](size_t row) { valid[row] &= other[row]; });
        }
      }
    }
    const ScalarKernel kernel = e.kind == BoundExpressionKind::kCast ? e.cast_kernel : e.function->kernel;
    kernel(context, node.argument_pointers.data(), node.argument_pointers.size(), *out);
  }
  for (auto& argument : node.argument_columns) argument.reset();
  return out;
}

}  // namespace

ExpressionExecutor::ExpressionExecutor(const BoundExpression& expression)
    : root_(std::make_unique<Node>(expression)), type_(expression.type) {}

ExpressionExecutor::~ExpressionExecutor() = default;

std::shared_ptr<Column> ExpressionExecutor::Evaluate(const Batch& input) {
  return EvaluateNode(*root_, input);
}

size_t ExpressionExecutor::Select(const Batch& input, uint32_t* selection) {
  SLUICE_CHECK(type_ == TypeId::kBoolean || type_ == TypeId::kNull);
  const std::shared_ptr<Column> result = EvaluateNode(*root_, input);
  const uint8_t* values = result->data<uint8_t>();
  const uint8_t* valid = result->validity();
  size_t count = 0;
  const uint32_t* in = input.selection();
  const size_t active = input.active_rows();
  if (in == nullptr) {
    // Branch-free compaction: always write, advance when the row qualifies.
    for (size_t row = 0; row < active; ++row) {
      selection[count] = static_cast<uint32_t>(row);
      count += values[row] & valid[row];
    }
  } else {
    for (size_t i = 0; i < active; ++i) {
      const uint32_t row = in[i];
      selection[count] = row;
      count += values[row] & valid[row];
    }
  }
  return count;
}

}  // namespace sluice
