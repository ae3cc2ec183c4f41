// Job (include/sluice/job.h): the embedding API on top of the binder and JobRunner.
#include "sluice/job.h"

#include <utility>

#include "api/embedded_sink.h"
#include "api/embedded_source.h"
#include "common/strings.h"
#include "catalog/connector_registry.h"
#include "plan/binder.h"
#include "runtime/job_runner.h"
#include "sql/parser.h"

namespace sluice {

struct Job::Compiled {
  BoundJob job;
};

Job::Job(std::unique_ptr<Compiled> compiled) : compiled_(std::move(compiled)) {}

Job::~Job() = default;

StatusOr<std::unique_ptr<Job>> Job::Compile(std::string_view sql,
                                            const std::map<std::string, std::string>& variables) {
  SLUICE_ASSIGN_OR_RETURN(ParsedJob parsed, ParseJob(std::string(sql)));
  BindOptions options;
  options.substitution.variables = variables;
  options.substitution.use_environment = false;
  SLUICE_ASSIGN_OR_RETURN(BoundJob bound, BindJob(std::move(parsed), options));
  auto compiled = std::make_unique<Compiled>();
  compiled->job = std::move(bound);
  return std::unique_ptr<Job>(new Job(std::move(compiled)));
}

std::vector<std::string> Job::source_names() const {
  std::vector<std::string> names;
  for (const SourceDefinition& source : compiled_->job.sources) names.push_back(source.name);
  return names;
}

std::vector<std::string> Job::stream_names() const {
  std::vector<std::string> names;
  for (const BoundStatement& statement : compiled_->job.statements) names.push_back(statement.name);
  return names;
}

StatusOr<JobSummary> Job::Run(const JobOptions& options) {
  const BoundJob& job = compiled_->job;
  for (const auto& [name, factory] : options.sources) {
    const SourceDefinition* source = job.FindSource(name);
    if (source == nullptr) {
      return absl::InvalidArgumentError(
          StrCat("JobOptions::sources names '", name,
                 "', which is no source of the job (its sources: ", StrJoin(source_names(), ", "), ")"));
    }
    if (source->type != "file_source") {
      return absl::InvalidArgumentError(StrCat("JobOptions::sources names '", name, "', a ", source->type,
                                               ": an embedding supplies the records of a file_source"));
    }
  }
  for (const auto& [name, factory] : options.sinks) {
    const BoundStatement* found = nullptr;
    for (const BoundStatement& statement : job.statements) {
      if (statement.name == name) found = &statement;
    }
    if (found == nullptr || !found->sink) {
      return absl::InvalidArgumentError(StrCat("JobOptions::sinks names '", name,
                                               "', which is no stream with a ", "sink ('", name,
                                               ".type') in the job"));
    }
  }

  RunOptions run;
  run.batch_size = options.batch_size;
  run.parallelism = options.parallelism;
  run.strict = options.strict;
  run.state_max_bytes = options.state_max_bytes;
  run.cancel = options.cancel;
  // The runtime asks the factory for every source once one is set, so it is set only when
  // the embedding supplies one; the others are created as the runtime would create them.
  if (!options.sources.empty()) {
    run.make_source =
        [&options, batch_size = options.batch_size, strict = options.strict](
            const SourceDefinition& definition, size_t partition,
            std::shared_ptr<DeadLetterWriter> dead_letters) -> std::unique_ptr<SourcePartition> {
      auto supplied = options.sources.find(definition.name);
      if (supplied != options.sources.end()) {
        return std::make_unique<EmbeddedSource>(definition, supplied->second(static_cast<int>(partition)),
                                                std::move(dead_letters), batch_size, strict);
      }
      return ConnectorRegistry::Default().FindSource(definition.type)->create(
          definition, partition, std::move(dead_letters), SourceReaderOptions{batch_size, strict, {}, nullptr});
    };
  }
  if (!options.sinks.empty()) {
    run.make_sink = [&options](const BoundStatement& statement) -> std::unique_ptr<SinkOperator> {
      auto supplied = options.sinks.find(statement.name);
      if (supplied != options.sinks.end()) {
        return std::make_unique<EmbeddedSink>(*statement.sink, statement.output_schema, supplied->second());
      }
      return ConnectorRegistry::Default().FindSink(statement.sink->type)->create(*statement.sink,
                                                                                statement.output_schema);
    };
  }

  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<JobRunner> runner, JobRunner::Create(job, run));
  SLUICE_RETURN_IF_ERROR(runner->Run());
  const JobCounters counters = runner->counters();
  JobSummary summary;
  summary.records_in = counters.records_in;
  summary.records_out = counters.records_out;
  summary.dead_lettered = counters.dead_lettered;
  summary.late_dropped = counters.late_dropped;
  summary.elapsed_seconds = counters.elapsed_seconds;
  summary.workers = counters.workers;
  summary.cancelled = counters.cancelled;
  summary.dead_letter_files = counters.dead_letter_files;
  return summary;
}

}  // namespace sluice
