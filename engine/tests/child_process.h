// Tests that run the `sluice` binary (SLUICE_BINARY) as a child process: start it with its
// output in files, wait for it with a timeout, kill it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::testing {

struct Process {
  pid_t pid = -1;
  std::string out, err;  // the files its stdout and stderr go to
};

// Starts `sluice` with `arguments`, stdin from /dev/null, stdout to `out` and stderr to `err`
// (both truncated). Fails the current test when it cannot be started.
Process SpawnSluice(const std::vector<std::string>& arguments, const std::string& out,
                    const std::string& err);

// The exit code (128 + the signal when a signal ended it), or -1 after killing it when it did
// not exit within `timeout`.
int WaitFor(const Process& process, std::chrono::milliseconds timeout);

// "records in: 12,345, ..." from a `sluice run` summary on stderr: the last one, as a long run
// also prints progress lines with the counts so far; 0 when there is none.
uint64_t RecordsIn(const std::string& summary);

}  // namespace sluice::testing
