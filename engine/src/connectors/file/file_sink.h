// FileSink: the last operator of a pipeline; encodes batches (JSON Lines or CSV) and writes
// them to a file (file_sink), or to standard output (stdout_sink). Output is buffered and written in
// large blocks; Finish() flushes and closes. Write errors fail the job, never drop rows.
//
// Changelog modes (plan/changelog_mode.h): 'append' writes every row; 'changelog' and JSON
// 'upsert' write the records of connectors/change_encoder.h; a CSV 'upsert' (planned only for
// statements that never delete) writes every row but update-befores.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "connectors/change_encoder.h"
#include "catalog/connector_definition.h"
#include "connectors/sink.h"
#include "formats/record_format.h"

namespace sluice {

class FileSink final : public SinkOperator {
 public:
  // Builds the sink without touching the file system (EXPLAIN builds plans too): to the file
  // `path` (file_sink), or to standard output (stdout_sink).
  static std::unique_ptr<FileSink> CreateFile(const SinkDefinition& definition, const Schema& schema,
                                              std::string path);
  static std::unique_ptr<FileSink> CreateStdout(const SinkDefinition& definition, const Schema& schema);
  // Creates (truncates) the output file; call once before the first Push().
  absl::Status Open() override;
  ~FileSink() override;

  absl::Status Push(const Batch& batch) override;
  absl::Status Finish() override;
  // Writes the buffered rows and flushes the file (a flush point).
  absl::Status Flush() override;
  std::string Describe() const override;

  uint64_t rows_written() const override { return rows_written_; }
  uint64_t invalid_utf8_replaced() const override { return encoder_->invalid_utf8_replaced(); }
  const SinkDefinition& definition() const { return definition_; }

 private:
  // 'changelog' and JSON 'upsert': the change encoder; CSV 'upsert': update-befores dropped.
  void SetUpChangelog(const SinkDefinition& definition, const Schema& schema);
  FileSink(const SinkDefinition& definition, std::unique_ptr<RecordEncoder> encoder, std::string path,
           bool to_stdout);
  absl::Status WriteBuffer();

  SinkDefinition definition_;
  std::string path_;  // empty for standard output
  bool to_stdout_ = false;
  std::unique_ptr<RecordEncoder> encoder_;
  std::unique_ptr<ChangeEncoder> change_encoder_;  // 'changelog', or 'upsert' in JSON
  bool drop_update_before_ = false;                // 'upsert' in CSV
  Batch kept_rows_;                                // scratch: the rows a CSV upsert writes
  std::FILE* file_ = nullptr;
  bool owns_file_ = false;
  std::string buffer_;
  uint64_t rows_written_ = 0;
};

}  // namespace sluice
