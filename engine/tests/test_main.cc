// The test binary's entry point: Google Test's, plus a crash report. A test that dies of a
// signal (a segmentation fault in a worker thread, an abort) prints the test that was running
// and a symbolized stack trace to stderr before the process ends, so that a crash seen once on
// a CI machine names its place instead of leaving only "Segmentation fault".

#include <cstdio>
#include <cstring>

#include <unistd.h>

#include "absl/debugging/failure_signal_handler.h"
#include "absl/debugging/symbolize.h"
#include "gtest/gtest.h"

namespace {

// The failure signal handler writes its report (the signal, a stack trace) to stderr itself and
// then passes the same lines here: this adds, once, the name of the running test. Only
// write(2): this runs inside a signal handler.
void NameTheCrashedTest(const char* /*report_line*/) {
  static bool named_the_test = false;
  if (!named_the_test) {
    named_the_test = true;
    const testing::TestInfo* test = testing::UnitTest::GetInstance()->current_test_info();
    const char* prefix = "\n*** crash in test ";
    (void)!write(STDERR_FILENO, prefix, std::strlen(prefix));
    if (test != nullptr) {
      (void)!write(STDERR_FILENO, test->test_suite_name(), std::strlen(test->test_suite_name()));
      (void)!write(STDERR_FILENO, ".", 1);
      (void)!write(STDERR_FILENO, test->name(), std::strlen(test->name()));
    } else {
      (void)!write(STDERR_FILENO, "(none running)", 14);
    }
    (void)!write(STDERR_FILENO, "\n", 1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::InitializeSymbolizer(argv[0]);
  absl::FailureSignalHandlerOptions options;
  options.writerfn = NameTheCrashedTest;
  absl::InstallFailureSignalHandler(options);
  // Line-buffered stdout: what a test printed before a crash is not lost in the pipe's buffer.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
