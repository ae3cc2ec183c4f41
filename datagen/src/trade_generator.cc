#include "trade_generator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/strings.h"
#include "random.h"

namespace sluice {
namespace {

// Salts of the independent random streams derived from one seed.
constexpr uint64_t kTradeFieldsSalt = 1;
constexpr uint64_t kMarketFieldsSalt = 2;
constexpr uint64_t kDelaySalt = 3;
constexpr uint64_t kBasePriceSalt = 4;
constexpr uint64_t kTraderNameSalt = 5;

constexpr int kTradeDraws = 4;   // 64-bit random values per trade
constexpr int kMarketDraws = 2;  // per market data record
constexpr size_t kTextRows = 256;
// Rows ahead at which a batch prefetches Zipf table entries of large key sets.
constexpr size_t kPrefetchDistance = 16;
// Every name but a long trader_id is at most this long, so names are copied with one
// fixed-size move (a long trader_id with a second one, of its remaining bytes).
constexpr size_t kMaxNameBytes = 16;
// Long trader_ids (TraderIdFormat::kLong): kMinLongNameBytes..kLongNameBytes bytes each.
constexpr size_t kMinLongNameBytes = 32;
constexpr size_t kLongNameBytes = 48;

constexpr std::string_view kVenues[] = {"NYSE", "NASDAQ", "ARCA", "BATS", "IEX", "EDGX", "MEMX", "CBOE"};
static_assert(std::size(kVenues) == 8, "venue is drawn from 3 bits");

template <size_t N>
inline char* Put(char* p, const char (&literal)[N]) {
  std::memcpy(p, literal, N - 1);
  return p + N - 1;
}

// REQUIRES: `name` starts a slot of Names of at least kMaxNameBytes and `p` is writable for
// max(kMaxNameBytes, name.size()) bytes.
inline char* PutName(char* p, std::string_view name) {
  std::memcpy(p, name.data(), kMaxNameBytes);
  if (name.size() > kMaxNameBytes) [[unlikely]] {
    std::memcpy(p + kMaxNameBytes, name.data() + kMaxNameBytes, name.size() - kMaxNameBytes);
  }
  return p + name.size();
}

// Long trader_id k (TraderIdFormat::kLong): a prefix by k % 4, the number, '-', and lowercase hex
// digits up to a length of 32..48 bytes drawn from `bits`. The digits after the prefix and
// before the first '-' are k, so names of different k differ.
std::string LongTraderName(uint32_t k, uint64_t bits) {
  static constexpr std::string_view kPrefixes[] = {"account-", "H\xC3\xA4ndler-",
                                                   "\xE4\xBA\xA4\xE6\x98\x93\xE5\x91\x98-", "trader\xC2\xB7"};
  std::string name = StrCat(kPrefixes[k % 4], k, "-");
  const size_t length =
      kMinLongNameBytes + static_cast<size_t>(bits % (kLongNameBytes - kMinLongNameBytes + 1));
  uint64_t digits = bits / (kLongNameBytes - kMinLongNameBytes + 1);
  while (name.size() < length) {
    name.push_back("0123456789abcdef"[digits & 15]);
    digits = (digits >> 4) | (digits << 60);
  }
  return name;
}

inline char* PutInt(char* p, int64_t value) {
  return std::to_chars(p, p + 20, value).ptr;
}

// Whole cents as the shortest decimal that reads back as cents / 100.0: "12", "12.5", "12.05".
inline char* PutCents(char* p, int64_t cents) {
  p = PutInt(p, cents / 100);
  const int64_t fraction = cents % 100;
  if (fraction != 0) {
    *p++ = '.';
    *p++ = static_cast<char>('0' + fraction / 10);
    if (fraction % 10 != 0) *p++ = static_cast<char>('0' + fraction % 10);
  }
  return p;
}

// A price within `range` (a TradeGenerator::PriceRange) from the low 16 bits of `bits`.
inline int64_t Price(const auto& range, uint64_t bits) {
  return range.low_cents + static_cast<int64_t>(((bits & 0xFFFF) * range.span) >> 16);
}

}  // namespace

// Every name of the stream, each in its own kMaxNameBytes slot of one buffer; string columns
// pin it instead of copying strings. A numbered name (SYM<k>, TR<k>, CAT<k>) is slot k of its
// table with a length from a byte array: a batch never reads the name bytes, and a million
// keys take 1 MB of lengths rather than 16 MB of string views.
struct TradeGenerator::Names {
  struct Numbered {
    const char* base;
    const uint8_t* lengths;
    size_t stride;  // slot size: kMaxNameBytes, or kLongNameBytes for long trader_ids
    std::string_view operator[](uint32_t k) const {
      return {base + static_cast<size_t>(k) * stride, lengths[k]};
    }
  };
  std::unique_ptr<char[]> bytes;
  std::unique_ptr<uint8_t[]> lengths;
  Numbered symbols, traders, categories;
  std::string_view venues[std::size(kVenues)];
  std::string_view sides[2];
};

struct TradeGenerator::Event {
  uint64_t number;
  int64_t time;
  uint32_t symbol;
  uint32_t trader;
  uint32_t category;
  uint32_t venue;
  uint32_t side;        // 0 BUY, 1 SELL
  int64_t price_cents;  // trades and market data
  int64_t amount;       // quantity (trades) or volume (market data)
  int64_t half_spread_cents;
};

absl::Status TradeGenerator::Validate(const TradeGeneratorOptions& options) {
  auto cardinality = [](const char* what, int64_t value) -> absl::Status {
    if (value < 1 || value > TradeGeneratorOptions::kMaxCardinality) {
      return absl::InvalidArgumentError(
          StrCat("the number of ", what, " must be from 1 to ", TradeGeneratorOptions::kMaxCardinality));
    }
    return absl::OkStatus();
  };
  SLUICE_RETURN_IF_ERROR(cardinality("symbols", options.symbols));
  SLUICE_RETURN_IF_ERROR(cardinality("traders", options.traders));
  SLUICE_RETURN_IF_ERROR(cardinality("categories", options.categories));
  if (options.distribution == KeyDistribution::kZipf &&
      !(options.zipf_exponent > 0 && options.zipf_exponent <= 10)) {
    return absl::InvalidArgumentError("the Zipf exponent must be greater than 0 and at most 10");
  }
  if (!(options.events_per_second > 0 && options.events_per_second <= 1e9)) {
    return absl::InvalidArgumentError("the event rate must be greater than 0 and at most 1e9 per second");
  }
  if (!(options.out_of_order_fraction >= 0 && options.out_of_order_fraction <= 1)) {
    return absl::InvalidArgumentError("the out-of-order fraction must be from 0 to 1");
  }
  if (options.max_delay_millis < 0 || options.max_delay_millis > UINT32_MAX) {
    return absl::InvalidArgumentError(StrCat("the maximum delay must be from 0 to ", UINT32_MAX, " ms"));
  }
  if (options.bound_delay_every > TradeGeneratorOptions::kMaxCardinality) {
    return absl::InvalidArgumentError(
        StrCat("the bound-delay spacing must be from 0 to ", TradeGeneratorOptions::kMaxCardinality));
  }
  if (options.out_of_order_fraction > 0 && options.max_delay_millis < 1) {
    return absl::InvalidArgumentError("out-of-order events need a maximum delay of at least 1 ms");
  }
  constexpr int64_t kMaxStart = 1'000'000'000'000'000;  // year 33658: no overflow downstream
  if (options.start_millis < -kMaxStart || options.start_millis > kMaxStart) {
    return absl::InvalidArgumentError("the start time is out of range");
  }
  return absl::OkStatus();
}

TradeGenerator::TradeGenerator(const TradeGeneratorOptions& options)
    : options_(options),
      schema_(options.kind == TradeDataKind::kTrades ? TradeSchema(options.decimal_price)
                                                     : MarketDataSchema()),
      millis_per_event_(1000.0 / options.events_per_second),
      field_stream_(StreamFor(options.seed,
                              options.kind == TradeDataKind::kTrades ? kTradeFieldsSalt : kMarketFieldsSalt)),
      delay_stream_(StreamFor(options.seed, kDelaySalt)),
      delay_threshold_(static_cast<uint64_t>(std::ldexp(options.out_of_order_fraction, 32))),
      symbol_sampler_(static_cast<uint32_t>(options.symbols), options.distribution, options.zipf_exponent),
      trader_sampler_(options.kind == TradeDataKind::kTrades ? static_cast<uint32_t>(options.traders) : 1,
                      options.distribution, options.zipf_exponent),
      category_sampler_(
          options.kind == TradeDataKind::kTrades ? static_cast<uint32_t>(options.categories) : 1,
          options.distribution, options.zipf_exponent) {
  const absl::Status valid = Validate(options);
  SLUICE_CHECK(valid.ok());

  auto names = std::make_shared<Names>();
  const bool long_traders =
      options.kind == TradeDataKind::kTrades && options.trader_id_format == TraderIdFormat::kLong;
  const size_t trader_stride = long_traders ? kLongNameBytes : kMaxNameBytes;
  const size_t numbered =
      static_cast<size_t>(symbol_sampler_.size()) + trader_sampler_.size() + category_sampler_.size();
  const size_t bytes = (numbered - trader_sampler_.size() + std::size(kVenues) + 2) * kMaxNameBytes +
                       trader_sampler_.size() * trader_stride;
  names->bytes.reset(new char[bytes]());
  names->lengths.reset(new uint8_t[numbered]);
  char* slot = names->bytes.get();
  uint8_t* length = names->lengths.get();
  auto add = [&](std::string_view name, size_t stride = kMaxNameBytes) {
    SLUICE_CHECK_LE(name.size(), stride);
    std::memcpy(slot, name.data(), name.size());
    slot += stride;
    return std::string_view(slot - stride, name.size());
  };
  auto add_numbered = [&](std::string_view prefix, uint32_t count) {
    const Names::Numbered table{slot, length, kMaxNameBytes};
    for (uint32_t k = 0; k < count; ++k) *length++ = static_cast<uint8_t>(add(StrCat(prefix, k)).size());
    return table;
  };
  names->symbols = add_numbered("SYM", symbol_sampler_.size());
  if (long_traders) {
    const uint64_t name_stream = StreamFor(options.seed, kTraderNameSalt);
    names->traders = Names::Numbered{slot, length, kLongNameBytes};
    for (uint32_t k = 0; k < trader_sampler_.size(); ++k) {
      *length++ =
          static_cast<uint8_t>(add(LongTraderName(k, RandomAt(name_stream, k)), kLongNameBytes).size());
    }
  } else {
    names->traders = add_numbered("TR", trader_sampler_.size());
  }
  names->categories = add_numbered("CAT", category_sampler_.size());
  for (size_t v = 0; v < std::size(kVenues); ++v) names->venues[v] = add(kVenues[v]);
  names->sides[0] = add("BUY");
  names->sides[1] = add("SELL");
  names_ = std::move(names);

  // Base price of each symbol in [$10, $1000); prices vary +/-2% around it, in whole cents.
  const uint64_t price_stream = StreamFor(options.seed, kBasePriceSalt);
  prices_.resize(symbol_sampler_.size());
  for (uint32_t s = 0; s < symbol_sampler_.size(); ++s) {
    const int64_t base = 1000 + static_cast<int64_t>(RandomAt(price_stream, s) % 99000);
    const int64_t half_range = base / 50;
    prices_[s] = {static_cast<uint32_t>(base - half_range), static_cast<uint32_t>(2 * half_range + 1)};
  }

  // The longest record: fixed text, field names and separators below 200 bytes, numbers at
  // most 20 characters each, names at most kMaxNameBytes, plus the slack PutName overwrites.
  max_text_bytes_ = 200 + 8 * 24 + 4 * kMaxNameBytes + kMaxNameBytes + (trader_stride - kMaxNameBytes);

  for (const Field& field : schema_.fields()) pools_.emplace_back(field.type);
}

TradeGenerator::~TradeGenerator() = default;

Schema TradeGenerator::TradeSchema(bool decimal_price) {
  return Schema({{"trade_id", TypeId::kInt64, false},
                 {"trader_id", TypeId::kString, false},
                 {"symbol", TypeId::kString, false},
                 {"category", TypeId::kString, false},
                 {"price", decimal_price ? kDecimalPrice : TypeId::kDouble, false},
                 {"quantity", TypeId::kInt64, false},
                 {"side", TypeId::kString, false},
                 {"venue", TypeId::kString, false},
                 {"trade_time", TypeId::kTimestamp, false}});
}

Schema TradeGenerator::MarketDataSchema() {
  return Schema({{"symbol", TypeId::kString, false},
                 {"price", TypeId::kDouble, false},
                 {"bid", TypeId::kDouble, false},
                 {"ask", TypeId::kDouble, false},
                 {"volume", TypeId::kInt64, false},
                 {"timestamp", TypeId::kTimestamp, false}});
}

inline int64_t TradeGenerator::EventTime(uint64_t event) const {
  return options_.start_millis + static_cast<int64_t>(static_cast<double>(event) * millis_per_event_);
}

template <bool kTrades>
inline TradeGenerator::Event TradeGenerator::MakeEvent(uint64_t event) const {
  Event e;
  e.number = event;
  e.time = EventTime(event);
  if constexpr (kTrades) {
    const uint64_t first = event * kTradeDraws;
    e.trader = trader_sampler_.Sample(RandomAt(field_stream_, first));
    e.symbol = symbol_sampler_.Sample(RandomAt(field_stream_, first + 1));
    e.category = category_sampler_.Sample(RandomAt(field_stream_, first + 2));
    const uint64_t bits = RandomAt(field_stream_, first + 3);
    e.price_cents = Price(prices_[e.symbol], bits);
    e.amount = 1 + static_cast<int64_t>((((bits >> 16) & 0xFFFF) * 1000) >> 16);  // 1..1000
    e.side = static_cast<uint32_t>(bits >> 32) & 1;
    e.venue = static_cast<uint32_t>(bits >> 33) & 7;
    e.half_spread_cents = 0;
  } else {
    const uint64_t first = event * kMarketDraws;
    e.symbol = symbol_sampler_.Sample(RandomAt(field_stream_, first));
    const uint64_t bits = RandomAt(field_stream_, first + 1);
    e.price_cents = Price(prices_[e.symbol], bits);
    e.half_spread_cents = 1 + static_cast<int64_t>((((bits >> 16) & 0xFFFF) * 5) >> 16);  // 1..5
    e.amount = 1 + static_cast<int64_t>((((bits >> 32) & 0xFFFF) * 10000) >> 16);         // 1..10000
    e.trader = e.category = e.venue = e.side = 0;
  }
  return e;
}

size_t TradeGenerator::NextArrivals(size_t max_records) {
  const size_t wanted = static_cast<size_t>(std::min<uint64_t>(max_records, options_.count - produced_));
  if (order_.size() < wanted) order_.resize(wanted);
  uint64_t* order = order_.data();
  if (delay_threshold_ == 0 && options_.bound_delay_every == 0) {  // in order: nothing is ever pending
    for (size_t r = 0; r < wanted; ++r) order[r] = next_event_ + r;
    next_event_ += wanted;
    produced_ += wanted;
    return wanted;
  }
  const uint32_t max_delay = static_cast<uint32_t>(options_.max_delay_millis);
  size_t n = 0;
  while (n < wanted) {
    if (next_event_ < options_.count) {
      const int64_t time = EventTime(next_event_);
      // A pending event that arrives no later than this one goes first (its number is lower).
      if (!pending_.empty() && pending_.top().first <= time) {
        order[n++] = pending_.top().second;
        pending_.pop();
        continue;
      }
      const uint64_t event = next_event_++;
      const uint64_t bits = RandomAt(delay_stream_, event);
      const uint64_t every = options_.bound_delay_every;
      if (every > 0 && event % every == every - 1) {
        // Exactly max_delay_millis late: after every event of time <= time + max_delay (a pending
        // event of arrival time A goes before the events of time A, so A is one more).
        pending_.emplace(time + static_cast<int64_t>(max_delay) + 1, event);
      } else if ((bits >> 32) < delay_threshold_) {
        pending_.emplace(time + 1 + UniformBelow(static_cast<uint32_t>(bits), max_delay), event);
      } else {
        order[n++] = event;
      }
    } else {  // every event is out or pending: drain the pending ones in arrival order
      order[n++] = pending_.top().second;
      pending_.pop();
    }
  }
  produced_ += n;
  return n;
}

template <bool kTrades>
void TradeGenerator::FillRows(size_t rows, Batch& out) {
  const Names& names = *names_;
  const uint64_t* order = order_.data();
  if constexpr (kTrades) {
    int64_t* id = out.mutable_column(0).data<int64_t>();
    std::string_view* trader = out.mutable_column(1).data<std::string_view>();
    std::string_view* symbol = out.mutable_column(2).data<std::string_view>();
    std::string_view* category = out.mutable_column(3).data<std::string_view>();
    double* price = out.mutable_column(4).data<double>();
    // DECIMAL(12, 4): the same 8 bytes hold the unscaled value.
    int64_t* decimal_price = options_.decimal_price ? out.mutable_column(4).data<int64_t>() : nullptr;
    int64_t* quantity = out.mutable_column(5).data<int64_t>();
    std::string_view* side = out.mutable_column(6).data<std::string_view>();
    std::string_view* venue = out.mutable_column(7).data<std::string_view>();
    int64_t* time = out.mutable_column(8).data<int64_t>();
    const bool prefetch = trader_sampler_.large() || symbol_sampler_.large() || category_sampler_.large();
    for (size_t r = 0; r < rows; ++r) {
      if (prefetch && r + kPrefetchDistance < rows) {
        const uint64_t first = order[r + kPrefetchDistance] * kTradeDraws;
        trader_sampler_.Prefetch(RandomAt(field_stream_, first));
        symbol_sampler_.Prefetch(RandomAt(field_stream_, first + 1));
        category_sampler_.Prefetch(RandomAt(field_stream_, first + 2));
      }
      const Event e = MakeEvent<true>(order[r]);
      id[r] = static_cast<int64_t>(e.number + 1);
      trader[r] = names.traders[e.trader];
      symbol[r] = names.symbols[e.symbol];
      category[r] = names.categories[e.category];
      if (decimal_price != nullptr) {
        decimal_price[r] = e.price_cents * 100;
      } else {
        price[r] = static_cast<double>(e.price_cents) / 100.0;
      }
      quantity[r] = e.amount;
      side[r] = names.sides[e.side];
      venue[r] = names.venues[e.venue];
      time[r] = e.time;
    }
  } else {
    std::string_view* symbol = out.mutable_column(0).data<std::string_view>();
    double* price = out.mutable_column(1).data<double>();
    double* bid = out.mutable_column(2).data<double>();
    double* ask = out.mutable_column(3).data<double>();
    int64_t* volume = out.mutable_column(4).data<int64_t>();
    int64_t* time = out.mutable_column(5).data<int64_t>();
    for (size_t r = 0; r < rows; ++r) {
      const Event e = MakeEvent<false>(order[r]);
      symbol[r] = names.symbols[e.symbol];
      price[r] = static_cast<double>(e.price_cents) / 100.0;
      bid[r] = static_cast<double>(e.price_cents - e.half_spread_cents) / 100.0;
      ask[r] = static_cast<double>(e.price_cents + e.half_spread_cents) / 100.0;
      volume[r] = e.amount;
      time[r] = e.time;
    }
  }
}

size_t TradeGenerator::FillBatch(size_t max_records, Batch& out) {
  const size_t rows = NextArrivals(max_records);
  out.Reset(pools_.size(), rows);
  for (size_t i = 0; i < pools_.size(); ++i) out.SetColumn(i, pools_[i].Acquire(rows));
  if (options_.kind == TradeDataKind::kTrades) {
    FillRows<true>(rows, out);
  } else {
    FillRows<false>(rows, out);
  }
  for (size_t i = 0; i < pools_.size(); ++i) {
    Column& column = out.mutable_column(i);
    column.SetAllValid(rows);
    if (column.type() == TypeId::kString) column.KeepAlive(names_);
  }
  return rows;
}

template <bool kJson, bool kTrades>
size_t TradeGenerator::AppendText(size_t max_records, std::string& out) {
  const Names& names = *names_;
  size_t total = 0;
  while (total < max_records) {
    const size_t rows = NextArrivals(std::min(kTextRows, max_records - total));
    if (rows == 0) break;
    if (text_.size() < rows * max_text_bytes_) text_.resize(rows * max_text_bytes_);
    char* const start = text_.data();
    char* p = start;
    for (size_t r = 0; r < rows; ++r) {
      const Event e = MakeEvent<kTrades>(order_[r]);
      if constexpr (kTrades && kJson) {
        p = Put(p, "{\"trade_id\":");
        p = PutInt(p, static_cast<int64_t>(e.number + 1));
        p = Put(p, ",\"trader_id\":\"");
        p = PutName(p, names.traders[e.trader]);
        p = Put(p, "\",\"symbol\":\"");
        p = PutName(p, names.symbols[e.symbol]);
        p = Put(p, "\",\"category\":\"");
        p = PutName(p, names.categories[e.category]);
        p = Put(p, "\",\"price\":");
        p = PutCents(p, e.price_cents);
        p = Put(p, ",\"quantity\":");
        p = PutInt(p, e.amount);
        p = Put(p, ",\"side\":\"");
        p = PutName(p, names.sides[e.side]);
        p = Put(p, "\",\"venue\":\"");
        p = PutName(p, names.venues[e.venue]);
        p = Put(p, "\",\"trade_time\":");
        p = PutInt(p, e.time);
        p = Put(p, "}\n");
      } else if constexpr (kTrades) {
        p = PutInt(p, static_cast<int64_t>(e.number + 1));
        *p++ = ',';
        p = PutName(p, names.traders[e.trader]);
        *p++ = ',';
        p = PutName(p, names.symbols[e.symbol]);
        *p++ = ',';
        p = PutName(p, names.categories[e.category]);
        *p++ = ',';
        p = PutCents(p, e.price_cents);
        *p++ = ',';
        p = PutInt(p, e.amount);
        *p++ = ',';
        p = PutName(p, names.sides[e.side]);
        *p++ = ',';
        p = PutName(p, names.venues[e.venue]);
        *p++ = ',';
        p = PutInt(p, e.time);
        *p++ = '\n';
      } else if constexpr (kJson) {
        p = Put(p, "{\"symbol\":\"");
        p = PutName(p, names.symbols[e.symbol]);
        p = Put(p, "\",\"price\":");
        p = PutCents(p, e.price_cents);
        p = Put(p, ",\"bid\":");
        p = PutCents(p, e.price_cents - e.half_spread_cents);
        p = Put(p, ",\"ask\":");
        p = PutCents(p, e.price_cents + e.half_spread_cents);
        p = Put(p, ",\"volume\":");
        p = PutInt(p, e.amount);
        p = Put(p, ",\"timestamp\":");
        p = PutInt(p, e.time);
        p = Put(p, "}\n");
      } else {
        p = PutName(p, names.symbols[e.symbol]);
        *p++ = ',';
        p = PutCents(p, e.price_cents);
        *p++ = ',';
        p = PutCents(p, e.price_cents - e.half_spread_cents);
        *p++ = ',';
        p = PutCents(p, e.price_cents + e.half_spread_cents);
        *p++ = ',';
        p = PutInt(p, e.amount);
        *p++ = ',';
        p = PutInt(p, e.time);
        *p++ = '\n';
      }
    }
    out.append(start, static_cast<size_t>(p - start));
    total += rows;
  }
  return total;
}

size_t TradeGenerator::AppendJsonLines(size_t max_records, std::string& out) {
  return options_.kind == TradeDataKind::kTrades ? AppendText<true, true>(max_records, out)
                                                 : AppendText<true, false>(max_records, out);
}

size_t TradeGenerator::AppendCsv(size_t max_records, std::string& out, bool header) {
  if (header) {
    const auto& fields = schema_.fields();
    for (size_t i = 0; i < fields.size(); ++i) StrAppend(&out, i == 0 ? "" : ",", fields[i].name);
    out.push_back('\n');
  }
  return options_.kind == TradeDataKind::kTrades ? AppendText<false, true>(max_records, out)
                                                 : AppendText<false, false>(max_records, out);
}

}  // namespace sluice
