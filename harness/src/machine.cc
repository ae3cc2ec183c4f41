#include "machine.h"

#include <pthread.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "runtime/topology.h"

#ifndef SLUICE_BUILD_FLAGS
#define SLUICE_BUILD_FLAGS "unknown"
#endif
#ifndef SLUICE_BUILD_TYPE
#define SLUICE_BUILD_TYPE "unknown"
#endif

namespace sluice::bench {
namespace {

std::string Trim(const std::string& text) {
  return std::string(StripWhitespace(text));
}

// Runs a shell command and returns its first line of output ("" on failure).
std::string FirstLineOf(const std::string& command) {
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  char line[512] = {0};
  const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
  const int status = pclose(pipe);
  return got && status == 0 ? Trim(line) : "";
}

}  // namespace

MachineInfo DescribeMachine() {
  MachineInfo info;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (StartsWith(line, "model name")) {
      info.cpu_model = Trim(line.substr(line.find(':') + 1));
      break;
    }
  }
  // CPUs and NUMA nodes as the runtime sees them (runtime/topology.h): node_cpus[n] holds node
  // n's usable CPUs. Should hwloc fail: every online CPU on one node.
  if (auto topology = DetectTopology(); topology.ok()) {
    info.cores = static_cast<int>(topology->cpus.size());
    int nodes = topology->numa_nodes;
    for (int node : topology->cpu_node) nodes = std::max(nodes, node + 1);
    info.node_cpus.resize(static_cast<size_t>(nodes));
    for (size_t i = 0; i < topology->cpus.size(); ++i) {
      info.node_cpus[static_cast<size_t>(topology->cpu_node[i])].push_back(topology->cpus[i]);
    }
    info.numa_nodes = topology->numa_nodes;
  } else {
    info.cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
    info.node_cpus.emplace_back();
    for (int cpu = 0; cpu < info.cores; ++cpu) info.node_cpus[0].push_back(cpu);
    info.numa_nodes = 1;
  }
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    unsigned long long kib = 0;
    if (std::sscanf(line.c_str(), "MemTotal: %llu kB", &kib) == 1) info.memory_bytes = kib * 1024;
  }
  // "always [madvise] never": the bracketed word is the mode in force.
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  if (std::string modes; std::getline(thp, modes)) {
    const size_t open = modes.find('['), close = modes.find(']');
    if (open != std::string::npos && close != std::string::npos && close > open)
      info.transparent_hugepages = modes.substr(open + 1, close - open - 1);
  }
  utsname name;
  if (uname(&name) == 0) {
    info.kernel = StrCat(name.sysname, " ", name.release);
    info.hostname = name.nodename;
  }
  return info;
}

BuildInfo DescribeBuild(const std::string& source_dir) {
  BuildInfo info;
#if defined(__clang__)
  info.compiler = StrCat("Clang ", __clang_version__);
#elif defined(__GNUC__)
  info.compiler = StrCat("GNU ", __VERSION__);
#endif
  info.flags = SLUICE_BUILD_FLAGS;
  info.build_type = SLUICE_BUILD_TYPE;
  info.commit = FirstLineOf(StrCat("git -C '", source_dir, "' rev-parse --short HEAD 2>/dev/null"));
  if (info.commit.empty()) info.commit = "unknown";
  info.dirty =
      !FirstLineOf(StrCat("git -C '", source_dir, "' status --porcelain --untracked-files=no 2>/dev/null"))
           .empty();
  return info;
}

uint64_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    unsigned long long kib = 0;
    if (std::sscanf(line.c_str(), "VmHWM: %llu kB", &kib) == 1) return kib * 1024;
  }
  return 0;
}

bool ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  return static_cast<bool>(clear);
}

ScopedThreadPin::ScopedThreadPin(int cpu) {
  restore_ = pthread_getaffinity_np(pthread_self(), sizeof previous_, &previous_) == 0;
  PinThisThread(cpu);
}

ScopedThreadPin::~ScopedThreadPin() {
  if (restore_) pthread_setaffinity_np(pthread_self(), sizeof previous_, &previous_);
}

bool PinThisThread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

}  // namespace sluice::bench
