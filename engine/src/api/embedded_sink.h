// EmbeddedSink: the SinkOperator behind a sluice::Sink (include/sluice/sink.h). It encodes each
// batch as the statement's own sink would (JSON Lines or CSV, formats/record_format.h) and
// hands the text to the embedding. Not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "connectors/sink.h"
#include "formats/record_format.h"
#include "plan/logical_plan.h"
#include "sluice/sink.h"

namespace sluice {

class EmbeddedSink final : public SinkOperator {
 public:
  // `definition` is the statement's sink, `schema` its output schema.
  EmbeddedSink(const SinkDefinition& definition, const Schema& schema, std::unique_ptr<Sink> sink);

  absl::Status Open() override;
  absl::Status Push(const Batch& batch) override;
  absl::Status Finish() override { return sink_->Finish(); }
  absl::Status Flush() override { return sink_->Flush(); }
  std::string Describe() const override;

  uint64_t rows_written() const override { return rows_written_; }
  uint64_t invalid_utf8_replaced() const override { return encoder_->invalid_utf8_replaced(); }

 private:
  std::string name_;
  std::string format_;
  std::unique_ptr<RecordEncoder> encoder_;
  std::unique_ptr<Sink> sink_;
  std::string text_;  // reused: no allocation per batch once it has grown
  uint64_t rows_written_ = 0;
};

}  // namespace sluice
