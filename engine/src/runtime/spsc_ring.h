// SpscRing: a bounded, lock-free, single-producer single-consumer queue.
//
// Exactly one thread calls TryPush() and exactly one (possibly the same) thread calls TryPop().
// Neither blocks: a full ring refuses the push (backpressure the producer acts on), an empty
// ring refuses the pop. Pushes and pops never allocate; the capacity (a power of two, at least
// 2) is fixed at construction.
//
// Memory order: the producer publishes a slot with a release store of the tail, which the
// consumer reads with acquire before reading the slot, and vice versa for the head, so a value
// written before TryPush() is visible to the thread that pops it. Each side caches the other
// side's index and reloads it only when the cached value says full or empty, so a steady stream
// touches the shared cache lines about once per ring's worth of items.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "common/status.h"

namespace sluice {

template <typename T>
class SpscRing {
 public:
  // `capacity` is rounded up to a power of two (minimum 2).
  explicit SpscRing(size_t capacity) {
    size_t rounded = 2;
    while (rounded < capacity) rounded <<= 1;
    mask_ = rounded - 1;
    slots_ = std::make_unique<T[]>(rounded);
  }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  size_t capacity() const { return mask_ + 1; }

  // Producer: moves `value` in and returns true, or returns false (leaving `value`) when full.
  bool TryPush(T& value) {
    const uint64_t tail = producer_.tail.load(std::memory_order_relaxed);
    if (tail - producer_.cached_head > mask_) {
      producer_.cached_head = consumer_.head.load(std::memory_order_acquire);
      if (tail - producer_.cached_head > mask_) return false;
    }
    slots_[tail & mask_] = std::move(value);
    producer_.tail.store(tail + 1, std::memory_order_release);
    return true;
  }
  bool TryPush(T&& value) { return TryPush(value); }

  // Consumer: moves the oldest value into `out` and returns true, or returns false when empty.
  bool TryPop(T& out) {
    const uint64_t head = consumer_.head.load(std::memory_order_relaxed);
    if (head == consumer_.cached_tail) {
      consumer_.cached_tail = producer_.tail.load(std::memory_order_acquire);
      if (head == consumer_.cached_tail) return false;
    }
    out = std::move(slots_[head & mask_]);
    consumer_.head.store(head + 1, std::memory_order_release);
    return true;
  }

  // Any thread: how many values the ring held at about the time of the call (for monitoring;
  // it may be stale by the time it returns, but it never exceeds capacity()).
  size_t ApproximateSize() const {
    // The head first, with acquire: the tail it was compared against is then visible, so the
    // tail read after it is not behind it.
    const uint64_t head = consumer_.head.load(std::memory_order_acquire);
    const uint64_t tail = producer_.tail.load(std::memory_order_acquire);
    return tail > head ? std::min<size_t>(static_cast<size_t>(tail - head), capacity()) : 0;
  }

  // Either side: true when the ring looked empty at the time of the call.
  bool LooksEmpty() const {
    return consumer_.head.load(std::memory_order_acquire) == producer_.tail.load(std::memory_order_acquire);
  }

 private:
  static constexpr size_t kCacheLine = 64;
  struct alignas(kCacheLine) ProducerSide {
    std::atomic<uint64_t> tail{0};
    uint64_t cached_head = 0;
  };
  struct alignas(kCacheLine) ConsumerSide {
    std::atomic<uint64_t> head{0};
    uint64_t cached_tail = 0;
  };

  ProducerSide producer_;
  ConsumerSide consumer_;
  size_t mask_ = 0;
  std::unique_ptr<T[]> slots_;
};

}  // namespace sluice
