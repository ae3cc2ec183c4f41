// StateBudget: the job-wide limit on operator state ('state.max.bytes', `--memory-limit`).
//
// Every stateful operator instance (one per worker) charges the bytes its state holds to the
// job's budget after each batch and watermark (Operator::ChargeState): the budget keeps the
// total over all instances, and when it passes the limit the charging operator's call fails
// with an error that names the operator, its keys and bytes, the job's total and the limit.
// So the job stops with a clear message instead of being killed by the kernel when memory
// runs out. Bytes are what the state's arrays and tables hold by capacity (KeyTable,
// accumulators, buffers), not the process's resident size: the limit bounds what grows with
// the keys.
//
// Thread-safe: instances on several workers charge it at once (one atomic add per batch).
#pragma once

#include <atomic>
#include <cstddef>
#include <string>

#include "common/status.h"

namespace sluice {

class StateBudget {
 public:
  explicit StateBudget(size_t limit_bytes) : limit_(limit_bytes) {}

  size_t limit() const { return limit_; }
  // The job's total as last charged.
  size_t used() const { return used_.load(std::memory_order_relaxed); }

  // An operator's state went from `before` to `after` bytes. Fails when the job's total passes
  // the limit; `describe` (the operator's EXPLAIN line) and `keys` go into the message.
  absl::Status Charge(size_t before, size_t after, const std::string& describe, size_t keys);

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
};

// "1.5 GiB", "640 KiB", "17 B": a byte count for messages.
std::string FormatBytes(size_t bytes);

}  // namespace sluice
