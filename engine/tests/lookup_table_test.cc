// LookupTable against a brute-force model: rows added in batches (with selections), then
// looked up by key, latest or as of a time. The model scans every row added: the found row is,
// among the rows with the key (no NULL in it) and a time at or before the lookup's, the one
// with the highest time, of equal times the one added last; unversioned, the last one added.
#include "state/lookup_table.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>

namespace sluice {
namespace {

struct ModelRow {
  std::optional<std::string> name;  // key column 0
  std::optional<int64_t> number;    // key column 1
  std::optional<int64_t> time;
  int64_t id;  // the row's place in the order added
};

std::string NameOf(int n) {
  return n % 4 == 0 ? "a-name-longer-than-fifteen-bytes-" + std::to_string(n) : "k" + std::to_string(n);
}

class LookupTableTest : public ::testing::TestWithParam<bool> {};

TEST_P(LookupTableTest, FindsWhatTheModelFinds) {
  const bool versioned = GetParam();
  Schema schema;
  schema.Add(Field{"name", TypeId::kString, false});
  schema.Add(Field{"number", TypeId::kInt64, false});
  schema.Add(Field{"time", TypeId::kTimestamp, false});
  schema.Add(Field{"id", TypeId::kInt64, false});
  LookupTable::Builder builder(schema, {0, 1}, versioned ? std::optional<size_t>(2) : std::nullopt);
  std::mt19937_64 random(versioned ? 11 : 12);
  std::vector<ModelRow> model;
  for (int b = 0; b < 40; ++b) {
    const size_t rows = 1 + random() % 60;
    std::vector<std::shared_ptr<Column>> columns;
    for (const Field& field : schema.fields()) columns.push_back(std::make_shared<Column>(field.type, rows));
    Batch batch;
    batch.SetColumns(columns, rows);
    const bool selected = b % 3 == 0;
    uint32_t* selection = batch.MutableSelection();
    size_t active = 0;
    for (size_t row = 0; row < rows; ++row) {
      ModelRow m;
      if (random() % 19 != 0) m.name = NameOf(static_cast<int>(random() % 9));
      if (random() % 23 != 0) m.number = static_cast<int64_t>(random() % 3);
      if (random() % 29 != 0) m.time = static_cast<int64_t>(random() % 50) * 10;
      m.id = static_cast<int64_t>(model.size());
      if (m.name) {
        columns[0]->data<std::string_view>()[row] = columns[0]->heap().Add(*m.name);
        columns[0]->validity()[row] = 1;
      } else {
        columns[0]->SetNull(row);
      }
      if (m.number) {
        columns[1]->data<int64_t>()[row] = *m.number;
        columns[1]->validity()[row] = 1;
      } else {
        columns[1]->SetNull(row);
      }
      if (m.time) {
        columns[2]->data<int64_t>()[row] = *m.time;
        columns[2]->validity()[row] = 1;
      } else {
        columns[2]->SetNull(row);
      }
      columns[3]->data<int64_t>()[row] = m.id;
      columns[3]->validity()[row] = 1;
      // A row outside the selection is not added (nor in the model).
      if (selected && row % 2 == 1) continue;
      selection[active++] = static_cast<uint32_t>(row);
      model.push_back(m);
      columns[3]->data<int64_t>()[row] = m.id;
    }
    if (selected) {
      batch.SetSelectionCount(active);
    } else {
      batch.ClearSelection();
    }
    builder.Add(batch);
  }
  std::shared_ptr<const LookupTable> table = builder.Finish();
  ASSERT_EQ(table->versioned(), versioned);

  // Probes: every key of the domain (and some never added), NULLs, at many times.
  LookupTable::Scratch scratch;
  size_t found = 0, missed = 0;
  for (int round = 0; round < 30; ++round) {
    const size_t rows = 1 + random() % 200;
    auto names = std::make_shared<Column>(TypeId::kString, rows);
    auto numbers = std::make_shared<Column>(TypeId::kInt64, rows);
    auto times = std::make_shared<Column>(TypeId::kTimestamp, rows);
    for (size_t row = 0; row < rows; ++row) {
      if (random() % 31 == 0) {
        names->SetNull(row);
      } else {
        names->data<std::string_view>()[row] = names->heap().Add(NameOf(static_cast<int>(random() % 12)));
        names->validity()[row] = 1;
      }
      numbers->data<int64_t>()[row] = static_cast<int64_t>(random() % 4);
      numbers->validity()[row] = 1;
      if (random() % 37 == 0) {
        times->SetNull(row);
      } else {
        times->data<int64_t>()[row] = static_cast<int64_t>(random() % 60) * 10 - 50;
        times->validity()[row] = 1;
      }
    }
    std::vector<uint32_t> selection;
    for (uint32_t row = 0; row < rows; row += 1 + round % 2) selection.push_back(row);
    const bool as_of = versioned && round % 4 != 3;  // a versioned table is also looked up latest
    const Column* keys[] = {names.get(), numbers.get()};
    std::vector<uint32_t> found_rows(rows, 0xDEADBEEF);
    table->Find(keys, as_of ? times.get() : nullptr, selection.data(), selection.size(), found_rows.data(),
                scratch);
    for (uint32_t row : selection) {
      std::optional<int64_t> expected;
      std::optional<int64_t> best_time;
      if (names->IsValid(row) && (!as_of || times->IsValid(row))) {
        const std::string name(names->data<std::string_view>()[row]);
        for (const ModelRow& m : model) {
          if (!m.name || *m.name != name || !m.number || *m.number != numbers->data<int64_t>()[row]) continue;
          if (versioned && !m.time) continue;
          if (as_of && *m.time > times->data<int64_t>()[row]) continue;
          if (versioned && best_time && *m.time < *best_time) continue;
          expected = m.id;
          if (versioned) best_time = *m.time;
        }
      }
      if (!expected) {
        ASSERT_EQ(found_rows[row], LookupTable::kNoRow) << "round " << round << " row " << row;
        ++missed;
        continue;
      }
      ASSERT_NE(found_rows[row], LookupTable::kNoRow) << "round " << round << " row " << row;
      EXPECT_EQ(table->column(3)->data<int64_t>()[found_rows[row]], *expected)
          << "round " << round << " row " << row;
      ++found;
    }
  }
  EXPECT_GT(found, 300u);
  EXPECT_GT(missed, 100u);
}

INSTANTIATE_TEST_SUITE_P(VersionedAndNot, LookupTableTest, ::testing::Bool());

}  // namespace
}  // namespace sluice
