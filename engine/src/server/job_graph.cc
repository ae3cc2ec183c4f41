#include "server/job_graph.h"

#include <map>

#include "common/strings.h"

namespace sluice {
namespace {

class GraphBuilder {
 public:
  explicit GraphBuilder(const BoundJob& job) : job_(job) {}

  JobGraph Build() {
    for (const SourceDefinition& source : job_.sources) {
      sources_[source.name] = Add("source", StrCat(source.name, " (", source.type, ")"), "");
    }
    for (const BoundStatement& statement : job_.statements) {
      if (statement.plan == nullptr) continue;
      const std::optional<size_t> last = AddOperator(*statement.plan, statement.name);
      if (last) streams_[statement.name] = *last;
      if (statement.sink && last) {
        const size_t sink =
            Add("sink", StrCat(statement.sink->name, " (", statement.sink->type, ")"), statement.name);
        graph_.edges.push_back({*last, sink});
      }
    }
    return std::move(graph_);
  }

 private:
  size_t Add(const std::string& kind, const std::string& label, const std::string& statement) {
    graph_.nodes.push_back({kind, label, statement});
    return graph_.nodes.size() - 1;
  }

  // The node that yields `op`'s output: a scan is the source or stream it reads (no node of its
  // own); any other operator is a node fed by its inputs. None for a scan of nothing known.
  std::optional<size_t> AddOperator(const LogicalOperator& op, const std::string& statement) {
    if (op.kind == LogicalOperatorKind::kScan) {
      const auto& names = op.scan_is_stream ? streams_ : sources_;
      auto it = names.find(op.scan_name);
      if (it == names.end()) return std::nullopt;
      return it->second;
    }
    std::vector<size_t> inputs;
    for (const LogicalOperator* input : {op.input.get(), op.right_input.get()}) {
      if (input == nullptr) continue;
      if (const std::optional<size_t> node = AddOperator(*input, statement)) inputs.push_back(*node);
    }
    // The first line of the operator's tree is the operator itself.
    std::string label = op.ToString(0);
    label = label.substr(0, label.find('\n'));
    const size_t first = label.find_first_not_of(' ');
    label = first == std::string::npos ? "" : label.substr(first);
    const size_t node = Add("operator", label, statement);
    for (const size_t input : inputs) graph_.edges.push_back({input, node});
    return node;
  }

  const BoundJob& job_;
  JobGraph graph_;
  std::map<std::string, size_t> sources_;
  std::map<std::string, size_t> streams_;
};

}  // namespace

JobGraph BuildJobGraph(const BoundJob& job) {
  return GraphBuilder(job).Build();
}

}  // namespace sluice
