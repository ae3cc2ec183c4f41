#include "sql/sql_error_list.h"

#include <algorithm>

#include "common/strings.h"

namespace sluice {

SqlErrorList::SqlErrorList(size_t limit) : limit_(limit) {
  SLUICE_CHECK(limit >= 1);
}

void SqlErrorList::Add(absl::Status error) {
  SLUICE_CHECK(!error.ok());
  if (full()) return;
  const bool held = std::any_of(errors_.begin(), errors_.end(), [&](const absl::Status& other) {
    return other.code() == error.code() && other.message() == error.message();
  });
  if (!held) errors_.push_back(std::move(error));
}

absl::Status SqlErrorList::first() const {
  return errors_.empty() ? absl::OkStatus() : errors_.front();
}

std::string SqlErrorList::Format(const SourceText& source, std::string_view file) const {
  std::string out;
  for (const absl::Status& error : errors_) StrAppend(&out, source.FormatForFile(file, error), "\n");
  StrAppend(&out, errors_.size(), errors_.size() == 1 ? " error" : " errors");
  if (full()) StrAppend(&out, " (stopped at ", limit_, "; there may be more)");
  out += '\n';
  return out;
}

}  // namespace sluice
