#include "runtime/topology.h"

#include <hwloc.h>
#include <numa.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "common/strings.h"

namespace sluice {
namespace {

// The hwloc topology of this machine, loaded on first use and never freed (threads may still
// pin themselves while the process exits).
struct LoadedTopology {
  hwloc_topology_t topology = nullptr;
  absl::Status status;
};

const LoadedTopology& Loaded() {
  static const LoadedTopology* const loaded = [] {
    auto* result = new LoadedTopology;
    hwloc_topology_t topology = nullptr;
    if (hwloc_topology_init(&topology) != 0) {
      result->status =
          absl::InternalError(StrCat("hwloc could not initialize a topology: ", std::strerror(errno)));
      return result;
    }
    if (hwloc_topology_load(topology) != 0) {
      const int saved_errno = errno;
      hwloc_topology_destroy(topology);
      result->status = absl::InternalError(
          StrCat("hwloc could not read this machine's CPU topology: ", std::strerror(saved_errno)));
      return result;
    }
    result->topology = topology;
    return result;
  }();
  return *loaded;
}

struct BitmapDeleter {
  void operator()(hwloc_bitmap_s* bitmap) const { hwloc_bitmap_free(bitmap); }
};
using Bitmap = std::unique_ptr<hwloc_bitmap_s, BitmapDeleter>;

// "0-3,8,10-11" for {0,1,2,3,8,10,11}; `cpus` ascending.
std::string FormatCpuList(const std::vector<int>& cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t end = i;
    while (end + 1 < cpus.size() && cpus[end + 1] == cpus[end] + 1) ++end;
    if (!out.empty()) out += ',';
    StrAppend(&out, cpus[i]);
    if (end > i) StrAppend(&out, '-', cpus[end]);
    i = end + 1;
  }
  return out;
}

}  // namespace

std::string CpuTopology::Describe() const {
  std::string out = StrCat("cpus: ", cpus.size(), " (", FormatCpuList(cpus), ")\n");
  StrAppend(&out, "physical cores: ", physical_cores);
  if (physical_cores > 0 && static_cast<size_t>(physical_cores) < cpus.size()) {
    StrAppend(&out, " (", cpus.size(), " cpus: hyperthread siblings share a core)");
  }
  StrAppend(&out, "\nNUMA nodes: ", numa_nodes, "\n");
  std::vector<int> nodes(cpu_node.begin(), cpu_node.end());
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  for (int node : nodes) {
    std::vector<int> node_cpus;
    for (size_t i = 0; i < cpus.size() && i < cpu_node.size(); ++i) {
      if (cpu_node[i] == node) node_cpus.push_back(cpus[i]);
    }
    StrAppend(&out, "  node ", node, ": cpus ", FormatCpuList(node_cpus), "\n");
  }
  if (static_cast<size_t>(numa_nodes) > nodes.size()) {
    const size_t others = static_cast<size_t>(numa_nodes) - nodes.size();
    StrAppend(&out, "  ", others, " more node", others == 1 ? "" : "s",
              " without cpus this process may use\n");
  }
  return out;
}

absl::StatusOr<CpuTopology> DetectTopology() {
  const LoadedTopology& loaded = Loaded();
  if (!loaded.status.ok()) return loaded.status;
  hwloc_topology_t topology = loaded.topology;

  // Allowed by the machine and its cgroup, narrowed by the process's affinity (taskset).
  Bitmap usable(hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(topology)));
  Bitmap bound(hwloc_bitmap_alloc());
  if (usable == nullptr || bound == nullptr) return absl::ResourceExhaustedError("hwloc: out of memory");
  if (hwloc_get_cpubind(topology, bound.get(), HWLOC_CPUBIND_PROCESS) == 0 &&
      !hwloc_bitmap_iszero(bound.get())) {
    hwloc_bitmap_and(usable.get(), usable.get(), bound.get());
  }
  if (hwloc_bitmap_iszero(usable.get()) || hwloc_bitmap_weight(usable.get()) < 0) {
    return absl::FailedPreconditionError("hwloc reports no CPU that this process may run on");
  }

  std::vector<hwloc_obj_t> nodes;
  for (hwloc_obj_t node = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_NUMANODE, nullptr); node != nullptr;
       node = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_NUMANODE, node)) {
    nodes.push_back(node);
  }

  CpuTopology result;
  result.numa_nodes = std::max<int>(1, static_cast<int>(nodes.size()));
  std::vector<hwloc_obj_t> cores;  // index = dense core number
  for (int cpu = hwloc_bitmap_first(usable.get()); cpu >= 0; cpu = hwloc_bitmap_next(usable.get(), cpu)) {
    hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topology, static_cast<unsigned>(cpu));
    if (pu == nullptr) continue;
    // The first node, in hwloc's order, whose CPUs include this one (several may, e.g. DRAM
    // and HBM nodes); none at all: node 0.
    int numa_node = 0;
    for (hwloc_obj_t node : nodes) {
      if (node->cpuset != nullptr && hwloc_bitmap_isset(node->cpuset, static_cast<unsigned>(cpu))) {
        if (node->os_index != HWLOC_UNKNOWN_INDEX) numa_node = static_cast<int>(node->os_index);
        break;
      }
    }
    // No Core object (some virtual machines): the CPU is its own core.
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topology, HWLOC_OBJ_CORE, pu);
    if (core == nullptr) core = pu;
    auto found = std::find(cores.begin(), cores.end(), core);
    if (found == cores.end()) found = cores.insert(cores.end(), core);
    result.cpus.push_back(cpu);
    result.cpu_node.push_back(numa_node);
    result.cpu_core.push_back(static_cast<int>(found - cores.begin()));
  }
  if (result.cpus.empty()) {
    return absl::FailedPreconditionError("hwloc reports no CPU that this process may run on");
  }
  result.physical_cores = static_cast<int>(cores.size());
  return result;
}

absl::StatusOr<Placement> ParsePlacement(std::string_view name) {
  if (name == "compact") return Placement::kCompact;
  if (name == "spread") return Placement::kSpread;
  return absl::InvalidArgumentError(StrCat("unknown placement '", name, "' (compact or spread)"));
}

const char* PlacementName(Placement placement) {
  return placement == Placement::kSpread ? "spread" : "compact";
}

std::vector<WorkerPlacement> PlaceWorkers(const CpuTopology& topology, int workers, Placement placement) {
  const size_t count = topology.cpus.size();
  if (workers < 1 || count == 0) return {};
  auto node_of = [&](size_t i) { return i < topology.cpu_node.size() ? topology.cpu_node[i] : 0; };
  auto core_of = [&](size_t i) {
    return i < topology.cpu_core.size() ? topology.cpu_core[i] : static_cast<int>(count + i);
  };

  // Sibling rank of each CPU: 0 for the first CPU of its core, 1 for the second, ...
  std::vector<int> rank(count, 0);
  std::vector<std::pair<int, int>> seen;  // (core, CPUs of it so far)
  int ranks = 1;
  for (size_t i = 0; i < count; ++i) {
    auto found =
        std::find_if(seen.begin(), seen.end(), [&](const auto& entry) { return entry.first == core_of(i); });
    if (found == seen.end()) {
      seen.emplace_back(core_of(i), 1);
    } else {
      rank[i] = found->second++;
      ranks = std::max(ranks, rank[i] + 1);
    }
  }
  std::vector<int> nodes;
  for (size_t i = 0; i < count; ++i) nodes.push_back(node_of(i));
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());

  // The order in which CPUs (indices into topology.cpus) receive workers.
  std::vector<size_t> order;
  order.reserve(count);
  for (int tier = 0; tier < ranks; ++tier) {
    std::vector<std::vector<size_t>> by_node(nodes.size());
    for (size_t i = 0; i < count; ++i) {
      if (rank[i] != tier) continue;
      const size_t n =
          static_cast<size_t>(std::lower_bound(nodes.begin(), nodes.end(), node_of(i)) - nodes.begin());
      by_node[n].push_back(i);
    }
    if (placement == Placement::kCompact) {
      for (const auto& cpus : by_node) order.insert(order.end(), cpus.begin(), cpus.end());
    } else {
      for (size_t round = 0;; ++round) {
        bool any = false;
        for (const auto& cpus : by_node) {
          if (round < cpus.size()) {
            order.push_back(cpus[round]);
            any = true;
          }
        }
        if (!any) break;
      }
    }
  }

  std::vector<WorkerPlacement> result;
  result.reserve(static_cast<size_t>(workers));
  for (int worker = 0; worker < workers; ++worker) {
    const size_t slot = static_cast<size_t>(worker);
    const size_t i = order[slot % count];
    result.push_back({worker, topology.cpus[i], node_of(i), slot >= count});
  }
  return result;
}

std::string DescribePlacement(const std::vector<WorkerPlacement>& placement, Placement kind) {
  std::vector<int> cpus;
  size_t shared = 0;
  for (const WorkerPlacement& worker : placement) {
    cpus.push_back(worker.cpu);
    if (worker.oversubscribed) ++shared;
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  std::string out =
      StrCat("placement: ", placement.size(), " worker", placement.size() == 1 ? "" : "s", " on ",
             cpus.size(), " cpu", cpus.size() == 1 ? "" : "s", ", ", PlacementName(kind));
  if (shared > 0) {
    StrAppend(&out, " (oversubscribed: ", shared, " worker", shared == 1 ? " shares" : "s share",
              " a cpu with an earlier worker)");
  }
  out += '\n';
  for (const WorkerPlacement& worker : placement) {
    StrAppend(&out, "worker ", worker.worker, " -> cpu ", worker.cpu, " (node ", worker.numa_node, ")");
    if (worker.oversubscribed) {
      for (const WorkerPlacement& earlier : placement) {
        if (earlier.cpu == worker.cpu) {
          StrAppend(&out, ", oversubscribed: shares cpu ", worker.cpu, " with worker ", earlier.worker);
          break;
        }
      }
    }
    out += '\n';
  }
  return out;
}

absl::Status PinCurrentThread(const WorkerPlacement& placement) {
  const LoadedTopology& loaded = Loaded();
  if (!loaded.status.ok()) return loaded.status;
  if (placement.cpu < 0) {
    return absl::InvalidArgumentError(
        StrCat("cannot pin worker ", placement.worker, " to cpu ", placement.cpu, ": not a cpu number"));
  }
  Bitmap cpu(hwloc_bitmap_alloc());
  if (cpu == nullptr) return absl::ResourceExhaustedError("hwloc: out of memory");
  hwloc_bitmap_only(cpu.get(), static_cast<unsigned>(placement.cpu));
  if (hwloc_set_cpubind(loaded.topology, cpu.get(), HWLOC_CPUBIND_THREAD | HWLOC_CPUBIND_STRICT) != 0) {
    const int saved_errno = errno;
    return absl::FailedPreconditionError(StrCat("cannot pin worker ", placement.worker, " to cpu ",
                                                placement.cpu, ": ", std::strerror(saved_errno),
                                                " (is it one of the cpus `sluice topology` lists?)"));
  }

  // Memory: only where there is a choice to make and libnuma can make it.
  if (numa_available() < 0 || numa_num_configured_nodes() <= 1) return absl::OkStatus();
  const int node = placement.numa_node;
  if (node < 0 || node > numa_max_node() ||
      !numa_bitmask_isbitset(numa_all_nodes_ptr, static_cast<unsigned>(node))) {
    return absl::InvalidArgumentError(StrCat("cannot prefer NUMA node ", node, " for worker ",
                                             placement.worker, ": this process may not allocate from it"));
  }
  numa_set_preferred(node);
  if (numa_preferred() != node) {
    return absl::FailedPreconditionError(StrCat("cannot prefer NUMA node ", node, " for worker ",
                                                placement.worker, ": the kernel refused the memory policy"));
  }
  return absl::OkStatus();
}

}  // namespace sluice
