// jemalloc's options for Sluice's executables, linked into each of them (not into the engine
// library) whenever jemalloc is the allocator; jemalloc reads them at its first allocation, and
// MALLOC_CONF in the environment still overrides any of them.
//
// background_thread:true: jemalloc returns freed memory to the kernel (purging, madvise) from
// its own background threads instead of inside whichever malloc or free call finds the decay
// deadline passed, so a pipeline thread does not pay for memory freed elsewhere (windows
// closing, a finished job's state). Measured in the lab: a paced Scenario 2 run right after
// levels that had freed gigabytes started behind and reported a p99 of 37.7 ms; with
// background purging, 0.31 ms. Most of that start-up backlog was the run's own cold start,
// which the lab now absorbs with a warm-up run; the option costs no measurable throughput
// (Scenario 0 and 3a within noise).
extern "C" {
// The name and type are jemalloc's (a weak default in the library that this definition replaces).
const char* malloc_conf = "background_thread:true";
}
