// jemalloc's options for Sluice's executables, linked into each of them (not into the engine
// library) whenever jemalloc is the allocator; jemalloc reads them at its first allocation, and
// MALLOC_CONF in the environment still overrides any of them.
//
// thp:always, metadata_thp:always: jemalloc asks the kernel for transparent huge pages
// (madvise(MADV_HUGEPAGE)) on its arenas and on its own metadata. Large state (key tables,
// accumulator arrays, interned strings) and batches then take one TLB entry per 2 MiB instead
// of one per 4 KiB, which is what random probes into a million-key table pay for most. The
// kernel's "madvise" THP mode (Debian's default) grants huge pages only on such a request; in
// "never" mode the option does nothing. Measured with `sluice-bench --levels core --no-peer`,
// one thread: Scenario 2 with 1M keys 2.60M -> 3.13M rec/s, Scenario 3a 9.96M -> 10.77M.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's.
const char* malloc_conf = "thp:always,metadata_thp:always";
}
