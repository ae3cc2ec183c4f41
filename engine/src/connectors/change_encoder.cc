#include "connectors/change_encoder.h"

#include "common/strings.h"

namespace sluice {
namespace {

// Line ends in `text` (one line per active row), into `ends`.
void LineEnds(const std::string& text, std::vector<size_t>& ends) {
  ends.clear();
  for (size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 1)) ends.push_back(at);
}

}  // namespace

void SelectUpserts(const Batch& batch, Batch& kept) {
  kept.ShareColumns(batch);
  uint32_t* selection = kept.MutableSelection();
  size_t count = 0;
  for (size_t i = 0; i < batch.active_rows(); ++i) {
    const uint32_t row = batch.ActiveRow(i);
    const RowKind kind = batch.row_kind(row);
    SLUICE_CHECK(kind != RowKind::kDelete);  // the planner sends no delete to a CSV upsert
    if (kind != RowKind::kUpdateBefore) selection[count++] = row;
  }
  kept.SetSelectionCount(count);
}

ChangeEncoder::ChangeEncoder(const Schema& schema, ChangelogMode mode, std::vector<size_t> key_columns)
    : mode_(mode), key_columns_(std::move(key_columns)), rows_(MakeJsonEncoder(schema)) {
  SLUICE_CHECK(mode_ != ChangelogMode::kAppend);
  std::vector<Field> key_fields;
  for (size_t column : key_columns_) key_fields.push_back(schema.field(column));
  keys_ = MakeJsonEncoder(Schema(std::move(key_fields)));
}

void ChangeEncoder::WriteRecord(std::string& out, size_t begin, bool tombstone, std::string_view key,
                                int64_t row, std::vector<Record>* records) {
  Record record;
  record.begin = begin;
  record.end = out.size();
  record.tombstone = tombstone;
  record.row = row;
  out += '\n';
  if (records == nullptr) return;
  record.key_begin = record_keys_.size();
  record_keys_.append(key);
  record.key_end = record_keys_.size();
  records->push_back(record);
}

void ChangeEncoder::WriteDelete(std::string_view before, std::string_view key, int64_t row, std::string& out,
                                std::vector<Record>* records) {
  const size_t begin = out.size();
  if (mode_ == ChangelogMode::kChangelog) {
    StrAppend(&out, "{\"before\":", before, ",\"after\":null,\"op\":\"d\"}");
    WriteRecord(out, begin, false, key, row, records);
  } else {
    StrAppend(&out, "{\"key\":", key, ",\"deleted\":true}");
    WriteRecord(out, begin, true, key, row, records);
  }
}

void ChangeEncoder::Encode(const Batch& batch, std::string& out, std::vector<Record>* records) {
  if (records != nullptr) records->clear();
  record_keys_.clear();
  const size_t rows = batch.active_rows();
  if (rows == 0) return;
  row_text_.clear();
  rows_->Encode(batch, row_text_);
  LineEnds(row_text_, row_ends_);
  key_batch_.Reset(key_columns_.size(), batch.num_rows());
  for (size_t k = 0; k < key_columns_.size(); ++k)
    key_batch_.SetColumn(k, batch.shared_column(key_columns_[k]));
  if (batch.has_selection()) {
    std::copy(batch.selection(), batch.selection() + rows, key_batch_.MutableSelection());
    key_batch_.SetSelectionCount(rows);
  }
  key_text_.clear();
  keys_->Encode(key_batch_, key_text_);
  key_batch_.Release();
  LineEnds(key_text_, key_ends_);
  SLUICE_CHECK_EQ(row_ends_.size(), rows);
  SLUICE_CHECK_EQ(key_ends_.size(), rows);
  auto row_of = [&](size_t i) {
    const size_t begin = i == 0 ? 0 : row_ends_[i - 1] + 1;
    return std::string_view(row_text_).substr(begin, row_ends_[i] - begin);
  };
  auto key_of = [&](size_t i) {
    const size_t begin = i == 0 ? 0 : key_ends_[i - 1] + 1;
    return std::string_view(key_text_).substr(begin, key_ends_[i] - begin);
  };
  for (size_t i = 0; i < rows; ++i) {
    const uint32_t physical = batch.ActiveRow(i);
    const RowKind kind = batch.row_kind(physical);
    const std::string_view row = row_of(i);
    const std::string_view key = key_of(i);
    if (pending_) {
      pending_ = false;
      if (kind == RowKind::kUpdateAfter) {
        const size_t begin = out.size();
        if (mode_ == ChangelogMode::kChangelog) {
          StrAppend(&out, "{\"before\":", pending_row_, ",\"after\":", row, ",\"op\":\"u\"}");
        } else {
          out.append(row);
        }
        WriteRecord(out, begin, false, key, physical, records);
        continue;
      }
      WriteDelete(pending_row_, pending_key_, -1, out, records);
    }
    switch (kind) {
      case RowKind::kUpdateBefore:
        pending_ = true;
        pending_row_.assign(row);
        pending_key_.assign(key);
        break;
      case RowKind::kDelete: WriteDelete(row, key, physical, out, records); break;
      case RowKind::kInsert:
      case RowKind::kUpdateAfter: {
        const size_t begin = out.size();
        if (mode_ == ChangelogMode::kChangelog) {
          StrAppend(&out, "{\"before\":null,\"after\":", row, ",\"op\":\"c\"}");
        } else {
          out.append(row);
        }
        WriteRecord(out, begin, false, key, physical, records);
        break;
      }
    }
  }
}

void ChangeEncoder::Finish(std::string& out, std::vector<Record>* records) {
  if (records != nullptr) records->clear();
  record_keys_.clear();
  if (!pending_) return;
  pending_ = false;
  WriteDelete(pending_row_, pending_key_, -1, out, records);
}

void ChangeEncoder::Snapshot(StateWriter& writer) const {
  writer.WriteU8(pending_ ? 1 : 0);
  if (!pending_) return;
  writer.WriteBytes(pending_row_);
  writer.WriteBytes(pending_key_);
}

absl::Status ChangeEncoder::Restore(StateReader& reader) {
  SLUICE_ASSIGN_OR_RETURN(const uint8_t pending, reader.ReadU8());
  if (pending > 1) return absl::DataLossError("change encoder snapshot: bad pending flag");
  pending_ = pending == 1;
  if (!pending_) return absl::OkStatus();
  SLUICE_ASSIGN_OR_RETURN(std::string_view row, reader.ReadBytes());
  SLUICE_ASSIGN_OR_RETURN(std::string_view key, reader.ReadBytes());
  pending_row_.assign(row);
  pending_key_.assign(key);
  return absl::OkStatus();
}

}  // namespace sluice
