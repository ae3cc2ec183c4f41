// JobManager: the jobs of `sluice serve`. Each submitted job is parsed, bound and validated
// as `sluice run` does it (sql/, plan/: the same parser with its depth limit, binder, property
// checks and connector registry), then runs on a thread of its own through JobRunner
// (runtime/job_runner.h), with the runtime's defaults of `sluice run` (batches of 1,024 rows).
//
// Persistence, under the data directory (one directory per job, jobs/<id>/):
//   job.sql      the SQL as submitted (it is also the job's checkpoint identity)
//   job.yaml     id, name, parallelism, submission time, state, error and the last counters
//   checkpoints/ the job's durable checkpoints (FileCheckpointStore; the server's directory
//                replaces the job's own 'checkpoint.dir', as `sluice run --checkpoint-dir`
//                does; interval and retention from the job's WITH)
//   savepoints/  the savepoints taken when the job is stopped (POST /jobs/{id}/stop) or on
//                demand (POST /jobs/{id}/savepoints: Savepoint())
// A job may also come from the configuration file's `jobs:` list (StartConfigured): it then
// carries that entry's name (`config_name`, in job.yaml), its ${KEY} values and optionally a
// checkpoint directory of its own, outside the data directory.
// A server started on the same data directory lists every job again and resumes those that
// were running, stopping or stopped: from the newest of their latest intact checkpoint and
// savepoint (sources from their read positions, operators from their state, file sinks exactly
// once), or from the beginning when they have none. Finished, failed and cancelled jobs are
// listed, not run. One server at a time may use a data directory (a lock file says so).
//
// Regular files and Kafka topics record their read positions. A job whose sources cannot (a
// FIFO, a stream) runs without checkpoints and savepoints; GET /jobs/{id} says why. Stopped,
// or resumed by a new server, it starts again from the beginning.
//
// States: running → finished | failed | stopping → stopped | cancelling → cancelled.
// Stop takes a savepoint (the job's state and read positions; no window fires early) and ends
// the run; Cancel ends it too (the runtime still takes its savepoint, which is not used: a
// cancelled job is not resumed). Shutdown() stops every running job with a savepoint, so that
// the next server resumes it.
//
// Thread-safe: the HTTP handlers call it from several threads; one mutex guards the job table
// and each job's state and counters (the job threads take it about once a second to hand over
// their counters, never per record).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runtime/file_checkpoint_store.h"
#include "runtime/job_runner.h"
#include "server/job_graph.h"
#include "server/metrics_exposition.h"

namespace sluice {

struct JobManagerOptions {
  std::string data_dir;
  int max_running_jobs = 16;
  int default_parallelism = 1;
};

// A snapshot of a job's counters as the server received it (about once a second while the job
// runs, and once at its end): what the web UI charts.
struct JobSample {
  int64_t unix_millis = 0;
  uint64_t records_in = 0;
  uint64_t records_out = 0;
  std::optional<int64_t> watermark;    // epoch milliseconds
  uint64_t checkpoints_completed = 0;  // in this run
  double checkpoint_seconds = 0;       // summed over this run's checkpoints
};

// A durable checkpoint the server saw completed, at one of its snapshots. A checkpoint taken
// and superseded between two snapshots is not seen; `duration_seconds` (barrier request to
// completion) is the mean over the checkpoints completed since the previous snapshot.
struct CheckpointRecord {
  uint64_t id = 0;  // in the checkpoint directory's numbering
  int64_t seen_unix_millis = 0;
  uint64_t state_bytes = 0;
  double write_seconds = 0;
  double duration_seconds = 0;
};

// What the API shows of a job.
struct JobInfo {
  std::string id;
  std::string name;  // its statements' names
  std::string state;
  std::string error;  // why it failed
  std::string sql;
  int parallelism = 1;
  int64_t submitted_unix_millis = 0;
  int runs = 0;              // runs of this job (1 + times it was resumed), across servers
  std::string resumed_from;  // "checkpoint N" / "savepoint N" for a resumed run, else empty
  std::string config_name;   // the configuration's `jobs:` entry it comes from, else empty
  JobCounters counters;      // the current run's, live while it runs
  std::string checkpoint_dir;
  std::optional<uint64_t> latest_checkpoint;  // in the directory's numbering
  uint64_t latest_checkpoint_bytes = 0;
  double latest_checkpoint_write_seconds = 0;
  std::string savepoint_dir;
  std::optional<uint64_t> latest_savepoint;
  // Why the job runs without checkpoints and savepoints (a source that cannot record its read
  // positions: a FIFO, a stream); empty when it has them.
  std::string checkpoints_off;
  // Records per second: over the last two snapshots while the job runs; once it has ended, the
  // run's mean (records / elapsed seconds).
  double records_in_per_second = 0;
  double records_out_per_second = 0;
  // Per task (one per counters.tasks entry, in its order) and per channel (counters.channels):
  // records per second and a task's busy and backpressured shares of its time, over the last
  // two snapshots while the job runs (zero before the second), over the whole run once it has
  // ended.
  struct TaskRates {
    double records_in_per_second = 0;
    double records_out_per_second = 0;
    double busy_share = 0;  // 0..1
    double backpressured_share = 0;
  };
  std::vector<TaskRates> task_rates;
  std::vector<double> channel_records_per_second;
  // The job's sources, operators and sinks (empty for a job this server has not planned: one
  // that ended before it started).
  JobGraph graph;
  // This server's record of the job's checkpoints, oldest first (at most kCheckpointHistory).
  std::vector<CheckpointRecord> checkpoint_history;
};

// How a job is submitted besides its SQL.
struct SubmitOptions {
  int parallelism = 0;                           // 0: the default
  std::map<std::string, std::string> variables;  // ${KEY} values, as `sluice run --set`
  // Its checkpoints (empty: jobs/<id>/checkpoints). A new job whose directory holds checkpoints
  // of the same job (SQL, values and parallelism) resumes from the latest, as `sluice run
  // --checkpoint-dir` does.
  std::string checkpoint_dir;
  std::string config_name;  // the configuration's `jobs:` entry it comes from; empty: POST /jobs
};

// The outcome of a submission.
struct SubmitResult {
  std::string job_id;   // set when accepted
  absl::Status status;  // OK, or the first error (InvalidArgument: bad SQL or options,
                        // ResourceExhausted: too many running jobs)
  // The SQL's errors (up to 20), each carrying its position (SqlErrorDetailOf).
  std::vector<absl::Status> sql_errors;
};

class JobManager {
 public:
  // Creates the data directory if needed and locks it.
  static absl::StatusOr<std::unique_ptr<JobManager>> Create(const JobManagerOptions& options);
  ~JobManager();  // Shutdown()

  // Lists the jobs of the data directory and resumes those that were running or stopped; one
  // note per job resumed or not resumable. REQUIRES: called once, before any other call.
  absl::Status Recover(std::vector<std::string>* notes);

  // `parallelism` 0: the default.
  SubmitResult Submit(const std::string& sql, int parallelism);
  SubmitResult Submit(const std::string& sql, const SubmitOptions& options);

  // A job of the configuration's `jobs:` list (options.config_name), at the server's start,
  // after Recover(): when the data directory holds no job of that name it is submitted (and
  // resumes from options.checkpoint_dir's latest checkpoint of it, if any); one that Recover()
  // resumed goes on; one that failed is started again from its newest checkpoint or savepoint;
  // one that finished or was cancelled is left as it is (DELETE it to have it run again at the
  // next start). `note` says which. A job left as it was keeps the SQL and values it was
  // submitted with; the note says when the configuration's differ. Errors: the submission's
  // (bad SQL with its position, too many running jobs).
  absl::Status StartConfigured(const std::string& sql, const SubmitOptions& options, std::string* note);

  std::vector<JobInfo> List() const;
  std::optional<JobInfo> Get(const std::string& id) const;
  // The current run's snapshots, oldest first (at most kSampleHistory: ten minutes), or nullopt
  // for no such job. Kept in memory only: a restarted server starts them afresh.
  std::optional<std::vector<JobSample>> History(const std::string& id) const;
  static constexpr size_t kSampleHistory = 600;
  static constexpr size_t kCheckpointHistory = 100;
  // The job's logical and physical plans, as `sluice explain` prints them.
  std::optional<std::string> Plan(const std::string& id) const;
  // NotFound, or FailedPrecondition when the job is not running.
  absl::Status Stop(const std::string& id);
  // A running job is cancelled (true); an ended one is forgotten, its directory deleted (false).
  absl::StatusOr<bool> Cancel(const std::string& id);
  // A savepoint of a running job that leaves it running: the job is stopped with a savepoint
  // (the runtime takes one only as a run stops) and started again at once from it, as a new run
  // (`runs` + 1, `resumed_from` "savepoint N", its counters from zero). Returns the savepoint's
  // number in the job's savepoint directory. Waits for the stop (the job's state and read
  // positions written and synced). NotFound; FailedPrecondition when the job is not running,
  // runs without checkpoints and savepoints, or ended by itself (or was cancelled) meanwhile;
  // Unavailable while the server shuts down.
  absl::StatusOr<uint64_t> Savepoint(const std::string& id);

  // Every job's metrics sample.
  std::vector<JobMetricsSample> MetricsSamples() const;

  // Stops every running job with a savepoint (persisted as running: the next server resumes
  // it) and waits for them. Idempotent.
  void Shutdown();

 private:
  struct Job;
  explicit JobManager(const JobManagerOptions& options, int lock_fd);

  // Binds the job's SQL, opens its stores, creates its runner and starts its thread. A new job
  // comes with its `owner`, which goes into the table once the job is ready; a job already in
  // the table (owner null, only from Recover(), before the server serves) resumes from its
  // newest snapshot. On an error the job is not started (and a new one not in the table).
  // REQUIRES: mutex_ is not held.
  absl::Status Start(Job& job, std::unique_ptr<Job> owner, std::vector<absl::Status>* sql_errors,
                     std::string* note);
  void RunJob(Job* job);
  // Writes job.yaml. REQUIRES: mutex_ held.
  void Persist(const Job& job) const;
  // Appends the job's current counters to its samples, and its latest checkpoint to its
  // checkpoint history when it is new. REQUIRES: mutex_ held.
  void RecordSample(Job& job) const;
  JobInfo InfoOf(const Job& job) const;  // REQUIRES: mutex_ held
  int RunningJobs() const;               // REQUIRES: mutex_ held

  const JobManagerOptions options_;
  const int lock_fd_;
  // Held while a job's thread is joined and started again (Savepoint), while Shutdown() stops
  // and joins every job, and while Cancel() forgets an ended job: no two of them join one thread,
  // and Shutdown() sees every job that a savepoint restarted. Taken before mutex_.
  std::mutex lifecycle_mutex_;
  mutable std::mutex mutex_;
  std::map<uint64_t, std::unique_ptr<Job>> jobs_;  // by number; guarded by mutex_
  uint64_t next_id_ = 1;                           // guarded by mutex_
  bool shutting_down_ = false;                     // guarded by mutex_
};

}  // namespace sluice
