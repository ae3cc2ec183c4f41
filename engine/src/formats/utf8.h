// UTF-8 validation for the text Sluice writes: JSON output must be valid UTF-8, whatever bytes
// the input held.
//
// Invalid input is replaced the way the Unicode Standard (chapter 3, "U+FFFD Substitution of
// Maximal Subparts") and the WHATWG Encoding Standard's UTF-8 decoder do it: each maximal
// subpart of an ill-formed sequence becomes one U+FFFD. A maximal subpart is the longest prefix
// of a well-formed sequence found at the position, or else one byte. So overlong forms
// (C0 AF), surrogates (ED A0 80) and code points above U+10FFFF (F4 90 80 80) become one U+FFFD
// per byte, and a sequence cut short (E2 82 followed by 'A' or by the end) becomes one U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice {

// U+FFFD REPLACEMENT CHARACTER in UTF-8.
inline constexpr char kReplacementCharacter[] = "\xEF\xBF\xBD";
inline constexpr size_t kReplacementCharacterBytes = 3;

struct Utf8Sequence {
  uint8_t length;  // bytes it covers: a well-formed sequence (1-4) or a maximal subpart (1-3)
  bool valid;
};

// The sequence starting at `text[0]` (`size` >= 1 bytes readable): a well-formed character,
// or the maximal subpart of an ill-formed one, which a writer replaces with one U+FFFD.
inline Utf8Sequence ScanUtf8Sequence(const unsigned char* text, size_t size) {
  const unsigned char lead = text[0];
  if (lead < 0x80) return {1, true};
  // The length a lead byte announces and the range its second byte must fall in (Unicode
  // Table 3-7: the narrow ranges exclude overlongs, surrogates and values above U+10FFFF).
  size_t length;
  unsigned char low = 0x80, high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return {1, false};  // a continuation byte, C0, C1 or F5-FF: never starts a character
  }
  if (size < 2 || text[1] < low || text[1] > high) return {1, false};
  for (size_t i = 2; i < length; ++i) {
    if (i >= size || text[i] < 0x80 || text[i] > 0xBF) return {static_cast<uint8_t>(i), false};
  }
  return {static_cast<uint8_t>(length), true};
}

// True when `text` is entirely well-formed UTF-8 (simdjson's validator: many bytes per cycle).
bool IsValidUtf8(std::string_view text);

// The length of the longest prefix of `text` of at most `limit` bytes that does not end inside
// a multi-byte character, so that a prefix of valid UTF-8 stays valid.
size_t Utf8PrefixLength(std::string_view text, size_t limit);

}  // namespace sluice
