// JobMetrics: the counters of one run of the task graph (runtime/parallel_runner.h), assembled
// into JobCounters: what the sources read, the sinks wrote and the dead-letter outputs received,
// the stateful operators' StatefulMetrics, checkpoints, watermark-alignment pauses, and the
// busy / idle / backpressured time of every task.
//
// The runner registers its sources, sinks, dead-letter writers, stateful operators and channels
// while it builds the graph; JobMetrics only reads them. Threads: each worker writes only its own
// WorkerMetrics (its clock, first record and placement) and publishes, after each step of its
// task loop (a batch, or a wait), what Live() reads of it: `records_read`, its clock and its own
// sinks' rows, in relaxed atomics (a store each, no read-modify-write; nothing per record), and
// its partitions' watermarks after each batch (SetPublishedWatermarks). The channels count
// their rows themselves (Channel::rows_sent). The coordinator writes its clock
// and `checkpoints_completed`; the alignment counters are atomic. Live() is called on the
// coordinator thread during the run, Final() after it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "connectors/dead_letter_writer.h"
#include "connectors/sink.h"
#include "connectors/source.h"
#include "ops/stateful_operator.h"
#include "runtime/exchange.h"
#include "runtime/job_runner.h"

namespace sluice {

// Busy / idle / backpressured time of one task thread.
struct TaskClock {
  using Clock = std::chrono::steady_clock;
  Clock::time_point last = Clock::now();
  Clock::duration busy{}, idle{}, backpressured{};
  void Tick(bool did_work, bool blocked) {
    const Clock::time_point now = Clock::now();
    (did_work ? busy : blocked ? backpressured : idle) += now - last;
    last = now;
  }
};

class JobMetrics {
 public:
  using Clock = std::chrono::steady_clock;

  // What one worker thread counts (written by that thread only).
  struct WorkerMetrics {
    TaskClock clock;
    Clock::time_point first_record{};  // when it read its first row; unset before
    std::string placement;             // "cpu 1 (node 0)", or why it is not pinned
    std::vector<const SinkOperator*> sinks;

    // --- published for Live() ---
    std::atomic<uint64_t> records_read{0};  // by its source partitions (stored per batch read)
    // `placement` is set (release; Live() reads it only after an acquire load of true).
    std::atomic<bool> placed{false};
    // Stores the clock and the sinks' rows into the atomics below. Called by the worker after
    // each step of its loop.
    void Publish() {
      busy_nanos.store(clock.busy.count(), std::memory_order_relaxed);
      idle_nanos.store(clock.idle.count(), std::memory_order_relaxed);
      backpressured_nanos.store(clock.backpressured.count(), std::memory_order_relaxed);
      if (sinks.empty()) return;
      uint64_t rows = 0;
      for (const SinkOperator* sink : sinks) rows += sink->rows_written();
      sink_rows.store(rows, std::memory_order_relaxed);
    }
    std::atomic<Clock::rep> busy_nanos{0};
    std::atomic<Clock::rep> idle_nanos{0};
    std::atomic<Clock::rep> backpressured_nanos{0};
    std::atomic<uint64_t> sink_rows{0};
  };

  // `fused`: the graph runs as one task on the calling thread (no coordinator task).
  JobMetrics(int workers, bool fused);

  // --- registration, while the graph is built ---
  void AddSource(const SourcePartition* source) { sources_.push_back(source); }
  void AddDeadLetters(const DeadLetterWriter* writer) { dead_letters_.push_back(writer); }
  void AddCoordinatorSink(const SinkOperator* sink) { coordinator_sinks_.push_back(sink); }
  void AddStatefulOperator(const StatefulOperator* op) { stateful_operators_.push_back(op); }
  // Each source partition's watermark as its worker publishes it after every batch (one per
  // source registered, in the same order; INT64_MIN before any record), for Live().
  void SetPublishedWatermarks(const std::atomic<int64_t>* watermarks) { published_watermarks_ = watermarks; }
  // A channel of statement `statement` from task `from` to task `to` (worker indexes; the
  // coordinator is task `workers`). `kind` as in JobCounters::ChannelFigures.
  void AddChannel(const Channel* channel, const std::string& statement, const std::string& kind, size_t from,
                  size_t to) {
    channels_.push_back({channel, statement, kind, from, to});
  }
  // A statement with a keyed stage, fed from each worker's own partitions (`forwarded`: the
  // source is partitioned by the key) or by a keyed exchange.
  void AddKeyedStage(bool forwarded) { ++(forwarded ? keyed_stages_forwarded_ : keyed_stages_exchanged_); }
  WorkerMetrics& worker(int index) { return *workers_[static_cast<size_t>(index)]; }

  // --- the run ---
  // The run starts now: elapsed and first-record times count from here.
  void Start() { start_ = Clock::now(); }
  Clock::time_point start() const { return start_; }
  // The run is over (after every task stopped).
  void Finish(bool cancelled) {
    elapsed_seconds_ = Seconds(Clock::now() - start_);
    cancelled_ = cancelled;
  }
  TaskClock& coordinator_clock() { return coordinator_clock_; }
  uint64_t checkpoints_completed = 0;  // written by the coordinator
  double checkpoint_seconds = 0;       // written by the coordinator: barrier requested to completed
  uint64_t savepoint = 0;              // written by the coordinator
  std::atomic<uint64_t> alignment_pauses{0};
  std::atomic<uint64_t> alignment_resumes{0};

  // During the run, called by the thread that runs the coordinator (or the fused task): fused,
  // everything Final() holds, up to now; on several workers (`complete` false) records read,
  // rows written by the coordinator's sinks, elapsed time, workers, checkpoints, the tasks (as
  // the workers last published them: records in and out, busy / idle / backpressured time), the
  // channels, the watermark (from the published ones, when set) and the sources' partition lag
  // (which they publish for other threads).
  JobCounters Live() const;
  // After the run: everything.
  JobCounters Final() const;

  static double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

 private:
  struct ChannelEntry {
    const Channel* channel;
    std::string statement;
    std::string kind;
    size_t from;
    size_t to;
  };
  // The channels' figures, and each task's rows through its channels added to its records in
  // and out. REQUIRES: `counters.tasks` holds every worker and the coordinator.
  void AddChannelFigures(JobCounters& counters) const;
  // The coordinator's task: its clock and its sinks' rows. REQUIRES: not fused; on the
  // coordinator's thread, or after the run.
  JobCounters::TaskTimes CoordinatorTask() const;

  const int workers_count_;
  const bool fused_;
  int keyed_stages_forwarded_ = 0;
  int keyed_stages_exchanged_ = 0;
  std::vector<std::unique_ptr<WorkerMetrics>> workers_;
  std::vector<const SourcePartition*> sources_;
  std::vector<const DeadLetterWriter*> dead_letters_;
  std::vector<const SinkOperator*> coordinator_sinks_;
  std::vector<const StatefulOperator*> stateful_operators_;
  std::vector<ChannelEntry> channels_;
  const std::atomic<int64_t>* published_watermarks_ = nullptr;
  Clock::time_point start_ = Clock::now();
  TaskClock coordinator_clock_;
  double elapsed_seconds_ = 0;
  bool cancelled_ = false;
};

}  // namespace sluice
