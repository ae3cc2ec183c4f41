// Sink: receives the rows of one stream of a job, in place of the sink its SQL names.
//
// The statement names a sink as usual ('<stream>.type' = 'file_sink' or 'stdout_sink', and
// '<stream>.format': json, the default, or csv); a sink given in JobOptions::sinks then
// receives its rows, encoded as that sink would write them, and the statement's own sink is
// not opened.
//
// Thread safety: one Sink per stream and run; every call comes from the thread that called
// Job::Run(), whatever JobOptions::parallelism.
#pragma once

#include <string_view>

#include "sluice/status.h"

namespace sluice {

class Sink {
 public:
  virtual ~Sink() = default;

  // Acquires the output; called once, before the first Write().
  virtual Status Open() { return Status(); }

  // The next rows, as whole records each ending with a newline: JSON Lines (one object per
  // row, keys in column order, doubles in shortest round-trip form, timestamps as epoch
  // milliseconds) or CSV (a header line before the first row). `records` is valid during the
  // call only. An error fails the run.
  virtual Status Write(std::string_view records) = 0;

  // A flush point: everything written so far is to be delivered before it returns (a source
  // that commits its read position, such as Kafka's, commits after every sink flushed).
  virtual Status Flush() { return Status(); }

  // The end of the stream (the job's bounded sources are exhausted): no Write() follows.
  virtual Status Finish() { return Status(); }
};

}  // namespace sluice
