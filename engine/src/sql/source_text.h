// The text of a job file and the error format every SQL error uses:
//
//   line 3, column 8: unknown column 'nope'
//     3 | SELECT nope FROM trades
//       |        ^
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

struct SourcePosition {
  uint32_t line = 0;    // 1-based; 0 = unknown
  uint32_t column = 0;  // 1-based, in bytes
};

class SourceText {
 public:
  SourceText() = default;
  explicit SourceText(std::string text) : text_(std::move(text)) {}
  const std::string& text() const { return text_; }

  // The message with its position and the offending line underlined by a caret.
  std::string FormatError(SourcePosition position, std::string_view message) const;
  // InvalidArgumentError carrying FormatError(...).
  absl::Status Error(SourcePosition position, std::string_view message) const;
  // UnimplementedError "not supported yet: <what>" at `position`.
  absl::Status NotSupported(SourcePosition position, std::string_view what) const;

 private:
  std::string text_;
};

}  // namespace sluice
