// SinkOperator: the last operator of a statement's pipeline, which delivers its rows outside
// the job (a file, standard output; an embedding's own sink through RunOptions::make_sink).
#pragma once

#include <cstdint>

#include "ops/operator.h"

namespace sluice {

class SinkOperator : public Operator {
 public:
  // Acquires the output (creates the file); called once before the first Push().
  virtual absl::Status Open() = 0;
  // Rows delivered so far.
  virtual uint64_t rows_written() const = 0;
  // A sink never stops its input early.
  bool IsDone() const override { return false; }
};

}  // namespace sluice
