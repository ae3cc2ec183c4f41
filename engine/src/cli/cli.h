// The `sluice` command line: subcommands run, explain, validate, connectors, datagen, kafka-mock,
// topology; --help and --version.
//
// Exit codes: 0 success, 1 the job failed (bad SQL, I/O error, --strict record error),
// 2 usage error (unknown flag or subcommand), 130 interrupted by Ctrl-C (after flushing).
#pragma once

namespace sluice {

int CommandLineMain(int argc, char** argv);

}  // namespace sluice
