// LargeStackThread: a thread with a stack of its own size (std::thread takes the process
// default: RLIMIT_STACK, or 2 MiB when that is unlimited). The server parses, binds and runs
// jobs on such threads so that SQL nested to the parser's limit (1,000 levels) and its
// expressions fit as they do on `sluice run`'s main thread, also under the sanitizers, whose
// frames are many times larger. The stack is reserved address space: untouched pages cost no
// memory.
//
// Not copyable or movable. Join() before destruction (the destructor joins too).
#pragma once

#include <pthread.h>

#include <cstddef>
#include <functional>

#include "common/status.h"

namespace sluice {

class LargeStackThread {
 public:
  // The main thread's usual 8 MiB times the sanitizers' factor (tests/job_test_harness.h).
  static constexpr size_t kStackBytes = size_t{128} << 20;

  LargeStackThread() = default;
  LargeStackThread(const LargeStackThread&) = delete;
  LargeStackThread& operator=(const LargeStackThread&) = delete;
  ~LargeStackThread() { Join(); }

  // Starts `body` on the thread. REQUIRES: not started.
  absl::Status Start(std::function<void()> body);
  bool joinable() const { return started_; }
  void Join();

  // Runs `body` on a LargeStackThread and waits for it.
  static absl::Status Run(std::function<void()> body);

 private:
  static void* Main(void* self);

  std::function<void()> body_;
  pthread_t thread_{};
  bool started_ = false;
};

}  // namespace sluice
