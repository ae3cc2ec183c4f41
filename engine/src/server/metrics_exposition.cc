#include "server/metrics_exposition.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <functional>
#include <sstream>

namespace sluice {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr const char* kStates[] = {"running", "finished",   "failed",   "stopping",
                                   "stopped", "cancelling", "cancelled"};

std::vector<ClientMetric::Label> JobLabels(const JobMetricsSample& job) {
  return {{"job_id", job.job_id}, {"job_name", job.job_name}};
}

ClientMetric Sample(std::vector<ClientMetric::Label> labels, MetricType type, double value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  if (type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return metric;
}

// One family per metric, one sample per job: `value` returns nullopt for a job without it.
struct JobMetric {
  const char* name;
  MetricType type;
  const char* help;
  std::function<std::optional<double>(const JobMetricsSample&, int64_t now)> value;
};

// A counter every snapshot holds, and one only complete snapshots hold.
std::optional<double> Always(double value) {
  return value;
}
std::optional<double> IfComplete(const JobMetricsSample& job, double value) {
  if (!job.counters.complete) return std::nullopt;
  return value;
}

const std::vector<JobMetric>& JobMetrics() {
  using S = const JobMetricsSample&;
  static const std::vector<JobMetric> metrics = {
      {"sluice_job_numRecordsIn_total", MetricType::Counter,
       "Records read from every source of the job, good and bad (Flink: numRecordsIn).",
       [](S j, int64_t) { return Always(static_cast<double>(j.counters.records_in)); }},
      {"sluice_job_numRecordsOut_total", MetricType::Counter,
       "Rows written by every sink of the job; in a changelog an update counts its before and after rows "
       "(Flink: numRecordsOut).",
       [](S j, int64_t) { return Always(static_cast<double>(j.counters.records_out)); }},
      {"sluice_job_numBytesIn_total", MetricType::Counter,
       "Bytes read from every source of the job (Flink: numBytesIn).",
       [](S j, int64_t) { return IfComplete(j, static_cast<double>(j.counters.bytes_in)); }},
      {"sluice_job_numRecordsDeadLettered_total", MetricType::Counter,
       "Records sent to dead-letter outputs: malformed, or late under late.data.strategy dead_letter.",
       [](S j, int64_t) { return IfComplete(j, static_cast<double>(j.counters.dead_lettered)); }},
      {"sluice_job_numLateRecordsDropped_total", MetricType::Counter,
       "Rows behind a closed window or out of ORDER BY, dropped or dead-lettered (Flink: "
       "numLateRecordsDropped).",
       [](S j, int64_t) { return IfComplete(j, static_cast<double>(j.counters.late_dropped)); }},
      {"sluice_job_numInvalidUtf8Replaced_total", MetricType::Counter,
       "Ill-formed UTF-8 sequences that sinks wrote as U+FFFD.",
       [](S j, int64_t) { return Always(static_cast<double>(j.counters.invalid_utf8_replaced)); }},
      {"sluice_job_stateEvicted_total", MetricType::Counter,
       "Keys and ROWS partitions freed by state.ttl or EXPIRE AFTER.",
       [](S j, int64_t) { return IfComplete(j, static_cast<double>(j.counters.state_evicted)); }},
      {"sluice_job_stateKeys", MetricType::Gauge,
       "Live keys of the job's stateful operators (groups x open windows, sessions' keys, ROWS partitions).",
       [](S j, int64_t) { return IfComplete(j, static_cast<double>(j.counters.state_keys)); }},
      {"sluice_job_stateBytes", MetricType::Gauge,
       "Bytes of operator state (key tables, accumulators, buffers).",
       [](S j, int64_t) { return IfComplete(j, static_cast<double>(j.counters.state_bytes)); }},
      {"sluice_job_numberOfCompletedCheckpoints_total", MetricType::Counter,
       "Checkpoints completed in the job's current run (Flink: numberOfCompletedCheckpoints).",
       [](S j, int64_t) { return Always(static_cast<double>(j.counters.checkpoints_completed)); }},
      {"sluice_job_checkpointDuration_seconds_total", MetricType::Counter,
       "Seconds from each checkpoint's barrier request to its completion, summed over the run.",
       [](S j, int64_t) { return Always(j.counters.checkpoint_seconds); }},
      {"sluice_job_lastCheckpointSize_bytes", MetricType::Gauge,
       "Bytes of the state file of the job's latest durable checkpoint (Flink: lastCheckpointSize).",
       [](S j, int64_t) -> std::optional<double> {
         if (!j.last_checkpoint_bytes) return std::nullopt;
         return static_cast<double>(*j.last_checkpoint_bytes);
       }},
      {"sluice_job_lastCheckpointWriteDuration_seconds", MetricType::Gauge,
       "Seconds the latest durable checkpoint took to write and sync.",
       [](S j, int64_t) -> std::optional<double> {
         if (!j.last_checkpoint_bytes) return std::nullopt;
         return j.last_checkpoint_write_seconds;
       }},
      {"sluice_job_uptime_seconds", MetricType::Gauge,
       "Seconds the job's current run has run: its duration once it ended (Flink: uptime).",
       [](S j, int64_t) { return Always(j.counters.elapsed_seconds); }},
      {"sluice_job_workers", MetricType::Gauge, "Worker threads of the job's run (1: fused on one thread).",
       [](S j, int64_t) { return Always(j.counters.workers); }},
      {"sluice_job_currentWatermark_milliseconds", MetricType::Gauge,
       "The job's event-time watermark (the lowest of its source partitions'), epoch milliseconds, while it "
       "runs.",
       [](S j, int64_t) -> std::optional<double> {
         if (j.state != "running" || !j.counters.watermark) return std::nullopt;
         return static_cast<double>(*j.counters.watermark);
       }},
      {"sluice_job_eventTimeLag_seconds", MetricType::Gauge,
       "Wall clock minus the job's event-time watermark, in seconds, while it runs.",
       [](S j, int64_t now) -> std::optional<double> {
         if (j.state != "running" || !j.counters.watermark) return std::nullopt;
         return static_cast<double>(now - *j.counters.watermark) / 1000.0;
       }},
  };
  return metrics;
}

}  // namespace

int64_t UnixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RenderPrometheusText(const std::vector<JobMetricsSample>& jobs, int64_t now_unix_millis) {
  std::vector<MetricFamily> families;
  {
    MetricFamily family{"sluice_jobs", "Jobs by state.", MetricType::Gauge, {}};
    for (const char* state : kStates) {
      double count = 0;
      for (const JobMetricsSample& job : jobs) count += job.state == state ? 1 : 0;
      family.metric.push_back(Sample({{"state", state}}, MetricType::Gauge, count));
    }
    families.push_back(std::move(family));
  }
  {
    MetricFamily family{"sluice_job_info", "One sample per job, its state a label.", MetricType::Gauge, {}};
    for (const JobMetricsSample& job : jobs) {
      std::vector<ClientMetric::Label> labels = JobLabels(job);
      labels.push_back({"state", job.state});
      family.metric.push_back(Sample(std::move(labels), MetricType::Gauge, 1));
    }
    families.push_back(std::move(family));
  }
  for (const JobMetric& metric : JobMetrics()) {
    MetricFamily family{metric.name, metric.help, metric.type, {}};
    for (const JobMetricsSample& job : jobs) {
      if (const std::optional<double> value = metric.value(job, now_unix_millis)) {
        family.metric.push_back(Sample(JobLabels(job), metric.type, *value));
      }
    }
    families.push_back(std::move(family));
  }
  // Per task: the time it spent working, waiting for input, and blocked by a full downstream
  // channel (Flink: busyTimeMsPerSecond, idleTimeMsPerSecond, backPressuredTimeMsPerSecond are
  // their rates).
  struct TaskMetric {
    const char* name;
    const char* help;
    double JobCounters::TaskTimes::*field;
  };
  static const TaskMetric kTaskMetrics[] = {
      {"sluice_job_task_busyTime_seconds_total", "Seconds the task spent working.",
       &JobCounters::TaskTimes::busy_seconds},
      {"sluice_job_task_idleTime_seconds_total", "Seconds the task waited for input.",
       &JobCounters::TaskTimes::idle_seconds},
      {"sluice_job_task_backPressuredTime_seconds_total",
       "Seconds the task was blocked by a full downstream channel.",
       &JobCounters::TaskTimes::backpressured_seconds}};
  for (const TaskMetric& metric : kTaskMetrics) {
    MetricFamily family{metric.name, metric.help, MetricType::Counter, {}};
    for (const JobMetricsSample& job : jobs) {
      for (const JobCounters::TaskTimes& task : job.counters.tasks) {
        std::vector<ClientMetric::Label> labels = JobLabels(job);
        labels.push_back({"task", task.task});
        family.metric.push_back(Sample(std::move(labels), MetricType::Counter, task.*metric.field));
      }
    }
    families.push_back(std::move(family));
  }
  // Per task: the records it took in and passed on (Flink: a subtask's numRecordsIn and
  // numRecordsOut), live on any number of workers.
  struct TaskRecordMetric {
    const char* name;
    const char* help;
    uint64_t JobCounters::TaskTimes::*field;
  };
  static const TaskRecordMetric kTaskRecordMetrics[] = {
      {"sluice_job_task_numRecordsIn_total",
       "Records the task took in: read from its source partitions or received over its input channels.",
       &JobCounters::TaskTimes::records_in},
      {"sluice_job_task_numRecordsOut_total",
       "Records the task passed on: put into its output channels or written by its own sinks.",
       &JobCounters::TaskTimes::records_out}};
  for (const TaskRecordMetric& metric : kTaskRecordMetrics) {
    MetricFamily family{metric.name, metric.help, MetricType::Counter, {}};
    for (const JobMetricsSample& job : jobs) {
      for (const JobCounters::TaskTimes& task : job.counters.tasks) {
        std::vector<ClientMetric::Label> labels = JobLabels(job);
        labels.push_back({"task", task.task});
        family.metric.push_back(
            Sample(std::move(labels), MetricType::Counter, static_cast<double>(task.*metric.field)));
      }
    }
    families.push_back(std::move(family));
  }
  // Per Kafka topic partition: how far the job's consumer is behind it (Kafka's records-lag).
  {
    MetricFamily family{
        "sluice_job_kafkaConsumerLag_records",
        "Records of a Kafka topic partition the job has not read yet: the partition's high "
        "watermark minus the position after the last record its source returned (Kafka: "
        "records-lag), updated at most every 100 ms while the job reads (none before its first poll).",
        MetricType::Gauge,
        {}};
    for (const JobMetricsSample& job : jobs) {
      for (const PartitionLag& lag : job.counters.partition_lag) {
        std::vector<ClientMetric::Label> labels = JobLabels(job);
        labels.push_back({"topic", lag.topic});
        labels.push_back({"partition", std::to_string(lag.partition)});
        family.metric.push_back(Sample(std::move(labels), MetricType::Gauge, static_cast<double>(lag.lag)));
      }
    }
    families.push_back(std::move(family));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace sluice
