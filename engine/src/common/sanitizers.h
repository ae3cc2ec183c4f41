// SLUICE_SANITIZED: 1 in AddressSanitizer and ThreadSanitizer builds, 0 otherwise.
//
// GCC announces those sanitizers with __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__; clang (the
// fuzz build) only through __has_feature. Code that reads memory in ways the sanitizers would
// report (a word load past a short string's end) or hide from them (arrays in mappings of
// their own) takes the plain path when this is 1.
#pragma once

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SLUICE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SLUICE_SANITIZED 1
#endif
#endif
#ifndef SLUICE_SANITIZED
#define SLUICE_SANITIZED 0
#endif
