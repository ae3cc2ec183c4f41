// CSV encoder: a header line before the first row (unless told not to), then one line per
// active row.
//
// NULL is an empty field; the empty string is written "" so that the two read back apart.
// A field is quoted (quotes doubled) when it contains the delimiter, a quote, '\n' or '\r'.
// Doubles print in shortest round-trip form, NaN and infinities as NaN/Infinity/-Infinity
// (which ParseDouble reads back); booleans as true/false; timestamps as epoch milliseconds, or
// as Flink writes them ("2026-01-01 07:15:00.25").
#include <algorithm>
#include <charconv>
#include <cstring>

#include "formats/record_format.h"
#include "types/decimal.h"
#include "types/number_format.h"

namespace sluice {
namespace {

constexpr size_t kMaxNumberChars = 42;  // a DECIMAL's (kMaxDecimalChars); AppendDouble needs 32
constexpr size_t kMaxGrowBytes = 4 << 20;

class CsvEncoder final : public RecordEncoder {
 public:
  CsvEncoder(const Schema& schema, char delimiter, bool header, bool sql_timestamps)
      : delimiter_(delimiter), sql_timestamps_(sql_timestamps), header_written_(!header) {
    for (size_t i = 0; i < schema.size(); ++i) {
      const Field& field = schema.field(i);
      types_.push_back(field.type);
      if (field.type == TypeId::kString) string_columns_.push_back(i);
      fixed_row_bytes_ += 1 + (field.type == TypeId::kString ? 2 : kMaxNumberChars);  // delimiter + value
      std::string quoted(2 * field.name.size() + 2, '\0');
      const size_t size = WriteField(quoted.data(), field.name) - quoted.data();
      if (i > 0) header_.push_back(delimiter_);
      header_.append(quoted.data(), size);
    }
    header_.push_back('\n');
    fixed_row_bytes_ += 1;  // '\n'
    columns_.resize(types_.size());
  }

  void Encode(const Batch& batch, std::string& out) override {
    if (!header_written_) {
      out.append(header_);
      header_written_ = true;
    }
    const size_t num_columns = types_.size();
    SLUICE_CHECK_LE(num_columns, batch.num_columns());
    for (size_t c = 0; c < num_columns; ++c) {
      columns_[c] = ColumnView{batch.column(c).validity(), batch.column(c).data<uint8_t>()};
    }
    const size_t rows = batch.active_rows();
    size_t pos = out.size();
    for (size_t i = 0; i < rows; ++i) {
      const size_t row = batch.ActiveRow(i);
      size_t needed = fixed_row_bytes_;
      for (size_t c : string_columns_) {
        needed += 2 * reinterpret_cast<const std::string_view*>(columns_[c].data)[row].size();
      }
      if (pos + needed > out.size()) {
        const size_t estimate = std::min(kMaxGrowBytes, (rows - i) * fixed_row_bytes_);
        out.resize(pos + needed + estimate);
      }
      char* p = out.data() + pos;
      for (size_t c = 0; c < num_columns; ++c) {
        if (c > 0) *p++ = delimiter_;
        const ColumnView& column = columns_[c];
        if (column.validity[row] == 0) continue;  // NULL: empty field
        if (IsDecimal(types_[c])) {               // plain text, every digit of the scale: 12.50
          p += FormatDecimal(UnscaledAt(column.data, row, IsWideDecimal(types_[c])), DecimalScale(types_[c]),
                             p);
          continue;
        }
        switch (types_[c]) {
          case TypeId::kTimestamp:
            if (sql_timestamps_) {
              p += AppendSqlTimestamp(reinterpret_cast<const int64_t*>(column.data)[row], p);
              break;
            }
            [[fallthrough]];
          case TypeId::kInt64:
            p = std::to_chars(p, p + kMaxNumberChars, reinterpret_cast<const int64_t*>(column.data)[row]).ptr;
            break;
          case TypeId::kDouble:
            p += AppendDouble(reinterpret_cast<const double*>(column.data)[row], p);
            break;
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
            p = WriteField(p, reinterpret_cast<const std::string_view*>(column.data)[row]);
            break;
          case TypeId::kNull: break;
        }
      }
      *p++ = '\n';
      pos = static_cast<size_t>(p - out.data());
    }
    out.resize(pos);
  }

 private:
  struct ColumnView {
    const uint8_t* validity = nullptr;
    const uint8_t* data = nullptr;
  };

  // Writes one text field, quoted when needed; needs room for 2 * size + 2 bytes.
  char* WriteField(char* out, std::string_view text) const {
    bool needs_quotes = text.empty();  // "" keeps the empty string apart from NULL
    for (char c : text) {
      if (c == delimiter_ || c == '"' || c == '\n' || c == '\r') {
        needs_quotes = true;
        break;
      }
    }
    if (!needs_quotes) {
      std::memcpy(out, text.data(), text.size());  // not empty: empty text is quoted
      return out + text.size();
    }
    *out++ = '"';
    for (char c : text) {
      *out++ = c;
      if (c == '"') *out++ = '"';
    }
    *out++ = '"';
    return out;
  }

  char delimiter_;
  bool sql_timestamps_;
  std::vector<TypeId> types_;
  std::vector<size_t> string_columns_;
  std::string header_;
  bool header_written_ = false;
  size_t fixed_row_bytes_ = 0;  // worst case of a row without its strings' bytes
  std::vector<ColumnView> columns_;
};

}  // namespace

std::unique_ptr<RecordEncoder> MakeCsvEncoder(const Schema& schema, char delimiter, bool header,
                                              bool sql_timestamps) {
  return std::make_unique<CsvEncoder>(schema, delimiter, header, sql_timestamps);
}

}  // namespace sluice
