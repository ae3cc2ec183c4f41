#include "sql/source_text.h"

#include "common/strings.h"

namespace sluice {

std::string SourceText::FormatError(SourcePosition position, std::string_view message) const {
  if (position.line == 0) return std::string(message);
  std::string out = StrCat("line ", position.line, ", column ", position.column, ": ", message);
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
  const std::string number = std::to_string(position.line);
  StrAppend(&out, "\n  ", number, " | ", line_text, "\n  ", std::string(number.size(), ' '), " | ");
  for (uint32_t i = 1; i < position.column && i - 1 < line_text.size(); ++i) {
    out += line_text[i - 1] == '\t' ? '\t' : ' ';
  }
  out += '^';
  return out;
}

absl::Status SourceText::Error(SourcePosition position, std::string_view message) const {
  return absl::InvalidArgumentError(FormatError(position, message));
}

absl::Status SourceText::NotSupported(SourcePosition position, std::string_view what) const {
  return absl::UnimplementedError(FormatError(position, StrCat("not supported yet: ", what)));
}

}  // namespace sluice
