// The executables' allocator options (engine/src/common/jemalloc_options.cc) are in force:
// jemalloc reports them through mallctl. Sanitizer builds use the sanitizer's allocator.
#include <gtest/gtest.h>

#include <cstddef>

#ifdef SLUICE_JEMALLOC
extern "C" int mallctl(const char* name, void* old_value, size_t* old_length, void* new_value,
                       size_t new_length);
#endif

namespace {

TEST(AllocatorTest, JemallocPurgesFromBackgroundThreads) {
#ifdef SLUICE_JEMALLOC
  bool enabled = false;
  size_t length = sizeof(enabled);
  ASSERT_EQ(mallctl("opt.background_thread", &enabled, &length, nullptr, 0), 0);
  EXPECT_TRUE(enabled) << "opt.background_thread";
#else
  GTEST_SKIP() << "not linked with jemalloc (sanitizer build)";
#endif
}

}  // namespace
