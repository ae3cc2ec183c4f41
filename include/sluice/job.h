// Job: a Sluice job compiled from its SQL text, run by an embedding. The whole embedding API
// is include/sluice/: this header, job_options.h, source.h, sink.h and status.h.
//
//   sluice::StatusOr<std::unique_ptr<sluice::Job>> job = sluice::Job::Compile(sql);
//   if (!job.ok()) return job.status();  // e.g. "line 2, column 18: unknown column ..."
//   sluice::JobOptions options;
//   options.sources["orders"] = [](int) { return std::make_unique<MyOrders>(); };
//   options.sinks["big_orders"] = [] { return std::make_unique<MyRows>(); };
//   sluice::StatusOr<sluice::JobSummary> summary = (*job)->Run(options);
//
// Compile() parses and binds every statement (names, types, WITH properties, the schemas of
// the sources); Run() executes them until the bounded sources are exhausted or
// JobOptions::cancel is set. Sources and sinks not supplied in JobOptions are the job's own
// (files, standard output, Kafka). examples/embed/embed.cc is a complete program.
//
// Thread safety: a Job is not thread-safe. Run() may be called again after it returned (each
// run starts from the beginning of its sources).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/job_options.h"
#include "sluice/status.h"

namespace sluice {

// What a run did (the figures `sluice run` prints at its end).
struct JobSummary {
  uint64_t records_in = 0;     // records read from every source (good and bad)
  uint64_t records_out = 0;    // rows written by every sink
  uint64_t dead_lettered = 0;  // records sent to dead-letter outputs (bad or late)
  uint64_t late_dropped = 0;   // rows behind a closed window (dropped or dead-lettered)
  double elapsed_seconds = 0;
  int workers = 1;
  bool cancelled = false;                      // stopped by JobOptions::cancel
  std::vector<std::string> dead_letter_files;  // files that received records
};

class Job {
 public:
  // Parses and binds `sql`: one or more statements (CREATE STREAM ... AS SELECT ... WITH
  // (...)). `variables` give the values of ${NAME} and ${NAME:default} in WITH values; the
  // process environment is not read. Errors carry the line and column of the SQL.
  static StatusOr<std::unique_ptr<Job>> Compile(std::string_view sql,
                                                const std::map<std::string, std::string>& variables = {});
  ~Job();
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  // The names of the sources the job reads and of the streams its statements create, in
  // the order of the SQL.
  std::vector<std::string> source_names() const;
  std::vector<std::string> stream_names() const;

  // Runs the job to completion. Fails on a name in options.sources or options.sinks that
  // is not a source (or not a stream with a sink) of the job, and on any error of the run.
  StatusOr<JobSummary> Run(const JobOptions& options);

 private:
  struct Compiled;  // the bound job (engine/src/plan/logical_plan.h)
  explicit Job(std::unique_ptr<Compiled> compiled);

  std::unique_ptr<Compiled> compiled_;
};

}  // namespace sluice
