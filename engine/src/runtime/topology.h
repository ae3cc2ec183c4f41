// CPU topology and thread placement for the parallel runtime.
//
// DetectTopology() reports the logical CPUs this process may run on (its affinity mask, as
// narrowed by `taskset` or a cgroup cpuset), the physical core and NUMA node of each, read
// through hwloc. PlaceWorkers() decides, as a pure function of such a topology, which CPU each of
// N workers gets; PinCurrentThread() applies one decision to the calling thread (CPU binding
// through hwloc, preferred memory node through libnuma).
//
// Numbering: CPUs and NUMA nodes are the operating system's indices (what `taskset`, `numactl`
// and /sys/devices/system/node show), not hwloc's logical indices.
//
// Thread safety: every function may be called from any thread. The hwloc topology is loaded
// once, on first use, and kept for the life of the process; later calls only read it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice {

struct CpuTopology {
  // OS indices of the logical CPUs this process may run on, ascending.
  std::vector<int> cpus;
  // The NUMA node (OS index) of each entry of `cpus`; same length.
  std::vector<int> cpu_node;
  // The physical core of each entry of `cpus`, numbered 0..physical_cores-1 in order of first
  // appearance; CPUs with the same number are hyperthread siblings. Empty: every CPU is its own
  // core (synthetic topologies in tests).
  std::vector<int> cpu_core;
  // NUMA nodes of the machine that this process may allocate from, at least 1 (a machine
  // without NUMA information is one node); some may hold none of `cpus`.
  int numa_nodes = 1;
  // Physical cores holding at least one of `cpus`.
  int physical_cores = 0;

  // Multi-line, human readable: CPU count and list, physical cores, each NUMA node's CPUs.
  std::string Describe() const;
};

// Reads the topology of this machine as the calling process sees it now (the union of its
// threads' affinity masks, so a thread pinned earlier does not hide the other CPUs). Errors:
// hwloc cannot load the topology, or no CPU is usable.
absl::StatusOr<CpuTopology> DetectTopology();

enum class Placement {
  kCompact,  // fill NUMA node 0's CPUs first, then node 1, ...
  kSpread,   // deal workers across the NUMA nodes in turn
};

// "compact" or "spread"; anything else is an InvalidArgument error naming both.
absl::StatusOr<Placement> ParsePlacement(std::string_view name);
const char* PlacementName(Placement placement);

struct WorkerPlacement {
  int worker = 0;
  int cpu = 0;        // OS index
  int numa_node = 0;  // OS index of the CPU's node
  // More workers than CPUs: this worker shares its CPU with an earlier one.
  bool oversubscribed = false;
};

// Assigns workers 0..workers-1 to CPUs of `topology`. Pure: the same input gives the same
// output. Each physical core gets one worker before any hyperthread sibling does (first
// siblings of every core on every node, then second siblings, ...); within that, kCompact takes
// the nodes in ascending order and kSpread deals across them in turn. Workers beyond the number
// of CPUs wrap around to the start of the same order and are flagged `oversubscribed`.
// Empty when `workers` < 1 or the topology has no CPU.
std::vector<WorkerPlacement> PlaceWorkers(const CpuTopology& topology, int workers, Placement placement);

// One line per worker, `worker 0 -> cpu 0 (node 0)`, after a header line naming the worker
// count, the placement and, when it applies, how many workers share a CPU; oversubscribed
// workers say so on their line.
std::string DescribePlacement(const std::vector<WorkerPlacement>& placement, Placement kind);

// Binds the calling thread to `placement.cpu` and, on a machine with more than one NUMA node
// where libnuma works, makes `placement.numa_node` its preferred memory node (elsewhere memory
// policy is left alone). Call once when a worker thread starts. Errors (a CPU this process may
// not use, a refused system call) come back as a Status naming the worker, CPU or node; nothing
// aborts. When the CPU binding fails nothing has changed; when only the memory node fails, the
// thread stays bound to its CPU.
absl::Status PinCurrentThread(const WorkerPlacement& placement);

}  // namespace sluice
