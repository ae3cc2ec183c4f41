// Compiled patterns (date-time patterns, regular expressions) shared by the calls of one thread,
// for kernels whose pattern argument is text: a kernel looks its pattern up when the text
// changes (once per batch for a constant pattern) and compiles it only the first time a thread
// sees it. Private to expr/functions/: include it only from there.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

// The compiled form of `text` from a cache of the last kCapacity patterns this thread compiled
// with `compile` (text -> std::unique_ptr<Compiled>, nullptr when the text is not a valid
// pattern); nullptr for an invalid pattern. The pointer stays valid until this thread compiles
// kCapacity further patterns of the same kind.
template <typename Compiled, typename Compile>
const Compiled* CachedPattern(std::string_view text, Compile&& compile) {
  struct Entry {
    std::string text;
    std::unique_ptr<Compiled> compiled;
  };
  constexpr size_t kCapacity = 32;
  thread_local std::vector<Entry> entries;
  for (const Entry& entry : entries) {
    if (entry.text == text) return entry.compiled.get();
  }
  if (entries.size() >= kCapacity) entries.erase(entries.begin());
  entries.push_back(Entry{std::string(text), compile(text)});
  return entries.back().compiled.get();
}

// Remembers the pattern text a kernel saw last (by address and length: a constant's text keeps
// its address from row to row), so that it looks the compiled pattern up only when that changes.
template <typename Compiled>
struct LastPattern {
  std::string_view text;
  const Compiled* compiled = nullptr;
  bool seen = false;

  bool Changed(std::string_view next) const {
    return !seen || next.data() != text.data() || next.size() != text.size();
  }
};

}  // namespace sluice
