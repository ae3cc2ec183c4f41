// The text of a job file and the error format every SQL error uses.
//
// An error made here is an absl::Status whose message names the position and underlines it:
//
//   line 3, column 8: unknown column 'nope'
//     3 | SELECT nope FROM trades
//       |        ^
//
// and which carries the position and the bare message as a payload (SqlErrorDetailOf), from
// which a tool that knows the file's name prints the form gcc uses and editors and CI
// annotations parse (FormatForFile):
//
//   trades.sql:3:8: error: unknown column 'nope'
//     3 | SELECT nope FROM trades
//       |        ^
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

struct SourcePosition {
  uint32_t line = 0;    // 1-based; 0 = unknown
  uint32_t column = 0;  // 1-based, in bytes
};

// Where and what an error made by SourceText::Error or NotSupported is.
struct SqlErrorDetail {
  SourcePosition position;
  std::string message;  // without the position and the excerpt
};

// The detail of an error made by SourceText::Error or NotSupported; nullopt for any other status.
std::optional<SqlErrorDetail> SqlErrorDetailOf(const absl::Status& status);

class SourceText {
 public:
  SourceText() = default;
  explicit SourceText(std::string text) : text_(std::move(text)) {}
  const std::string& text() const { return text_; }

  // The message with its position and the offending line underlined by a caret.
  std::string FormatError(SourcePosition position, std::string_view message) const;
  // InvalidArgumentError carrying FormatError(...) and the detail.
  absl::Status Error(SourcePosition position, std::string_view message) const;
  // UnimplementedError "not supported yet: <what>" at `position`, with the detail.
  absl::Status NotSupported(SourcePosition position, std::string_view what) const;

  // `file:line:column: error: message` and the excerpt for an error with a detail (made from
  // this text); `file: error: message` for any other error.
  std::string FormatForFile(std::string_view file, const absl::Status& error) const;

 private:
  // The line at `position` and a caret under its column:
  //     3 | SELECT nope FROM trades
  //       |        ^
  // A line longer than 160 bytes is cut to 160 around the column, with "..." where it was cut.
  std::string Excerpt(SourcePosition position) const;

  std::string text_;
};

}  // namespace sluice
