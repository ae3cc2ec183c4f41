// NexmarkGenerator: the persons, auctions and bids of the Nexmark benchmark, as three JSON Lines
// streams, deterministic for a seed.
//
// A port of the rules of nexmark/nexmark's Java generator (nexmark-flink, package
// com.github.nexmark.flink.generator: NexmarkGenerator, GeneratorConfig and model/*), written
// anew: the same event layout, proportions, id references, time spacing and value
// distributions, not the same random bits (Java's SplittableRandom is not reproduced).
//
// Events are numbered 0, 1, 2, ... (the event id). Event n is, by n mod 50 (the proportions
// person:auction:bid = 1:3:46), a person (offset 0), an auction (1..3) or a bid (4..49), so ids
// follow from n alone:
//   person id   1000 + (last person number at n)      FIRST_PERSON_ID = 1000
//   auction id  1000 + (last auction number at n)     FIRST_AUCTION_ID = 1000
//   category    10..14                                FIRST_CATEGORY_ID = 10, 5 categories
// Event time of event n: start + floor(floor(n * 1e6 / rate) / 1000) ms (Nexmark's
// timestampForEvent with one generator: an inter-event delay of 1e6 / rate microseconds), so
// times never decrease. Out-of-order groups (Nexmark's outOfOrderGroupSize) are 1, the default.
//
// References, as Nexmark makes them:
//   auction.seller  with probability 1 - 1/hot_sellers_ratio (3/4) the hot seller, the first
//                   person of the current block of 100; else a random person among the last
//                   num_active_people (1000) plus up to 10 not yet created ("leads")
//   bid.auction     with probability 1 - 1/hot_auction_ratio (1/2) the hot auction, the first
//                   of the current block of 100 auctions; else a random auction among the last
//                   num_in_flight_auctions (100) plus up to 10 not yet created
//   bid.bidder      with probability 1 - 1/hot_bidders_ratio (3/4) the hot bidder, the second
//                   person of the current block of 100; else as a random seller
// Values: prices (initialBid, reserve - initialBid, bid price) are round(10^(6u) * 100) for u
// uniform in [0, 1): log-uniform from 100 to 100,000,000. expires = dateTime + 1 +
// uniform[0, 2 * horizon) ms, horizon the event time 1666 events ahead (num_in_flight_auctions
// * 50 / 3) minus this event's. Strings as Nexmark's StringsGenerator: random words of 3 to
// max-1 lowercase letters with about 1 in 13 a space ('_' in urls), trimmed; names "First Last"
// from Nexmark's 11 first and 9 last names; emails "<word>@<word>.com"; credit cards four
// 4-digit groups; city and state from Nexmark's 10 cities and 6 states. Half the bids come from
// one of 4 hot channels (Google, Facebook, Baidu, Apple, each with its own url), the rest from
// "channel-<k>", k uniform below 10,000, whose url carries "&channel_id=<|reverse(k)|>" for 9
// channels in 10. `extra` pads each record towards Nexmark's average sizes (person 200, auction
// 500, bid 100 bytes): lowercase letters, its length uniform within +/-20% of what is left.
//
// Where this port differs from the Java generator, on purpose:
//   - The first event id is 0 (as in the Beam original). Flink's source starts at id 2, so its
//     person 1000 and auction 1000 never exist although hot sellers and auctions refer to them.
//   - A bidder id is 1000 + its person number. The Java BidGenerator adds FIRST_PERSON_ID twice,
//     so its bidders (ids from 2000) do not match the person of that number.
//   - Times start at a fixed instant (2026-01-01T00:00:00Z by default) instead of the wall
//     clock, and the hot urls and the channel url table come from the seed instead of an
//     unseeded random source: the same options give the same bytes.
//
// Every field of event n is a pure function of (seed, n) and the options, so the output does
// not depend on how the calls chunk it. Not thread-safe; one generator per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice {

struct NexmarkGeneratorOptions {
  static constexpr uint64_t kMaxCount = uint64_t{1} << 50;

  uint64_t seed = 42;
  uint64_t count = 0;                    // events (persons + auctions + bids)
  int64_t start_millis = 1767225600000;  // event time of event 0: 2026-01-01T00:00:00Z
  // Events per second of event time: Nexmark's 'first-event.rate' default, 10,000 (its
  // published benchmark suite runs the source at 10,000,000).
  double events_per_second = 10000;
  // Nexmark's defaults (NexmarkConfiguration).
  int64_t person_proportion = 1;
  int64_t auction_proportion = 3;
  int64_t bid_proportion = 46;
  int64_t hot_auction_ratio = 2;
  int64_t hot_sellers_ratio = 4;
  int64_t hot_bidders_ratio = 4;
  int64_t num_in_flight_auctions = 100;
  int64_t num_active_people = 1000;
  int64_t avg_person_bytes = 200;
  int64_t avg_auction_bytes = 500;
  int64_t avg_bid_bytes = 100;
};

enum class NexmarkEventKind : uint8_t { kPerson, kAuction, kBid };

class NexmarkGenerator {
 public:
  static constexpr int64_t kFirstPersonId = 1000;
  static constexpr int64_t kFirstAuctionId = 1000;
  static constexpr int64_t kFirstCategoryId = 10;
  static constexpr int64_t kCategories = 5;
  static constexpr int64_t kIdLead = 10;     // ids of not yet created persons and auctions allowed
  static constexpr int64_t kHotBlock = 100;  // hot sellers, bidders and auctions: first of 100

  // Checks the rate, the count, the proportions and ratios (each at least 1).
  static absl::Status Validate(const NexmarkGeneratorOptions& options);

  // REQUIRES: Validate(options).ok(). Builds the extra-text pool and the channel urls.
  explicit NexmarkGenerator(const NexmarkGeneratorOptions& options);
  ~NexmarkGenerator();

  // The schemas the job files declare, as '<source>.schema' text.
  static std::string_view PersonSchema();
  static std::string_view AuctionSchema();
  static std::string_view BidSchema();
  static std::string_view SideInputSchema();

  // What event n is, and its event time (pure functions of n).
  NexmarkEventKind KindOf(uint64_t event) const;
  int64_t EventTime(uint64_t event) const;
  // The person and auction numbers (0-based; ids are these plus 1000) last created at or before
  // event n; -1 when none yet.
  int64_t LastPersonNumber(uint64_t event) const;
  int64_t LastAuctionNumber(uint64_t event) const;

  // Appends the next (up to) `max_events` events, each as one JSON object line to the output of
  // its kind; returns how many, 0 once all `count` are out.
  size_t AppendJsonLines(size_t max_events, std::string& persons, std::string& auctions, std::string& bids);

  // Nexmark q13's bounded side input (its SideInputGenerator): kSideInputRows records
  // {"key":k,"value":"k"}, k = 0, 1, ..., one per line.
  static constexpr int64_t kSideInputRows = 10000;
  static void AppendSideInputJsonLines(std::string& out);

  uint64_t events_produced() const { return next_event_; }
  bool done() const { return next_event_ == options_.count; }

 private:
  class EventRandom;

  char* WritePerson(uint64_t event, char* p) const;
  char* WriteAuction(uint64_t event, char* p) const;
  char* WriteBid(uint64_t event, char* p) const;
  // A random earlier person (Nexmark's nextBase0PersonId) or in-flight auction.
  int64_t RandomPersonNumber(uint64_t event, EventRandom& random) const;
  int64_t RandomAuctionNumber(uint64_t event, EventRandom& random) const;
  // Extra text of a record whose other fields take `current` bytes.
  char* WriteExtra(char* p, int64_t current, int64_t average, EventRandom& random) const;

  NexmarkGeneratorOptions options_;
  int64_t total_proportion_;
  double micros_per_event_;
  uint64_t field_stream_;
  std::string extra_pool_;  // lowercase letters; an extra is a slice of it
  struct Channel {
    std::string name;
    std::string url;
  };
  std::vector<Channel> hot_channels_;
  std::vector<Channel> channels_;
  uint64_t next_event_ = 0;
  std::vector<char> person_text_, auction_text_, bid_text_;  // scratch
};

}  // namespace sluice
