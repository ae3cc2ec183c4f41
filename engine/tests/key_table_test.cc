// KeyTable against a std::map reference: random keys with NULLs, erase and re-insert, batches
// with selections, snapshot/restore; both the hash-table mode and the single-STRING-key mode.
#include "state/key_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <span>
#include <string>
#include <tuple>

#include "absl/strings/str_format.h"

namespace sluice {
namespace {

// A reference key: (is_null, value) per column.
using RefKey = std::vector<std::pair<bool, std::string>>;

struct Fixture {
  std::vector<TypeId> types;
  std::vector<std::shared_ptr<Column>> columns;
  std::vector<std::string> texts;  // backing store for string values of one batch
};

// Fills `count` rows of random keys over small domains (so that keys repeat).
Fixture MakeBatch(const std::vector<TypeId>& types, size_t count, std::mt19937_64& random, int domain) {
  Fixture f;
  f.types = types;
  f.texts.reserve(count * types.size());
  for (TypeId type : types) {
    auto column = std::make_shared<Column>(type, count);
    for (size_t row = 0; row < count; ++row) {
      const int value = static_cast<int>(random() % domain);
      if (random() % 17 == 0) {
        column->SetNull(row);
        continue;
      }
      column->validity()[row] = 1;
      switch (type) {
        case TypeId::kString:
          f.texts.push_back("key-" + std::to_string(value) + (value % 3 == 0 ? "-with-a-longer-tail" : ""));
          column->data<std::string_view>()[row] = column->heap().Add(f.texts.back());
          break;
        // Zero comes as -0.0 and as +0.0 (by row parity): the two must be one key.
        case TypeId::kDouble:
          column->data<double>()[row] = value == 0 ? (row % 2 ? -0.0 : 0.0) : value * 0.5;
          break;
        default: column->data<int64_t>()[row] = value * 1000003LL; break;
      }
    }
    f.columns.push_back(column);
  }
  return f;
}

RefKey KeyOf(const Fixture& f, size_t row) {
  RefKey key;
  for (const auto& column : f.columns) {
    if (!column->IsValid(row)) {
      key.emplace_back(true, "");
      continue;
    }
    switch (column->type()) {
      case TypeId::kString:
        key.emplace_back(false, std::string(column->data<std::string_view>()[row]));
        break;
      case TypeId::kDouble: key.emplace_back(false, std::to_string(column->data<double>()[row] + 0.0)); break;
      default: key.emplace_back(false, std::to_string(column->data<int64_t>()[row])); break;
    }
  }
  return key;
}

RefKey KeyInTable(const KeyTable& table, const std::vector<TypeId>& types, uint32_t group) {
  RefKey key;
  for (size_t k = 0; k < types.size(); ++k) {
    Column out(types[k], 1);
    table.ReadKey(group, k, out, 0);
    if (!out.IsValid(0)) {
      key.emplace_back(true, "");
      continue;
    }
    switch (types[k]) {
      case TypeId::kString: key.emplace_back(false, std::string(out.data<std::string_view>()[0])); break;
      case TypeId::kDouble: key.emplace_back(false, std::to_string(out.data<double>()[0] + 0.0)); break;
      default: key.emplace_back(false, std::to_string(out.data<int64_t>()[0])); break;
    }
  }
  return key;
}

void CheckAgainstReference(const std::vector<TypeId>& types, int domain,
                           KeyTable::Erasure erasure = KeyTable::Erasure::kAllowed) {
  std::mt19937_64 random(42);
  KeyTable table(types, erasure);
  std::map<RefKey, uint32_t> reference;
  for (int round = 0; round < 60; ++round) {
    const size_t count = 1 + random() % 700;
    Fixture f = MakeBatch(types, count, random, domain);
    std::vector<const Column*> keys;
    for (const auto& column : f.columns) keys.push_back(column.get());
    // Every third batch uses a selection of the even rows.
    std::vector<uint32_t> selection;
    const bool selected = round % 3 == 0;
    for (uint32_t row = 0; row < count; row += 2) selection.push_back(row);
    std::vector<uint32_t> ids(count, 0xDEADBEEF);
    std::vector<uint32_t> created;
    const size_t active = selected ? selection.size() : count;
    const size_t made =
        table.FindOrInsert(keys.data(), selected ? selection.data() : nullptr, active, ids.data(), &created);
    size_t expected_made = 0;
    for (size_t i = 0; i < active; ++i) {
      const size_t row = selected ? selection[i] : i;
      const RefKey key = KeyOf(f, row);
      auto [it, inserted] = reference.try_emplace(key, ids[row]);
      expected_made += inserted;
      ASSERT_EQ(it->second, ids[row]) << "round " << round << " row " << row;
      ASSERT_EQ(KeyInTable(table, types, ids[row]), key);
    }
    ASSERT_EQ(made, expected_made);
    ASSERT_EQ(created.size(), made);
    ASSERT_EQ(table.size(), reference.size());
    // Erase about a quarter of the groups; their ids come back for later keys. Odd rounds
    // erase them in one call (Erase of a span).
    if (erasure == KeyTable::Erasure::kNever) continue;
    std::vector<uint32_t> erased;
    for (auto it = reference.begin(); it != reference.end();) {
      if (random() % 4 == 0) {
        if (round % 2 == 0) table.Erase(it->second);
        erased.push_back(it->second);
        it = reference.erase(it);
      } else {
        ++it;
      }
    }
    if (round % 2 == 1) table.Erase(std::span<const uint32_t>(erased));
    ASSERT_EQ(table.size(), reference.size());
    for (const auto& [key, id] : reference) ASSERT_LT(id, table.id_limit());
  }
  // Snapshot and restore: same live groups under the same ids.
  StateWriter writer;
  table.Snapshot(writer);
  KeyTable restored(types, erasure);
  StateReader reader(writer.bytes());
  ASSERT_TRUE(restored.Restore(reader).ok());
  ASSERT_EQ(restored.size(), reference.size());
  for (const auto& [key, id] : reference) ASSERT_EQ(KeyInTable(restored, types, id), key);
  // And the restored table finds them.
  Fixture f = MakeBatch(types, 500, random, domain);
  std::vector<const Column*> keys;
  for (const auto& column : f.columns) keys.push_back(column.get());
  std::vector<uint32_t> ids(500);
  restored.FindOrInsert(keys.data(), nullptr, 500, ids.data());
  for (size_t row = 0; row < 500; ++row) {
    auto found = reference.find(KeyOf(f, row));
    if (found != reference.end()) {
      ASSERT_EQ(ids[row], found->second);
    }
  }
}

TEST(KeyTableTest, SingleStringKeyMatchesReference) {
  CheckAgainstReference({TypeId::kString}, 3000);
}
TEST(KeyTableTest, SingleStringKeyNeverErasedMatchesReference) {
  CheckAgainstReference({TypeId::kString}, 3000, KeyTable::Erasure::kNever);
}
TEST(KeyTableTest, CompositeKeyNeverErasedMatchesReference) {
  CheckAgainstReference({TypeId::kString, TypeId::kInt64}, 40, KeyTable::Erasure::kNever);
}

// A never-erased single-STRING table numbers groups by first appearance, from 1; NULL is 0.
TEST(KeyTableTest, NeverErasedStringGroupsAreTheInternedIdsPlusOne) {
  KeyTable table({TypeId::kString}, KeyTable::Erasure::kNever);
  Column column(TypeId::kString, 6);
  const char* texts[] = {"b", "a", "", "b", "a-longer-string-than-fifteen", "c"};
  for (size_t row = 0; row < 6; ++row) {
    column.data<std::string_view>()[row] = column.heap().Add(texts[row]);
    column.validity()[row] = 1;
  }
  column.SetNull(2);
  const Column* keys[] = {&column};
  std::vector<uint32_t> ids(6);
  std::vector<uint32_t> created;
  EXPECT_EQ(table.FindOrInsert(keys, nullptr, 6, ids.data(), &created), 5u);
  EXPECT_EQ(ids, (std::vector<uint32_t>{1, 2, 0, 1, 3, 4}));
  EXPECT_EQ(created, (std::vector<uint32_t>{1, 2, 0, 3, 4}));
  EXPECT_EQ(table.size(), 5u);
  EXPECT_EQ(table.id_limit(), 5u);
  Column out(TypeId::kString, 5);
  for (uint32_t group = 0; group < 5; ++group) table.ReadKey(group, 0, out, group);
  EXPECT_FALSE(out.IsValid(0));
  EXPECT_EQ(out.data<std::string_view>()[1], "b");
  EXPECT_EQ(out.data<std::string_view>()[3], "a-longer-string-than-fifteen");
  // Seen again (with a selection): found, nothing created.
  const uint32_t selection[] = {0, 2, 5};
  created.clear();
  EXPECT_EQ(table.FindOrInsert(keys, selection, 3, ids.data(), &created), 0u);
  EXPECT_EQ(ids[0], 1u);
  EXPECT_EQ(ids[2], 0u);
  EXPECT_EQ(ids[5], 4u);
}
TEST(KeyTableTest, SingleIntegerKeyMatchesReference) {
  CheckAgainstReference({TypeId::kInt64}, 3000);
}
TEST(KeyTableTest, CompositeKeyMatchesReference) {
  CheckAgainstReference({TypeId::kString, TypeId::kString, TypeId::kTimestamp}, 40);
}
// Keys that come and go, as groups of tumbling windows do: each round inserts a new range of
// keys and erases the range before the previous one. Every key must still be found under its
// id (erasure shifts entries back instead of leaving tombstones) and the slot array must stop
// growing once the live set is steady.
TEST(KeyTableTest, ChurningKeysStayFoundAndTheTableStopsGrowing) {
  KeyTable table({TypeId::kInt64});
  std::map<int64_t, uint32_t> live;
  constexpr int64_t kPerRound = 5000;
  Column keys(TypeId::kInt64, kPerRound);
  keys.SetAllValid(kPerRound);
  std::vector<uint32_t> ids(kPerRound);
  const Column* key_columns[] = {&keys};
  size_t bytes_after_warmup = 0;
  for (int64_t round = 0; round < 200; ++round) {
    // This round's keys, each seen twice (found the second time), in a scrambled order.
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t i = 0; i < kPerRound; ++i)
        keys.data<int64_t>()[i] = round * kPerRound + (i * 7919) % kPerRound;
      table.FindOrInsert(key_columns, nullptr, kPerRound, ids.data());
      for (int64_t i = 0; i < kPerRound; ++i) {
        auto [it, inserted] = live.try_emplace(keys.data<int64_t>()[i], ids[i]);
        ASSERT_TRUE(inserted || it->second == ids[i]) << "round " << round << " key " << it->first;
        ASSERT_EQ(inserted, pass == 0);
      }
    }
    // The keys of two rounds ago go, in yet another order; in odd rounds by Erase of spans of
    // 1000 (as the aggregate operator frees a closed window's groups).
    if (round >= 2) {
      std::vector<uint32_t> erased;
      for (int64_t i = 0; i < kPerRound; ++i) {
        const int64_t key = (round - 2) * kPerRound + (i * 104729) % kPerRound;
        auto found = live.find(key);
        ASSERT_NE(found, live.end());
        if (round % 2 == 0) table.Erase(found->second);
        erased.push_back(found->second);
        live.erase(found);
      }
      for (size_t begin = 0; round % 2 == 1 && begin < erased.size(); begin += 1000)
        table.Erase(std::span<const uint32_t>(erased).subspan(begin, 1000));
    }
    ASSERT_EQ(table.size(), live.size());
    if (round == 10) bytes_after_warmup = table.MemoryBytes();
  }
  EXPECT_LE(table.MemoryBytes(), bytes_after_warmup);
  // Every live key is found under its id; an erased one is new again.
  for (int64_t i = 0; i < kPerRound; ++i) keys.data<int64_t>()[i] = 199 * kPerRound + i;
  std::vector<uint32_t> created;
  table.FindOrInsert(key_columns, nullptr, kPerRound, ids.data(), &created);
  EXPECT_TRUE(created.empty());
  for (int64_t i = 0; i < kPerRound; ++i) ASSERT_EQ(ids[i], live.at(199 * kPerRound + i));
  keys.data<int64_t>()[0] = 0;
  table.FindOrInsert(key_columns, nullptr, 1, ids.data(), &created);
  EXPECT_EQ(created.size(), 1u);
}

// -0.0 == +0.0 in SQL, so they are one group: in one batch, across batches, and beside a
// NULL and another value; the group's key reads back as +0.0.
TEST(KeyTableTest, DoubleKeysFoldNegativeZero) {
  KeyTable table({TypeId::kDouble});
  Column values(TypeId::kDouble, 5);
  values.SetAllValid(5);
  const double batch[] = {0.0, -0.0, 1.5, -0.0, 0.0};
  for (size_t i = 0; i < 5; ++i) values.data<double>()[i] = batch[i];
  const Column* keys[] = {&values};
  std::vector<uint32_t> ids(5);
  std::vector<uint32_t> created;
  ASSERT_EQ(table.FindOrInsert(keys, nullptr, 5, ids.data(), &created), 2u);
  EXPECT_EQ(ids[0], ids[1]);
  EXPECT_EQ(ids[0], ids[3]);
  EXPECT_EQ(ids[0], ids[4]);
  EXPECT_NE(ids[0], ids[2]);
  Column out(TypeId::kDouble, 1);
  table.ReadKey(ids[0], 0, out, 0);
  EXPECT_FALSE(std::signbit(out.data<double>()[0]));
  // A later batch of -0.0 alone finds the +0.0 group.
  values.data<double>()[0] = -0.0;
  uint32_t later = 0;
  ASSERT_EQ(table.FindOrInsert(keys, nullptr, 1, &later, &created), 0u);
  EXPECT_EQ(later, ids[0]);
  EXPECT_EQ(table.size(), 2u);
}

// Carried keys (the keyed exchange): a table fed the words and hashes EncodeCarriedKeys made
// for its leading key columns, without a table, finds and creates exactly the groups that a
// table fed the columns does: short and long strings (the long ones re-read from the column),
// NULLs, -0.0 beside 0.0, a BIGINT -1 (whose word has the bits of kUncarriedWord), selections,
// erasures; the carried columns hold only the long strings, as the exchange sends them; the last
// key column (a window start) comes as a column, as the aggregate adds it.
TEST(KeyTableTest, CarriedKeysFindTheGroupsTheColumnsFind) {
  const std::vector<TypeId> types = {TypeId::kString, TypeId::kInt64, TypeId::kDouble, TypeId::kTimestamp};
  const size_t carried_columns = 3;
  ASSERT_TRUE(KeyTable::HashesKeyWords(types));
  std::mt19937_64 random(7);
  KeyTable from_columns(types);
  KeyTable from_words(types);
  for (int round = 0; round < 40; ++round) {
    const size_t count = 1 + random() % 700;
    Fixture f = MakeBatch(types, count, random, 30);
    for (size_t row = 0; row < count; row += 5) {
      if (f.columns[1]->IsValid(row)) f.columns[1]->data<int64_t>()[row] = -1;
    }
    std::vector<const Column*> keys;
    for (const auto& column : f.columns) keys.push_back(column.get());
    // Encoded over every row, so that row r's words sit at index r (as in a channel batch).
    std::vector<std::vector<uint64_t>> words(carried_columns, std::vector<uint64_t>(count));
    std::vector<uint64_t*> word_pointers;
    for (auto& column_words : words) word_pointers.push_back(column_words.data());
    std::vector<uint64_t> nulls(count);
    std::vector<uint64_t> hashes(count);
    KeyTable::EncodeCarriedKeys(keys.data(), carried_columns, nullptr, count, word_pointers.data(),
                                nulls.data(), hashes.data());
    std::vector<const uint64_t*> carried_words(word_pointers.begin(), word_pointers.end());
    const KeyTable::CarriedKeys carried{carried_columns, carried_words.data(), nulls.data(), hashes.data()};
    // What the exchange sends beside the words: the STRING column only where its word is
    // uncarried, the other carried columns not at all (NULL, with junk values).
    Column strings(TypeId::kString, count), integers(TypeId::kInt64, count), doubles(TypeId::kDouble, count);
    for (size_t row = 0; row < count; ++row) {
      const bool sent = words[0][row] == KeyTable::kUncarriedWord;
      strings.validity()[row] = sent ? f.columns[0]->validity()[row] : 0;
      strings.data<std::string_view>()[row] = sent ? f.columns[0]->data<std::string_view>()[row] : "junk";
      integers.validity()[row] = 0;
      integers.data<int64_t>()[row] = 12345;
      doubles.validity()[row] = 0;
      doubles.data<double>()[row] = 0.25;
    }
    const Column* sent_keys[] = {&strings, &integers, &doubles, f.columns[3].get()};

    std::vector<uint32_t> selection;
    for (uint32_t row = 0; row < count; row += 1 + round % 3) selection.push_back(row);
    const bool selected = round % 2 == 0;
    const size_t active = selected ? selection.size() : count;
    const uint32_t* rows = selected ? selection.data() : nullptr;
    std::vector<uint32_t> expected_ids(count), ids(count);
    std::vector<uint32_t> expected_created, created;
    const size_t expected_made =
        from_columns.FindOrInsert(keys.data(), rows, active, expected_ids.data(), &expected_created);
    const size_t made =
        from_words.FindOrInsertCarried(carried, sent_keys, rows, active, ids.data(), &created);
    ASSERT_EQ(made, expected_made) << "round " << round;
    ASSERT_EQ(created, expected_created) << "round " << round;
    for (size_t i = 0; i < active; ++i) {
      const size_t row = selected ? selection[i] : i;
      ASSERT_EQ(ids[row], expected_ids[row]) << "round " << round << " row " << row;
      ASSERT_EQ(KeyInTable(from_words, types, ids[row]), KeyOf(f, row));
    }
    // Erase the same groups from both: ids come back in the same order.
    std::vector<uint32_t> erased;
    for (uint32_t id = 0; id < from_columns.id_limit(); ++id) {
      if (from_columns.IsLive(id) && random() % 4 == 0) erased.push_back(id);
    }
    from_columns.Erase(std::span<const uint32_t>(erased));
    from_words.Erase(std::span<const uint32_t>(erased));
    ASSERT_EQ(from_words.size(), from_columns.size());
  }
}

// Equal keys get equal carried words and hashes whatever else the batch holds, and a long
// string's word is kUncarriedWord while its hash still depends on its bytes (it routes rows).
TEST(KeyTableTest, CarriedHashesAreEqualForEqualKeysAndLongStringsAreMarked) {
  Column strings(TypeId::kString, 4);
  const std::string_view values[] = {"IBM", "a-string-longer-than-seven", "IBM", "another-long-string"};
  for (size_t row = 0; row < 4; ++row) {
    strings.validity()[row] = 1;
    strings.data<std::string_view>()[row] = strings.heap().Add(values[row]);
  }
  const Column* columns[] = {&strings};
  uint64_t words[4], nulls[4], hashes[4];
  uint64_t* word_pointers[] = {words};
  KeyTable::EncodeCarriedKeys(columns, 1, nullptr, 4, word_pointers, nulls, hashes);
  EXPECT_EQ(words[0], words[2]);
  EXPECT_EQ(hashes[0], hashes[2]);
  EXPECT_NE(words[0], KeyTable::kUncarriedWord);
  EXPECT_EQ(words[1], KeyTable::kUncarriedWord);
  EXPECT_EQ(words[3], KeyTable::kUncarriedWord);
  EXPECT_NE(hashes[1], hashes[3]);
  EXPECT_EQ(nulls[0] | nulls[1] | nulls[2] | nulls[3], 0u);
}

// The same against the reference, with -0.0 and +0.0 among random double and string keys.
TEST(KeyTableTest, DoubleAndStringKeysWithBothZerosMatchReference) {
  CheckAgainstReference({TypeId::kDouble, TypeId::kString}, 50);
}

// Hash mode keeps strings of up to 7 bytes inside the key and interns longer ones: lengths
// on both sides of that limit, the empty string beside NULL, strings sharing a prefix, and keys
// read back after the table has grown (a short string's bytes are copied out of the table).
TEST(KeyTableTest, ShortAndLongStringKeysRoundTripAcrossGrowth) {
  KeyTable table({TypeId::kString, TypeId::kInt64});
  std::vector<std::string> texts = {"",
                                    "a",
                                    "ab",
                                    "abcdefg",
                                    "abcdefgh",
                                    "abcdefghi",
                                    std::string("abcdefg\0", 8),
                                    std::string("a\0", 2),
                                    std::string(16, 'q'),
                                    "TR1000",
                                    "SYM42"};
  const size_t n = texts.size() + 1;  // and one NULL
  Column strings(TypeId::kString, n);
  Column numbers(TypeId::kInt64, n);
  for (size_t i = 0; i < texts.size(); ++i) {
    strings.validity()[i] = 1;
    strings.data<std::string_view>()[i] = strings.heap().Add(texts[i]);
  }
  strings.SetNull(texts.size());
  numbers.SetAllValid(n);
  for (size_t i = 0; i < n; ++i) numbers.data<int64_t>()[i] = 7;
  const Column* keys[] = {&strings, &numbers};
  std::vector<uint32_t> ids(n);
  std::vector<uint32_t> created;
  table.FindOrInsert(keys, nullptr, n, ids.data(), &created);
  ASSERT_EQ(created.size(), n) << "every string, the empty one and NULL are distinct keys";

  Column read(TypeId::kString, n);
  for (size_t i = 0; i < n; ++i) table.ReadKey(ids[i], 0, read, i);
  // Grow the table well past its first capacity, then look the keys up again.
  Column more_strings(TypeId::kString, 5000);
  Column more_numbers(TypeId::kInt64, 5000);
  more_strings.SetAllValid(5000);
  more_numbers.SetAllValid(5000);
  for (size_t i = 0; i < 5000; ++i) {
    // Longer than 7 bytes, so interned: the interner's references move as it grows.
    more_strings.data<std::string_view>()[i] =
        more_strings.heap().Add("grown-key-" + std::to_string(i % 700));
    more_numbers.data<int64_t>()[i] = static_cast<int64_t>(i);
  }
  const Column* more[] = {&more_strings, &more_numbers};
  std::vector<uint32_t> more_ids(5000);
  table.FindOrInsert(more, nullptr, 5000, more_ids.data());
  for (size_t i = 0; i < texts.size(); ++i) {
    ASSERT_TRUE(read.IsValid(i));
    EXPECT_EQ(read.data<std::string_view>()[i], texts[i]) << "length " << texts[i].size();
  }
  EXPECT_FALSE(read.IsValid(texts.size()));
  std::vector<uint32_t> again(n);
  created.clear();
  table.FindOrInsert(keys, nullptr, n, again.data(), &created);
  EXPECT_TRUE(created.empty());
  EXPECT_EQ(again, ids);
  // Only the strings longer than 7 bytes were interned.
  size_t interned = 0;
  for (const std::string& text : texts) interned += text.size() > 7 ? text.size() : 0;
  for (size_t i = 0; i < 700; ++i) interned += ("grown-key-" + std::to_string(i)).size();
  EXPECT_EQ(table.KeyStringBytes(), interned);
}

TEST(KeyTableTest, SingleStringKeysReadBeforeGrowthStayValid) {
  // A single STRING key is its interned string; ReadKey's views must outlive the interner's
  // growth, for strings held in its references (up to 15 bytes) and in its heap alike.
  KeyTable table({TypeId::kString});
  const std::vector<std::string> texts = {"", "a", std::string(15, 'r'), std::string(16, 'h'),
                                          std::string(300, 'L')};
  Column strings(TypeId::kString, texts.size());
  for (size_t i = 0; i < texts.size(); ++i)
    strings.data<std::string_view>()[i] = strings.heap().Add(texts[i]);
  strings.SetAllValid(texts.size());
  const Column* keys[] = {&strings};
  std::vector<uint32_t> ids(texts.size());
  table.FindOrInsert(keys, nullptr, texts.size(), ids.data());
  Column read(TypeId::kString, texts.size());
  for (size_t i = 0; i < texts.size(); ++i) table.ReadKey(ids[i], 0, read, i);
  Column more(TypeId::kString, 20000);
  for (size_t i = 0; i < 20000; ++i)
    more.data<std::string_view>()[i] = more.heap().Add("more-" + std::to_string(i));
  more.SetAllValid(20000);
  const Column* more_keys[] = {&more};
  std::vector<uint32_t> more_ids(20000);
  table.FindOrInsert(more_keys, nullptr, 20000, more_ids.data());
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(read.data<std::string_view>()[i], texts[i]) << "length " << texts[i].size();
  }
}

TEST(StringInternerTest, BatchAndSingleInterningAgree) {
  StringInterner one, batch;
  Column column(TypeId::kString, 5000);
  std::vector<std::string> texts;
  for (size_t i = 0; i < 5000; ++i) texts.push_back("s" + std::to_string(i % 1234));
  for (size_t i = 0; i < 5000; ++i) column.data<std::string_view>()[i] = column.heap().Add(texts[i]);
  column.SetAllValid(5000);
  std::vector<uint32_t> ids(5000);
  batch.InternBatch(column, nullptr, 5000, ids.data());
  for (size_t i = 0; i < 5000; ++i) {
    ASSERT_EQ(one.Intern(texts[i]), ids[i]);
    ASSERT_EQ(batch.Get(ids[i]), texts[i]);
  }
  EXPECT_EQ(batch.size(), 1234u);
}

TEST(StringInternerTest, EmptyShortAndLongStringsRoundTrip) {
  // Lengths around the limit of strings held in their reference (15), around the one-byte
  // length prefix's limit (255) and far beyond it.
  StringInterner interner;
  std::vector<std::string> texts = {"",
                                    "a",
                                    std::string(14, 'i'),
                                    std::string(15, 'i'),
                                    std::string(16, 'h'),
                                    std::string(17, 'h'),
                                    std::string(254, 'x'),
                                    std::string(255, 'x'),
                                    std::string(256, 'y'),
                                    std::string(70000, 'z')};
  std::vector<uint32_t> ids;
  size_t total = 0;
  for (const std::string& text : texts) {
    ids.push_back(interner.Intern(text));
    total += text.size();
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(interner.Get(ids[i]), texts[i]) << "length " << texts[i].size();
    EXPECT_EQ(interner.Intern(texts[i]), ids[i]);
  }
  EXPECT_EQ(interner.size(), texts.size());
  EXPECT_EQ(interner.string_bytes(), total);
}

struct KeyMemory {
  double per_key;       // bytes the table holds per key besides the strings' own bytes
  size_t string_bytes;  // the strings' own bytes
};

// Inserts `keys` distinct keys of 8 to 12 bytes ("trader-<n>"), a thousand per batch, checking
// that the strings' own bytes are counted once each.
KeyMemory InsertTraderKeys(KeyTable& table, size_t keys) {
  size_t string_bytes = 0;
  std::vector<uint32_t> ids(1000);
  for (size_t start = 0; start < keys; start += 1000) {
    Column column(TypeId::kString, 1000);
    for (size_t row = 0; row < 1000; ++row) {
      const std::string text = "trader-" + std::to_string(start + row);
      string_bytes += text.size();
      column.data<std::string_view>()[row] = column.heap().Add(text);
    }
    column.SetAllValid(1000);
    const Column* columns[] = {&column};
    table.FindOrInsert(columns, nullptr, 1000, ids.data());
  }
  EXPECT_EQ(table.size(), keys);
  EXPECT_EQ(table.KeyStringBytes(), string_bytes);
  return {static_cast<double>(table.MemoryBytes() - table.KeyStringBytes()) / static_cast<double>(keys),
          string_bytes};
}

TEST(KeyTableTest, SingleStringKeyHoldsUnderThirtySixBytesPerKeyBesidesItsString) {
  // 100,000 distinct keys: 4 bytes of group, 4 of string id -> group, 16 of string reference
  // (which holds the string itself) and 2 x 4 of hash slots, with vectors at 2^17 (slots 2^18)
  // for 1e5 keys; no string is long enough for the interner's heap.
  constexpr size_t kKeys = 100000;
  KeyTable table({TypeId::kString});
  const KeyMemory memory = InsertTraderKeys(table, kKeys);
  const double arrays = static_cast<double>((4 + 4 + 16) * (size_t{1} << 17) + 4 * (size_t{1} << 18));
  EXPECT_GE(memory.per_key, (arrays - static_cast<double>(memory.string_bytes)) / kKeys);  // the arrays alone
  EXPECT_LT(memory.per_key, 36.0);
}

TEST(KeyTableTest, NeverErasedSingleStringKeyHoldsUnderTwentyEightBytesPerKeyBesidesItsString) {
  // As above without the group and string id -> group arrays: 16 bytes of string reference
  // and 2 x 4 of hash slots.
  constexpr size_t kKeys = 100000;
  KeyTable table({TypeId::kString}, KeyTable::Erasure::kNever);
  const KeyMemory memory = InsertTraderKeys(table, kKeys);
  const double arrays = static_cast<double>(16 * (size_t{1} << 17) + 4 * (size_t{1} << 18));
  EXPECT_GE(memory.per_key, (arrays - static_cast<double>(memory.string_bytes)) / kKeys);
  EXPECT_LT(memory.per_key, 28.0);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// ContentHash and KeyText depend on the key's values only: two tables that intern the same keys
// in different orders (so with different string ids) agree on every key, and keys that differ
// in any column (or only in being NULL) hash apart. Both table modes (one STRING key; several
// columns with short and long strings) and a prefix of the key columns.
TEST(KeyTableTest, ContentHashIsTheSameForEqualKeysInAnyTable) {
  for (const std::vector<TypeId>& types :
       {std::vector<TypeId>{TypeId::kString},
        std::vector<TypeId>{TypeId::kString, TypeId::kInt64, TypeId::kDouble}}) {
    std::mt19937_64 random(11);
    Fixture f = MakeBatch(types, 2000, random, 300);
    std::vector<const Column*> keys;
    for (const auto& column : f.columns) keys.push_back(column.get());
    std::vector<uint32_t> forward(2000), backward(2000);
    std::vector<uint32_t> reversed(2000);
    for (uint32_t row = 0; row < 2000; ++row) reversed[row] = 1999 - row;
    KeyTable a(types), b(types);
    a.FindOrInsert(keys.data(), nullptr, 2000, forward.data());
    b.FindOrInsert(keys.data(), reversed.data(), 2000, backward.data());
    std::map<uint64_t, RefKey> by_hash;
    for (size_t row = 0; row < 2000; ++row) {
      const uint64_t hash = a.ContentHash(forward[row], types.size());
      EXPECT_EQ(hash, b.ContentHash(backward[row], types.size())) << "row " << row;
      EXPECT_EQ(a.KeyText(forward[row], types.size()), b.KeyText(backward[row], types.size()));
      const auto [it, inserted] = by_hash.emplace(hash, KeyOf(f, row));
      EXPECT_EQ(it->second, KeyOf(f, row)) << "two different keys share a content hash";
      if (types.size() > 1) {
        EXPECT_EQ(a.ContentHash(forward[row], 1), b.ContentHash(backward[row], 1));
        EXPECT_EQ(a.KeyText(forward[row], 1), b.KeyText(backward[row], 1));
      }
    }
    EXPECT_EQ(by_hash.size(), a.size());
  }
}

TEST(KeyTableTest, KeyTextQuotesStringsAndNamesNull) {
  const std::vector<TypeId> types = {TypeId::kString, TypeId::kInt64};
  auto text = std::make_shared<Column>(TypeId::kString, 2);
  auto number = std::make_shared<Column>(TypeId::kInt64, 2);
  text->validity()[0] = 1;
  text->data<std::string_view>()[0] = text->heap().Add("a key longer than sixteen bytes");
  text->SetNull(1);
  number->validity()[0] = number->validity()[1] = 1;
  number->data<int64_t>()[0] = -7;
  number->data<int64_t>()[1] = 42;
  const Column* keys[] = {text.get(), number.get()};
  KeyTable table(types);
  uint32_t groups[2];
  table.FindOrInsert(keys, nullptr, 2, groups);
  EXPECT_EQ(table.KeyText(groups[0], 2), "'a key longer than sixteen bytes', -7");
  EXPECT_EQ(table.KeyText(groups[1], 2), "NULL, 42");
  EXPECT_EQ(table.KeyText(groups[1], 1), "NULL");
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// Keys of one long STRING column and, optionally, a BIGINT, as one batch.
struct LongKeys {
  std::shared_ptr<Column> text;
  std::shared_ptr<Column> number;
  std::vector<const Column*> columns;
};

LongKeys MakeLongKeys(size_t first, size_t count, bool with_number, int64_t number = 0) {
  LongKeys keys;
  keys.text = std::make_shared<Column>(TypeId::kString, count);
  keys.number = std::make_shared<Column>(TypeId::kInt64, count);
  for (size_t i = 0; i < count; ++i) {
    keys.text->validity()[i] = 1;
    keys.text->data<std::string_view>()[i] =
        keys.text->heap().Add(absl::StrFormat("an-ever-new-key-longer-than-sixteen-bytes-%08d", first + i));
    keys.number->validity()[i] = 1;
    keys.number->data<int64_t>()[i] = number;
  }
  keys.columns.push_back(keys.text.get());
  if (with_number) keys.columns.push_back(keys.number.get());
  return keys;
}

// A table whose groups come and go (windows, TTL) frees each interned string with its last
// group: a stream of ever-new keys holds the memory of its live keys only, in both table
// modes, and every key reads back right after ids and string storage are reused.
TEST(KeyTableTest, EverNewKeysHoldBoundedMemoryWhenGroupsAreErased) {
  for (bool with_number : {false, true}) {
    std::vector<TypeId> types = {TypeId::kString};
    if (with_number) types.push_back(TypeId::kInt64);
    KeyTable table(types, KeyTable::Erasure::kAllowed);
    size_t plateau = 0;
    for (size_t round = 0; round < 60; ++round) {
      LongKeys keys = MakeLongKeys(round * 1000, 1000, with_number);
      std::vector<uint32_t> groups(1000);
      EXPECT_EQ(table.FindOrInsert(keys.columns.data(), nullptr, 1000, groups.data()), 1000u);
      for (size_t i = 0; i < 1000; i += 97) {
        Column out(TypeId::kString, 1);
        table.ReadKey(groups[i], 0, out, 0);
        EXPECT_EQ(out.data<std::string_view>()[0], keys.text->data<std::string_view>()[i]);
      }
      table.Erase(groups);
      EXPECT_EQ(table.size(), 0u);
      if (round == 5) plateau = table.MemoryBytes();
      if (round > 5) {
        EXPECT_EQ(table.MemoryBytes(), plateau) << "round " << round << ", with_number " << with_number;
      }
    }
  }
}

// Groups that share an interned string keep it until the last of them goes.
TEST(KeyTableTest, AnInternedStringLivesUntilItsLastGroupIsErased) {
  KeyTable table({TypeId::kString, TypeId::kInt64}, KeyTable::Erasure::kAllowed);
  LongKeys first = MakeLongKeys(7, 1, true, 1);
  LongKeys second = MakeLongKeys(7, 1, true, 2);  // same string, another number
  uint32_t a, b;
  table.FindOrInsert(first.columns.data(), nullptr, 1, &a);
  table.FindOrInsert(second.columns.data(), nullptr, 1, &b);
  ASSERT_NE(a, b);
  table.Erase(a);
  // Another string now may take a freed id: it must not take the one b still holds.
  LongKeys other = MakeLongKeys(8, 1, true, 1);
  uint32_t c;
  table.FindOrInsert(other.columns.data(), nullptr, 1, &c);
  EXPECT_EQ(table.KeyText(b, 2), "'an-ever-new-key-longer-than-sixteen-bytes-00000007', 2");
  EXPECT_EQ(table.KeyText(c, 2), "'an-ever-new-key-longer-than-sixteen-bytes-00000008', 1");
  uint32_t again;
  table.FindOrInsert(second.columns.data(), nullptr, 1, &again);
  EXPECT_EQ(again, b);
}

// Find() against the reference: keys inserted from one half of a domain, then looked up from
// the whole domain, with selections; a key never inserted (its long string never interned, or
// a NULL) is not found, and Find() inserts nothing. Every mode: hash, direct, identity.
void CheckFindAgainstReference(const std::vector<TypeId>& types, KeyTable::Erasure erasure) {
  std::mt19937_64 random(7);
  KeyTable table(types, erasure);
  std::map<RefKey, uint32_t> reference;
  for (int round = 0; round < 10; ++round) {
    const size_t count = 1 + random() % 300;
    Fixture f = MakeBatch(types, count, random, 6);
    std::vector<const Column*> keys;
    for (const auto& column : f.columns) keys.push_back(column.get());
    std::vector<uint32_t> ids(count);
    table.FindOrInsert(keys.data(), nullptr, count, ids.data());
    for (size_t row = 0; row < count; ++row) reference.emplace(KeyOf(f, row), ids[row]);
  }
  const size_t size_before = table.size();
  KeyTable::FindScratch scratch;
  size_t found = 0, missed = 0;
  for (int round = 0; round < 20; ++round) {
    const size_t count = 1 + random() % 300;
    Fixture f = MakeBatch(types, count, random, 12);
    std::vector<const Column*> keys;
    for (const auto& column : f.columns) keys.push_back(column.get());
    std::vector<uint32_t> selection;
    const bool selected = round % 2 == 1;
    for (uint32_t row = 1; row < count; row += 3) selection.push_back(row);
    const size_t active = selected ? selection.size() : count;
    std::vector<uint32_t> ids(count, 0xDEADBEEF);
    table.Find(keys.data(), selected ? selection.data() : nullptr, active, ids.data(), scratch);
    for (size_t i = 0; i < active; ++i) {
      const size_t row = selected ? selection[i] : i;
      const auto it = reference.find(KeyOf(f, row));
      if (it == reference.end()) {
        ASSERT_EQ(ids[row], KeyTable::kNotFound) << "round " << round << " row " << row;
        ++missed;
      } else {
        ASSERT_EQ(ids[row], it->second) << "round " << round << " row " << row;
        ++found;
      }
    }
  }
  EXPECT_EQ(table.size(), size_before);  // nothing inserted
  EXPECT_GT(found, 100u);
  EXPECT_GT(missed, 100u);
}

TEST(KeyTableTest, FindMatchesTheReferenceAndInsertsNothing) {
  for (auto erasure : {KeyTable::Erasure::kAllowed, KeyTable::Erasure::kNever}) {
    CheckFindAgainstReference({TypeId::kInt64}, erasure);
    CheckFindAgainstReference({TypeId::kString}, erasure);  // direct, or identity under kNever
    CheckFindAgainstReference({TypeId::kString, TypeId::kDouble}, erasure);
    CheckFindAgainstReference({TypeId::kDouble, TypeId::kTimestamp, TypeId::kString}, erasure);
  }
}

}  // namespace
}  // namespace sluice
