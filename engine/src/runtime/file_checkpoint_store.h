// FileCheckpointStore: durable checkpoints in a directory ('checkpoint.dir', --checkpoint-dir),
// the CheckpointStore of `sluice run`. Checkpoint N is the directory chk-<N, 10 digits> holding
//
//   state      every snapshot Put() for N: (task, operator, bytes) entries, StateWriter format
//   MANIFEST   text: the checkpoint's number, the job it belongs to (the CRC32C and length of
//              the job's text, its parallelism), the state file's length and CRC32C, the wall
//              time it completed, and last a line with the CRC32C of everything before it
//
// Complete(N) hands the checkpoint's snapshots to the store's writer thread and returns: the
// job goes on while it is written. The writer writes the state file, fsyncs it, writes
// MANIFEST.tmp, fsyncs it, renames it to MANIFEST and fsyncs the directory: a checkpoint exists
// once its MANIFEST does, and a crash at any moment leaves either a complete checkpoint or one
// without a MANIFEST. Then durable_checkpoint() moves to N, and checkpoints older than the newest
// `retained` complete ones are deleted, with any incomplete ones among them. One checkpoint is
// written at a time and one more may wait; Complete() of a third waits for the writer. A write
// error is returned by the next Complete() or WaitDurable(): the job fails.
//
// Commit records (RequireCommitRecords, for a job with a Kafka transactional sink): MANIFEST
// then says `commit_record=required`, and RecordCommitted(N) adds the file COMMITTED (fsynced,
// with the directory) once the sinks committed N's output. Retention counts only checkpoints so
// marked, and keeps the newest complete one without the mark, so that there is always a marked
// one to fall back on.
//
// Recover() finds the newest checkpoint whose MANIFEST and state file are intact (lengths and
// CRC32Cs match) and, when it requires a commit record, that has one, and loads it for Get();
// every newer one it passes over is named in a note with the reason (no MANIFEST: torn by a
// crash; a checksum mismatch: corrupt; no commit record: its output was not committed). A checkpoint of
// another job (other text) is an error, not a fallback: restoring its state into a different
// plan would be wrong. One taken at another parallelism is recovered (CheckpointInfo says which):
// the runtime rescales it, or refuses naming the operator that cannot move.
//
// Numbers: a run numbers its checkpoints from 1 (Put, Complete); the store adds the newest
// number already in the directory when it was opened, so that numbers keep growing across runs
// and a resumed run never overwrites the checkpoint it resumed from. Get() and CheckpointInfo
// use the numbers of the directory.
//
// Put() may be called from any task's thread; Complete() and Recover() from one thread (the
// coordinator). Snapshots of the checkpoint in flight are held in memory until Complete().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/checkpoint_store.h"

namespace sluice {

// What a checkpoint must match to be restored: the job's text. A savepoint restored on purpose
// (--from-savepoint) may belong to a changed text (`same_text` false): each operator then finds
// its state by its id and checks its signature (runtime/parallel_runner.cc). The parallelism is
// recorded, not matched: a restore at another one rescales (state/key_groups.h).
struct CheckpointJobIdentity {
  uint32_t text_crc32c = 0;
  uint64_t text_bytes = 0;
  int parallelism = 1;
  bool same_text = true;

  static CheckpointJobIdentity Of(std::string_view job_text, int parallelism);
};

struct CheckpointInfo {
  uint64_t id = 0;
  std::string path;                 // the checkpoint's directory
  int64_t completed_unix_millis = 0;
  uint64_t state_bytes = 0;         // of its state file
  int parallelism = 1;              // the parallelism of the run that took it
};

class FileCheckpointStore final : public CheckpointStore {
 public:
  // Creates `directory` if needed. `retained` >= 1 complete checkpoints are kept.
  static absl::StatusOr<std::unique_ptr<FileCheckpointStore>> Open(const std::string& directory,
                                                                   CheckpointJobIdentity identity,
                                                                   int retained);

  // The newest intact checkpoint, loaded for Get(); nullopt when there is none. `notes` gets a
  // line for every newer checkpoint skipped, saying why.
  absl::StatusOr<std::optional<CheckpointInfo>> Recover(std::vector<std::string>* notes);

  absl::Status Put(uint64_t checkpoint, const std::string& task, size_t operator_index,
                   std::string snapshot) override;
  absl::Status Complete(uint64_t checkpoint) override;
  uint64_t durable_checkpoint() const override { return durable_run_checkpoint_.load(std::memory_order_acquire); }
  absl::Status WaitDurable() override;
  // The snapshot buffers of the last checkpoint written are kept for reuse: the store holds
  // about one checkpoint's state in memory between checkpoints.
  std::string TakeBuffer(const std::string& task, size_t operator_index) override;
  absl::StatusOr<std::string> Get(uint64_t checkpoint, const std::string& task,
                                  size_t operator_index) const override;
  std::vector<std::string> TasksOf(uint64_t checkpoint) const override;
  void RequireCommitRecords() override { commit_records_.store(true, std::memory_order_release); }
  absl::Status RecordCommitted(uint64_t checkpoint) override;
  ~FileCheckpointStore() override;

  const std::string& directory() const { return directory_; }
  // The last checkpoint written: how long writing it took (on the writer thread, off the job's
  // path), how large its state file is, and its number in the directory.
  double last_write_seconds() const;
  uint64_t last_state_bytes() const;
  std::optional<uint64_t> last_completed() const;

 private:
  FileCheckpointStore(std::string directory, CheckpointJobIdentity identity, int retained)
      : directory_(std::move(directory)), identity_(identity), retained_(retained) {}
  using Snapshots = std::map<std::pair<std::string, size_t>, std::string>;
  struct Write {
    uint64_t run_checkpoint = 0;
    uint64_t checkpoint = 0;  // in the directory's numbering
    Snapshots snapshots;
  };
  void WriterLoop();
  // Writes and publishes one checkpoint (the writer thread).
  absl::Status WriteCheckpoint(const Write& write);
  std::string CheckpointPath(uint64_t checkpoint) const;
  // Checkpoints present in the directory (complete or not), newest first.
  std::vector<uint64_t> ListCheckpoints() const;
  // Loads checkpoint `id` if it is intact; the reason otherwise.
  absl::Status Load(uint64_t id, CheckpointInfo* info,
                    std::map<std::pair<std::string, size_t>, std::string>* snapshots) const;
  absl::Status DeleteOld(uint64_t newest);

  std::string directory_;
  CheckpointJobIdentity identity_;
  int retained_;
  uint64_t id_base_ = 0;  // added to a run's checkpoint numbers
  std::atomic<bool> commit_records_{false};
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t in_flight_ = 0;
  Snapshots pending_;  // of in_flight_, as Put() delivers them
  std::optional<Write> queued_;  // handed to the writer, not yet taken
  bool writing_ = false;
  bool stopping_ = false;
  absl::Status write_error_;
  std::thread writer_;  // started by the first Complete()
  std::atomic<uint64_t> durable_run_checkpoint_{0};
  uint64_t loaded_id_ = 0;
  Snapshots loaded_;  // of loaded_id_
  Snapshots recycled_;  // buffers of the last checkpoint written, for TakeBuffer()
  double last_write_seconds_ = 0;
  uint64_t last_state_bytes_ = 0;
  std::optional<uint64_t> last_completed_;
};

}  // namespace sluice
