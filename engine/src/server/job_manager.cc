#include "server/job_manager.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/log.h"
#include "common/strings.h"
#include "plan/binder.h"
#include "server/large_stack_thread.h"
#include "sql/parser.h"
#include "sql/source_text.h"
#include "sql/sql_error_list.h"

namespace sluice {

enum class JobState { kRunning, kFinished, kFailed, kStopping, kStopped, kCancelling, kCancelled };

namespace {

const char* StateName(JobState state) {
  switch (state) {
    case JobState::kRunning: return "running";
    case JobState::kFinished: return "finished";
    case JobState::kFailed: return "failed";
    case JobState::kStopping: return "stopping";
    case JobState::kStopped: return "stopped";
    case JobState::kCancelling: return "cancelling";
    case JobState::kCancelled: return "cancelled";
  }
  return "unknown";
}

std::optional<JobState> StateOf(const std::string& name) {
  for (JobState state : {JobState::kRunning, JobState::kFinished, JobState::kFailed, JobState::kStopping,
                         JobState::kStopped, JobState::kCancelling, JobState::kCancelled}) {
    if (name == StateName(state)) return state;
  }
  return std::nullopt;
}

bool IsActive(JobState state) {
  return state == JobState::kRunning || state == JobState::kStopping || state == JobState::kCancelling;
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return absl::UnavailableError(StrCat("cannot write '", temporary, "'"));
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) return absl::UnavailableError(StrCat("cannot rename '", temporary, "': ", error.message()));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot read '", path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

struct JobManager::Job {
  // Set at creation, then read-only.
  uint64_t number = 0;
  std::string id;
  std::string sql;
  int parallelism = 1;
  int64_t submitted_unix_millis = 0;
  std::string directory;
  std::map<std::string, std::string> variables;  // ${KEY} values
  std::string checkpoint_dir_override;           // empty: directory + "/checkpoints"
  std::string config_name;                       // its `jobs:` entry in the configuration
  // Set by Start() before the thread starts, then read-only until the thread is joined.
  std::string name;
  std::string plan;
  std::unique_ptr<BoundJob> bound;
  std::unique_ptr<FileCheckpointStore> checkpoints;
  std::unique_ptr<FileCheckpointStore> savepoints;
  std::unique_ptr<FileCheckpointStore> restored;
  std::unique_ptr<JobRunner> runner;
  std::atomic<bool> cancel{false};
  LargeStackThread thread;  // RunJob
  // Guarded by JobManager::mutex_.
  JobState state = JobState::kRunning;
  std::string error;
  JobCounters counters;
  // The snapshot before `counters` in this run, for the per-task and per-channel rates.
  JobCounters previous_counters;
  int runs = 0;
  std::string resumed_from;
  bool shutdown_stop = false;   // stopped by Shutdown(): persisted as running
  std::string checkpoints_off;  // why the job runs without checkpoints; empty: it has them
  JobGraph graph;
  std::deque<JobSample> samples;  // the current run's
  std::deque<CheckpointRecord> checkpoint_history;

  std::string checkpoint_dir() const {
    return checkpoint_dir_override.empty() ? directory + "/checkpoints" : checkpoint_dir_override;
  }
  // What identifies the job's checkpoints with its parallelism: its text and the values
  // substituted into it, as `sluice run` writes them.
  std::string identity_text() const {
    std::string text = sql;
    for (const auto& [key, value] : variables) StrAppend(&text, "\n--set ", key, "=", value);
    return text;
  }
  std::string savepoint_dir() const { return directory + "/savepoints"; }
};

absl::StatusOr<std::unique_ptr<JobManager>> JobManager::Create(const JobManagerOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(options.data_dir + "/jobs", error);
  if (error) {
    return absl::UnavailableError(
        StrCat("cannot create the data directory '", options.data_dir, "': ", error.message()));
  }
  const std::string lock_path = options.data_dir + "/.lock";
  const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError(StrCat("cannot open '", lock_path, "'"));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return absl::FailedPreconditionError(
        StrCat("the data directory '", options.data_dir, "' is in use by another sluice serve"));
  }
  return std::unique_ptr<JobManager>(new JobManager(options, fd));
}

JobManager::JobManager(const JobManagerOptions& options, int lock_fd)
    : options_(options), lock_fd_(lock_fd) {}

JobManager::~JobManager() {
  Shutdown();
  close(lock_fd_);
}

absl::Status JobManager::Start(Job& job, std::unique_ptr<Job> owner, std::vector<absl::Status>* sql_errors,
                               std::string* note) {
  // A new job resumes too when it brings a checkpoint directory of its own (one that outlived a
  // data directory, or that `sluice run --checkpoint-dir` wrote).
  const bool resume = owner == nullptr || !job.checkpoint_dir_override.empty();
  // The same path as `sluice run`: parse (with its depth limit), bind, check properties.
  SqlErrorList errors;
  ParsedJob parsed = ParseJob(job.sql, errors);
  std::optional<BoundJob> bound;
  BindOptions bind_options;
  bind_options.substitution.variables = job.variables;
  if (errors.empty()) bound = BindJob(std::move(parsed), bind_options, errors);
  if (!errors.empty()) {
    if (sql_errors != nullptr) *sql_errors = errors.errors();
    return errors.first();
  }
  // What the HTTP threads read under mutex_ (name, plan, graph, the stores, checkpoints_off) is
  // built here and swapped in under it: a job resumed after an on-demand savepoint is started
  // again while the server serves.
  job.bound = std::make_unique<BoundJob>(std::move(*bound));
  const BoundJob& bound_job = *job.bound;
  std::string name;
  for (const BoundStatement& statement : bound_job.statements) {
    if (statement.lowered_from.empty()) StrAppend(&name, name.empty() ? "" : ",", statement.name);
  }
  RunOptions run_options;
  run_options.parallelism = job.parallelism;
  run_options.cancel = &job.cancel;
  run_options.state_max_bytes = bound_job.state_max_bytes;
  const CheckpointJobIdentity identity = CheckpointJobIdentity::Of(job.identity_text(), job.parallelism);
  SLUICE_ASSIGN_OR_RETURN(
      std::unique_ptr<FileCheckpointStore> checkpoints,
      FileCheckpointStore::Open(job.checkpoint_dir(), identity, bound_job.checkpoint_retained));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<FileCheckpointStore> savepoints,
                          FileCheckpointStore::Open(job.savepoint_dir(), identity, 1000));
  run_options.checkpoint_store = checkpoints.get();
  run_options.checkpoint_interval_millis = bound_job.checkpoint_interval_millis;
  run_options.savepoint_store = savepoints.get();
  std::string resumed_from;
  if (resume) {
    // The newest of the latest intact checkpoint and savepoint.
    std::vector<std::string> notes;
    SLUICE_ASSIGN_OR_RETURN(std::optional<CheckpointInfo> checkpoint, checkpoints->Recover(&notes));
    SLUICE_ASSIGN_OR_RETURN(job.restored, FileCheckpointStore::Open(job.savepoint_dir(), identity, 1000));
    SLUICE_ASSIGN_OR_RETURN(std::optional<CheckpointInfo> savepoint, job.restored->Recover(&notes));
    if (savepoint && (!checkpoint || savepoint->completed_unix_millis >= checkpoint->completed_unix_millis)) {
      run_options.restore_store = job.restored.get();
      run_options.restore_checkpoint = savepoint->id;
      resumed_from = StrCat("savepoint ", savepoint->id);
    } else if (checkpoint) {
      run_options.restore_checkpoint = checkpoint->id;
      resumed_from = StrCat("checkpoint ", checkpoint->id);
    }
    if (note != nullptr) {
      *note = StrCat(
          "job ", job.id, ": resumed ",
          resumed_from.empty() ? "from the beginning (no checkpoint or savepoint)" : "from " + resumed_from);
      for (const std::string& line : notes) StrAppend(note, "; ", line);
    }
  }
  absl::StatusOr<std::unique_ptr<JobRunner>> runner = JobRunner::Create(bound_job, run_options);
  std::string checkpoints_off;
  if (!runner.ok() && absl::IsFailedPrecondition(runner.status()) && !run_options.restore_checkpoint) {
    // A source that cannot record its read positions (a FIFO, a stream): the job runs
    // without checkpoints and savepoints, and a restart runs it again from the beginning.
    const std::string why = std::string(runner.status().message());
    RunOptions plain = run_options;
    plain.checkpoint_store = nullptr;
    plain.savepoint_store = nullptr;
    plain.restore_store = nullptr;
    runner = JobRunner::Create(bound_job, plain);
    if (runner.ok()) checkpoints_off = why;
  }
  if (!runner.ok()) return runner.status();
  job.runner = std::move(*runner);
  // The plans, as `sluice explain` prints them.
  std::string plan;
  for (size_t i = 0; i < bound_job.statements.size(); ++i) {
    const BoundStatement& statement = bound_job.statements[i];
    StrAppend(&plan, "statement ", i + 1, ": ", statement.name,
              statement.lowered_from.empty() ? "" : " (" + statement.lowered_from + ")", "\n");
    StrAppend(&plan, "logical plan:\n", statement.plan->ToString(1));
  }
  StrAppend(&plan, "physical plan:\n", job.runner->Explain());
  JobGraph graph = BuildJobGraph(bound_job);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job.name = std::move(name);
    job.plan = std::move(plan);
    job.graph = std::move(graph);
    // The previous run's stores (after an on-demand savepoint) go when `checkpoints` and
    // `savepoints` leave scope, after the lock.
    std::swap(job.checkpoints, checkpoints);
    std::swap(job.savepoints, savepoints);
    job.checkpoints_off = std::move(checkpoints_off);
    job.samples.clear();
    job.state = JobState::kRunning;
    job.error.clear();
    job.counters = JobCounters();
    job.counters.complete = false;  // nothing is known of the run before its first snapshot
    job.previous_counters = JobCounters();
    job.resumed_from = resumed_from;
    ++job.runs;
    Persist(job);
    if (owner != nullptr) jobs_[job.number] = std::move(owner);
  }
  Log(LogComponent::kServer)
      .info("job {} ({}): started{}{}", job.id, job.name, resumed_from.empty() ? "" : ", resumed from ",
            resumed_from);
  if (absl::Status started = job.thread.Start([this, &job]() { RunJob(&job); }); !started.ok()) {
    Log(LogComponent::kServer).error("job {}: failed to start: {}", job.id, std::string(started.message()));
    std::lock_guard<std::mutex> lock(mutex_);
    job.state = JobState::kFailed;
    job.error = std::string(started.message());
    Persist(job);
  }
  return absl::OkStatus();
}

void JobManager::RunJob(Job* job) {
  const absl::Status status = job->runner->Run([this, job](const JobCounters& counters) {
    std::lock_guard<std::mutex> lock(mutex_);
    job->previous_counters = std::move(job->counters);
    job->counters = counters;
    RecordSample(*job);
  });
  const JobCounters counters = job->runner->counters();
  // What only a run needs goes now (operators, state, buffers); a long-lived server keeps
  // every job it ran, so an ended one holds only its counters and plan text.
  job->runner.reset();
  job->bound.reset();
  job->restored.reset();
  std::lock_guard<std::mutex> lock(mutex_);
  job->counters = counters;
  RecordSample(*job);
  if (!status.ok()) {
    job->state = JobState::kFailed;
    job->error = std::string(status.message());
  } else if (!counters.cancelled) {
    job->state = JobState::kFinished;  // also when a stop came as it ended by itself
  } else if (job->state == JobState::kCancelling) {
    job->state = JobState::kCancelled;
  } else {
    job->state = JobState::kStopped;  // with a savepoint, unless it runs without checkpoints
  }
  if (job->state == JobState::kFailed) {
    Log(LogComponent::kServer).error("job {} ({}): failed: {}", job->id, job->name, job->error);
  } else {
    Log(LogComponent::kServer)
        .info("job {} ({}): {} ({} records in, {} out, {:.1f} s){}", job->id, job->name,
              StateName(job->state), counters.records_in, counters.records_out, counters.elapsed_seconds,
              counters.savepoint != 0 ? StrCat(", savepoint ", counters.savepoint) : "");
  }
  Persist(*job);
}

void JobManager::RecordSample(Job& job) const {
  JobSample sample;
  sample.unix_millis = UnixMillisNow();
  sample.records_in = job.counters.records_in;
  sample.records_out = job.counters.records_out;
  sample.watermark = job.counters.watermark;
  sample.checkpoints_completed = job.counters.checkpoints_completed;
  sample.checkpoint_seconds = job.counters.checkpoint_seconds;
  const JobSample previous = job.samples.empty() ? JobSample() : job.samples.back();
  job.samples.push_back(sample);
  while (job.samples.size() > kSampleHistory) job.samples.pop_front();
  if (job.checkpoints == nullptr) return;
  const std::optional<uint64_t> latest = job.checkpoints->last_completed();
  if (!latest || (!job.checkpoint_history.empty() && job.checkpoint_history.back().id == *latest)) return;
  CheckpointRecord record;
  record.id = *latest;
  record.seen_unix_millis = sample.unix_millis;
  record.state_bytes = job.checkpoints->last_state_bytes();
  record.write_seconds = job.checkpoints->last_write_seconds();
  if (sample.checkpoints_completed > previous.checkpoints_completed) {
    record.duration_seconds =
        (sample.checkpoint_seconds - previous.checkpoint_seconds) /
        static_cast<double>(sample.checkpoints_completed - previous.checkpoints_completed);
  }
  job.checkpoint_history.push_back(record);
  while (job.checkpoint_history.size() > kCheckpointHistory) job.checkpoint_history.pop_front();
}

void JobManager::Persist(const Job& job) const {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "id" << YAML::Value << job.id;
  out << YAML::Key << "name" << YAML::Value << job.name;
  out << YAML::Key << "parallelism" << YAML::Value << job.parallelism;
  out << YAML::Key << "submitted_unix_millis" << YAML::Value << job.submitted_unix_millis;
  // A job stopped by the server's shutdown is resumed as a running one.
  out << YAML::Key << "state" << YAML::Value
      << StateName(job.shutdown_stop && job.state == JobState::kStopped ? JobState::kRunning : job.state);
  out << YAML::Key << "error" << YAML::Value << job.error;
  out << YAML::Key << "runs" << YAML::Value << job.runs;
  out << YAML::Key << "records_in" << YAML::Value << job.counters.records_in;
  out << YAML::Key << "records_out" << YAML::Value << job.counters.records_out;
  out << YAML::Key << "dead_lettered" << YAML::Value << job.counters.dead_lettered;
  out << YAML::Key << "late" << YAML::Value << job.counters.late_dropped;
  out << YAML::Key << "bytes_in" << YAML::Value << job.counters.bytes_in;
  out << YAML::Key << "elapsed_seconds" << YAML::Value << job.counters.elapsed_seconds;
  if (!job.config_name.empty()) out << YAML::Key << "config_name" << YAML::Value << job.config_name;
  if (!job.checkpoint_dir_override.empty())
    out << YAML::Key << "checkpoint_dir" << YAML::Value << job.checkpoint_dir_override;
  if (!job.variables.empty()) {
    out << YAML::Key << "variables" << YAML::Value << YAML::BeginMap;
    for (const auto& [key, value] : job.variables) out << YAML::Key << key << YAML::Value << value;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  const absl::Status written = WriteFileAtomically(job.directory + "/job.yaml", StrCat(out.c_str(), "\n"));
  if (!written.ok()) Log(LogComponent::kServer).error("job {}: {}", job.id, std::string(written.message()));
}

absl::Status JobManager::Recover(std::vector<std::string>* notes) {
  std::vector<uint64_t> numbers;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(options_.data_dir + "/jobs", error)) {
    uint64_t number = 0;
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    number = std::stoull(name);
    numbers.push_back(number);
  }
  if (error)
    return absl::UnavailableError(StrCat("cannot list '", options_.data_dir, "/jobs': ", error.message()));
  std::sort(numbers.begin(), numbers.end());
  std::vector<Job*> to_resume;
  for (const uint64_t number : numbers) {
    auto job = std::make_unique<Job>();
    job->number = number;
    job->id = std::to_string(number);
    job->directory = StrCat(options_.data_dir, "/jobs/", number);
    absl::StatusOr<std::string> sql = ReadWholeFile(job->directory + "/job.sql");
    absl::StatusOr<std::string> meta = ReadWholeFile(job->directory + "/job.yaml");
    if (!sql.ok() || !meta.ok()) {
      notes->push_back(StrCat("job ", number,
                              ": skipped: ", !sql.ok() ? sql.status().message() : meta.status().message()));
      continue;
    }
    job->sql = *sql;
    std::optional<JobState> state;
    try {
      const YAML::Node node = YAML::Load(*meta);
      job->name = node["name"].as<std::string>("");
      job->parallelism = node["parallelism"].as<int>(1);
      job->submitted_unix_millis = node["submitted_unix_millis"].as<int64_t>(0);
      state = StateOf(node["state"].as<std::string>(""));
      job->error = node["error"].as<std::string>("");
      job->runs = node["runs"].as<int>(0);
      job->counters.records_in = node["records_in"].as<uint64_t>(0);
      job->counters.records_out = node["records_out"].as<uint64_t>(0);
      job->counters.dead_lettered = node["dead_lettered"].as<uint64_t>(0);
      job->counters.late_dropped = node["late"].as<uint64_t>(0);
      job->counters.bytes_in = node["bytes_in"].as<uint64_t>(0);
      job->counters.elapsed_seconds = node["elapsed_seconds"].as<double>(0);
      job->config_name = node["config_name"].as<std::string>("");
      job->checkpoint_dir_override = node["checkpoint_dir"].as<std::string>("");
      if (const YAML::Node variables = node["variables"]; variables.IsDefined() && variables.IsMap()) {
        for (const auto& entry : variables)
          job->variables[entry.first.as<std::string>()] = entry.second.as<std::string>();
      }
    } catch (const YAML::Exception& exception) {
      notes->push_back(StrCat("job ", number, ": skipped: job.yaml: ", exception.what()));
      continue;
    }
    if (!state || job->parallelism < 1 || job->parallelism > 1024) {
      notes->push_back(StrCat("job ", number, ": skipped: job.yaml holds no valid state or parallelism"));
      continue;
    }
    job->state = *state == JobState::kCancelling ? JobState::kCancelled : *state;
    Job* raw = job.get();
    std::lock_guard<std::mutex> lock(mutex_);
    next_id_ = std::max(next_id_, number + 1);
    jobs_[number] = std::move(job);
    if (raw->state == JobState::kRunning || raw->state == JobState::kStopping ||
        raw->state == JobState::kStopped) {
      to_resume.push_back(raw);
    }
  }
  for (Job* job : to_resume) {
    std::string note;
    absl::Status started;
    SLUICE_RETURN_IF_ERROR(LargeStackThread::Run([&]() { started = Start(*job, nullptr, nullptr, &note); }));
    if (!started.ok()) {
      std::lock_guard<std::mutex> lock(mutex_);
      job->state = JobState::kFailed;
      job->error = StrCat("could not be resumed: ", started.message());
      Persist(*job);
      notes->push_back(StrCat("job ", job->id, ": ", job->error));
    } else {
      notes->push_back(note);
    }
  }
  return absl::OkStatus();
}

int JobManager::RunningJobs() const {
  int running = 0;
  for (const auto& [number, job] : jobs_) running += IsActive(job->state) ? 1 : 0;
  return running;
}

SubmitResult JobManager::Submit(const std::string& sql, int parallelism) {
  SubmitOptions options;
  options.parallelism = parallelism;
  return Submit(sql, options);
}

SubmitResult JobManager::Submit(const std::string& sql, const SubmitOptions& submit) {
  SubmitResult result;
  int parallelism = submit.parallelism;
  if (parallelism == 0) parallelism = options_.default_parallelism;
  if (parallelism < 1 || parallelism > 1024) {
    result.status = absl::InvalidArgumentError("parallelism needs a whole number from 1 to 1024");
    return result;
  }
  auto job = std::make_unique<Job>();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shutting_down_) {
      result.status = absl::UnavailableError("the server is shutting down");
      return result;
    }
    if (RunningJobs() >= options_.max_running_jobs) {
      result.status = absl::ResourceExhaustedError(
          StrCat("already ", options_.max_running_jobs, " running jobs (max_running_jobs)"));
      return result;
    }
    job->number = next_id_++;
  }
  job->id = std::to_string(job->number);
  job->sql = sql;
  job->parallelism = parallelism;
  job->variables = submit.variables;
  job->checkpoint_dir_override = submit.checkpoint_dir;
  job->config_name = submit.config_name;
  job->submitted_unix_millis = UnixMillisNow();
  job->directory = StrCat(options_.data_dir, "/jobs/", job->number);
  std::error_code error;
  std::filesystem::create_directories(job->directory, error);
  absl::Status status =
      error ? absl::UnavailableError(StrCat("cannot create '", job->directory, "': ", error.message()))
            : WriteFileAtomically(job->directory + "/job.sql", sql);
  // Start() puts the job in the table once it is ready to run, before its thread starts.
  Job* raw = job.get();
  const std::string id = raw->id;
  // Parsed, bound and planned on a thread with the stack `sluice run`'s main thread has.
  if (status.ok()) {
    absl::Status started;
    status =
        LargeStackThread::Run([&]() { started = Start(*raw, std::move(job), &result.sql_errors, nullptr); });
    if (status.ok()) status = started;
  }
  if (!status.ok()) {
    std::filesystem::remove_all(StrCat(options_.data_dir, "/jobs/", id), error);
    result.status = status;
    return result;
  }
  result.job_id = id;
  return result;
}

namespace {

// JobInfo::task_rates and channel_records_per_second: from the last two snapshots of a running
// job (`live`; none before its second), or over the whole run of an ended one. A task or
// channel is matched by its index; the runtime lists them in a fixed order.
void TaskAndChannelRates(const JobCounters& before, const JobCounters& now, bool live, JobInfo& info) {
  const bool two_snapshots = live && before.tasks.size() == now.tasks.size() &&
                             before.channels.size() == now.channels.size() &&
                             now.elapsed_seconds > before.elapsed_seconds;
  const double seconds =
      two_snapshots ? now.elapsed_seconds - before.elapsed_seconds : (live ? 0.0 : now.elapsed_seconds);
  const auto per_second = [&](uint64_t last, uint64_t first) {
    return seconds > 0 && last >= first ? static_cast<double>(last - first) / seconds : 0.0;
  };
  for (size_t t = 0; t < now.tasks.size(); ++t) {
    const JobCounters::TaskTimes& task = now.tasks[t];
    const JobCounters::TaskTimes empty;
    const JobCounters::TaskTimes& first = two_snapshots ? before.tasks[t] : empty;
    JobInfo::TaskRates rates;
    rates.records_in_per_second = per_second(task.records_in, first.records_in);
    rates.records_out_per_second = per_second(task.records_out, first.records_out);
    const double busy = task.busy_seconds - first.busy_seconds;
    const double backpressured = task.backpressured_seconds - first.backpressured_seconds;
    const double total = busy + backpressured + (task.idle_seconds - first.idle_seconds);
    if ((two_snapshots || !live) && total > 0) {
      rates.busy_share = std::clamp(busy / total, 0.0, 1.0);
      rates.backpressured_share = std::clamp(backpressured / total, 0.0, 1.0);
    }
    info.task_rates.push_back(rates);
  }
  for (size_t c = 0; c < now.channels.size(); ++c) {
    const uint64_t first = two_snapshots ? before.channels[c].records_sent : 0;
    info.channel_records_per_second.push_back(per_second(now.channels[c].records_sent, first));
  }
}

}  // namespace

JobInfo JobManager::InfoOf(const Job& job) const {
  JobInfo info;
  info.id = job.id;
  info.name = job.name;
  info.state = StateName(job.state);
  info.error = job.error;
  info.sql = job.sql;
  info.parallelism = job.parallelism;
  info.submitted_unix_millis = job.submitted_unix_millis;
  info.runs = job.runs;
  info.resumed_from = job.resumed_from;
  info.config_name = job.config_name;
  info.counters = job.counters;
  info.checkpoint_dir = job.checkpoint_dir();
  info.savepoint_dir = job.savepoint_dir();
  info.checkpoints_off = job.checkpoints_off;
  if (job.checkpoints) {
    info.latest_checkpoint = job.checkpoints->last_completed();
    info.latest_checkpoint_bytes = job.checkpoints->last_state_bytes();
    info.latest_checkpoint_write_seconds = job.checkpoints->last_write_seconds();
  }
  if (job.savepoints) info.latest_savepoint = job.savepoints->last_completed();
  if (IsActive(job.state) && job.samples.size() >= 2) {
    const JobSample& last = job.samples.back();
    const JobSample& before = job.samples[job.samples.size() - 2];
    const double seconds = static_cast<double>(last.unix_millis - before.unix_millis) / 1000.0;
    if (seconds > 0) {
      info.records_in_per_second = static_cast<double>(last.records_in - before.records_in) / seconds;
      info.records_out_per_second = static_cast<double>(last.records_out - before.records_out) / seconds;
    }
  } else if (!IsActive(job.state) && job.counters.elapsed_seconds > 0) {
    info.records_in_per_second = static_cast<double>(job.counters.records_in) / job.counters.elapsed_seconds;
    info.records_out_per_second =
        static_cast<double>(job.counters.records_out) / job.counters.elapsed_seconds;
  }
  TaskAndChannelRates(job.previous_counters, job.counters, IsActive(job.state), info);
  info.graph = job.graph;
  info.checkpoint_history.assign(job.checkpoint_history.begin(), job.checkpoint_history.end());
  return info;
}

std::vector<JobInfo> JobManager::List() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<JobInfo> list;
  for (const auto& [number, job] : jobs_) list.push_back(InfoOf(*job));
  return list;
}

namespace {
std::optional<uint64_t> JobNumber(const std::string& id) {
  if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoull(id);
}
}  // namespace

std::optional<JobInfo> JobManager::Get(const std::string& id) const {
  const std::optional<uint64_t> number = JobNumber(id);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = number ? jobs_.find(*number) : jobs_.end();
  if (it == jobs_.end()) return std::nullopt;
  return InfoOf(*it->second);
}

std::optional<std::vector<JobSample>> JobManager::History(const std::string& id) const {
  const std::optional<uint64_t> number = JobNumber(id);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = number ? jobs_.find(*number) : jobs_.end();
  if (it == jobs_.end()) return std::nullopt;
  return std::vector<JobSample>(it->second->samples.begin(), it->second->samples.end());
}

std::optional<std::string> JobManager::Plan(const std::string& id) const {
  const std::optional<uint64_t> number = JobNumber(id);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = number ? jobs_.find(*number) : jobs_.end();
  if (it == jobs_.end()) return std::nullopt;
  if (it->second->plan.empty()) {
    return StrCat("job ", id, " is ", StateName(it->second->state), " and was not planned by this server\n");
  }
  return it->second->plan;
}

absl::Status JobManager::Stop(const std::string& id) {
  const std::optional<uint64_t> number = JobNumber(id);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = number ? jobs_.find(*number) : jobs_.end();
  if (it == jobs_.end()) return absl::NotFoundError(StrCat("no job '", id, "'"));
  Job& job = *it->second;
  if (job.state != JobState::kRunning) {
    return absl::FailedPreconditionError(StrCat("job ", id, " is ", StateName(job.state), ", not running"));
  }
  job.state = JobState::kStopping;
  Persist(job);
  job.cancel.store(true);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> JobManager::Savepoint(const std::string& id) {
  const std::optional<uint64_t> number = JobNumber(id);
  std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
  Job* job = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = number ? jobs_.find(*number) : jobs_.end();
    if (it == jobs_.end()) return absl::NotFoundError(StrCat("no job '", id, "'"));
    job = it->second.get();
    if (shutting_down_) return absl::UnavailableError("the server is shutting down");
    if (job->state != JobState::kRunning) {
      return absl::FailedPreconditionError(
          StrCat("job ", id, " is ", StateName(job->state), ", not running"));
    }
    if (!job->checkpoints_off.empty()) {
      return absl::FailedPreconditionError(
          StrCat("job ", id, " runs without checkpoints and savepoints: ", job->checkpoints_off));
    }
    // Not persisted: a server that dies now resumes the job as a running one all the same.
    job->state = JobState::kStopping;
    job->cancel.store(true);
  }
  job->thread.Join();
  std::optional<uint64_t> taken;
  std::unique_ptr<FileCheckpointStore> checkpoints, savepoints;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (job->state != JobState::kStopped) {
      return absl::FailedPreconditionError(
          StrCat("job ", id, " is ", StateName(job->state), ": it ended before its savepoint"));
    }
    if (job->savepoints) taken = job->savepoints->last_completed();
    if (!taken) {
      return absl::InternalError(
          StrCat("job ", id, " stopped without a savepoint; it resumes when the server restarts"));
    }
    // The run's stores finish their writes before the next run reads the directories.
    std::swap(checkpoints, job->checkpoints);
    std::swap(savepoints, job->savepoints);
  }
  checkpoints.reset();
  savepoints.reset();
  job->cancel.store(false);
  absl::Status started;
  SLUICE_RETURN_IF_ERROR(LargeStackThread::Run([&]() { started = Start(*job, nullptr, nullptr, nullptr); }));
  if (!started.ok()) {
    std::lock_guard<std::mutex> lock(mutex_);
    job->state = JobState::kFailed;
    job->error = StrCat("could not be resumed from savepoint ", *taken, ": ", started.message());
    Persist(*job);
    return absl::InternalError(job->error);
  }
  return *taken;
}

absl::Status JobManager::StartConfigured(const std::string& sql, const SubmitOptions& options,
                                         std::string* note) {
  const std::string what = StrCat("configured job '", options.config_name, "'");
  Job* existing = nullptr;
  JobState state = JobState::kRunning;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [number, job] : jobs_) {
      if (job->config_name == options.config_name) {
        existing = job.get();  // the newest, when several
        state = job->state;
      }
    }
  }
  if (existing == nullptr) {
    SubmitResult submitted = Submit(sql, options);
    if (!submitted.status.ok()) return submitted.status;
    *note = StrCat(what, ": submitted as job ", submitted.job_id);
    return absl::OkStatus();
  }
  const int parallelism = options.parallelism > 0 ? options.parallelism : options_.default_parallelism;
  std::string changed;
  if (existing->sql != sql || existing->variables != options.variables ||
      existing->parallelism != parallelism || existing->checkpoint_dir_override != options.checkpoint_dir) {
    changed = StrCat(
        "; the configuration's SQL, properties, parallelism or checkpoint_dir differ from the job's, "
        "which keeps its own (DELETE /jobs/",
        existing->id, " to have the configuration's run at the next start)");
  }
  if (IsActive(state)) {
    *note = StrCat(what, ": job ", existing->id, ", resumed", changed);
    return absl::OkStatus();
  }
  if (state != JobState::kFailed) {
    *note =
        StrCat(what, ": job ", existing->id, " is ", StateName(state), ": not started again (DELETE /jobs/",
               existing->id, " to have it run anew at the next start)", changed);
    return absl::OkStatus();
  }
  // It failed: started again, from its newest checkpoint or savepoint, as a restarted server
  // resumes a running job.
  std::string resumed;
  absl::Status started;
  SLUICE_RETURN_IF_ERROR(
      LargeStackThread::Run([&]() { started = Start(*existing, nullptr, nullptr, &resumed); }));
  if (!started.ok()) {
    std::lock_guard<std::mutex> lock(mutex_);
    existing->state = JobState::kFailed;
    existing->error = StrCat("could not be started again: ", started.message());
    Persist(*existing);
    return absl::Status(started.code(), StrCat(what, ": job ", existing->id, ": ", existing->error));
  }
  *note = StrCat(what, ": job ", existing->id, " had failed: started again; ", resumed, changed);
  return absl::OkStatus();
}

absl::StatusOr<bool> JobManager::Cancel(const std::string& id) {
  const std::optional<uint64_t> number = JobNumber(id);
  std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
  std::unique_ptr<Job> forgotten;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = number ? jobs_.find(*number) : jobs_.end();
    if (it == jobs_.end()) return absl::NotFoundError(StrCat("no job '", id, "'"));
    Job& job = *it->second;
    if (IsActive(job.state)) {
      job.state = JobState::kCancelling;
      Persist(job);
      job.cancel.store(true);
      return true;
    }
    forgotten = std::move(it->second);
    jobs_.erase(it);
  }
  forgotten->thread.Join();
  std::error_code error;
  std::filesystem::remove_all(forgotten->directory, error);
  if (error)
    return absl::UnavailableError(StrCat("cannot delete '", forgotten->directory, "': ", error.message()));
  return false;
}

std::vector<JobMetricsSample> JobManager::MetricsSamples() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<JobMetricsSample> samples;
  for (const auto& [number, job] : jobs_) {
    JobMetricsSample sample;
    sample.job_id = job->id;
    sample.job_name = job->name;
    sample.state = StateName(job->state);
    sample.counters = job->counters;
    if (job->checkpoints && job->checkpoints->last_completed()) {
      sample.last_checkpoint_bytes = job->checkpoints->last_state_bytes();
      sample.last_checkpoint_write_seconds = job->checkpoints->last_write_seconds();
    }
    samples.push_back(std::move(sample));
  }
  return samples;
}

void JobManager::Shutdown() {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
  std::vector<Job*> jobs;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutting_down_ = true;
    for (auto& [number, job] : jobs_) {
      if (job->state == JobState::kRunning) {
        job->shutdown_stop = true;
        job->state = JobState::kStopping;
        job->cancel.store(true);
      }
      jobs.push_back(job.get());
    }
  }
  for (Job* job : jobs) {
    job->thread.Join();
  }
}

}  // namespace sluice
