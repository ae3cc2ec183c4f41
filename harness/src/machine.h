// What a benchmark result records about where it ran: the machine (CPU, cores, NUMA nodes,
// memory), the build (compiler, flags, commit) and the process's peak resident memory.
#pragma once

#include <sched.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::bench {

struct MachineInfo {
  std::string cpu_model;
  int cores = 0;  // CPUs this process may run on
  int numa_nodes = 1;
  std::vector<std::vector<int>> node_cpus;  // per NUMA node, its CPUs (usable ones)
  uint64_t memory_bytes = 0;
  std::string kernel;
  std::string hostname;
  // The kernel's transparent huge page mode (always, madvise or never; "unknown" without
  // /sys/kernel/mm/transparent_hugepage): in "always", or with MALLOC_CONF=thp:always under
  // "madvise", large state runs measurably faster (see the README's lab section).
  std::string transparent_hugepages = "unknown";
};

struct BuildInfo {
  std::string compiler;
  std::string flags;
  std::string build_type;
  std::string commit;  // short hash, "unknown" outside a git work tree
  bool dirty = false;  // uncommitted changes to tracked files
};

MachineInfo DescribeMachine();
BuildInfo DescribeBuild(const std::string& source_dir);

// Peak resident set size of this process (VmHWM), and a reset of it (Linux clear_refs 5) so
// that each measurement reports its own peak. Reset returns false where the kernel refuses.
uint64_t PeakRssBytes();
bool ResetPeakRss();

// Pins the calling thread to `cpu`; false if the system refuses.
bool PinThisThread(int cpu);

// Pins the calling thread to `cpu` for the object's lifetime, then restores the affinity it had
// (so that threads it creates later, like the parallel runtime's coordinator, are not confined).
class ScopedThreadPin {
 public:
  explicit ScopedThreadPin(int cpu);
  ~ScopedThreadPin();
  ScopedThreadPin(const ScopedThreadPin&) = delete;
  ScopedThreadPin& operator=(const ScopedThreadPin&) = delete;

 private:
  cpu_set_t previous_;
  bool restore_ = false;
};

}  // namespace sluice::bench
