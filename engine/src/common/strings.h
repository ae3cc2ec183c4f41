// String building and inspection for std::string / std::string_view.
//
// Debian's Abseil is built with its own absl::string_view (not an alias of std::string_view),
// so absl's string functions do not accept std::string_view. These small equivalents do; absl
// stays in use for Status/StatusOr and containers.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"

namespace sluice {
namespace strings_internal {

inline void Append(std::string& out, std::string_view piece) {
  out.append(piece);
}
inline void Append(std::string& out, const std::string& piece) {
  out.append(piece);
}
inline void Append(std::string& out, const char* piece) {
  out.append(piece);
}
inline void Append(std::string& out, absl::string_view piece) {
  out.append(piece.data(), piece.size());
}
inline void Append(std::string& out, char c) {
  out.push_back(c);
}
template <typename T, typename = std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, char> &&
                                                  !std::is_same_v<T, bool>>>
inline void Append(std::string& out, T value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), value);
  out.append(digits, result.ptr);
}

}  // namespace strings_internal

// Concatenates strings, string views, characters and integers (format doubles explicitly).
template <typename... Pieces>
std::string StrCat(const Pieces&... pieces) {
  std::string out;
  (strings_internal::Append(out, pieces), ...);
  return out;
}

template <typename... Pieces>
void StrAppend(std::string* out, const Pieces&... pieces) {
  (strings_internal::Append(*out, pieces), ...);
}

std::string StrJoin(const std::vector<std::string>& parts, std::string_view separator);

// Splits on `separator`; with `skip_blank`, pieces that are empty or only spaces are dropped.
std::vector<std::string_view> StrSplit(std::string_view text, char separator, bool skip_blank = false);

std::string AsciiToLower(std::string_view text);
std::string AsciiToUpper(std::string_view text);
std::string_view StripWhitespace(std::string_view text);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
inline bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}
inline bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}
bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix);
bool EndsWithIgnoreCase(std::string_view text, std::string_view suffix);

inline bool IsAsciiDigit(char c) {
  return c >= '0' && c <= '9';
}
inline bool IsAsciiAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
inline bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
inline char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

}  // namespace sluice
