// SnapshotFixture: the state holders whose Restore(StateReader&) fuzz_snapshot feeds, built
// from two small fixed jobs, and the sample state that the committed seeds are snapshots of.
//
// The jobs read one file source with a declared schema (k STRING, g BIGINT, x DOUBLE,
// flag BOOLEAN, ts TIMESTAMP; event time ts), so binding reads no file. Their statements
// cover every stateful operator and every KeyTable mode: a TUMBLING window with all 13
// aggregate functions, a SLIDING window, a GROUP BY on one STRING key that never erases (the
// identity-mode key table), an unwindowed GROUP BY under 'state.ttl' on a composite key (hash
// mode) and on one STRING key (direct mode), SESSION windows, and a ROWS window with every
// window function, LEAD included. Three bare KeyTables (hash, direct, identity mode) complete
// the list.
//
// Used by the fuzz target (engine/fuzz/fuzz_snapshot.cc) and by the test that writes and
// checks the seeds (engine/tests/fuzz_corpus_test.cc). Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ops/operator.h"
#include "plan/logical_plan.h"

namespace sluice::fuzz {

// What the first byte of a fuzz_snapshot input selects (modulo kSnapshotTargets).
enum class SnapshotTarget : uint8_t {
  kTumblingAggregate,
  kSlidingAggregate,
  kGroupByStringKey,
  kGroupByTtl,
  kGroupByStringKeyTtl,
  kSessionWindow,
  kRowsWindow,
  kKeyTableHashed,
  kKeyTableDirect,
  kKeyTableIdentity,
};
inline constexpr size_t kSnapshotTargets = 10;

// A file-name-friendly name, e.g. "tumbling_aggregate".
std::string_view SnapshotTargetName(SnapshotTarget target);

class SnapshotFixture {
 public:
  // Binds the jobs once per process (they are fixed: a failure aborts).
  static SnapshotFixture& Get();

  // Restores `bytes` into a fresh instance of `target`. When that succeeds, the restored state
  // is snapshotted again, and that snapshot must restore into another fresh instance and
  // snapshot to the same bytes (a violation traps: it is a bug, not a corrupt input). Then
  // `bytes` is restored once more, within the statement's whole operator chain (or into a bare
  // KeyTable), and the sample records run through it to the end of input (RunRestored): state
  // that Restore accepts must be state the operator can go on with.
  absl::Status Restore(SnapshotTarget target, std::string_view bytes);

  // The snapshot of `target` after it has processed the fixed sample records, with some
  // watermarks between them (so windows are open, fired and closing; keys freed and reused).
  std::string SampleSnapshot(SnapshotTarget target);

 private:
  SnapshotFixture();

  // The node of `target`'s statement whose operator holds the state.
  const LogicalOperator& StatefulNode(SnapshotTarget target) const;
  // The statement `target` belongs to.
  const BoundStatement& Statement(SnapshotTarget target) const;
  absl::Status RestoreOnce(SnapshotTarget target, std::string_view bytes, std::string* snapshot);
  // Restores `bytes` into `target` within its statement's operators and runs the sample
  // records through them to the end of input.
  absl::Status RunRestored(SnapshotTarget target, std::string_view bytes);
  // The sample records, decoded as the file source would, in batches.
  std::vector<Batch> SampleBatches();

  BoundJob job_;      // every operator but the TTL ones
  BoundJob ttl_job_;  // 'state.ttl' is job-wide
  std::vector<Batch> sample_batches_;
};

}  // namespace sluice::fuzz
