// jemalloc's options for Sluice's executables, linked into each of them (not into the engine
// library) whenever jemalloc is the allocator; jemalloc reads them at its first allocation, and
// MALLOC_CONF in the environment still overrides any of them.
//
// background_thread:true: jemalloc returns freed memory to the kernel (purging, madvise) from
// its own background threads instead of inside whichever malloc or free call finds the decay
// deadline passed. Inline, a pipeline thread paid for purging memory freed elsewhere: after the
// lab's earlier measurements freed their gigabytes, Scenario 2's paced latency run stalled once
// for about 40 ms (p99 37.7 ms at 16.5M rec/s offered); with background threads its p99 was
// 0.31 ms in the same sequence. Windows closing free state the same way in a long-running job.
extern "C" {
// The name and type are jemalloc's (a weak default in the library that this definition replaces).
const char* malloc_conf = "background_thread:true";
}
