// JobGraph: the dataflow of a bound job as the web UI draws it: its sources, each statement's
// operators (from the logical plan, one node per operator but the scans) and its sinks, with an
// edge from each node to the one it feeds. A statement reading an earlier statement's stream
// gets an edge from that statement's last operator.
//
// The runtime counts records per job, per task and per channel, not per logical operator: the UI
// puts the job's input rate on the edges that leave sources and its output rate on those that
// enter sinks, and draws the runtime's tasks and channels (JobCounters::tasks and ::channels,
// with their rates) as a graph of their own beside it.
#pragma once

#include <string>
#include <vector>

#include "plan/logical_plan.h"

namespace sluice {

struct JobGraph {
  struct Node {
    std::string kind;       // "source", "operator" or "sink"
    std::string label;      // "trades (file_source)", "Aggregate keys=[symbol] …", "volume (file_sink)"
    std::string statement;  // the statement of an operator or sink; empty for a source
  };
  struct Edge {
    size_t from = 0;  // indexes into nodes
    size_t to = 0;
  };
  std::vector<Node> nodes;
  std::vector<Edge> edges;
};

JobGraph BuildJobGraph(const BoundJob& job);

}  // namespace sluice
