#include "formats/utf8.h"

#include <simdjson.h>

namespace sluice {

bool IsValidUtf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

size_t Utf8PrefixLength(std::string_view text, size_t limit) {
  if (text.size() <= limit) return text.size();
  // Back off over continuation bytes (at most 3) to the start of the character the cut splits.
  size_t cut = limit;
  for (int steps = 0; steps < 3 && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80;
       ++steps) {
    --cut;
  }
  return (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80 ? limit : cut;
}

}  // namespace sluice
