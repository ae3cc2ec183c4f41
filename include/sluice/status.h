// Status: how every fallible call of the embedding API reports failure.
//
// It is Abseil's absl::Status and absl::StatusOr, the types the engine uses inside, so an
// error reaches the embedding as the engine produced it: a SQL error's message holds its line,
// column and a caret line; an I/O error names the file. An embedding needs Abseil's headers
// (Debian: libabsl-dev) and links absl::status, as the engine does.
#pragma once

#include "absl/status/status.h"    // IWYU pragma: export
#include "absl/status/statusor.h"  // IWYU pragma: export

namespace sluice {

using Status = absl::Status;
template <typename T>
using StatusOr = absl::StatusOr<T>;

}  // namespace sluice
