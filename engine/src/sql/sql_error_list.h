// SqlErrorList: the errors of one job, collected so that `sluice validate` reports all of them
// rather than the first. The parser resynchronises after a syntax error and goes on with the
// next statement (parser.h); the binder goes on with the next statement after a bind error
// (binder.h); the WITH properties report every bad key (job_properties.h).
//
// The list holds at most `limit` errors; the stages that collect stop once it is full(). An
// error equal to one already held (same code and message, so the same position) is not held
// again, e.g. a source whose definition fails and that two statements read.
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sql/source_text.h"

namespace sluice {

class SqlErrorList {
 public:
  static constexpr size_t kDefaultLimit = 20;

  // REQUIRES: limit >= 1.
  explicit SqlErrorList(size_t limit = kDefaultLimit);

  // Holds `error` unless the list is full or holds an equal error.
  // REQUIRES: !error.ok().
  void Add(absl::Status error);

  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  bool full() const { return errors_.size() >= limit_; }
  const std::vector<absl::Status>& errors() const { return errors_; }

  // The first error held, or OkStatus(): for callers that stop at the first error.
  absl::Status first() const;

  // Every error in the editor form (SourceText::FormatForFile), each ending with a newline, then
  // a count line: "1 error", "3 errors", or at the limit "20 errors (stopped at 20; there may be
  // more)".
  std::string Format(const SourceText& source, std::string_view file) const;

 private:
  size_t limit_;
  std::vector<absl::Status> errors_;
};

}  // namespace sluice
