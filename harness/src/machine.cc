#include "machine.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/strings.h"

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

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}
std::vector<int> ParseCpuList(const std::string& text) {
  std::vector<int> cpus;
  const std::string trimmed = Trim(text);  // outlives the views into it
  for (std::string_view range : StrSplit(trimmed, ',', /*skip_blank=*/true)) {
    const std::string item(range);
    int first = 0, last = 0;
    if (std::sscanf(item.c_str(), "%d-%d", &first, &last) == 2) {
      for (int cpu = first; cpu <= last; ++cpu) cpus.push_back(cpu);
    } else if (std::sscanf(item.c_str(), "%d", &first) == 1) {
      cpus.push_back(first);
    }
  }
  return cpus;
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
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    info.cores = CPU_COUNT(&allowed);
  } else {
    info.cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  }
  // NUMA nodes from sysfs; a machine without it is one node holding every CPU.
  for (int node = 0; node < 1024; ++node) {
    std::ifstream list(StrCat("/sys/devices/system/node/node", node, "/cpulist"));
    if (!list) break;
    std::string text;
    std::getline(list, text);
    std::vector<int> cpus;
    for (int cpu : ParseCpuList(text)) {
      if (cpu < CPU_SETSIZE && CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
    }
    info.node_cpus.push_back(cpus);
  }
  if (info.node_cpus.empty()) {
    std::vector<int> cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
    }
    info.node_cpus.push_back(cpus);
  }
  info.numa_nodes = static_cast<int>(info.node_cpus.size());
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    unsigned long long kib = 0;
    if (std::sscanf(line.c_str(), "MemTotal: %llu kB", &kib) == 1) info.memory_bytes = kib * 1024;
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

bool PinThisThread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

}  // namespace sluice::bench
