// JSON Lines encoder: one object per active row, keys in schema order.
//
// Hot path: the output string is grown in large steps and written through a char pointer;
// before each row it is grown to hold that row's worst case (numbers at most 32 chars, strings
// at most 6 bytes per input byte when every byte needs a \u00XX escape), so no per-value check.
// Strings go through WriteJsonString, which repairs invalid UTF-8 and counts what it replaced.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/strings.h"
#include "formats/json_string.h"
#include "formats/record_format.h"
#include "types/decimal.h"
#include "types/number_format.h"

namespace sluice {
namespace {

constexpr size_t kMaxNumberChars = 42;  // a DECIMAL's (kMaxDecimalChars); AppendDouble needs 32
constexpr size_t kMaxGrowBytes = 4 << 20;

class JsonEncoder final : public RecordEncoder {
 public:
  explicit JsonEncoder(const Schema& schema) {
    // Each key's text, `{"name":` or `,"name":`, escaped once here.
    std::string prefixes;
    for (size_t i = 0; i < schema.size(); ++i) {
      const Field& field = schema.field(i);
      std::string key(kMaxJsonStringBytesPerByte * field.name.size() + 2, '\0');
      uint64_t names_replaced = 0;  // a column name's bytes are not a value's: not counted
      key.resize(static_cast<size_t>(WriteJsonString(key.data(), field.name, names_replaced) - key.data()));
      const size_t offset = prefixes.size();
      StrAppend(&prefixes, i == 0 ? "{" : ",", key, ":");
      prefix_ranges_.emplace_back(offset, prefixes.size() - offset);
      types_.push_back(field.type);
      if (field.type == TypeId::kString) string_columns_.push_back(i);
      // A string's worst case is counted per row from its length; 4 covers its quotes or null.
      fixed_row_bytes_ += prefixes.size() - offset + (field.type == TypeId::kString ? 4 : kMaxNumberChars);
    }
    fixed_row_bytes_ += 2;  // "}\n" (or "{}\n" with no columns)
    if (schema.size() == 0) fixed_row_bytes_ += 1;
    prefixes_ = std::move(prefixes);
    columns_.resize(types_.size());
  }

  void Encode(const Batch& batch, std::string& out) override {
    const size_t num_columns = types_.size();
    SLUICE_CHECK_LE(num_columns, batch.num_columns());
    for (size_t c = 0; c < num_columns; ++c) {
      const Column& column = batch.column(c);
      columns_[c] = ColumnView{column.validity(), column.data<uint8_t>(),
                               prefixes_.data() + prefix_ranges_[c].first, prefix_ranges_[c].second};
    }
    const size_t rows = batch.active_rows();
    size_t pos = out.size();
    uint64_t replaced = 0;  // a local, so that the hot loop keeps it in a register
    for (size_t i = 0; i < rows; ++i) {
      const size_t row = batch.ActiveRow(i);
      size_t needed = fixed_row_bytes_;
      for (size_t c : string_columns_) {
        needed += kMaxJsonStringBytesPerByte *
                  reinterpret_cast<const std::string_view*>(columns_[c].data)[row].size();
      }
      if (pos + needed > out.size()) {
        const size_t estimate = std::min(kMaxGrowBytes, (rows - i) * fixed_row_bytes_);
        out.resize(pos + needed + estimate);
      }
      char* p = out.data() + pos;
      if (num_columns == 0) *p++ = '{';
      for (size_t c = 0; c < num_columns; ++c) {
        const ColumnView& column = columns_[c];
        std::memcpy(p, column.prefix, column.prefix_size);
        p += column.prefix_size;
        if (column.validity[row] == 0) {
          std::memcpy(p, "null", 4);
          p += 4;
          continue;
        }
        if (IsDecimal(types_[c])) {  // plain text, every digit of the scale: 12.50
          p += FormatDecimal(UnscaledAt(column.data, row, IsWideDecimal(types_[c])), DecimalScale(types_[c]),
                             p);
          continue;
        }
        switch (types_[c]) {
          case TypeId::kInt64:
          case TypeId::kTimestamp:
            p = std::to_chars(p, p + kMaxNumberChars, reinterpret_cast<const int64_t*>(column.data)[row]).ptr;
            break;
          case TypeId::kDouble: {
            const double value = reinterpret_cast<const double*>(column.data)[row];
            if (std::isfinite(value)) {
              p += AppendDouble(value, p);
            } else {
              std::memcpy(p, "null", 4);  // JSON has no NaN or infinities
              p += 4;
            }
            break;
          }
          case TypeId::kBoolean:
            if (column.data[row] != 0) {
              std::memcpy(p, "true", 4);
              p += 4;
            } else {
              std::memcpy(p, "false", 5);
              p += 5;
            }
            break;
          case TypeId::kString:
            p = WriteJsonString(p, reinterpret_cast<const std::string_view*>(column.data)[row], replaced);
            break;
          case TypeId::kNull:
            std::memcpy(p, "null", 4);
            p += 4;
            break;
        }
      }
      *p++ = '}';
      *p++ = '\n';
      pos = static_cast<size_t>(p - out.data());
    }
    out.resize(pos);
    invalid_utf8_replaced_ += replaced;
  }

 private:
  struct ColumnView {
    const uint8_t* validity = nullptr;
    const uint8_t* data = nullptr;
    const char* prefix = nullptr;
    size_t prefix_size = 0;
  };

  std::vector<TypeId> types_;
  std::string prefixes_;
  std::vector<std::pair<size_t, size_t>> prefix_ranges_;  // offset and size in prefixes_
  std::vector<size_t> string_columns_;
  size_t fixed_row_bytes_ = 0;  // worst case of a row without its strings' bytes
  std::vector<ColumnView> columns_;
};

}  // namespace

std::unique_ptr<RecordEncoder> MakeJsonEncoder(const Schema& schema) {
  return std::make_unique<JsonEncoder>(schema);
}

}  // namespace sluice
