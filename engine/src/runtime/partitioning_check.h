// PartitioningCheck: verifies at run time what '<source>.partitioned.by' declares.
//
// With the declaration, the parallel runtime feeds each worker's keyed stage only the rows of
// the source partitions that worker reads, with no exchange (see parallel_runner.h). That is
// right only if every key lies in one partition: a key in partitions read by two workers
// would be aggregated twice, each worker holding part of its group, and the output would hold
// two partial rows. This check fails the job instead, naming the key and both workers'
// partitions.
//
// Cost: nothing per record, and no lock. Each keyed stage reports the keys it creates state
// for, a batch at a time (Operator::ObserveNewKeys; once per key, or per key and window). Each
// worker records the content hashes of its keys in a table of its own (one writer, open
// addressing over atomic words, grown by copying into a table twice the size and publishing
// it; old tables stay readable until the check is destroyed), then looks the batch's new
// hashes up in the other workers' tables, with the slots of a whole batch prefetched so that
// the cache misses overlap. Store, fence, then load on both sides (Dekker's pattern) means
// that of two workers creating the same key at once, at least one sees the other's.
// Memory: about 16 bytes per distinct key per worker holding it, for the run.
//
// Keys are compared by a 64-bit hash of their values: two different keys with equal hashes
// on two workers would be reported falsely (with a million keys, a chance of about 3e-8).
//
// Thread-safe: each worker's stage uses its own observer (ForWorker) from its own thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ops/operator.h"

namespace sluice {

class PartitioningCheck {
 public:
  // `declaration` names what is checked, e.g. "'trades.partitioned.by' (trader_id)";
  // `worker_partitions[w]` describes the partitions worker w reads, e.g. "partition 1 (b.jsonl)".
  PartitioningCheck(std::string declaration, std::vector<std::string> worker_partitions);
  ~PartitioningCheck();

  // The observer for worker `worker`'s keyed stage; owned by this check.
  NewKeyObserver* ForWorker(size_t worker);

 private:
  class HashSet;
  class WorkerObserver;

  const std::string declaration_;
  const std::vector<std::string> worker_partitions_;
  std::vector<std::unique_ptr<HashSet>> sets_;  // per worker: the hashes of its keys
  std::vector<std::unique_ptr<WorkerObserver>> observers_;
};

}  // namespace sluice
