#include "api/embedded_sink.h"

#include <utility>

#include "common/strings.h"

namespace sluice {

EmbeddedSink::EmbeddedSink(const SinkDefinition& definition, const Schema& schema, std::unique_ptr<Sink> sink)
    : name_(definition.name),
      format_(definition.format == "csv" ? "csv" : "json"),
      encoder_(definition.format == "csv" ? MakeCsvEncoder(schema, definition.csv_delimiter)
                                          : MakeJsonEncoder(schema)),
      sink_(std::move(sink)) {}

absl::Status EmbeddedSink::Open() {
  if (sink_ == nullptr) {
    return absl::FailedPreconditionError(
        StrCat("the factory in JobOptions::sinks for '", name_, "' returned no sink"));
  }
  return sink_->Open();
}

absl::Status EmbeddedSink::Push(const Batch& batch) {
  if (batch.active_rows() == 0) return absl::OkStatus();
  text_.clear();
  encoder_->Encode(batch, text_);
  rows_written_ += batch.active_rows();
  return sink_->Write(text_);
}

std::string EmbeddedSink::Describe() const {
  return StrCat("EmbeddedSink ", name_, " (", format_, ")");
}

}  // namespace sluice
