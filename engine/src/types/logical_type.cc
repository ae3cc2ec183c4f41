#include "types/logical_type.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "common/strings.h"
#include "types/number_format.h"

namespace sluice {

absl::StatusOr<TypeId> MakeDecimalType(int64_t precision, int64_t scale) {
  if (precision < 1 || precision > kMaxDecimalPrecision) {
    return absl::InvalidArgumentError(
        StrCat("DECIMAL precision ", precision, " is out of range (1 to ", kMaxDecimalPrecision, ")"));
  }
  if (scale < 0 || scale > precision) {
    return absl::InvalidArgumentError(
        StrCat("DECIMAL scale ", scale, " is out of range (0 to the precision, ", precision, ")"));
  }
  return DecimalType(static_cast<int>(precision), static_cast<int>(scale));
}

std::string_view TypeName(TypeId type) {
  if (IsDecimal(type)) {
    // Every DECIMAL(p, s)'s name, made once.
    static const auto* names = [] {
      auto* table = new std::array<std::string, (kMaxDecimalPrecision + 1) * 64>();
      for (int p = 1; p <= kMaxDecimalPrecision; ++p) {
        for (int s = 0; s <= p; ++s) (*table)[p * 64 + s] = StrCat("DECIMAL(", p, ", ", s, ")");
      }
      return table;
    }();
    return (*names)[DecimalPrecision(type) * 64 + DecimalScale(type)];
  }
  switch (type) {
    case TypeId::kNull: return "NULL";
    case TypeId::kBoolean: return "BOOLEAN";
    case TypeId::kInt64: return "BIGINT";
    case TypeId::kDouble: return "DOUBLE";
    case TypeId::kString: return "STRING";
    case TypeId::kTimestamp: return "TIMESTAMP";
  }
  return "?";
}

std::optional<TypeId> ParseTypeName(std::string_view name) {
  const std::string upper = AsciiToUpper(name);
  if (upper == "BIGINT" || upper == "INT" || upper == "INTEGER" || upper == "SMALLINT" ||
      upper == "TINYINT" || upper == "LONG") {
    return TypeId::kInt64;
  }
  if (upper == "DOUBLE" || upper == "FLOAT" || upper == "REAL") return TypeId::kDouble;
  if (IsDecimalTypeName(upper)) return DecimalType(10, 0);
  if (upper == "VARCHAR" || upper == "STRING" || upper == "TEXT" || upper == "CHAR") {
    return TypeId::kString;
  }
  if (upper == "BOOLEAN" || upper == "BOOL") return TypeId::kBoolean;
  if (upper == "TIMESTAMP") return TypeId::kTimestamp;
  return std::nullopt;
}

std::optional<TypeId> ParseTypeText(std::string_view text) {
  text = StripWhitespace(text);
  const size_t open = text.find('(');
  if (open == std::string_view::npos) return ParseTypeName(text);
  if (text.back() != ')') return std::nullopt;
  const std::string_view name = StripWhitespace(text.substr(0, open));
  const std::optional<TypeId> type = ParseTypeName(name);
  if (!type) return std::nullopt;
  std::vector<int64_t> arguments;
  for (std::string_view argument : StrSplit(text.substr(open + 1, text.size() - open - 2), ',', false)) {
    const std::optional<int64_t> value = ParseInt64(StripWhitespace(argument));
    if (!value) return std::nullopt;
    arguments.push_back(*value);
  }
  if (!IsDecimalTypeName(name)) return type;
  if (arguments.empty() || arguments.size() > 2) return std::nullopt;
  const absl::StatusOr<TypeId> decimal =
      MakeDecimalType(arguments[0], arguments.size() == 2 ? arguments[1] : 0);
  if (!decimal.ok()) return std::nullopt;
  return *decimal;
}

bool IsDecimalTypeName(std::string_view name) {
  return EqualsIgnoreCase(name, "DECIMAL") || EqualsIgnoreCase(name, "NUMERIC") ||
         EqualsIgnoreCase(name, "DEC");
}

size_t PhysicalSize(TypeId type) {
  if (IsDecimal(type)) return IsWideDecimal(type) ? 16 : 8;
  switch (type) {
    case TypeId::kNull:
    case TypeId::kBoolean: return 1;
    case TypeId::kInt64:
    case TypeId::kDouble:
    case TypeId::kTimestamp: return 8;
    case TypeId::kString: return sizeof(std::string_view);
  }
  return 8;
}

bool ImplicitlyConvertible(TypeId from, TypeId to) {
  if (from == to || from == TypeId::kNull) return true;
  if (from == TypeId::kInt64 && (to == TypeId::kDouble || to == TypeId::kTimestamp)) return true;
  return IsDecimal(from) && to == TypeId::kDouble;
}

namespace {

// The DECIMAL that holds every value of `a` and of `b` (BIGINT as DECIMAL(19, 0)).
TypeId CommonDecimal(TypeId a, TypeId b) {
  if (a == TypeId::kInt64) a = kBigintAsDecimal;
  if (b == TypeId::kInt64) b = kBigintAsDecimal;
  const int scale = std::max(DecimalScale(a), DecimalScale(b));
  const int integer_digits =
      std::max(DecimalPrecision(a) - DecimalScale(a), DecimalPrecision(b) - DecimalScale(b));
  if (integer_digits + scale <= kMaxDecimalPrecision) return DecimalType(integer_digits + scale, scale);
  return DecimalType(kMaxDecimalPrecision, std::max(kMaxDecimalPrecision - integer_digits, 0));
}

}  // namespace

std::optional<TypeId> CommonType(TypeId left, TypeId right) {
  if (left == right) return left;
  if (left == TypeId::kNull) return right;
  if (right == TypeId::kNull) return left;
  if (IsNumeric(left) && IsNumeric(right)) {
    if (left == TypeId::kDouble || right == TypeId::kDouble) return TypeId::kDouble;
    return CommonDecimal(left, right);
  }
  if ((left == TypeId::kTimestamp && right == TypeId::kInt64) ||
      (left == TypeId::kInt64 && right == TypeId::kTimestamp)) {
    return TypeId::kTimestamp;
  }
  return std::nullopt;
}

}  // namespace sluice
