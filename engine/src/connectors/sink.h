// SinkOperator: the last operator of a statement's pipeline, which delivers its rows outside
// the job (a file, standard output, a Kafka topic; an embedding's own sink through
// RunOptions::make_sink).
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
  // Ill-formed UTF-8 sequences the sink's encoder replaced with U+FFFD so far (JSON output).
  virtual uint64_t invalid_utf8_replaced() const { return 0; }
  // A flush point (see connectors/source.h): returns once everything pushed so far is
  // delivered and acknowledged by the destination (a Kafka sink awaits its delivery reports
  // and, when transactional, commits), or with the error that prevented it.
  virtual absl::Status Flush() { return absl::OkStatus(); }
  // A sink never stops its input early.
  bool IsDone() const override { return false; }
};

}  // namespace sluice
