// A file source over a stream (stdin as '-', a FIFO): records reach the sink as they arrive,
// not when a 4 MiB chunk fills or the input ends, and SIGTERM / SIGINT stop a job whose source
// waits for input. These run the `sluice` binary with pipes of their own, to see when each
// output line appears.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/strings.h"
#include "job_test_harness.h"

extern char** environ;

namespace sluice::testing {
namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// `sluice run ARGS` with stdin from `stdin_fd` (-1: /dev/null), stdout into a pipe the test
// reads, and stderr into a file.
class SluiceProcess {
 public:
  SluiceProcess(const std::vector<std::string>& arguments, int stdin_fd, const std::string& stderr_path) {
    int out[2];
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    stdout_fd_ = out[0];
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdin_fd >= 0) {
      posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
    } else {
      posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> argv_strings = {SLUICE_BINARY, "run"};
    argv_strings.insert(argv_strings.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (std::string& argument : argv_strings) argv.push_back(argument.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, SLUICE_BINARY, &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
  }

  ~SluiceProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(stdout_fd_);
  }

  // The next line of stdout, or "" when none arrives within `timeout_millis`.
  std::string ReadLine(int timeout_millis) {
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_millis);
    while (true) {
      const size_t newline = pending_.find('\n');
      if (newline != std::string::npos) {
        std::string line = pending_.substr(0, newline);
        pending_.erase(0, newline + 1);
        return line;
      }
      const int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
      if (left <= 0) return "";
      pollfd ready{stdout_fd_, POLLIN, 0};
      if (poll(&ready, 1, left) <= 0) continue;
      char chunk[4096];
      const ssize_t got = read(stdout_fd_, chunk, sizeof(chunk));
      if (got <= 0) return "";
      pending_.append(chunk, static_cast<size_t>(got));
    }
  }

  void Signal(int signal) { kill(pid_, signal); }

  // The exit code once the process exits, or -1 when it is still running after `timeout_millis`
  // (or died from a signal).
  int WaitForExit(int timeout_millis) {
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_millis);
    while (Clock::now() < deadline) {
      int status = 0;
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string pending_;
};

void WriteAll(int fd, const std::string& text) {
  signal(SIGPIPE, SIG_IGN);  // a job that died makes this write fail, not the test binary
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

std::string Record(int i) {
  return StrCat("{\"k\":\"key", i, "\",\"v\":", i, "}\n");
}

std::string JobReading(const std::string& path) {
  return StrCat("SELECT k, v * 10 AS v10 FROM t WITH ('t.type' = 'file_source', 't.path' = '", path,
                "', 't.format' = 'json', 't.schema' = 'k STRING, v BIGINT')");
}

// Each record written to stdin at a low rate reaches stdout on its own, long before the input
// ends (before, the source waited for 4 MiB or the end of input). `-` means stdin. The figure
// the issue asks for is 100 ms; the test allows a second, for sanitizer builds on a busy
// machine, and prints what it saw.
TEST(StreamInputTest, StdinRecordsReachTheSinkAsTheyArrive) {
  TemporaryDirectory directory;
  WriteFile(directory.File("job.sql"), JobReading("-"));
  int in[2];
  ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
  // --parallelism 2: a stream still runs on one thread (it cannot be split), and says so.
  SluiceProcess sluice({"--parallelism", "2", directory.File("job.sql")}, in[0], directory.File("err"));
  close(in[0]);
  std::vector<double> latencies;
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    const Clock::time_point written = Clock::now();
    WriteAll(in[1], Record(i));
    const std::string line = sluice.ReadLine(5000);
    latencies.push_back(MillisSince(written));
    ASSERT_EQ(line, StrCat("{\"k\":\"key", i, "\",\"v10\":", i * 10, "}")) << ReadFile(directory.File("err"));
  }
  std::string figures;
  for (double millis : latencies) figures += absl::StrFormat(" %.1f", millis);
  std::cout << "[ stream   ] stdin record to stdout, ms:" << figures << "\n";
  for (double millis : latencies) EXPECT_LT(millis, 1000.0);
  close(in[1]);  // the end of input ends the job
  EXPECT_EQ(sluice.WaitForExit(10000), 0) << ReadFile(directory.File("err"));
  EXPECT_TRUE(ReadFile(directory.File("err")).find("records in: 5, out: 5") != std::string::npos)
      << ReadFile(directory.File("err"));
}

// A lookup join's table with '<t>.reload.interval', in a job that runs on: a record that
// arrives after the table's file changed (and the interval passed) sees the new rows.
TEST(StreamInputTest, ALookupTableIsReadAgainWhileTheJobRuns) {
  TemporaryDirectory directory;
  const std::string table = directory.File("rates.jsonl");
  WriteFile(table, "{\"k\":\"key1\",\"rate\":1.5}\n");
  WriteFile(
      directory.File("job.sql"),
      StrCat("SELECT o.k, r.rate FROM t o LEFT JOIN rates r ON o.k = r.k WITH ('t.type' = 'file_source', "
             "'t.path' = '-', 't.format' = 'json', 't.schema' = 'k STRING, v BIGINT', 'rates.type' = "
             "'file_source', 'rates.path' = '",
             table,
             "', 'rates.format' = 'json', 'rates.schema' = 'k STRING, rate DOUBLE', 'rates.primary.key' = "
             "'k', 'rates.reload.interval' = '50ms')"));
  int in[2];
  ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
  SluiceProcess sluice({directory.File("job.sql")}, in[0], directory.File("err"));
  close(in[0]);
  WriteAll(in[1], Record(1) + Record(2));
  EXPECT_EQ(sluice.ReadLine(5000), "{\"k\":\"key1\",\"rate\":1.5}") << ReadFile(directory.File("err"));
  EXPECT_EQ(sluice.ReadLine(5000), "{\"k\":\"key2\",\"rate\":null}") << ReadFile(directory.File("err"));
  // Replaced as a writer should: a new file renamed over the old one.
  WriteFile(directory.File("rates.new"), "{\"k\":\"key1\",\"rate\":2.5}\n{\"k\":\"key2\",\"rate\":7}\n");
  std::filesystem::rename(directory.File("rates.new"), table);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  WriteAll(in[1], Record(1) + Record(2));
  EXPECT_EQ(sluice.ReadLine(5000), "{\"k\":\"key1\",\"rate\":2.5}") << ReadFile(directory.File("err"));
  EXPECT_EQ(sluice.ReadLine(5000), "{\"k\":\"key2\",\"rate\":7}") << ReadFile(directory.File("err"));
  close(in[1]);
  EXPECT_EQ(sluice.WaitForExit(10000), 0) << ReadFile(directory.File("err"));
}

// A job whose FIFO has a writer that sends nothing more: the source waits in a read, yet
// SIGTERM stops the job within a second, gracefully (what it read is flushed, exit 0), and
// SIGINT likewise with 130. Opening the FIFO does not wait for a writer either.
void ExpectSignalStopsBlockedJob(int signal, int expected_exit) {
  TemporaryDirectory directory;
  const std::string fifo = directory.File("in.fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  WriteFile(directory.File("job.sql"), JobReading(fifo));
  SluiceProcess sluice({"--parallelism", "1", directory.File("job.sql")}, -1, directory.File("err"));
  // Without a writer yet: the job runs (does not hang in open) and waits.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int writer = open(fifo.c_str(), O_WRONLY | O_CLOEXEC);  // the reader is there: no wait
  ASSERT_GE(writer, 0);
  WriteAll(writer, Record(1) + Record(2));
  EXPECT_EQ(sluice.ReadLine(5000), "{\"k\":\"key1\",\"v10\":10}");
  EXPECT_EQ(sluice.ReadLine(5000), "{\"k\":\"key2\",\"v10\":20}");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // now blocked on input
  const Clock::time_point signalled = Clock::now();
  sluice.Signal(signal);
  const int exit_code = sluice.WaitForExit(5000);
  const double stop_millis = MillisSince(signalled);
  std::cout << "[ stream   ] signal " << signal << " to exit: " << static_cast<int>(stop_millis) << " ms\n";
  close(writer);
  EXPECT_EQ(exit_code, expected_exit) << ReadFile(directory.File("err"));
  EXPECT_LT(stop_millis, 1000.0);
  EXPECT_TRUE(ReadFile(directory.File("err")).find("records in: 2, out: 2") != std::string::npos)
      << ReadFile(directory.File("err"));
}

TEST(StreamInputTest, SigtermStopsAJobWaitingOnAFifoWithinASecond) {
  ExpectSignalStopsBlockedJob(SIGTERM, 0);
}

TEST(StreamInputTest, SigintStopsAJobWaitingOnAFifoWithinASecond) {
  ExpectSignalStopsBlockedJob(SIGINT, 130);
}

// A stream cannot be read twice, so its schema cannot be inferred: the error says so.
TEST(StreamInputTest, StdinNeedsADeclaredSchema) {
  TemporaryDirectory directory;
  WriteFile(directory.File("job.sql"),
            "SELECT k FROM t WITH ('t.type' = 'file_source', 't.path' = '-', 't.format' = 'json')");
  SluiceProcess sluice({directory.File("job.sql")}, -1, directory.File("err"));
  EXPECT_EQ(sluice.WaitForExit(10000), 1);
  EXPECT_TRUE(ReadFile(directory.File("err")).find("'-' (stdin) is not a regular file") != std::string::npos)
      << ReadFile(directory.File("err"));
}

}  // namespace
}  // namespace sluice::testing
