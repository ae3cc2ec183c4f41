// LoadShortString and HashString: the masked one-load read of short strings must equal a byte
// copy for every length and every position in a page, including strings that end at the last
// byte before an unmapped page (where reading past the end would fault).
#include "common/hash.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <string>

#include "common/unaligned.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

// Two pages: the first readable, the second unmapped-equivalent (PROT_NONE).
class GuardedPage {
 public:
  GuardedPage() {
    size_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* memory = mmap(nullptr, 2 * size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(memory, MAP_FAILED);
    base_ = static_cast<char*>(memory);
    EXPECT_EQ(mprotect(base_ + size_, size_, PROT_NONE), 0);
    for (size_t i = 0; i < size_; ++i) base_[i] = static_cast<char>(0x41 + i % 53);
  }
  ~GuardedPage() { munmap(base_, 2 * size_); }
  char* page() const { return base_; }
  size_t size() const { return size_; }

 private:
  char* base_ = nullptr;
  size_t size_ = 0;
};

uint64_t CopiedWord(const char* p, size_t n) {
  uint64_t value = 0;
  if (n > 0) std::memcpy(&value, p, n);
  return value;
}

TEST(LoadShortStringTest, EqualsAByteCopyAtEveryLengthAndOffset) {
  GuardedPage guarded;
  // Offsets near both ends of the page and a few in between, every length from 0 to 8.
  for (size_t offset = 0; offset < guarded.size(); ++offset) {
    if (offset > 24 && offset < guarded.size() - 24 && offset % 97 != 0) continue;
    for (size_t n = 0; n <= 8 && offset + n <= guarded.size(); ++n) {
      const char* p = guarded.page() + offset;
      ASSERT_EQ(LoadShortString(p, n), CopiedWord(p, n)) << "offset " << offset << ", length " << n;
    }
  }
}

TEST(LoadShortStringTest, AnEmptyStringWithoutDataIsZero) {
  EXPECT_EQ(LoadShortString(nullptr, 0), 0u);
  EXPECT_EQ(HashString(std::string_view()), HashString(std::string_view("", 0)));
}

TEST(HashStringTest, EqualStringsHashEquallyWherever) {
  GuardedPage guarded;
  // The same text at the very end of the page and in the middle of another buffer.
  for (size_t n = 0; n <= 24; ++n) {
    char* at_end = guarded.page() + guarded.size() - n;
    const std::string text(at_end, n);
    EXPECT_EQ(HashString(std::string_view(at_end, n)), HashString(text)) << "length " << n;
  }
}

TEST(HashStringTest, ShortKeysOfMixedLengthsDoNotCollide) {
  // The lab's names: TR0..TR99999 and SYM0..SYM9999 (3 to 8 bytes), all distinct hashes,
  // and their low 16 bits (a table's slot) as spread as random ones: 110,000 random values fill
  // 1 - e^(-110000/65536) = 81% of 65,536 slots.
  std::set<uint64_t> hashes;
  std::set<uint64_t> slots;
  size_t count = 0;
  for (int k = 0; k < 100000; ++k) {
    for (const std::string& name : {"TR" + std::to_string(k), "SYM" + std::to_string(k % 10000)}) {
      if (name[0] == 'S' && k >= 10000) continue;
      ++count;
      hashes.insert(HashString(name));
      slots.insert(HashString(name) & 0xffff);
    }
  }
  EXPECT_EQ(hashes.size(), count);
  EXPECT_GT(slots.size(), 0.78 * 65536);
}

}  // namespace
}  // namespace sluice
