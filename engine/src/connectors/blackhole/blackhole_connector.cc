// The 'blackhole_sink' connector: counts the rows it receives and discards them (Flink's
// 'connector' = 'blackhole', for measuring a query without the cost of writing its output).
// Registered by RegisterBuiltinConnectors() (connectors/builtin_connectors.cc).
#include "batch/batch.h"
#include "catalog/connector_registry.h"
#include "common/strings.h"
#include "connectors/sink.h"

namespace sluice {

namespace {

class BlackholeSink final : public SinkOperator {
 public:
  explicit BlackholeSink(std::string name) : name_(std::move(name)) {}

  absl::Status Open() override { return absl::OkStatus(); }
  absl::Status Push(const Batch& batch) override {
    rows_written_ += batch.active_rows();
    return absl::OkStatus();
  }
  absl::Status Finish() override { return absl::OkStatus(); }
  uint64_t rows_written() const override { return rows_written_; }
  std::string Describe() const override { return StrCat("BlackholeSink ", name_, " (discards its rows)"); }
  std::string StateSignature() const override { return "BlackholeSink"; }

 private:
  const std::string name_;
  uint64_t rows_written_ = 0;
};

}  // namespace

void RegisterBlackholeSink(ConnectorRegistry& registry) {
  SinkConnector connector;
  connector.type = "blackhole_sink";
  connector.summary = "discards its rows, counting them (Flink's 'blackhole' connector)";
  connector.keys = {{"type", "", "blackhole_sink"}};
  connector.bind = [](const SinkBindContext&, SinkDefinition&) -> absl::Status { return absl::OkStatus(); };
  connector.create = [](const SinkDefinition& definition, const Schema&) -> std::unique_ptr<SinkOperator> {
    return std::make_unique<BlackholeSink>(definition.name);
  };
  registry.Register(std::move(connector));
}

}  // namespace sluice
