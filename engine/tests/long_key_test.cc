// Long string keys in quantity: a million distinct keys of 28 bytes (over the 16 bytes that
// are compared as words), alike but for a few characters, are a million groups. A key table
// that matched long strings by hash tag and length alone would merge some of them; with a few
// keys that never shows, with a million it does.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "batch/column.h"
#include "state/key_table.h"

namespace sluice {
namespace {

constexpr size_t kKeys = 1'000'000;
constexpr size_t kBatch = 1024;

// Key i: "account-0000000i-eu-west-prod" (28 bytes), written into `column` rows [0, count).
void FillKeys(size_t first, size_t count, Column& column) {
  column.Resize(count);
  char text[64];
  for (size_t r = 0; r < count; ++r) {
    const int length =
        std::snprintf(text, sizeof(text), "account-%08zu-eu-west-prod", static_cast<size_t>(first + r));
    column.data<std::string_view>()[r] =
        column.heap().Add(std::string_view(text, static_cast<size_t>(length)));
  }
  column.SetAllValid(count);
}

void ExpectAMillionGroups(KeyTable::Erasure erasure) {
  KeyTable table({TypeId::kString}, erasure);
  std::vector<uint32_t> ids(kKeys);
  std::vector<uint32_t> batch_ids(kBatch);
  for (int pass = 0; pass < 2; ++pass) {
    size_t created = 0;
    for (size_t first = 0; first < kKeys; first += kBatch) {
      const size_t count = std::min(kBatch, kKeys - first);
      Column column(TypeId::kString);
      FillKeys(first, count, column);
      const Column* keys[] = {&column};
      created += table.FindOrInsert(keys, nullptr, count, batch_ids.data());
      for (size_t r = 0; r < count; ++r) {
        if (pass == 0) {
          ids[first + r] = batch_ids[r];
        } else if (ids[first + r] != batch_ids[r]) {
          FAIL() << "key " << first + r << " found as group " << batch_ids[r] << ", inserted as "
                 << ids[first + r];
        }
      }
    }
    // The first pass creates a group per key; the second finds every one.
    EXPECT_EQ(created, pass == 0 ? kKeys : 0u) << "pass " << pass;
    EXPECT_EQ(table.size(), kKeys) << "pass " << pass;
  }
}

TEST(LongKeyTest, AMillionDistinctLongKeysAreAMillionGroups) {
  ExpectAMillionGroups(KeyTable::Erasure::kAllowed);
}

TEST(LongKeyTest, AMillionDistinctLongKeysAreAMillionGroupsInANeverErasedTable) {
  ExpectAMillionGroups(KeyTable::Erasure::kNever);
}

}  // namespace
}  // namespace sluice
