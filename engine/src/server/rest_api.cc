#include "server/rest_api.h"

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/strings.h"
#include "server/metrics_exposition.h"
#include "sql/source_text.h"

namespace sluice {
namespace {

// A JSON object or array written left to right.
class Json {
 public:
  static std::string String(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
      const auto byte = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else if (byte < 0x20) {
        out += absl::StrFormat("\\u%04x", byte);
      } else {
        out += c;
      }
    }
    return out + "\"";
  }

  Json& Raw(std::string_view key, std::string_view value) {
    StrAppend(&text_, text_.empty() ? "{" : ",", String(key), ":", value);
    return *this;
  }
  Json& Text(std::string_view key, std::string_view value) { return Raw(key, String(value)); }
  Json& Number(std::string_view key, uint64_t value) { return Raw(key, std::to_string(value)); }
  Json& Number(std::string_view key, int64_t value) { return Raw(key, std::to_string(value)); }
  Json& Number(std::string_view key, int value) { return Raw(key, std::to_string(value)); }
  Json& Seconds(std::string_view key, double value) { return Raw(key, absl::StrFormat("%.6f", value)); }
  Json& Real(std::string_view key, double value) { return Raw(key, absl::StrFormat("%.3f", value)); }
  Json& Bool(std::string_view key, bool value) { return Raw(key, value ? "true" : "false"); }
  Json& Null(std::string_view key) { return Raw(key, "null"); }
  std::string Done() const { return text_.empty() ? "{}" : text_ + "}"; }

 private:
  std::string text_;
};

std::string Array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) StrAppend(&out, i > 0 ? "," : "", items[i]);
  return out + "]";
}

void Reply(httplib::Response& response, int status, const std::string& json) {
  response.status = status;
  response.set_content(json + "\n", "application/json");
}

void ReplyError(httplib::Response& response, int status, std::string_view message) {
  Reply(response, status, Json().Text("error", message).Done());
}

int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kFailedPrecondition: return 409;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

std::string CountersJson(const JobCounters& c) {
  Json json;
  json.Number("records_in", c.records_in)
      .Number("records_out", c.records_out)
      .Number("bytes_in", c.bytes_in)
      .Number("dead_lettered", c.dead_lettered)
      .Number("late", c.late_dropped)
      .Number("invalid_utf8_replaced", c.invalid_utf8_replaced)
      .Number("state_keys", c.state_keys)
      .Number("state_bytes", c.state_bytes)
      .Number("state_evicted", c.state_evicted)
      .Seconds("elapsed_seconds", c.elapsed_seconds)
      .Number("workers", c.workers)
      .Number("checkpoints_completed", c.checkpoints_completed)
      .Seconds("checkpoint_seconds", c.checkpoint_seconds)
      .Bool("complete", c.complete);
  return json.Done();
}

std::string RatesJson(const JobInfo& job) {
  return Json()
      .Real("records_in_per_second", job.records_in_per_second)
      .Real("records_out_per_second", job.records_out_per_second)
      .Done();
}

std::string SummaryJson(const JobInfo& job) {
  return Json()
      .Text("id", job.id)
      .Text("name", job.name)
      .Text("state", job.state)
      .Number("parallelism", job.parallelism)
      .Number("submitted_unix_millis", job.submitted_unix_millis)
      .Raw("counters", CountersJson(job.counters))
      .Raw("rates", RatesJson(job))
      .Done();
}

std::string GraphJson(const JobGraph& graph) {
  std::vector<std::string> nodes, edges;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const JobGraph::Node& node = graph.nodes[i];
    nodes.push_back(Json()
                        .Number("id", static_cast<uint64_t>(i))
                        .Text("kind", node.kind)
                        .Text("label", node.label)
                        .Text("statement", node.statement)
                        .Done());
  }
  for (const JobGraph::Edge& edge : graph.edges) {
    edges.push_back(Json()
                        .Number("from", static_cast<uint64_t>(edge.from))
                        .Number("to", static_cast<uint64_t>(edge.to))
                        .Done());
  }
  return Json().Raw("nodes", Array(nodes)).Raw("edges", Array(edges)).Done();
}

std::string HistoryJson(const std::vector<JobSample>& samples) {
  std::vector<std::string> items;
  for (const JobSample& sample : samples) {
    Json json;
    json.Number("unix_millis", sample.unix_millis)
        .Number("records_in", sample.records_in)
        .Number("records_out", sample.records_out);
    if (sample.watermark) {
      json.Number("watermark_unix_millis", *sample.watermark);
    } else {
      json.Null("watermark_unix_millis");
    }
    json.Number("checkpoints_completed", sample.checkpoints_completed)
        .Seconds("checkpoint_seconds", sample.checkpoint_seconds);
    items.push_back(json.Done());
  }
  return Json().Raw("samples", Array(items)).Done();
}

std::string DetailJson(const JobInfo& job) {
  Json json;
  json.Text("id", job.id)
      .Text("name", job.name)
      .Text("state", job.state)
      .Number("parallelism", job.parallelism)
      .Number("submitted_unix_millis", job.submitted_unix_millis)
      .Number("runs", job.runs);
  if (job.error.empty()) {
    json.Null("error");
  } else {
    json.Text("error", job.error);
  }
  if (job.resumed_from.empty()) {
    json.Null("resumed_from");
  } else {
    json.Text("resumed_from", job.resumed_from);
  }
  if (job.config_name.empty()) {
    json.Null("config_job");
  } else {
    json.Text("config_job", job.config_name);
  }
  json.Raw("counters", CountersJson(job.counters));
  json.Raw("rates", RatesJson(job));
  if (job.counters.watermark) {
    json.Number("watermark_unix_millis", *job.counters.watermark);
  } else {
    json.Null("watermark_unix_millis");
  }
  // The runtime's tasks and the channels between them, live on several workers too (see
  // JobInfo::task_rates).
  std::vector<std::string> tasks;
  for (size_t t = 0; t < job.counters.tasks.size(); ++t) {
    const JobCounters::TaskTimes& task = job.counters.tasks[t];
    const JobInfo::TaskRates rates = t < job.task_rates.size() ? job.task_rates[t] : JobInfo::TaskRates();
    tasks.push_back(Json()
                        .Number("id", static_cast<uint64_t>(t))
                        .Text("task", task.task)
                        .Text("placement", task.placement)
                        .Seconds("busy_seconds", task.busy_seconds)
                        .Seconds("idle_seconds", task.idle_seconds)
                        .Seconds("backpressured_seconds", task.backpressured_seconds)
                        .Number("records_in", task.records_in)
                        .Number("records_out", task.records_out)
                        .Real("records_in_per_second", rates.records_in_per_second)
                        .Real("records_out_per_second", rates.records_out_per_second)
                        .Real("busy_share", rates.busy_share)
                        .Real("backpressured_share", rates.backpressured_share)
                        .Done());
  }
  json.Raw("tasks", Array(tasks));
  std::vector<std::string> channels;
  for (size_t c = 0; c < job.counters.channels.size(); ++c) {
    const JobCounters::ChannelFigures& channel = job.counters.channels[c];
    channels.push_back(Json()
                           .Text("statement", channel.statement)
                           .Text("kind", channel.kind)
                           .Number("from_task", static_cast<uint64_t>(channel.from_task))
                           .Number("to_task", static_cast<uint64_t>(channel.to_task))
                           .Number("records_sent", channel.records_sent)
                           .Number("records_received", channel.records_received)
                           .Number("queued", channel.queued)
                           .Number("capacity", channel.capacity)
                           .Real("records_per_second", c < job.channel_records_per_second.size()
                                                           ? job.channel_records_per_second[c]
                                                           : 0.0)
                           .Done());
  }
  json.Raw("channels", Array(channels));
  // Kafka consumer lag per topic partition (empty for jobs without Kafka sources).
  std::vector<std::string> lag;
  for (const PartitionLag& partition : job.counters.partition_lag) {
    lag.push_back(Json()
                      .Text("topic", partition.topic)
                      .Number("partition", partition.partition)
                      .Number("lag", partition.lag)
                      .Done());
  }
  json.Raw("kafka_consumer_lag", Array(lag));
  Json checkpoints;
  checkpoints.Text("directory", job.checkpoint_dir)
      .Number("completed_this_run", job.counters.checkpoints_completed);
  if (job.checkpoints_off.empty()) {
    checkpoints.Null("disabled");
  } else {
    checkpoints.Text("disabled", job.checkpoints_off);
  }
  if (job.latest_checkpoint) {
    checkpoints.Number("latest", *job.latest_checkpoint)
        .Number("latest_state_bytes", job.latest_checkpoint_bytes)
        .Seconds("latest_write_seconds", job.latest_checkpoint_write_seconds);
  } else {
    checkpoints.Null("latest");
  }
  std::vector<std::string> history;
  for (const CheckpointRecord& record : job.checkpoint_history) {
    history.push_back(Json()
                          .Number("id", record.id)
                          .Number("seen_unix_millis", record.seen_unix_millis)
                          .Number("state_bytes", record.state_bytes)
                          .Seconds("write_seconds", record.write_seconds)
                          .Seconds("duration_seconds", record.duration_seconds)
                          .Done());
  }
  checkpoints.Raw("history", Array(history));
  json.Raw("checkpoints", checkpoints.Done());
  Json savepoints;
  savepoints.Text("directory", job.savepoint_dir);
  if (job.latest_savepoint) {
    savepoints.Number("latest", *job.latest_savepoint);
  } else {
    savepoints.Null("latest");
  }
  json.Raw("savepoints", savepoints.Done());
  json.Raw("graph", GraphJson(job.graph));
  json.Text("sql", job.sql);
  return json.Done();
}

}  // namespace

void InstallRestApi(HttpServer& server, JobManager& jobs) {
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
  server.Get("/metrics", [&jobs](const httplib::Request&, httplib::Response& response) {
    response.set_content(RenderPrometheusText(jobs.MetricsSamples(), UnixMillisNow()),
                         kPrometheusContentType);
  });
  server.Get("/jobs", [&jobs](const httplib::Request&, httplib::Response& response) {
    std::vector<std::string> list;
    for (const JobInfo& job : jobs.List()) list.push_back(SummaryJson(job));
    Reply(response, 200, Json().Raw("jobs", Array(list)).Done());
  });
  server.Post("/jobs", [&jobs](const httplib::Request& request, httplib::Response& response) {
    // The query string's parameters only: httplib also parses a form-encoded body into
    // `params`, and `curl --data-binary` sends the SQL as one.
    int parallelism = 0;
    const size_t question = request.target.find('?');
    const std::string query = question == std::string::npos ? "" : request.target.substr(question + 1);
    for (const std::string_view piece : StrSplit(query, '&')) {
      const std::string pair(piece);
      if (pair.empty()) continue;
      const size_t equals = pair.find('=');
      const std::string key = pair.substr(0, equals);
      const std::string value = equals == std::string::npos ? "" : pair.substr(equals + 1);
      if (key != "parallelism") {
        return ReplyError(response, 400, StrCat("unknown parameter '", key, "' (known: parallelism)"));
      }
      int64_t workers = 0;
      if (!absl::SimpleAtoi(value, &workers) || workers < 1 || workers > 1024) {
        return ReplyError(response, 400, "parallelism needs a whole number from 1 to 1024");
      }
      parallelism = static_cast<int>(workers);
    }
    if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) {
      return ReplyError(response, 400, "the request body is empty: POST the job's SQL");
    }
    const SubmitResult result = jobs.Submit(request.body, parallelism);
    if (!result.status.ok()) {
      Json json;
      json.Text("error", std::string(result.status.message()));
      std::vector<std::string> errors;
      for (const absl::Status& error : result.sql_errors) {
        const std::optional<SqlErrorDetail> detail = SqlErrorDetailOf(error);
        if (!detail) {
          errors.push_back(Json().Text("message", std::string(error.message())).Done());
          continue;
        }
        errors.push_back(Json()
                             .Number("line", static_cast<uint64_t>(detail->position.line))
                             .Number("column", static_cast<uint64_t>(detail->position.column))
                             .Text("message", detail->message)
                             .Done());
      }
      json.Raw("errors", Array(errors));
      return Reply(response, HttpStatusOf(result.status), json.Done());
    }
    response.set_header("Location", StrCat("/jobs/", result.job_id));
    Reply(response, 201, Json().Text("id", result.job_id).Text("state", "running").Done());
  });
  server.Get(R"(/jobs/([^/]+))", [&jobs](const httplib::Request& request, httplib::Response& response) {
    const std::optional<JobInfo> job = jobs.Get(request.matches[1]);
    if (!job) return ReplyError(response, 404, StrCat("no job '", std::string(request.matches[1]), "'"));
    Reply(response, 200, DetailJson(*job));
  });
  server.Get(R"(/jobs/([^/]+)/plan)", [&jobs](const httplib::Request& request, httplib::Response& response) {
    const std::optional<std::string> plan = jobs.Plan(request.matches[1]);
    if (!plan) return ReplyError(response, 404, StrCat("no job '", std::string(request.matches[1]), "'"));
    response.set_content(*plan, "text/plain; charset=utf-8");
  });
  server.Get(R"(/jobs/([^/]+)/history)",
             [&jobs](const httplib::Request& request, httplib::Response& response) {
               const std::optional<std::vector<JobSample>> samples = jobs.History(request.matches[1]);
               if (!samples)
                 return ReplyError(response, 404, StrCat("no job '", std::string(request.matches[1]), "'"));
               Reply(response, 200, HistoryJson(*samples));
             });
  server.Post(R"(/jobs/([^/]+)/stop)", [&jobs](const httplib::Request& request, httplib::Response& response) {
    const absl::Status status = jobs.Stop(request.matches[1]);
    if (!status.ok()) return ReplyError(response, HttpStatusOf(status), std::string(status.message()));
    Reply(response, 202, Json().Text("id", std::string(request.matches[1])).Text("state", "stopping").Done());
  });
  server.Post(R"(/jobs/([^/]+)/savepoints)",
              [&jobs](const httplib::Request& request, httplib::Response& response) {
                const std::string id = request.matches[1];
                const absl::StatusOr<uint64_t> savepoint = jobs.Savepoint(id);
                if (!savepoint.ok()) {
                  return ReplyError(response, HttpStatusOf(savepoint.status()),
                                    std::string(savepoint.status().message()));
                }
                const std::optional<JobInfo> job = jobs.Get(id);
                Reply(response, 201,
                      Json()
                          .Text("id", id)
                          .Number("savepoint", *savepoint)
                          .Text("state", job ? job->state : "unknown")
                          .Done());
              });
  server.Delete(R"(/jobs/([^/]+))", [&jobs](const httplib::Request& request, httplib::Response& response) {
    const std::string id = request.matches[1];
    const absl::StatusOr<bool> cancelling = jobs.Cancel(id);
    if (!cancelling.ok())
      return ReplyError(response, HttpStatusOf(cancelling.status()),
                        std::string(cancelling.status().message()));
    if (*cancelling) {
      Reply(response, 202, Json().Text("id", id).Text("state", "cancelling").Done());
    } else {
      Reply(response, 200, Json().Text("id", id).Bool("deleted", true).Done());
    }
  });
}

}  // namespace sluice
