// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected), the checksum of every file a durable
// checkpoint writes (runtime/file_checkpoint_store.h): the SSE4.2 instruction where the CPU has
// it (checked once at run time), a table otherwise. Crc32c("123456789") == 0xE3069283.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice {

// Extends `crc` (the value returned for the bytes before `data`; 0 to start) over `data`.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size);

inline uint32_t Crc32c(std::string_view bytes) { return Crc32cExtend(0, bytes.data(), bytes.size()); }

}  // namespace sluice
