#include "formats/record_splitter.h"

#include <algorithm>
#include <cstring>

namespace sluice {

namespace {

const char* Find(const char* begin, const char* end, char c) {
  return begin < end ? static_cast<const char*>(std::memchr(begin, c, static_cast<size_t>(end - begin)))
                     : nullptr;
}

}  // namespace

const char* RecordSplitter::FindEnd(const char* begin, const char* end) {
  if (!csv_) return Find(begin, end, '\n');
  return FindCsvEnd(begin, end);
}

const char* RecordSplitter::FindCsvEnd(const char* p, const char* end) {
  // The first newline at or after p once searched for (`end`: none), so that a line of many
  // quoted fields is searched for its newline once, not once per field.
  const char* next_newline = nullptr;
  while (p < end) {
    switch (state_) {
      case State::kQuoted: {
        const char* quote = Find(p, end, '"');
        const char* stop = quote != nullptr ? quote : end;
        inner_line_breaks_ += static_cast<uint64_t>(std::count(p, stop, '\n'));
        if (quote == nullptr) return nullptr;
        state_ = State::kQuoteInQuoted;
        p = quote + 1;
        break;
      }
      case State::kQuoteInQuoted:
        if (*p == '"') {  // "" stands for one quote; the field goes on
          state_ = State::kQuoted;
          ++p;
          break;
        }
        state_ = State::kUnquoted;  // the field closed; *p is read as unquoted text
        break;
      case State::kFieldStart:
        if (*p == '"') {
          state_ = State::kQuoted;
          ++p;
          break;
        }
        state_ = State::kUnquoted;
        [[fallthrough]];
      case State::kUnquoted: {
        // Up to the newline, only a quote right after a delimiter matters: it opens a field.
        if (next_newline == nullptr || next_newline < p) {
          next_newline = Find(p, end, '\n');
          if (next_newline == nullptr) next_newline = end;
        }
        const char* stop = next_newline;
        const char* opening = nullptr;
        for (const char* quote = Find(p, stop, '"'); quote != nullptr; quote = Find(quote + 1, stop, '"')) {
          if (quote > p && quote[-1] == delimiter_) {
            opening = quote;
            break;
          }
        }
        if (opening != nullptr) {
          state_ = State::kQuoted;
          p = opening + 1;
          break;
        }
        if (stop != end) return stop;
        state_ = end[-1] == delimiter_ ? State::kFieldStart : State::kUnquoted;
        return nullptr;
      }
    }
  }
  return nullptr;
}

}  // namespace sluice
