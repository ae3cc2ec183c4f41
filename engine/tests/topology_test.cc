// CPU topology and worker placement: PlaceWorkers on synthetic topologies (checked against the
// expected CPU order), DetectTopology on this machine, and PinCurrentThread checked with the
// kernel's view of the thread (sched_getaffinity, sched_getcpu).
#include "runtime/topology.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <thread>

#include "common/strings.h"

namespace sluice {
namespace {

// One node per entry of `node_cpus`, CPUs numbered consecutively from 0; every CPU its own core.
CpuTopology MakeTopology(const std::vector<int>& node_cpus) {
  CpuTopology topology;
  int cpu = 0;
  for (size_t node = 0; node < node_cpus.size(); ++node) {
    for (int i = 0; i < node_cpus[node]; ++i) {
      topology.cpus.push_back(cpu++);
      topology.cpu_node.push_back(static_cast<int>(node));
    }
  }
  topology.numa_nodes = static_cast<int>(node_cpus.size());
  topology.physical_cores = cpu;
  return topology;
}

std::vector<int> Cpus(const std::vector<WorkerPlacement>& placement) {
  std::vector<int> cpus;
  for (const WorkerPlacement& worker : placement) cpus.push_back(worker.cpu);
  return cpus;
}

std::vector<int> Nodes(const std::vector<WorkerPlacement>& placement) {
  std::vector<int> nodes;
  for (const WorkerPlacement& worker : placement) nodes.push_back(worker.numa_node);
  return nodes;
}

std::vector<bool> Oversubscribed(const std::vector<WorkerPlacement>& placement) {
  std::vector<bool> flags;
  for (const WorkerPlacement& worker : placement) flags.push_back(worker.oversubscribed);
  return flags;
}

bool Contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

std::vector<int> ThreadAffinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

TEST(TopologyTest, OneNodeTwoCpusGivesEachWorkerItsOwnCpu) {
  const CpuTopology topology = MakeTopology({2});
  for (Placement placement : {Placement::kCompact, Placement::kSpread}) {
    const auto placed = PlaceWorkers(topology, 2, placement);
    ASSERT_EQ(placed.size(), 2u);
    EXPECT_EQ(placed[0].worker, 0);
    EXPECT_EQ(placed[1].worker, 1);
    EXPECT_EQ(Cpus(placed), (std::vector<int>{0, 1}));
    EXPECT_EQ(Nodes(placed), (std::vector<int>{0, 0}));
    EXPECT_EQ(Oversubscribed(placed), (std::vector<bool>{false, false}));
  }
}

TEST(TopologyTest, CompactFillsNodeZeroBeforeNodeOne) {
  const CpuTopology topology = MakeTopology({4, 4});
  const auto placed = PlaceWorkers(topology, 6, Placement::kCompact);
  EXPECT_EQ(Cpus(placed), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(Nodes(placed), (std::vector<int>{0, 0, 0, 0, 1, 1}));
}

TEST(TopologyTest, SpreadDealsWorkersAcrossNodesInTurn) {
  const CpuTopology topology = MakeTopology({4, 4});
  const auto placed = PlaceWorkers(topology, 6, Placement::kSpread);
  EXPECT_EQ(Cpus(placed), (std::vector<int>{0, 4, 1, 5, 2, 6}));
  EXPECT_EQ(Nodes(placed), (std::vector<int>{0, 1, 0, 1, 0, 1}));
  // All eight: every CPU exactly once.
  EXPECT_EQ(Cpus(PlaceWorkers(topology, 8, Placement::kSpread)), (std::vector<int>{0, 4, 1, 5, 2, 6, 3, 7}));
}

TEST(TopologyTest, SpreadSkipsANodeThatRanOutOfCpus) {
  const CpuTopology topology = MakeTopology({3, 1});
  EXPECT_EQ(Cpus(PlaceWorkers(topology, 4, Placement::kSpread)), (std::vector<int>{0, 3, 1, 2}));
}

TEST(TopologyTest, MoreWorkersThanCpusWrapAroundAndAreFlagged) {
  const CpuTopology topology = MakeTopology({2});
  const auto placed = PlaceWorkers(topology, 5, Placement::kCompact);
  EXPECT_EQ(Cpus(placed), (std::vector<int>{0, 1, 0, 1, 0}));
  EXPECT_EQ(Oversubscribed(placed), (std::vector<bool>{false, false, true, true, true}));
  const std::string text = DescribePlacement(placed, Placement::kCompact);
  EXPECT_TRUE(Contains(text, "placement: 5 workers on 2 cpus, compact (oversubscribed: 3 workers share"))
      << text;
  EXPECT_TRUE(Contains(text, "worker 0 -> cpu 0 (node 0)\n")) << text;
  EXPECT_TRUE(Contains(text, "worker 2 -> cpu 0 (node 0), oversubscribed: shares cpu 0 with worker 0\n"))
      << text;

  // Spread on two nodes wraps around in its own order.
  const auto spread = PlaceWorkers(MakeTopology({1, 1}), 3, Placement::kSpread);
  EXPECT_EQ(Cpus(spread), (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(Oversubscribed(spread), (std::vector<bool>{false, false, true}));
}

TEST(TopologyTest, NoOversubscriptionNoteWhenEveryWorkerHasItsOwnCpu) {
  const std::string text =
      DescribePlacement(PlaceWorkers(MakeTopology({2}), 2, Placement::kSpread), Placement::kSpread);
  EXPECT_EQ(
      text,
      "placement: 2 workers on 2 cpus, spread\nworker 0 -> cpu 0 (node 0)\nworker 1 -> cpu 1 (node 0)\n");
}

// cpus 0,1 are siblings of core 0 and 2,3 of core 1 (and 4,5 / 6,7 on node 1).
TEST(TopologyTest, EveryPhysicalCoreGetsAWorkerBeforeAnySibling) {
  CpuTopology topology = MakeTopology({4, 4});
  topology.cpu_core = {0, 0, 1, 1, 2, 2, 3, 3};
  topology.physical_cores = 4;
  EXPECT_EQ(Cpus(PlaceWorkers(topology, 4, Placement::kCompact)), (std::vector<int>{0, 2, 4, 6}));
  EXPECT_EQ(Cpus(PlaceWorkers(topology, 8, Placement::kCompact)), (std::vector<int>{0, 2, 4, 6, 1, 3, 5, 7}));
  EXPECT_EQ(Cpus(PlaceWorkers(topology, 4, Placement::kSpread)), (std::vector<int>{0, 4, 2, 6}));
  EXPECT_EQ(Cpus(PlaceWorkers(topology, 8, Placement::kSpread)), (std::vector<int>{0, 4, 2, 6, 1, 5, 3, 7}));

  // Linux's usual numbering: siblings far apart (cpu N and N+2 on a 2-core, 4-thread node).
  CpuTopology interleaved = MakeTopology({4});
  interleaved.cpu_core = {0, 1, 0, 1};
  interleaved.physical_cores = 2;
  EXPECT_EQ(Cpus(PlaceWorkers(interleaved, 4, Placement::kCompact)), (std::vector<int>{0, 1, 2, 3}));
}

TEST(TopologyTest, NodeNumbersNeedNotBeConsecutive) {
  CpuTopology topology;
  topology.cpus = {0, 1, 8, 9};
  topology.cpu_node = {0, 0, 8, 8};
  topology.numa_nodes = 2;
  topology.physical_cores = 4;
  const auto placed = PlaceWorkers(topology, 4, Placement::kSpread);
  EXPECT_EQ(Cpus(placed), (std::vector<int>{0, 8, 1, 9}));
  EXPECT_EQ(Nodes(placed), (std::vector<int>{0, 8, 0, 8}));
}

TEST(TopologyTest, NoWorkersOrNoCpusPlacesNothing) {
  EXPECT_TRUE(PlaceWorkers(MakeTopology({2}), 0, Placement::kCompact).empty());
  EXPECT_TRUE(PlaceWorkers(MakeTopology({2}), -1, Placement::kCompact).empty());
  EXPECT_TRUE(PlaceWorkers(CpuTopology{}, 4, Placement::kSpread).empty());
}

TEST(TopologyTest, PlacementNamesRoundTrip) {
  for (Placement placement : {Placement::kCompact, Placement::kSpread}) {
    auto parsed = ParsePlacement(PlacementName(placement));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, placement);
  }
  auto bad = ParsePlacement("scatter");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      Contains(std::string(bad.status().message()), "unknown placement 'scatter' (compact or spread)"));
}

TEST(TopologyTest, DescribeListsCpusCoresAndNodes) {
  CpuTopology topology = MakeTopology({4, 4});
  topology.cpu_core = {0, 0, 1, 1, 2, 2, 3, 3};
  topology.physical_cores = 4;
  topology.numa_nodes = 3;  // one node holds none of the process's CPUs
  EXPECT_EQ(topology.Describe(),
            "cpus: 8 (0-7)\n"
            "physical cores: 4 (8 cpus: hyperthread siblings share a core)\n"
            "NUMA nodes: 3\n"
            "  node 0: cpus 0-3\n"
            "  node 1: cpus 4-7\n"
            "  1 more node without cpus this process may use\n");
  CpuTopology gaps;
  gaps.cpus = {0, 2, 3, 4, 7};
  gaps.cpu_node = {0, 0, 0, 0, 0};
  gaps.physical_cores = 5;
  EXPECT_EQ(gaps.Describe(), "cpus: 5 (0,2-4,7)\nphysical cores: 5\nNUMA nodes: 1\n  node 0: cpus 0,2-4,7\n");
}

TEST(TopologyTest, DetectTopologySeesThisProcessesCpus) {
  auto topology = DetectTopology();
  ASSERT_TRUE(topology.ok()) << topology.status();
  ASSERT_GE(topology->cpus.size(), 1u);
  EXPECT_EQ(topology->cpu_node.size(), topology->cpus.size());
  EXPECT_EQ(topology->cpu_core.size(), topology->cpus.size());
  EXPECT_GE(topology->numa_nodes, 1);
  EXPECT_GE(topology->physical_cores, 1);
  EXPECT_LE(static_cast<size_t>(topology->physical_cores), topology->cpus.size());
  EXPECT_TRUE(std::is_sorted(topology->cpus.begin(), topology->cpus.end()));
  for (size_t i = 0; i < topology->cpus.size(); ++i) {
    EXPECT_GE(topology->cpu_node[i], 0) << "cpu " << topology->cpus[i];
    EXPECT_GE(topology->cpu_core[i], 0) << "cpu " << topology->cpus[i];
    EXPECT_LT(topology->cpu_core[i], topology->physical_cores) << "cpu " << topology->cpus[i];
  }
  // Every CPU this thread may run on is one the process may run on.
  for (int cpu : ThreadAffinity()) {
    EXPECT_NE(std::find(topology->cpus.begin(), topology->cpus.end(), cpu), topology->cpus.end())
        << "cpu " << cpu;
  }
}

// Each worker thread, pinned, runs on its CPU only; the pinning thread's own affinity is untouched.
TEST(TopologyTest, PinCurrentThreadBindsAWorkerThreadToItsCpu) {
  auto topology = DetectTopology();
  ASSERT_TRUE(topology.ok()) << topology.status();
  const std::vector<int> before = ThreadAffinity();
  const auto placed = PlaceWorkers(*topology, static_cast<int>(topology->cpus.size()), Placement::kCompact);
  // The last CPU first: pinning that does nothing would most likely leave the thread elsewhere.
  for (auto worker = placed.rbegin(); worker != placed.rend(); ++worker) {
    absl::Status status;
    std::vector<int> affinity;
    int ran_on = -1;
    std::thread thread([&] {
      status = PinCurrentThread(*worker);
      affinity = ThreadAffinity();
      ran_on = sched_getcpu();
    });
    thread.join();
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_EQ(affinity, std::vector<int>{worker->cpu});
    EXPECT_EQ(ran_on, worker->cpu);
  }
  EXPECT_EQ(ThreadAffinity(), before);
}

TEST(TopologyTest, PinCurrentThreadReportsACpuItCannotUse) {
  for (int cpu : {-1, 100000}) {
    absl::Status status;
    std::vector<int> affinity;
    const std::vector<int> before = ThreadAffinity();
    std::thread thread([&] {
      status = PinCurrentThread({3, cpu, 0, false});
      affinity = ThreadAffinity();
    });
    thread.join();
    ASSERT_FALSE(status.ok()) << "cpu " << cpu;
    EXPECT_TRUE(Contains(std::string(status.message()), StrCat("cannot pin worker 3 to cpu ", cpu)))
        << status.message();
    EXPECT_EQ(affinity, before) << "a failed pin changed the thread's affinity";
  }
}

}  // namespace
}  // namespace sluice
