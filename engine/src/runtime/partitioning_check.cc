#include "runtime/partitioning_check.h"

#include "common/strings.h"
#include "state/key_table.h"

namespace sluice {

// A set of 64-bit hashes with one writer and any number of concurrent readers. Slots hold the
// hash (0 stands for empty, so a hash of 0 is stored as 1); at most half are used. A published
// table's size and slot array never change, and the writer's count lives on a cache line of
// its own, so readers share no line the writer keeps writing but the slots themselves.
class PartitioningCheck::HashSet {
 public:
  // A reader's view of the current table, taken once per batch of lookups.
  struct View {
    size_t mask;
    const std::atomic<uint64_t>* slots;
    void Prefetch(uint64_t hash) const { __builtin_prefetch(&slots[Stored(hash) & mask]); }
    bool Contains(uint64_t hash) const {
      hash = Stored(hash);
      for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const uint64_t slot = slots[i].load(std::memory_order_relaxed);
        if (slot == hash) return true;
        if (slot == 0) return false;
      }
    }
  };

  HashSet() { Publish(std::make_unique<Table>(kInitialSlots)); }

  // Any thread.
  View Current() const {
    const Table* table = current_.load(std::memory_order_acquire);
    return View{table->mask, table->slots.get()};
  }
  // Writer only: the view Insert() writes to.
  View Own() const { return View{own_->mask, own_->slots.get()}; }
  // Writer only. Adds `hash`; false when it was there already.
  bool Insert(uint64_t hash) {
    hash = Stored(hash);
    if ((used_ + 1) * 2 > own_->mask + 1) Grow();
    const size_t mask = own_->mask;
    std::atomic<uint64_t>* slots = own_->slots.get();
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const uint64_t slot = slots[i].load(std::memory_order_relaxed);
      if (slot == hash) return false;
      if (slot == 0) {
        slots[i].store(hash, std::memory_order_relaxed);
        ++used_;
        return true;
      }
    }
  }

 private:
  static constexpr size_t kInitialSlots = 1 << 16;
  struct Table {
    explicit Table(size_t slots) : mask(slots - 1), slots(new std::atomic<uint64_t>[slots]) {
      for (size_t i = 0; i < slots; ++i) this->slots[i].store(0, std::memory_order_relaxed);
    }
    const size_t mask;
    const std::unique_ptr<std::atomic<uint64_t>[]> slots;
  };
  static uint64_t Stored(uint64_t hash) { return hash == 0 ? 1 : hash; }

  // Doubling keeps each entry at its index or its index plus the old size: the copy streams.
  void Grow() {
    const Table& from = *own_;
    auto to = std::make_unique<Table>((from.mask + 1) * 2);
    for (size_t i = 0; i <= from.mask; ++i) {
      const uint64_t hash = from.slots[i].load(std::memory_order_relaxed);
      if (hash == 0) continue;
      size_t j = hash & to->mask;
      while (to->slots[j].load(std::memory_order_relaxed) != 0) j = (j + 1) & to->mask;
      to->slots[j].store(hash, std::memory_order_relaxed);
    }
    Publish(std::move(to));
  }
  // Readers may still be probing older tables: they are kept until the set is destroyed.
  void Publish(std::unique_ptr<Table> table) {
    own_ = table.get();
    tables_.push_back(std::move(table));
    current_.store(own_, std::memory_order_release);
  }

  alignas(64) std::atomic<const Table*> current_{nullptr};  // read by every worker
  alignas(64) Table* own_ = nullptr;                        // the writer's
  size_t used_ = 0;
  std::vector<std::unique_ptr<Table>> tables_;
};

class PartitioningCheck::WorkerObserver final : public NewKeyObserver {
 public:
  WorkerObserver(PartitioningCheck& check, size_t worker) : check_(check), worker_(worker) {}

  absl::Status OnNewKeys(const KeyTable& keys, size_t key_columns,
                         std::span<const uint32_t> groups) override {
    hashes_.clear();
    fresh_.clear();
    for (uint32_t group : groups) hashes_.push_back(keys.ContentHash(group, key_columns));
    HashSet& own = *check_.sets_[worker_];
    const HashSet::View own_view = own.Own();
    for (uint64_t hash : hashes_) own_view.Prefetch(hash);
    for (size_t i = 0; i < hashes_.size(); ++i) {
      if (own.Insert(hashes_[i])) fresh_.push_back(static_cast<uint32_t>(i));  // new to this worker
    }
    if (fresh_.empty()) return absl::OkStatus();
    // Our inserts before their lookups, as theirs before ours: one of two racing workers sees
    // the other's key.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    for (size_t other = 0; other < check_.sets_.size(); ++other) {
      if (other == worker_) continue;
      const HashSet::View theirs = check_.sets_[other]->Current();
      for (uint32_t i : fresh_) theirs.Prefetch(hashes_[i]);
      for (uint32_t i : fresh_) {
        if (theirs.Contains(hashes_[i])) return Conflict(keys, key_columns, groups[i], other);
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Conflict(const KeyTable& keys, size_t key_columns, uint32_t group, size_t other) const {
    const std::vector<std::string>& partitions = check_.worker_partitions_;
    return absl::FailedPreconditionError(StrCat(
        check_.declaration_, " does not hold for the data: key (", keys.KeyText(group, key_columns),
        ") is in the partitions of two workers, so its rows would be aggregated apart: worker ", other,
        " reads ", partitions[other], ", worker ", worker_, " reads ", partitions[worker_],
        ". Correct the declaration or remove it (the keyed exchange then routes every key to one worker)"));
  }

  PartitioningCheck& check_;
  const size_t worker_;
  std::vector<uint64_t> hashes_;  // per call: the new groups' key hashes
  std::vector<uint32_t> fresh_;   // indexes of those new to this worker
};

PartitioningCheck::PartitioningCheck(std::string declaration, std::vector<std::string> worker_partitions)
    : declaration_(std::move(declaration)), worker_partitions_(std::move(worker_partitions)) {
  for (size_t w = 0; w < worker_partitions_.size(); ++w) {
    sets_.push_back(std::make_unique<HashSet>());
    observers_.push_back(std::make_unique<WorkerObserver>(*this, w));
  }
}

PartitioningCheck::~PartitioningCheck() = default;

NewKeyObserver* PartitioningCheck::ForWorker(size_t worker) {
  return observers_.at(worker).get();
}

}  // namespace sluice
