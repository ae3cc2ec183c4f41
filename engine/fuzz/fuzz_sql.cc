// fuzz_sql: the SQL front end, through the entry `sluice validate` and `sluice explain` use.
//
// Input: the text of a job file, as is. It is parsed (ParseJob) and bound (BindJob, as
// cli.cc's LoadJob does) with BindOptions::read_files off and no environment variables, so
// that nothing but the text decides the outcome: no file is stat'ed, listed or read (a file
// source must declare its '<name>.schema') and nothing goes to the network. A job that binds is
// then explained (every statement's logical plan printed) and planned: every physical operator
// of every statement is built, as a run would build them.
//
// What it proves, for any byte string: the lexer, parser, property collection (variable
// substitution included) and binder return a Status (a SQL error with its line, column and
// caret) and never crash, read out of bounds or run into undefined behaviour; and every job
// they accept can be explained and turned into operators without tripping an operator's
// checks (e.g. RowsWindowOperator's REQUIRES on a spec the binder let through).
#include <cstddef>
#include <cstdint>
#include <string>

#include "plan/binder.h"
#include "runtime/physical_plan.h"
#include "sql/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  absl::StatusOr<ParsedJob> parsed = ParseJob(std::string(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) return 0;
  BindOptions options;
  options.read_files = false;
  options.substitution.use_environment = false;
  absl::StatusOr<BoundJob> job = BindJob(std::move(*parsed), options);
  if (!job.ok()) return 0;
  for (const BoundStatement& statement : job->statements) {
    const std::string plan = statement.plan->ToString(1);
    if (plan.empty()) __builtin_trap();  // a bound statement always has a plan to print
    for (const LogicalOperator* node : StatementChain(statement)) {
      // The late-row sink is only ever stored by the operator, never called while building.
      std::unique_ptr<Operator> op = MakeOperator(*node, /*late_sink=*/nullptr);
      if (op == nullptr || op->Describe().empty()) __builtin_trap();
    }
  }
  return 0;
}
