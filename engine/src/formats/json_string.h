// Writing text as a JSON string: quotes, escapes, and UTF-8 repair, so that whatever bytes a
// value holds, the output is valid JSON (RFC 8259 requires UTF-8).
//
// Contract: the output is the text between quotes with '"', '\\' and control characters
// escaped, well-formed UTF-8 copied as is, and each maximal subpart of an ill-formed sequence
// replaced with U+FFFD (formats/utf8.h), counted in `*replaced`. ASCII without escapes costs one
// table lookup per byte: only a byte of 0x80 or above takes the UTF-8 path.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "formats/utf8.h"

namespace sluice {

// The most bytes WriteJsonString writes per input byte (a control character as \u00XX; a
// replaced byte takes 3), besides the two quotes.
inline constexpr size_t kMaxJsonStringBytesPerByte = 6;

namespace json_string_internal {

inline constexpr char kNonAscii = '8';  // a table mark: the byte starts or continues UTF-8

// 0: copied as is; kNonAscii: check UTF-8; otherwise the character after the backslash ('u'
// for \u00XX).
struct EscapeTable {
  char escape[256] = {};
  constexpr EscapeTable() {
    for (int c = 0; c < 0x20; ++c) escape[c] = 'u';
    for (int c = 0x80; c < 0x100; ++c) escape[c] = kNonAscii;
    escape[static_cast<unsigned char>('"')] = '"';
    escape[static_cast<unsigned char>('\\')] = '\\';
    escape[static_cast<unsigned char>('\n')] = 'n';
    escape[static_cast<unsigned char>('\t')] = 't';
    escape[static_cast<unsigned char>('\r')] = 'r';
    escape[static_cast<unsigned char>('\b')] = 'b';
    escape[static_cast<unsigned char>('\f')] = 'f';
  }
};
inline constexpr EscapeTable kEscapes;

}  // namespace json_string_internal

// Writes `text` escaped and repaired, without quotes, at `out`, which needs room for
// kMaxJsonStringBytesPerByte * text.size() bytes; returns the end of what it wrote and adds the
// number of U+FFFD replacements to `replaced`.
inline char* WriteJsonStringBody(char* out, std::string_view text, uint64_t& replaced) {
  using json_string_internal::kEscapes;
  using json_string_internal::kNonAscii;
  static constexpr char kHex[] = "0123456789abcdef";
  const size_t size = text.size();
  if (size == 0) return out;  // an empty view may have a null data pointer: no memcpy from it
  const char* data = text.data();
  size_t run_start = 0;  // the bytes [run_start, i) are copied as they are
  for (size_t i = 0; i < size; ++i) {
    const unsigned char c = static_cast<unsigned char>(data[i]);
    const char escape = kEscapes.escape[c];
    if (escape == 0) continue;
    if (escape == kNonAscii) {
      const Utf8Sequence sequence =
          ScanUtf8Sequence(reinterpret_cast<const unsigned char*>(data) + i, size - i);
      if (sequence.valid) {  // part of the run
        i += sequence.length - 1;
        continue;
      }
      std::memcpy(out, data + run_start, i - run_start);
      out += i - run_start;
      std::memcpy(out, kReplacementCharacter, kReplacementCharacterBytes);
      out += kReplacementCharacterBytes;
      ++replaced;
      i += sequence.length - 1;
      run_start = i + 1;
      continue;
    }
    std::memcpy(out, data + run_start, i - run_start);
    out += i - run_start;
    run_start = i + 1;
    *out++ = '\\';
    *out++ = escape;
    if (escape == 'u') {
      *out++ = '0';
      *out++ = '0';
      *out++ = kHex[c >> 4];
      *out++ = kHex[c & 0xf];
    }
  }
  std::memcpy(out, data + run_start, size - run_start);
  return out + (size - run_start);
}

// Writes `text` as a quoted JSON string at `out`, which needs room for
// kMaxJsonStringBytesPerByte * text.size() + 2 bytes; returns the end of what it wrote and
// adds the number of U+FFFD replacements to `replaced`.
inline char* WriteJsonString(char* out, std::string_view text, uint64_t& replaced) {
  *out++ = '"';
  out = WriteJsonStringBody(out, text, replaced);
  *out++ = '"';
  return out;
}

// Appends `text` as a quoted JSON string to `out`, for cold paths (dead letters). It works in
// pieces, so that a long text needs no room for its worst case at once; a piece ends before a
// byte that does not continue a character, so the pieces are repaired exactly as the whole.
inline void AppendJsonString(std::string_view text, std::string& out, uint64_t& replaced) {
  constexpr size_t kPieceBytes = 64 << 10;
  out += '"';
  while (!text.empty()) {
    const size_t piece = Utf8PrefixLength(text, kPieceBytes);
    const size_t at = out.size();
    out.resize(at + kMaxJsonStringBytesPerByte * piece);
    char* end = WriteJsonStringBody(out.data() + at, text.substr(0, piece), replaced);
    out.resize(static_cast<size_t>(end - out.data()));
    text.remove_prefix(piece);
  }
  out += '"';
}

}  // namespace sluice
