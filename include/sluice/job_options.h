// JobOptions: how Job::Run() runs a job, and the sources and sinks an embedding supplies.
//
// (The engine's own, larger option set is RunOptions in engine/src/runtime/job_runner.h; these
// are the options an embedding can rely on.)
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "sluice/sink.h"
#include "sluice/source.h"

namespace sluice {

struct JobOptions {
  // Rows per batch.
  size_t batch_size = 1024;
  // Worker threads. 1 runs the job on the thread that calls Run().
  int parallelism = 1;
  // The first bad record fails the run instead of going to the dead-letter output.
  bool strict = false;
  // The most bytes of operator state the job may hold (over its 'state.max.bytes').
  std::optional<uint64_t> state_max_bytes;
  // When set and it becomes true, the job stops reading, flushes its sinks and Run() returns
  // (JobSummary::cancelled). Not owned.
  const std::atomic<bool>* cancel = nullptr;

  // Sources the embedding supplies, by the name the SQL reads them by (FROM name); see
  // sluice/source.h. The factory is called once per partition of the source, with its index.
  using SourceFactory = std::function<std::unique_ptr<Source>(int partition)>;
  std::map<std::string, SourceFactory> sources;
  // Sinks the embedding supplies, by the name of the stream whose rows they receive
  // (CREATE STREAM name); see sluice/sink.h. Called once per run.
  using SinkFactory = std::function<std::unique_ptr<Sink>()>;
  std::map<std::string, SinkFactory> sinks;
};

}  // namespace sluice
