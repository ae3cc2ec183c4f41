// The executables' allocator options (engine/src/common/jemalloc_options.cc) are in force:
// jemalloc reports them through mallctl. Sanitizer builds use the sanitizer's allocator.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>

#ifdef SLUICE_JEMALLOC
extern "C" int mallctl(const char* name, void* old_value, size_t* old_length, void* new_value,
                       size_t new_length);
#endif

namespace {

TEST(AllocatorTest, JemallocAsksForTransparentHugePages) {
#ifdef SLUICE_JEMALLOC
  for (const char* option : {"opt.thp", "opt.metadata_thp"}) {
    const char* mode = nullptr;
    size_t length = sizeof(mode);
    ASSERT_EQ(mallctl(option, &mode, &length, nullptr, 0), 0) << option;
    EXPECT_EQ(std::string(mode), "always") << option;
  }
#else
  GTEST_SKIP() << "not linked with jemalloc (sanitizer build)";
#endif
}

}  // namespace
