#include "order_generator.h"

#include "common/strings.h"
#include "types/number_format.h"

namespace sluice {

OrderGenerator::OrderGenerator(OrderGeneratorOptions options) : options_(options), random_(options.seed) {
  customer_names_.reserve(options_.customers);
  for (int64_t i = 0; i < options_.customers; ++i) customer_names_.push_back(StrCat("CUST", 100000 + i));
}

Schema OrderGenerator::OrderSchema() {
  return Schema({{"order_id", TypeId::kInt64, false},
                 {"customer_id", TypeId::kString, false},
                 {"order_date", TypeId::kTimestamp, false},
                 {"total_amount", TypeId::kDouble, false}});
}

OrderGenerator::Order OrderGenerator::NextOrder() {
  auto next = [this]() { return random_.Next(); };
  Order order;
  order.id = next_id_++;
  order.customer = static_cast<int64_t>(next() % static_cast<uint64_t>(options_.customers));
  order.date = options_.start_millis + static_cast<int64_t>(static_cast<double>(order.id - 1) *
                                                            (1000.0 / options_.events_per_second));
  const auto cents = static_cast<int64_t>(next() % static_cast<uint64_t>(options_.max_amount * 100));
  order.amount = static_cast<double>(cents) / 100.0;
  return order;
}

void OrderGenerator::AppendJsonLines(size_t count, std::string& out) {
  for (size_t i = 0; i < count; ++i) {
    const Order order = NextOrder();
    StrAppend(&out, "{\"order_id\":", order.id, ",\"customer_id\":\"", customer_names_[order.customer],
              "\",\"order_date\":", order.date, ",\"total_amount\":", FormatDouble(order.amount), "}\n");
  }
}

void OrderGenerator::AppendCsv(size_t count, std::string& out, bool header) {
  if (header) out.append("order_id,customer_id,order_date,total_amount\n");
  for (size_t i = 0; i < count; ++i) {
    const Order order = NextOrder();
    StrAppend(&out, order.id, ",", customer_names_[order.customer], ",", order.date, ",",
              FormatDouble(order.amount), "\n");
  }
}

void OrderGenerator::FillBatch(size_t count, Batch& out) {
  auto ids = std::make_shared<Column>(TypeId::kInt64, count);
  auto customers = std::make_shared<Column>(TypeId::kString, count);
  auto dates = std::make_shared<Column>(TypeId::kTimestamp, count);
  auto amounts = std::make_shared<Column>(TypeId::kDouble, count);
  for (size_t i = 0; i < count; ++i) {
    const Order order = NextOrder();
    ids->data<int64_t>()[i] = order.id;
    customers->data<std::string_view>()[i] = customers->heap().Add(customer_names_[order.customer]);
    dates->data<int64_t>()[i] = order.date;
    amounts->data<double>()[i] = order.amount;
  }
  for (auto* column : {ids.get(), customers.get(), dates.get(), amounts.get()}) column->SetAllValid(count);
  out.SetColumns({ids, customers, dates, amounts}, count);
}

}  // namespace sluice
