// The end-to-end level of the lab: Kafka -> the scenario's query -> Kafka, on librdkafka's mock
// cluster (`sluice kafka-mock`) on this machine, driven through the `sluice` command as a user
// runs it:
//   1. start `sluice kafka-mock` with the input topic and one output topic per run;
//   2. produce the scenario's records with `sluice datagen --kafka` (not timed);
//   3. per run, `sluice run <kafka job>` in bounded mode (stop.at.end) with a fresh consumer
//      group, timed from outside and, as `sluice run` reports it, from the first record on (the
//      consumer group takes a few seconds to form; that wait is reported separately);
//   4. per run, read the output topic back with a plain librdkafka consumer of the harness's
//      own (not Sluice's Kafka source, nor its JSON decoder): every message of every partition,
//      from the beginning to the end, each value parsed with simdjson's DOM API and checked
//      against the output's declared names and types (JsonOutputCheck), the rows then compared
//      with SQLite's result on the same records.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "result_checksum.h"
#include "scenario.h"

namespace sluice::bench {

struct EndToEndRun {
  double wall_seconds = 0;                    // the whole `sluice run`, consumer group join included
  double records_per_second_after_first = 0;  // as `sluice run` reports it
  double startup_seconds = 0;                 // until the first record arrived
  uint64_t output_rows = 0;                   // messages read back
  ChecksumValue checksum;                     // the rows parsed from them
  std::string json_error;                     // the first message that does not parse or has a wrong type
};

struct EndToEndOptions {
  std::string sluice_binary;  // the `sluice` command
  std::string work_dir;       // scratch files (mock output, read-back files)
  std::string kafka_job;      // the scenario's Kafka job file
  uint64_t records = 0;
  int runs = 1;  // timed runs, each after a fresh consumer group
  std::vector<TypeId> output_types;
  std::vector<std::string> output_names;
  std::vector<size_t> changelog_key;
};

// Runs the level; one entry per run. Fails when a command fails; the caller compares each
// run's checksum with the expected one.
absl::StatusOr<std::vector<EndToEndRun>> RunKafkaEndToEnd(const Scenario& scenario,
                                                          const EndToEndOptions& options);

}  // namespace sluice::bench
