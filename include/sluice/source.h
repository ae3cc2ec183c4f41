// Source: records that an embedding feeds to a job in place of what a source of its SQL reads.
//
// The SQL declares the source as any file source: '<name>.type' = 'file_source', its
// '<name>.format' (json or csv), its '<name>.schema' (the file named by '<name>.path' is not
// read, so its schema cannot be inferred) and its event time and watermark keys. A source
// given in JobOptions::sources then supplies the records instead of that file, and they go
// through what a file's records go through: the decoder, dead-lettering of bad records (to
// '<name>.dead_letter.path', by default '<path>.dead_letter.jsonl'; with JobOptions::strict
// the first one fails the run), event time and the watermark.
//
// Thread safety: one Source per partition of the source (a source whose path names one file
// has one, partition 0). Its calls come from one thread at a time: the thread that called
// Job::Run(), or with JobOptions::parallelism > 1 the worker that reads the partition.
#pragma once

#include <string>

#include "sluice/status.h"

namespace sluice {

class Source {
 public:
  virtual ~Source() = default;

  // Acquires the input; called once, before the first Read().
  virtual Status Open() { return Status(); }

  // Appends the next records to `records` (empty on entry), in the source's format, each
  // ending with a newline: JSON Lines, an object per line; CSV, a record per line (or more
  // lines when a quoted field holds a line break), the first record being the header unless
  // '<name>.csv.header' = 'false'. The text may end inside a record: the rest follows in the
  // next call. Returns false once the input is exhausted (what that call appended is still
  // read; a last record may lack its newline). Returning true with nothing appended means
  // nothing is available yet: the job goes on (other sources, cancellation) and asks again
  // at once, so a source that waits for input should wait a little first (the file and
  // Kafka sources wait up to about 100 ms) rather than spin.
  virtual StatusOr<bool> Read(std::string& records) = 0;
};

}  // namespace sluice
