// CheckpointStore: where the parallel runtime hands the snapshots a checkpoint consists of.
//
// Checkpoint N is a consistent cut (Chandy–Lamport, with barriers aligned at every task that
// has several inputs): every source partition's read position and every operator's state, each
// taken when barrier N passed it, so that a job restored from them and reading on from those
// positions produces what the uninterrupted job would have produced after the cut.
//
// Put() is called exactly once per (checkpoint, task, operator) — operator 0 of a source task
// is the source partition itself — from the task's own thread, so implementations must be
// thread-safe. Complete(N) follows once every task has put its part and every sink has
// flushed what it received before barrier N. A store may make N durable after Complete()
// returns (FileCheckpointStore writes on a thread of its own): durable_checkpoint() says how far
// it got, and only then do sinks publish what N covers (SinkOperator::Commit). Tests use
// InMemoryCheckpointStore, durable on Complete().
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "common/status.h"
#include "common/strings.h"

namespace sluice {

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  virtual absl::Status Put(uint64_t checkpoint, const std::string& task, size_t operator_index,
                           std::string snapshot) = 0;
  virtual absl::Status Complete(uint64_t checkpoint) = 0;
  // The newest checkpoint (as Complete() numbered it) that is durable; 0 before any.
  virtual uint64_t durable_checkpoint() const = 0;
  // Waits until every completed checkpoint is durable; the first write error, if any.
  virtual absl::Status WaitDurable() { return absl::OkStatus(); }
  // A buffer to write the next snapshot of (task, operator) into: the last one's, once the
  // store is done with it, so that its capacity is reused (empty when there is none).
  virtual std::string TakeBuffer(const std::string& task, size_t operator_index) { return {}; }
  // The snapshot a completed checkpoint holds for (task, operator), for a restore.
  virtual absl::StatusOr<std::string> Get(uint64_t checkpoint, const std::string& task,
                                          size_t operator_index) const = 0;

  // The tasks a completed checkpoint holds snapshots of (for a restore: state that no operator
  // claims).
  virtual std::vector<std::string> TasksOf(uint64_t checkpoint) const = 0;

  // Commit records, for jobs with a sink that cannot finish a commit after a restore
  // (SinkOperator::RecommitsOnRestore). Called before the first Complete(): every checkpoint
  // from now on is restorable only once RecordCommitted() marked it; recovery passes over a
  // durable checkpoint without the mark (its output was not committed) to the one before.
  virtual void RequireCommitRecords() {}
  // Every sink committed what durable checkpoint `checkpoint` covers: mark it, durably, before
  // returning.
  virtual absl::Status RecordCommitted(uint64_t checkpoint) { return absl::OkStatus(); }
};

class InMemoryCheckpointStore final : public CheckpointStore {
 public:
  absl::Status Put(uint64_t checkpoint, const std::string& task, size_t operator_index,
                   std::string snapshot) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, inserted] = snapshots_.emplace(Key{checkpoint, task, operator_index}, std::move(snapshot));
    if (!inserted) {
      return absl::InternalError(StrCat("checkpoint ", checkpoint, ": task '", task, "' operator ",
                                        operator_index, " snapshotted twice"));
    }
    return absl::OkStatus();
  }
  absl::Status Complete(uint64_t checkpoint) override {
    std::lock_guard<std::mutex> lock(mutex_);
    completed_.push_back(checkpoint);
    return absl::OkStatus();
  }
  uint64_t durable_checkpoint() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return completed_.empty() ? 0 : completed_.back();
  }
  absl::StatusOr<std::string> Get(uint64_t checkpoint, const std::string& task,
                                  size_t operator_index) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = snapshots_.find(Key{checkpoint, task, operator_index});
    if (it == snapshots_.end()) {
      return absl::NotFoundError(StrCat("checkpoint ", checkpoint, " holds no snapshot for task '", task,
                                        "' operator ", operator_index));
    }
    return it->second;
  }

  std::vector<std::string> TasksOf(uint64_t checkpoint) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> tasks;
    for (const auto& [key, bytes] : snapshots_) {
      if (std::get<0>(key) == checkpoint) tasks.push_back(std::get<1>(key));
    }
    return tasks;
  }

  std::vector<uint64_t> completed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return completed_;
  }
  // Snapshots put for `checkpoint`, by (task, operator).
  std::map<std::pair<std::string, size_t>, std::string> SnapshotsOf(uint64_t checkpoint) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::map<std::pair<std::string, size_t>, std::string> out;
    for (const auto& [key, bytes] : snapshots_) {
      if (std::get<0>(key) == checkpoint) out[{std::get<1>(key), std::get<2>(key)}] = bytes;
    }
    return out;
  }
  // Drops the snapshots of every checkpoint before `checkpoint` (long runs keep memory flat).
  void Prune(uint64_t checkpoint) {
    std::lock_guard<std::mutex> lock(mutex_);
    snapshots_.erase(snapshots_.begin(), snapshots_.lower_bound(Key{checkpoint, std::string(), 0}));
  }

 private:
  using Key = std::tuple<uint64_t, std::string, size_t>;
  mutable std::mutex mutex_;
  std::map<Key, std::string> snapshots_;
  std::vector<uint64_t> completed_;
};

}  // namespace sluice
