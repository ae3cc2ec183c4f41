// Operator: one step of a push-based pipeline.
//
// An upstream producer calls Push() with each batch and Finish() once at the end of a bounded
// input; the operator emits its results to the operator set with SetOutput(). Operators never
// block. A batch passed to Push() is only valid during the call: an operator that needs data
// later copies it. Once Push() returns, the operator has released every reference to the
// batch's columns, so producers can reuse them (see batch/batch.h).
//
// Operators are not thread-safe; each instance belongs to one worker.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "batch/batch.h"
#include "common/status.h"
#include "ops/state_budget.h"
#include "state/key_groups.h"
#include "state/state_serializer.h"

namespace sluice {

class KeyTable;
class StatefulOperator;

// Told of every key a keyed operator creates state for (see Operator::ObserveNewKeys): the
// parallel runtime checks with it that a declared partitioning holds.
class NewKeyObserver {
 public:
  virtual ~NewKeyObserver() = default;
  // `groups` of `keys` were just created; their key is the first `key_columns` columns (an
  // operator may key its state by more, as a window start). An error fails the Push().
  virtual absl::Status OnNewKeys(const KeyTable& keys, size_t key_columns,
                                 std::span<const uint32_t> groups) = 0;
};

// The state an operator holds: keys (groups, partitions) and bytes by capacity.
struct StateUsage {
  size_t keys = 0;
  size_t bytes = 0;
};

// The watermark a bounded input ends with: every window and pending row becomes final.
inline constexpr int64_t kMaxWatermark = INT64_MAX;

class Operator {
 public:
  virtual ~Operator() = default;

  virtual absl::Status Push(const Batch& batch) = 0;
  // End of input: flush any buffered output, then finish the output operator.
  virtual absl::Status Finish() { return output_ != nullptr ? output_->Finish() : absl::OkStatus(); }
  // Event time has advanced: no record with an event time at or below `watermark` (epoch ms)
  // will arrive any more. Stateful operators fire what became complete, then forward it.
  // Watermarks only increase; a bounded input ends with kMaxWatermark before Finish().
  virtual absl::Status OnWatermark(int64_t watermark) {
    return output_ != nullptr ? output_->OnWatermark(watermark) : absl::OkStatus();
  }
  // Writes the operator's state (nothing for stateless operators) so that Restore() on a fresh
  // instance of the same plan continues exactly where this one stands.
  virtual absl::Status Snapshot(StateWriter& writer) const { return absl::OkStatus(); }
  virtual absl::Status Restore(StateReader& reader) { return absl::OkStatus(); }
  // Rescaling (a savepoint restored at another parallelism; state/key_groups.h): restores, into
  // a fresh instance, the keys of `parts` (snapshots of this operator taken by the instances of
  // the old parallelism, or a part of them) whose key group `keep` holds, and drops the others.
  // The watermark restored is the lowest of the parts'. `counters`: this instance takes over
  // the parts' counters (late rows, evictions), so that sums over the new instances stay what
  // they were. Unimplemented for operators that cannot (the runtime then names the operator).
  virtual absl::Status RestoreRescaled(std::span<StateReader* const> parts, KeyGroupRange keep,
                                       bool counters) {
    return absl::UnimplementedError("its state cannot yet be restored at another parallelism");
  }

  // True once the operator will accept no more input (e.g. LIMIT reached), so that a source
  // feeding only finished pipelines can stop early.
  virtual bool IsDone() const { return output_ != nullptr && output_->IsDone(); }

  // One line for EXPLAIN.
  virtual std::string Describe() const = 0;
  // A two-input operator (a join, UNION ALL): the operator that takes its second input's
  // batches, watermarks and end (its first input is the operator itself); null for an
  // operator of one input.
  virtual Operator* second_input() { return nullptr; }
  // The operators a fan-out hands every batch to; null for any other operator, whose
  // downstream is output().
  virtual const std::vector<Operator*>* consumers() const { return nullptr; }
  // The operator's stateful part (event time, late rows, metrics: ops/stateful_operator.h), or
  // null for a stateless operator. The runtime configures and reads stateful operators through
  // it, never by their concrete type.
  virtual StatefulOperator* stateful() { return nullptr; }
  virtual const StatefulOperator* stateful() const { return nullptr; }
  // A keyed operator reports the keys it creates state for to `observer` (not owned; null
  // stops it) and returns true; any other returns false.
  virtual bool ObserveNewKeys(NewKeyObserver* observer) { return false; }
  // The state held now (nothing for a stateless operator). Cheap: read after every batch.
  virtual StateUsage state_usage() const { return {}; }
  // Stateful operators charge their state to `budget` (not owned) after every batch and
  // watermark, and fail the call that takes the job past its limit.
  void SetStateBudget(StateBudget* budget) { state_budget_ = budget; }

  void SetOutput(Operator* output) { output_ = output; }
  Operator* output() const { return output_; }

 protected:
  absl::Status Emit(const Batch& batch) {
    return output_ != nullptr ? output_->Push(batch) : absl::OkStatus();
  }
  // Charges state_usage() to the budget, if any (see SetStateBudget).
  absl::Status ChargeState() {
    if (state_budget_ == nullptr) return absl::OkStatus();
    const StateUsage usage = state_usage();
    const size_t before = state_charged_;
    state_charged_ = usage.bytes;
    if (usage.bytes == before) return absl::OkStatus();
    return state_budget_->Charge(before, usage.bytes, Describe(), usage.keys);
  }

  Operator* output_ = nullptr;
  StateBudget* state_budget_ = nullptr;
  size_t state_charged_ = 0;  // bytes last charged to state_budget_
};

}  // namespace sluice
