// RecordSplitter: where each record of a text input ends, for readers that see the input in
// pieces (a file source's chunks, schema inference's sample).
//
// JSON Lines: a record ends at the next newline. CSV (RFC 4180): at the next newline outside a
// quoted field, so a quoted field may hold line breaks (LF or CRLF, kept in the value). A field
// is quoted when its first byte is '"'; inside it '""' is a quote, and the next lone '"' closes
// it. A '"' elsewhere is an ordinary character, as the CSV decoder reads it, so both agree on
// every record's extent; what follows a closing quote other than a delimiter or the end is the
// decoder's to reject.
//
// The splitter keeps its state between pieces: FindEnd() is given each byte of a record once,
// in order, in one or more pieces, and says where the record ends. A record that begins at a
// newline-free run of bytes costs two memchr calls (newline, then quote) when it is CSV, one
// when it is JSON Lines. Not thread-safe; one per reader.
#pragma once

#include <cstdint>

namespace sluice {

class RecordSplitter {
 public:
  // Newline-delimited records (JSON Lines).
  static RecordSplitter Lines() { return RecordSplitter(false, ','); }
  // CSV records with `delimiter` between fields (never '"' or a line break).
  static RecordSplitter Csv(char delimiter) { return RecordSplitter(true, delimiter); }

  // Scans [begin, end): the bytes of the current record that follow those scanned before.
  // Returns the newline that ends the record, or nullptr when it goes on past `end`.
  const char* FindEnd(const char* begin, const char* end);

  // Line breaks inside the current record's quoted fields so far (CSV): a record that ends at
  // its newline spans 1 + inner_line_breaks() lines.
  uint64_t inner_line_breaks() const { return inner_line_breaks_; }
  // True when the bytes scanned so far end inside a quoted field. At the end of the input:
  // the record's quoted field is never closed.
  bool in_quoted_field() const { return state_ == State::kQuoted; }

  // Starts the next record, after FindEnd() returned the current one's end.
  void StartRecord() {
    state_ = State::kFieldStart;
    inner_line_breaks_ = 0;
  }

 private:
  enum class State : uint8_t {
    kFieldStart,     // before a field's first byte
    kUnquoted,       // inside an unquoted field (or after a quoted field closed)
    kQuoted,         // inside a quoted field
    kQuoteInQuoted,  // a '"' inside a quoted field: '""' goes on, anything else closed it
  };

  RecordSplitter(bool csv, char delimiter) : csv_(csv), delimiter_(delimiter) {}
  const char* FindCsvEnd(const char* begin, const char* end);

  bool csv_;
  char delimiter_;
  State state_ = State::kFieldStart;
  uint64_t inner_line_breaks_ = 0;
};

}  // namespace sluice
