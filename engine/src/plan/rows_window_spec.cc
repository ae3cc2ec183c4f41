#include "plan/rows_window_spec.h"

#include "common/strings.h"

namespace sluice {

using Kind = RowsWindowFunction::Kind;

std::string_view RowsWindowFunctionName(RowsWindowFunction::Kind kind) {
  switch (kind) {
    case Kind::kAvg: return "AVG";
    case Kind::kSum: return "SUM";
    case Kind::kCount: return "COUNT";
    case Kind::kCountStar: return "COUNT";
    case Kind::kMin: return "MIN";
    case Kind::kMax: return "MAX";
    case Kind::kFirstValue: return "FIRST_VALUE";
    case Kind::kLastValue: return "LAST_VALUE";
    case Kind::kLag: return "LAG";
    case Kind::kLead: return "LEAD";
    case Kind::kRowNumber: return "ROW_NUMBER";
  }
  return "?";
}

std::string RowsWindowFunctionText(const RowsWindowFunction& function) {
  const std::string name(RowsWindowFunctionName(function.kind));
  switch (function.kind) {
    case Kind::kCountStar: return "COUNT(*)";
    case Kind::kRowNumber: return "ROW_NUMBER()";
    case Kind::kLag:
    case Kind::kLead: return StrCat(name, "(#", function.argument_column, ", ", function.offset, ")");
    default: return StrCat(name, "(#", function.argument_column, ")");
  }
}

absl::Status ValidateRowsWindowSpec(const RowsWindowSpec& spec, const std::vector<TypeId>& input_types) {
  if (spec.buffer_rows < 1 || spec.buffer_rows > kMaxRowsWindowBufferRows) {
    return absl::InvalidArgumentError(StrCat("ROWS WINDOW BUFFER must be between 1 and ",
                                             kMaxRowsWindowBufferRows, " rows, got ", spec.buffer_rows));
  }
  if (spec.frame_rows < 1) {
    return absl::InvalidArgumentError(
        StrCat("a window frame must hold at least 1 row, got ", spec.frame_rows));
  }
  for (size_t column : spec.partition_columns) {
    if (column >= input_types.size()) {
      return absl::InvalidArgumentError(StrCat("PARTITION BY column #", column, " is out of range (",
                                               input_types.size(), " input columns)"));
    }
  }
  if (spec.order_column >= 0 && (static_cast<size_t>(spec.order_column) >= input_types.size() ||
                                 (input_types[spec.order_column] != TypeId::kTimestamp &&
                                  input_types[spec.order_column] != TypeId::kInt64))) {
    return absl::InvalidArgumentError("ORDER BY needs a column of type BIGINT or TIMESTAMP");
  }
  if (spec.expire_after_millis.has_value()) {
    if (*spec.expire_after_millis < 0) {
      return absl::InvalidArgumentError(
          StrCat("EXPIRE AFTER must not be negative, got ", *spec.expire_after_millis, " ms"));
    }
    const int column = spec.event_time_column;
    if (column < 0 || static_cast<size_t>(column) >= input_types.size() ||
        (input_types[column] != TypeId::kTimestamp && input_types[column] != TypeId::kInt64)) {
      return absl::InvalidArgumentError("EXPIRE AFTER needs an event time column of type TIMESTAMP");
    }
  }
  for (const RowsWindowFunction& function : spec.functions) {
    const std::string name = RowsWindowFunctionText(function);
    TypeId argument = TypeId::kNull;
    if (RowsWindowFunctionNeedsArgument(function.kind)) {
      const int column = function.argument_column;
      if (column < 0 || static_cast<size_t>(column) >= input_types.size()) {
        return absl::InvalidArgumentError(
            StrCat(name, ": argument column is out of range (", input_types.size(), " input columns)"));
      }
      argument = input_types[column];
      if (function.argument_type != argument) {
        return absl::InvalidArgumentError(StrCat(name, ": argument type ", TypeName(function.argument_type),
                                                 " does not match the input column's ", TypeName(argument)));
      }
    }
    TypeId expected = argument;
    switch (function.kind) {
      case Kind::kAvg:
      case Kind::kSum:
        if (!IsNumeric(argument)) {
          return absl::InvalidArgumentError(
              StrCat(name, " needs a BIGINT or DOUBLE argument, got ", TypeName(argument)));
        }
        expected = function.kind == Kind::kAvg ? TypeId::kDouble : argument;
        break;
      case Kind::kCount:
      case Kind::kCountStar:
      case Kind::kRowNumber: expected = TypeId::kInt64; break;
      case Kind::kLag:
      case Kind::kLead:
        if (function.offset < 0) {
          return absl::InvalidArgumentError(StrCat(name, ": the offset must not be negative"));
        }
        if (function.kind == Kind::kLead && function.offset >= spec.buffer_rows) {
          return absl::InvalidArgumentError(
              StrCat(name, ": the offset must be less than the window buffer (", spec.buffer_rows, " rows)"));
        }
        break;
      default: break;
    }
    if (function.result_type != expected) {
      return absl::InvalidArgumentError(StrCat(name, ": result type must be ", TypeName(expected), ", got ",
                                               TypeName(function.result_type)));
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice
