#include "sql/source_text.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/cord.h"
#include "common/strings.h"

namespace sluice {
namespace {

// The payload of an error with a detail: "<line>:<column>:<message>".
constexpr char kDetailTypeUrl[] = "sluice/sql-error-detail";

// Lines longer than this are shown cut around the column (a generated job may hold one
// expression of megabytes on one line).
constexpr size_t kExcerptWidth = 160;

absl::Status WithDetail(absl::Status status, SourcePosition position, std::string_view message) {
  status.SetPayload(kDetailTypeUrl, absl::Cord(StrCat(position.line, ":", position.column, ":", message)));
  return status;
}

}  // namespace

std::optional<SqlErrorDetail> SqlErrorDetailOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kDetailTypeUrl);  // absl::optional<absl::Cord>
  if (!payload) return std::nullopt;
  const std::string text(*payload);
  SqlErrorDetail detail;
  const char* end = text.data() + text.size();
  auto [after_line, line_error] = std::from_chars(text.data(), end, detail.position.line);
  if (line_error != std::errc() || after_line == end || *after_line != ':') return std::nullopt;
  auto [after_column, column_error] = std::from_chars(after_line + 1, end, detail.position.column);
  if (column_error != std::errc() || after_column == end || *after_column != ':') return std::nullopt;
  detail.message.assign(after_column + 1, end);
  return detail;
}

std::string SourceText::Excerpt(SourcePosition position) const {
  // Find the line's text.
  size_t start = 0;
  for (uint32_t line = 1; line < position.line && start < text_.size(); ++line) {
    const size_t newline = text_.find('\n', start);
    if (newline == std::string::npos) {
      start = text_.size();
      break;
    }
    start = newline + 1;
  }
  size_t end = text_.find('\n', start);
  if (end == std::string::npos) end = text_.size();
  std::string_view line_text(text_.data() + start, end - start);
  if (!line_text.empty() && line_text.back() == '\r') line_text.remove_suffix(1);
  // The caret's offset in the line (it may sit just past the end, at the end of the job).
  size_t caret = std::min<size_t>(position.column > 0 ? position.column - 1 : 0, line_text.size());
  std::string_view before, after;
  if (line_text.size() > kExcerptWidth) {
    const size_t first = caret > kExcerptWidth / 2 ? caret - kExcerptWidth / 2 : 0;
    const size_t last = std::min(line_text.size(), first + kExcerptWidth);
    if (first > 0) before = "...";
    if (last < line_text.size()) after = "...";
    line_text = line_text.substr(first, last - first);
    caret -= first;
  }
  const std::string number = std::to_string(position.line);
  std::string out = StrCat("  ", number, " | ", before, line_text, after, "\n  ",
                           std::string(number.size(), ' '), " | ", std::string(before.size(), ' '));
  for (size_t i = 0; i < caret; ++i) out += line_text[i] == '\t' ? '\t' : ' ';
  out += '^';
  return out;
}

std::string SourceText::FormatError(SourcePosition position, std::string_view message) const {
  if (position.line == 0) return std::string(message);
  return StrCat("line ", position.line, ", column ", position.column, ": ", message, "\n", Excerpt(position));
}

absl::Status SourceText::Error(SourcePosition position, std::string_view message) const {
  return WithDetail(absl::InvalidArgumentError(FormatError(position, message)), position, message);
}

absl::Status SourceText::NotSupported(SourcePosition position, std::string_view what) const {
  const std::string message = StrCat("not supported yet: ", what);
  return WithDetail(absl::UnimplementedError(FormatError(position, message)), position, message);
}

std::string SourceText::FormatForFile(std::string_view file, const absl::Status& error) const {
  const std::optional<SqlErrorDetail> detail = SqlErrorDetailOf(error);
  if (!detail) return StrCat(file, ": error: ", std::string(error.message()));
  if (detail->position.line == 0) return StrCat(file, ": error: ", detail->message);
  return StrCat(file, ":", detail->position.line, ":", detail->position.column, ": error: ", detail->message,
                "\n", Excerpt(detail->position));
}

}  // namespace sluice
