// FileSink: the last operator of a pipeline; encodes batches (JSON Lines or CSV) and writes
// them to a file (file_sink), or to standard output (stdout_sink). Output is buffered and written in
// large blocks; Finish() flushes and closes. Write errors fail the job, never drop rows.
//
// Two-phase commit (with durable checkpoints, runtime/file_checkpoint_store.h): rows go to a
// staging file next to the output, `.<name>.inprogress`; at a checkpoint barrier it is fsynced
// and renamed `.<name>.part-<checkpoint>` (sealed), and once that checkpoint is durable the
// part is appended to the output, fsynced and deleted. So the output holds only rows that a
// completed checkpoint covers, in order, each once; a run that finishes (or is stopped) appends
// its last rows on Finish(). The sink's snapshot records the output's committed length and the
// sealed parts: a restore completes the commits the crash interrupted, truncates whatever a
// later, unused checkpoint or a finished run appended, and deletes stale parts, so that the run
// which resumes rewrites exactly what followed the checkpoint.
//
// Changelog modes (plan/changelog_mode.h): 'append' writes every row; 'changelog' and JSON
// 'upsert' write the records of connectors/change_encoder.h; a CSV 'upsert' (planned only for
// statements that never delete) writes every row but update-befores.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

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
  std::string Describe() const override { return Describe(definition_.name); }
  std::string StateSignature() const override { return Describe(""); }

  // Two-phase commit (file_sink only; standard output cannot take back what it printed).
  bool EnableTwoPhaseCommit(bool periodic) override;
  absl::Status PreCommit(uint64_t checkpoint) override;
  absl::Status Commit(uint64_t checkpoint) override;
  absl::Status Snapshot(StateWriter& writer) const override;
  absl::Status Restore(StateReader& reader) override;

  uint64_t rows_written() const override { return rows_written_; }
  uint64_t invalid_utf8_replaced() const override { return encoder_->invalid_utf8_replaced(); }
  const SinkDefinition& definition() const { return definition_; }

 private:
  // Describe(), naming the stream `name` (empty: no name; StateSignature).
  std::string Describe(std::string_view name) const;
  // 'changelog' and JSON 'upsert': the change encoder; CSV 'upsert': update-befores dropped.
  void SetUpChangelog(const SinkDefinition& definition, const Schema& schema);
  FileSink(const SinkDefinition& definition, std::unique_ptr<RecordEncoder> encoder, std::string path,
           bool to_stdout);
  absl::Status WriteBuffer();
  absl::Status Error(const std::string& what, const std::string& path) const;
  // Two-phase commit: the staging file, a sealed part, and appending a part to the output.
  std::string StagingPath() const;
  std::string PartPath(uint64_t checkpoint) const;
  absl::Status OpenStaging();
  absl::Status AppendToOutput(const std::string& part, uint64_t bytes);
  absl::Status CommitThrough(uint64_t checkpoint);
  // Deletes staging files and parts that no checkpoint needs (after a restore or fresh start).
  void DeleteStaleParts() const;

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

  bool two_phase_ = false;
  bool restored_ = false;          // Restore() prepared the output: Open() must not truncate it
  int output_fd_ = -1;             // the output, appended to by commits
  uint64_t committed_bytes_ = 0;   // the output's length: everything committed
  uint64_t staged_bytes_ = 0;      // in the staging file
  struct SealedPart {
    uint64_t checkpoint = 0;
    uint64_t bytes = 0;
  };
  std::vector<SealedPart> sealed_;  // awaiting their checkpoint's completion, oldest first
};

}  // namespace sluice
