// String functions: UPPER LOWER CONCAT || SUBSTRING TRIM LTRIM RTRIM LENGTH (CHAR_LENGTH,
// CHARACTER_LENGTH) REPLACE LEFT RIGHT SPLIT_PART POSITION, and Flink's SPLIT_INDEX LPAD RPAD.
//
// Strings are UTF-8. LENGTH, SUBSTRING, LEFT, RIGHT, POSITION and TRIM's character set count
// characters (code points), as SQLite does for TEXT: a character starts at every byte that is
// not a continuation byte (10xxxxxx), and at byte 0. Matching (REPLACE, SPLIT_PART, POSITION)
// compares bytes. UPPER and LOWER change ASCII letters only.
//
// Results that are a slice of an argument are views into that argument's bytes (the output
// pins the argument's owners once per call); new strings are built in out.heap().
#include <cstdint>
#include <cstring>
#include <string_view>

#include "expr/functions/kernel_loops.h"
#include "expr/scalar_function.h"

namespace sluice {
namespace {

inline const std::string_view* Strings(const Column* column) {
  return column->data<std::string_view>();
}

// --- UTF-8 ------------------------------------------------------------------------------

inline bool IsContinuation(char byte) {
  return (static_cast<unsigned char>(byte) & 0xC0) == 0x80;
}

int64_t CountCharacters(std::string_view text) {
  int64_t count = 0;
  for (char byte : text) count += !IsContinuation(byte);
  if (!text.empty() && IsContinuation(text[0])) ++count;  // stray continuation byte at 0
  return count;
}

// Byte offset just after the first `n` characters of `text` (text.size() if it has fewer).
size_t OffsetAfterCharacters(std::string_view text, uint64_t n) {
  size_t i = 0;
  while (n > 0 && i < text.size()) {
    ++i;
    while (i < text.size() && IsContinuation(text[i])) ++i;
    --n;
  }
  return i;
}

// Byte offset where the last `n` characters of `text` start (0 if it has fewer).
size_t OffsetOfLastCharacters(std::string_view text, uint64_t n) {
  size_t i = text.size();
  while (n > 0 && i > 0) {
    --i;
    while (i > 0 && IsContinuation(text[i])) --i;
    --n;
  }
  return i;
}

inline uint64_t Magnitude(int64_t value) {
  return value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
}

// --- UPPER / LOWER ----------------------------------------------------------------------

template <bool kUpper>
void ChangeCaseKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const std::string_view* input = Strings(arguments[0]);
  StringHeap& heap = out.heap();
  ForEachValidRow<std::string_view>(context, out, [&](size_t row) -> std::string_view {
    const std::string_view text = input[row];
    if (text.empty()) return {};
    char* dest = heap.Allocate(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if constexpr (kUpper) {
        dest[i] = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
      } else {
        dest[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
      }
    }
    return {dest, text.size()};
  });
}

// --- CONCAT and || ----------------------------------------------------------------------

// Concatenation of the arguments' valid values (NULL counts as '') into the heap.
inline std::string_view ConcatenateRow(const Column* const* arguments, size_t argument_count, size_t row,
                                       StringHeap& heap) {
  size_t total = 0;
  for (size_t a = 0; a < argument_count; ++a) {
    if (arguments[a]->IsValid(row)) total += Strings(arguments[a])[row].size();
  }
  if (total == 0) return {};
  char* dest = heap.Allocate(total);
  size_t used = 0;
  for (size_t a = 0; a < argument_count; ++a) {
    if (!arguments[a]->IsValid(row)) continue;
    const std::string_view piece = Strings(arguments[a])[row];
    if (!piece.empty()) std::memcpy(dest + used, piece.data(), piece.size());
    used += piece.size();
  }
  return {dest, total};
}

// CONCAT(a, ...): NULL arguments count as empty strings; never NULL (kCustom).
void ConcatKernel(const KernelContext& context, const Column* const* arguments, size_t argument_count,
                  Column& out) {
  std::string_view* result = out.data<std::string_view>();
  uint8_t* valid = out.validity();
  StringHeap& heap = out.heap();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    result[row] = ConcatenateRow(arguments, argument_count, row, heap);
    valid[row] = 1;
  });
}

// a || b: NULL if either side is NULL (kPropagate), as in SQLite.
void ConcatOperatorKernel(const KernelContext& context, const Column* const* arguments, size_t argument_count,
                          Column& out) {
  StringHeap& heap = out.heap();
  ForEachValidRow<std::string_view>(
      context, out, [&](size_t row) { return ConcatenateRow(arguments, argument_count, row, heap); });
}

// --- SUBSTRING --------------------------------------------------------------------------

// SQLite's substr(text, start[, length]) in characters: 1-based start; start <= 0 and
// negative lengths behave as in SQLite (a negative start counts from the end, a negative
// length takes the characters before start).
std::string_view Substring(std::string_view text, int64_t start, int64_t length, bool has_length) {
  // p1: characters to skip, p2: characters to take.
  int64_t p1 = start;
  int64_t p2 = INT64_MAX;
  bool negative_length = false;
  if (has_length) {
    p2 = length;
    if (p2 < 0) {
      negative_length = true;
      p2 = p2 == INT64_MIN ? INT64_MAX : -p2;
    }
  }
  if (p1 < 0) {
    p1 += CountCharacters(text);
    if (p1 < 0) {
      // Characters before the text's start are taken from the length (p1 < 0 <= p2: no
      // overflow); without a length everything to the end is taken.
      if (has_length) p2 = p2 + p1 < 0 ? 0 : p2 + p1;
      p1 = 0;
    }
  } else if (p1 > 0) {
    --p1;
  } else if (p2 > 0) {
    --p2;
  }
  if (negative_length) {
    p1 -= p2;
    if (p1 < 0) {
      p2 += p1;
      p1 = 0;
    }
  }
  const size_t begin = OffsetAfterCharacters(text, static_cast<uint64_t>(p1));
  const std::string_view rest = text.substr(begin);
  return rest.substr(0, OffsetAfterCharacters(rest, static_cast<uint64_t>(p2)));
}

void SubstringKernel(const KernelContext& context, const Column* const* arguments, size_t argument_count,
                     Column& out) {
  const std::string_view* text = Strings(arguments[0]);
  const int64_t* start = arguments[1]->data<int64_t>();
  const int64_t* length = argument_count > 2 ? arguments[2]->data<int64_t>() : nullptr;
  ForEachValidRow<std::string_view>(context, out, [&](size_t row) {
    return Substring(text[row], start[row], length ? length[row] : 0, length != nullptr);
  });
  out.KeepAliveStringsOf(*arguments[0]);
}

// --- TRIM / LTRIM / RTRIM ---------------------------------------------------------------

// True when the `length` bytes at `character` form one of the characters of `set`.
bool InCharacterSet(const char* character, size_t length, std::string_view set) {
  size_t i = 0;
  while (i < set.size()) {
    size_t end = i + 1;
    while (end < set.size() && IsContinuation(set[end])) ++end;
    if (end - i == length && std::memcmp(set.data() + i, character, length) == 0) return true;
    i = end;
  }
  return false;
}

template <bool kLeft, bool kRight>
std::string_view Trim(std::string_view text, std::string_view set) {
  if (kLeft) {
    while (!text.empty()) {
      size_t length = 1;
      while (length < text.size() && IsContinuation(text[length])) ++length;
      if (!InCharacterSet(text.data(), length, set)) break;
      text.remove_prefix(length);
    }
  }
  if (kRight) {
    while (!text.empty()) {
      size_t start = text.size() - 1;
      while (start > 0 && IsContinuation(text[start])) --start;
      if (!InCharacterSet(text.data() + start, text.size() - start, set)) break;
      text.remove_suffix(text.size() - start);
    }
  }
  return text;
}

// TRIM(s) removes spaces; TRIM(s, chars) removes any of the characters in `chars` (SQLite).
template <bool kLeft, bool kRight>
void TrimKernel(const KernelContext& context, const Column* const* arguments, size_t argument_count,
                Column& out) {
  const std::string_view* text = Strings(arguments[0]);
  const std::string_view* set = argument_count > 1 ? Strings(arguments[1]) : nullptr;
  ForEachValidRow<std::string_view>(context, out, [&](size_t row) {
    return Trim<kLeft, kRight>(text[row], set ? set[row] : std::string_view(" "));
  });
  out.KeepAliveStringsOf(*arguments[0]);
}

// --- LENGTH / POSITION ------------------------------------------------------------------

void LengthKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const std::string_view* text = Strings(arguments[0]);
  ForEachValidRow<int64_t>(context, out, [&](size_t row) { return CountCharacters(text[row]); });
}

// POSITION(needle, haystack): 1-based character position of the first occurrence, 0 when
// absent, 1 for an empty needle (SQLite's instr(haystack, needle)).
void PositionKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const std::string_view* needle = Strings(arguments[0]);
  const std::string_view* haystack = Strings(arguments[1]);
  ForEachValidRow<int64_t>(context, out, [&](size_t row) -> int64_t {
    const size_t found = haystack[row].find(needle[row]);
    if (found == std::string_view::npos) return 0;
    return CountCharacters(haystack[row].substr(0, found)) + 1;
  });
}

// --- REPLACE ----------------------------------------------------------------------------

// Replaces every non-overlapping occurrence of `from`, left to right; `from` = '' changes
// nothing (SQLite). Unchanged strings are returned as views of the input.
std::string_view Replace(std::string_view text, std::string_view from, std::string_view to,
                         StringHeap& heap) {
  if (from.empty()) return text;
  size_t occurrences = 0;
  for (size_t at = text.find(from); at != std::string_view::npos; at = text.find(from, at + from.size())) {
    ++occurrences;
  }
  if (occurrences == 0) return text;
  const size_t size = text.size() - occurrences * from.size() + occurrences * to.size();
  if (size == 0) return {};
  char* dest = heap.Allocate(size);
  size_t used = 0;
  size_t copied_up_to = 0;
  for (size_t at = text.find(from); at != std::string_view::npos; at = text.find(from, at + from.size())) {
    std::memcpy(dest + used, text.data() + copied_up_to, at - copied_up_to);
    used += at - copied_up_to;
    if (!to.empty()) std::memcpy(dest + used, to.data(), to.size());
    used += to.size();
    copied_up_to = at + from.size();
  }
  std::memcpy(dest + used, text.data() + copied_up_to, text.size() - copied_up_to);
  return {dest, size};
}

void ReplaceKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const std::string_view* text = Strings(arguments[0]);
  const std::string_view* from = Strings(arguments[1]);
  const std::string_view* to = Strings(arguments[2]);
  StringHeap& heap = out.heap();
  ForEachValidRow<std::string_view>(context, out,
                                    [&](size_t row) { return Replace(text[row], from[row], to[row], heap); });
  out.KeepAliveStringsOf(*arguments[0]);
}

// --- LEFT / RIGHT -----------------------------------------------------------------------

// LEFT(s, n): the first n characters; a negative n drops the last |n| (PostgreSQL).
// RIGHT(s, n): the last n characters; a negative n drops the first |n|.
template <bool kLeft>
void LeftRightKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const std::string_view* text = Strings(arguments[0]);
  const int64_t* count = arguments[1]->data<int64_t>();
  ForEachValidRow<std::string_view>(context, out, [&](size_t row) {
    const std::string_view s = text[row];
    const int64_t n = count[row];
    if (kLeft) {
      return s.substr(
          0, n >= 0 ? OffsetAfterCharacters(s, Magnitude(n)) : OffsetOfLastCharacters(s, Magnitude(n)));
    }
    return s.substr(n >= 0 ? OffsetOfLastCharacters(s, Magnitude(n))
                           : OffsetAfterCharacters(s, Magnitude(n)));
  });
  out.KeepAliveStringsOf(*arguments[0]);
}

// --- SPLIT_PART -------------------------------------------------------------------------

// PostgreSQL's split_part: the index-th field (1-based; negative counts from the end) of
// `text` split on `delimiter`; '' when out of range (including 0). An empty delimiter makes
// the whole text the only field; an empty text has no fields.
std::string_view SplitPart(std::string_view text, std::string_view delimiter, int64_t index) {
  if (text.empty() || index == 0) return {};
  if (delimiter.empty()) return index == 1 || index == -1 ? text : std::string_view();
  if (index < 0) {
    // Fields are delimited left to right (as PostgreSQL does), then counted from the end.
    int64_t fields = 1;
    for (size_t at = text.find(delimiter); at != std::string_view::npos;
         at = text.find(delimiter, at + delimiter.size())) {
      ++fields;
    }
    if (index < -fields) return {};
    index += fields + 1;
  }
  size_t begin = 0;
  for (int64_t field = 1; field < index; ++field) {
    const size_t at = text.find(delimiter, begin);
    if (at == std::string_view::npos) return {};
    begin = at + delimiter.size();
  }
  const size_t end = text.find(delimiter, begin);
  return end == std::string_view::npos ? text.substr(begin) : text.substr(begin, end - begin);
}

void SplitPartKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const std::string_view* text = Strings(arguments[0]);
  const std::string_view* delimiter = Strings(arguments[1]);
  const int64_t* index = arguments[2]->data<int64_t>();
  ForEachValidRow<std::string_view>(
      context, out, [&](size_t row) { return SplitPart(text[row], delimiter[row], index[row]); });
  out.KeepAliveStringsOf(*arguments[0]);
}

// --- SPLIT_INDEX ------------------------------------------------------------------------

inline bool IsJavaWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
         (c >= 0x1c && c <= 0x1f);
}

// Flink's SPLIT_INDEX: the index-th field (0-based) of `text` split on `delimiter`, every field
// kept (adjacent delimiters give empty fields, as Commons Lang's
// splitByWholeSeparatorPreserveAllTokens); an empty delimiter splits on each whitespace
// character. NULL (false) when index is negative or past the last field, and for an empty text,
// which has no fields.
bool SplitIndex(std::string_view text, std::string_view delimiter, int64_t index, std::string_view* field) {
  if (text.empty() || index < 0) return false;
  size_t begin = 0;
  for (int64_t i = 0;; ++i) {
    size_t end;
    size_t next;
    if (delimiter.empty()) {
      end = begin;
      while (end < text.size() && !IsJavaWhitespace(text[end])) ++end;
      next = end + 1;
    } else {
      end = text.find(delimiter, begin);
      if (end == std::string_view::npos) end = text.size();
      next = end + delimiter.size();
    }
    if (i == index) {
      *field = text.substr(begin, end - begin);
      return true;
    }
    if (end >= text.size()) return false;
    begin = next;
  }
}

void SplitIndexKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const std::string_view* text = Strings(arguments[0]);
  const std::string_view* delimiter = Strings(arguments[1]);
  const int64_t* index = arguments[2]->data<int64_t>();
  std::string_view* result = out.data<std::string_view>();
  uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    result[row] = {};
    if (valid[row] && !SplitIndex(text[row], delimiter[row], index[row], &result[row])) valid[row] = 0;
  });
  out.KeepAliveStringsOf(*arguments[0]);
}

// --- LPAD / RPAD ------------------------------------------------------------------------

// The longest text LPAD and RPAD build, in characters: a value beyond it is NULL rather than an
// allocation that a single row could make arbitrarily large. A record's own limit by default.
constexpr int64_t kMaxPaddedCharacters = int64_t{16} << 20;

// Flink's LPAD/RPAD(text, length, pad): text padded with repeats of pad (on the left or the
// right) or cut to `length` characters. NULL when length is negative or beyond
// kMaxPaddedCharacters, or pad is empty.
template <bool kLeft>
void PadKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const std::string_view* text = Strings(arguments[0]);
  const int64_t* length = arguments[1]->data<int64_t>();
  const std::string_view* pad = Strings(arguments[2]);
  std::string_view* result = out.data<std::string_view>();
  uint8_t* valid = out.validity();
  StringHeap& heap = out.heap();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    result[row] = {};
    if (!valid[row]) return;
    if (length[row] < 0 || length[row] > kMaxPaddedCharacters || pad[row].empty()) {
      valid[row] = 0;
      return;
    }
    const uint64_t want = static_cast<uint64_t>(length[row]);
    const std::string_view input = text[row];
    const uint64_t have = static_cast<uint64_t>(CountCharacters(input));
    if (have >= want) {  // cut to `want` characters (LPAD keeps the start too, as Flink)
      result[row] = input.substr(0, OffsetAfterCharacters(input, want));
      return;
    }
    // The padding: `want - have` characters of pad repeated; a character of pad is at most 4 bytes.
    const uint64_t missing = want - have;
    const uint64_t pad_characters = static_cast<uint64_t>(CountCharacters(pad[row]));
    const size_t whole = static_cast<size_t>(missing / pad_characters);
    const size_t tail = OffsetAfterCharacters(pad[row], missing % pad_characters);
    const size_t size = input.size() + whole * pad[row].size() + tail;
    char* dest = heap.Allocate(size);
    char* at = dest;
    if (!kLeft) {
      std::memcpy(at, input.data(), input.size());
      at += input.size();
    }
    for (size_t i = 0; i < whole; ++i, at += pad[row].size())
      std::memcpy(at, pad[row].data(), pad[row].size());
    std::memcpy(at, pad[row].data(), tail);
    at += tail;
    if (kLeft) std::memcpy(at, input.data(), input.size());
    result[row] = {dest, size};
  });
  out.KeepAliveStringsOf(*arguments[0]);
}

// --- registration -----------------------------------------------------------------------

void Add(FunctionRegistry& registry, std::string_view name, std::vector<TypeId> arguments, TypeId return_type,
         ScalarKernel kernel, NullHandling null_handling = NullHandling::kPropagate) {
  ScalarFunctionSignature signature;
  signature.arguments = std::move(arguments);
  signature.return_type = return_type;
  signature.kernel = kernel;
  signature.null_handling = null_handling;
  registry.Register(name, std::move(signature));
}

}  // namespace

void RegisterStringFunctions(FunctionRegistry& registry) {
  constexpr TypeId kString = TypeId::kString;
  constexpr TypeId kInt = TypeId::kInt64;
  Add(registry, "upper", {kString}, kString, ChangeCaseKernel<true>);
  Add(registry, "lower", {kString}, kString, ChangeCaseKernel<false>);
  {
    ScalarFunctionSignature concat;
    concat.arguments = {kString};
    concat.variadic = kString;
    concat.return_type = kString;
    concat.kernel = ConcatKernel;
    concat.null_handling = NullHandling::kCustom;
    registry.Register("concat", std::move(concat));
  }
  Add(registry, "||", {kString, kString}, kString, ConcatOperatorKernel);
  Add(registry, "substring", {kString, kInt}, kString, SubstringKernel);
  Add(registry, "substring", {kString, kInt, kInt}, kString, SubstringKernel);
  Add(registry, "trim", {kString}, kString, TrimKernel<true, true>);
  Add(registry, "trim", {kString, kString}, kString, TrimKernel<true, true>);
  Add(registry, "ltrim", {kString}, kString, TrimKernel<true, false>);
  Add(registry, "ltrim", {kString, kString}, kString, TrimKernel<true, false>);
  Add(registry, "rtrim", {kString}, kString, TrimKernel<false, true>);
  Add(registry, "rtrim", {kString, kString}, kString, TrimKernel<false, true>);
  Add(registry, "length", {kString}, kInt, LengthKernel);
  Add(registry, "char_length", {kString}, kInt, LengthKernel);
  Add(registry, "character_length", {kString}, kInt, LengthKernel);
  Add(registry, "replace", {kString, kString, kString}, kString, ReplaceKernel);
  Add(registry, "left", {kString, kInt}, kString, LeftRightKernel<true>);
  Add(registry, "right", {kString, kInt}, kString, LeftRightKernel<false>);
  Add(registry, "split_part", {kString, kString, kInt}, kString, SplitPartKernel);
  Add(registry, "position", {kString, kString}, kInt, PositionKernel);
  Add(registry, "split_index", {kString, kString, kInt}, kString, SplitIndexKernel);
  Add(registry, "lpad", {kString, kInt, kString}, kString, PadKernel<true>);
  Add(registry, "rpad", {kString, kInt, kString}, kString, PadKernel<false>);
}

}  // namespace sluice
