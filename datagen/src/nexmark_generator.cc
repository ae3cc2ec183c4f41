#include "nexmark_generator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/strings.h"
#include "random.h"

namespace sluice {
namespace {

// Salts of the independent random streams derived from one seed.
constexpr uint64_t kNexmarkFieldsSalt = 11;
constexpr uint64_t kNexmarkTablesSalt = 12;

constexpr size_t kExtraPoolBytes = size_t{1} << 20;  // Nexmark's REUSABLE_EXTRA_STRING: 1 MiB
constexpr int kMinStringLength = 3;                  // StringsGenerator.MIN_STRING_LENGTH
constexpr uint32_t kChannels = 10000;                // BidGenerator.CHANNELS_NUMBER
constexpr size_t kTextEvents = 256;                  // events formatted per round
// No record is longer: the largest, an auction, has under 300 bytes of field names and numbers,
// a 19-byte name, a 99-byte description and an extra of at most 1.2 x 600 bytes (Validate caps
// the average sizes at 600).
constexpr size_t kMaxRecordBytes = 2048;

constexpr std::string_view kStates[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::string_view kCities[] = {"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
                                        "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
constexpr std::string_view kFirstNames[] = {"Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
                                            "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::string_view kLastNames[] = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                           "Walton", "Smith",  "Jones",   "Noris"};
constexpr std::string_view kHotChannels[] = {"Google", "Facebook", "Baidu", "Apple"};

template <size_t N>
inline char* Put(char* p, const char (&literal)[N]) {
  std::memcpy(p, literal, N - 1);
  return p + N - 1;
}

inline char* Put(char* p, std::string_view text) {
  std::memcpy(p, text.data(), text.size());
  return p + text.size();
}

inline char* PutInt(char* p, int64_t value) {
  return std::to_chars(p, p + 20, value).ptr;
}

// Java's Math.abs(Integer.reverse(k)): the bits of k reversed as a signed 32-bit number, its
// absolute value (which leaves INT32_MIN negative, as Java does).
int64_t ReversedChannelId(uint32_t k) {
  uint32_t reversed = 0;
  for (int bit = 0; bit < 32; ++bit) reversed |= ((k >> bit) & 1u) << (31 - bit);
  const auto value = static_cast<int32_t>(reversed);
  return value == std::numeric_limits<int32_t>::min() ? value : (value < 0 ? -value : value);
}

}  // namespace

// The random draws of one event (or of one table entry): SplitMix64 started from the event's
// own position in the field stream, so an event's values do not depend on any other event's.
class NexmarkGenerator::EventRandom {
 public:
  explicit EventRandom(uint64_t start) : random_(start) {}
  // Uniform in [0, n), n < 2^32 (Java's nextInt(n)).
  uint32_t Below(uint64_t n) {
    return UniformBelow(static_cast<uint32_t>(random_.Next() >> 32), static_cast<uint32_t>(n));
  }
  // Uniform in [0, n) for any n > 0 (Nexmark's LongGenerator.nextLong).
  int64_t BelowLong(int64_t n) {
    if (n < (int64_t{1} << 31)) return Below(static_cast<uint64_t>(n));
    return static_cast<int64_t>(random_.Next() % static_cast<uint64_t>(n));
  }
  double Unit() { return static_cast<double>(random_.Next() >> 11) * 0x1p-53; }
  uint64_t Bits() { return random_.Next(); }

 private:
  SplitMix64 random_;
};

namespace {

// PriceGenerator.nextPrice: round(10^(6u) * 100), log-uniform over [100, 100,000,000].
inline int64_t NextPrice(auto& random) {
  return static_cast<int64_t>(std::llround(std::pow(10.0, random.Unit() * 6.0) * 100.0));
}

// StringsGenerator.nextString: 3..max_length-1 characters, each `special` with probability 1/13,
// else a lowercase letter; leading and trailing spaces trimmed. Writes at p, returns the end.
inline char* PutRandomWord(char* p, int max_length, char special, auto& random) {
  const int length =
      kMinStringLength + static_cast<int>(random.Below(static_cast<uint64_t>(max_length - kMinStringLength)));
  char* const start = p;
  for (int i = 0; i < length; ++i) {
    const uint64_t bits = random.Bits();
    *p++ = UniformBelow(static_cast<uint32_t>(bits), 13) == 0
               ? special
               : static_cast<char>('a' + UniformBelow(static_cast<uint32_t>(bits >> 32), 26));
  }
  if (special == ' ') {
    char* begin = start;
    while (begin < p && *begin == ' ') ++begin;
    while (p > begin && p[-1] == ' ') --p;
    if (begin != start) {
      std::memmove(start, begin, static_cast<size_t>(p - begin));
      p -= begin - start;
    }
  }
  return p;
}

// BidGenerator.getBaseUrl.
std::string BaseUrl(auto& random) {
  char text[128];
  char* p = Put(text, "https://www.nexmark.com/");
  for (int i = 0; i < 3; ++i) {
    p = PutRandomWord(p, 5, '_', random);
    *p++ = '/';
  }
  p = Put(p, "item.htm?query=1");
  return std::string(text, static_cast<size_t>(p - text));
}

}  // namespace

absl::Status NexmarkGenerator::Validate(const NexmarkGeneratorOptions& options) {
  if (!(options.events_per_second > 0 && options.events_per_second <= 1e9)) {
    return absl::InvalidArgumentError("the event rate must be greater than 0 and at most 1e9 per second");
  }
  if (options.count > NexmarkGeneratorOptions::kMaxCount) {
    return absl::InvalidArgumentError(
        StrCat("the event count must be at most ", NexmarkGeneratorOptions::kMaxCount));
  }
  auto at_least_one = [](const char* what, int64_t value, int64_t max) -> absl::Status {
    if (value < 1 || value > max) {
      return absl::InvalidArgumentError(StrCat("the ", what, " must be from 1 to ", max));
    }
    return absl::OkStatus();
  };
  SLUICE_RETURN_IF_ERROR(at_least_one("person proportion", options.person_proportion, 1000));
  SLUICE_RETURN_IF_ERROR(at_least_one("auction proportion", options.auction_proportion, 1000));
  SLUICE_RETURN_IF_ERROR(at_least_one("bid proportion", options.bid_proportion, 1000));
  SLUICE_RETURN_IF_ERROR(at_least_one("hot auction ratio", options.hot_auction_ratio, 1'000'000));
  SLUICE_RETURN_IF_ERROR(at_least_one("hot sellers ratio", options.hot_sellers_ratio, 1'000'000));
  SLUICE_RETURN_IF_ERROR(at_least_one("hot bidders ratio", options.hot_bidders_ratio, 1'000'000));
  SLUICE_RETURN_IF_ERROR(
      at_least_one("number of in-flight auctions", options.num_in_flight_auctions, 1'000'000'000));
  SLUICE_RETURN_IF_ERROR(at_least_one("number of active people", options.num_active_people, 1'000'000'000));
  SLUICE_RETURN_IF_ERROR(at_least_one("average person size", options.avg_person_bytes, 400));
  SLUICE_RETURN_IF_ERROR(at_least_one("average auction size", options.avg_auction_bytes, 600));
  SLUICE_RETURN_IF_ERROR(at_least_one("average bid size", options.avg_bid_bytes, 600));
  constexpr int64_t kMaxStart = 1'000'000'000'000'000;
  if (options.start_millis < -kMaxStart || options.start_millis > kMaxStart) {
    return absl::InvalidArgumentError("the start time is out of range");
  }
  return absl::OkStatus();
}

NexmarkGenerator::NexmarkGenerator(const NexmarkGeneratorOptions& options)
    : options_(options),
      total_proportion_(options.person_proportion + options.auction_proportion + options.bid_proportion),
      micros_per_event_(1e6 / options.events_per_second),
      field_stream_(StreamFor(options.seed, kNexmarkFieldsSalt)) {
  const absl::Status valid = Validate(options);
  SLUICE_CHECK(valid.ok());
  EventRandom tables(StreamFor(options.seed, kNexmarkTablesSalt));
  extra_pool_.resize(kExtraPoolBytes);
  for (char& c : extra_pool_) c = static_cast<char>('a' + tables.Below(26));
  for (std::string_view channel : kHotChannels)
    hot_channels_.push_back({std::string(channel), BaseUrl(tables)});
  channels_.reserve(kChannels);
  for (uint32_t k = 0; k < kChannels; ++k) {
    std::string url = BaseUrl(tables);
    if (tables.Below(10) > 0) StrAppend(&url, "&channel_id=", ReversedChannelId(k));
    channels_.push_back({StrCat("channel-", k), std::move(url)});
  }
}

NexmarkGenerator::~NexmarkGenerator() = default;

std::string_view NexmarkGenerator::PersonSchema() {
  return "id BIGINT, name STRING, emailAddress STRING, creditCard STRING, city STRING, state STRING, "
         "dateTime TIMESTAMP, extra STRING";
}

std::string_view NexmarkGenerator::AuctionSchema() {
  return "id BIGINT, itemName STRING, description STRING, initialBid BIGINT, reserve BIGINT, dateTime "
         "TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra STRING";
}

std::string_view NexmarkGenerator::BidSchema() {
  return "auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra "
         "STRING";
}

std::string_view NexmarkGenerator::SideInputSchema() {
  return "key BIGINT, value STRING";
}

void NexmarkGenerator::AppendSideInputJsonLines(std::string& out) {
  for (int64_t key = 0; key < kSideInputRows; ++key)
    StrAppend(&out, "{\"key\":", key, ",\"value\":\"", key, "\"}\n");
}

NexmarkEventKind NexmarkGenerator::KindOf(uint64_t event) const {
  const auto offset = static_cast<int64_t>(event % static_cast<uint64_t>(total_proportion_));
  if (offset < options_.person_proportion) return NexmarkEventKind::kPerson;
  if (offset < options_.person_proportion + options_.auction_proportion) return NexmarkEventKind::kAuction;
  return NexmarkEventKind::kBid;
}

int64_t NexmarkGenerator::EventTime(uint64_t event) const {
  const auto micros = static_cast<int64_t>(static_cast<double>(event) * micros_per_event_);
  return options_.start_millis + micros / 1000;
}

int64_t NexmarkGenerator::LastPersonNumber(uint64_t event) const {
  const auto epoch = static_cast<int64_t>(event / static_cast<uint64_t>(total_proportion_));
  const auto offset = static_cast<int64_t>(event % static_cast<uint64_t>(total_proportion_));
  return epoch * options_.person_proportion + std::min(offset, options_.person_proportion - 1);
}

int64_t NexmarkGenerator::LastAuctionNumber(uint64_t event) const {
  auto epoch = static_cast<int64_t>(event / static_cast<uint64_t>(total_proportion_));
  auto offset = static_cast<int64_t>(event % static_cast<uint64_t>(total_proportion_));
  if (offset < options_.person_proportion) {  // a person: the last auction of the epoch before
    --epoch;
    offset = options_.auction_proportion - 1;
  } else if (offset >= options_.person_proportion + options_.auction_proportion) {  // a bid
    offset = options_.auction_proportion - 1;
  } else {
    offset -= options_.person_proportion;
  }
  return epoch * options_.auction_proportion + offset;
}

int64_t NexmarkGenerator::RandomPersonNumber(uint64_t event, EventRandom& random) const {
  // Among the most recent `num_active_people`, plus up to kIdLead not created yet.
  const int64_t people = LastPersonNumber(event) + 1;
  const int64_t active = std::min(people, options_.num_active_people);
  return people - active + random.BelowLong(active + kIdLead);
}

int64_t NexmarkGenerator::RandomAuctionNumber(uint64_t event, EventRandom& random) const {
  // Among those likely still in flight, plus up to kIdLead not created yet.
  const int64_t last = LastAuctionNumber(event);
  const int64_t first = std::max<int64_t>(last - options_.num_in_flight_auctions, 0);
  return first + random.BelowLong(last - first + 1 + kIdLead);
}

char* NexmarkGenerator::WriteExtra(char* p, int64_t current, int64_t average, EventRandom& random) const {
  // StringsGenerator.nextExtra: within +/-20% of what the other fields leave of the average.
  if (current > average) return p;
  const int64_t wanted = average - current;
  const int64_t delta = std::llround(static_cast<double>(wanted) * 0.2);
  const int64_t length = wanted - delta + (delta == 0 ? 0 : random.BelowLong(2 * delta));
  const int64_t offset = random.BelowLong(static_cast<int64_t>(extra_pool_.size()) - length);
  std::memcpy(p, extra_pool_.data() + offset, static_cast<size_t>(length));
  return p + length;
}

char* NexmarkGenerator::WritePerson(uint64_t event, char* p) const {
  EventRandom random(RandomAt(field_stream_, event));
  p = Put(p, "{\"id\":");
  p = PutInt(p, LastPersonNumber(event) + kFirstPersonId);
  p = Put(p, ",\"name\":\"");
  char* const name = p;
  p = Put(p, kFirstNames[random.Below(std::size(kFirstNames))]);
  *p++ = ' ';
  p = Put(p, kLastNames[random.Below(std::size(kLastNames))]);
  const int64_t name_bytes = p - name;
  p = Put(p, "\",\"emailAddress\":\"");
  char* const email = p;
  p = PutRandomWord(p, 7, ' ', random);
  *p++ = '@';
  p = PutRandomWord(p, 5, ' ', random);
  p = Put(p, ".com");
  const int64_t email_bytes = p - email;
  p = Put(p, "\",\"creditCard\":\"");
  for (int group = 0; group < 4; ++group) {
    if (group > 0) *p++ = ' ';
    const uint32_t digits = random.Below(10000);
    *p++ = static_cast<char>('0' + digits / 1000);
    *p++ = static_cast<char>('0' + digits / 100 % 10);
    *p++ = static_cast<char>('0' + digits / 10 % 10);
    *p++ = static_cast<char>('0' + digits % 10);
  }
  const std::string_view city = kCities[random.Below(std::size(kCities))];
  const std::string_view state = kStates[random.Below(std::size(kStates))];
  p = Put(p, "\",\"city\":\"");
  p = Put(p, city);
  p = Put(p, "\",\"state\":\"");
  p = Put(p, state);
  p = Put(p, "\",\"dateTime\":");
  p = PutInt(p, EventTime(event));
  p = Put(p, ",\"extra\":\"");
  const int64_t current = 8 + name_bytes + email_bytes + 19 + static_cast<int64_t>(city.size()) +
                          static_cast<int64_t>(state.size());
  p = WriteExtra(p, current, options_.avg_person_bytes, random);
  return Put(p, "\"}\n");
}

char* NexmarkGenerator::WriteAuction(uint64_t event, char* p) const {
  EventRandom random(RandomAt(field_stream_, event));
  const int64_t time = EventTime(event);
  p = Put(p, "{\"id\":");
  p = PutInt(p, LastAuctionNumber(event) + kFirstAuctionId);
  p = Put(p, ",\"itemName\":\"");
  char* const item = p;
  p = PutRandomWord(p, 20, ' ', random);
  const int64_t item_bytes = p - item;
  p = Put(p, "\",\"description\":\"");
  char* const description = p;
  p = PutRandomWord(p, 100, ' ', random);
  const int64_t description_bytes = p - description;
  const int64_t initial_bid = NextPrice(random);
  p = Put(p, "\",\"initialBid\":");
  p = PutInt(p, initial_bid);
  p = Put(p, ",\"reserve\":");
  p = PutInt(p, initial_bid + NextPrice(random));
  p = Put(p, ",\"dateTime\":");
  p = PutInt(p, time);
  // Auction length: on average the time until num_in_flight_auctions more auctions exist.
  const int64_t events_for_auctions =
      options_.num_in_flight_auctions * total_proportion_ / options_.auction_proportion;
  const int64_t horizon = EventTime(event + static_cast<uint64_t>(events_for_auctions)) - time;
  p = Put(p, ",\"expires\":");
  p = PutInt(p, time + 1 + random.BelowLong(std::max<int64_t>(horizon * 2, 1)));
  // The seller: mostly the hot one, the first person of the current block of kHotBlock.
  int64_t seller = random.BelowLong(options_.hot_sellers_ratio) > 0
                       ? LastPersonNumber(event) / kHotBlock * kHotBlock
                       : RandomPersonNumber(event, random);
  p = Put(p, ",\"seller\":");
  p = PutInt(p, seller + kFirstPersonId);
  p = Put(p, ",\"category\":");
  p = PutInt(p, kFirstCategoryId + random.Below(kCategories));
  p = Put(p, ",\"extra\":\"");
  p = WriteExtra(p, 8 + item_bytes + description_bytes + 40, options_.avg_auction_bytes, random);
  return Put(p, "\"}\n");
}

char* NexmarkGenerator::WriteBid(uint64_t event, char* p) const {
  EventRandom random(RandomAt(field_stream_, event));
  // The auction: mostly the hot one, the first of the current block of kHotBlock auctions.
  const int64_t auction = random.BelowLong(options_.hot_auction_ratio) > 0
                              ? LastAuctionNumber(event) / kHotBlock * kHotBlock
                              : RandomAuctionNumber(event, random);
  // The bidder: mostly the hot one, the second person of the current block (not the seller).
  const int64_t bidder = random.BelowLong(options_.hot_bidders_ratio) > 0
                             ? LastPersonNumber(event) / kHotBlock * kHotBlock + 1
                             : RandomPersonNumber(event, random);
  p = Put(p, "{\"auction\":");
  p = PutInt(p, auction + kFirstAuctionId);
  p = Put(p, ",\"bidder\":");
  p = PutInt(p, bidder + kFirstPersonId);
  p = Put(p, ",\"price\":");
  p = PutInt(p, NextPrice(random));
  const Channel& channel = random.Below(2) > 0 ? hot_channels_[random.Below(hot_channels_.size())]
                                               : channels_[random.Below(channels_.size())];
  p = Put(p, ",\"channel\":\"");
  p = Put(p, channel.name);
  p = Put(p, "\",\"url\":\"");
  p = Put(p, channel.url);
  p = Put(p, "\",\"dateTime\":");
  p = PutInt(p, EventTime(event));
  p = Put(p, ",\"extra\":\"");
  p = WriteExtra(p, 32, options_.avg_bid_bytes, random);
  return Put(p, "\"}\n");
}

size_t NexmarkGenerator::AppendJsonLines(size_t max_events, std::string& persons, std::string& auctions,
                                         std::string& bids) {
  const size_t events = static_cast<size_t>(std::min<uint64_t>(max_events, options_.count - next_event_));
  for (std::vector<char>* text : {&person_text_, &auction_text_, &bid_text_}) {
    if (text->size() < kTextEvents * kMaxRecordBytes) text->resize(kTextEvents * kMaxRecordBytes);
  }
  size_t done = 0;
  while (done < events) {
    const size_t round = std::min(kTextEvents, events - done);
    char* person = person_text_.data();
    char* auction = auction_text_.data();
    char* bid = bid_text_.data();
    for (uint64_t event = next_event_; event < next_event_ + round; ++event) {
      switch (KindOf(event)) {
        case NexmarkEventKind::kPerson: person = WritePerson(event, person); break;
        case NexmarkEventKind::kAuction: auction = WriteAuction(event, auction); break;
        case NexmarkEventKind::kBid: bid = WriteBid(event, bid); break;
      }
    }
    persons.append(person_text_.data(), static_cast<size_t>(person - person_text_.data()));
    auctions.append(auction_text_.data(), static_cast<size_t>(auction - auction_text_.data()));
    bids.append(bid_text_.data(), static_cast<size_t>(bid - bid_text_.data()));
    next_event_ += round;
    done += round;
  }
  return events;
}

}  // namespace sluice
