// SplitFileLines: a file's text cut into records as FileSource::ReadLines cuts it, for the
// decoder fuzz targets: lines end at '\n' (the last one may lack it), a trailing '\r' is
// dropped, a CSV header line is skipped, and blank lines (spaces and tabs only) are skipped
// but still counted, so that line numbers are the file's.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace sluice::fuzz {

struct FileLines {
  std::string_view header;  // the first line, when the file has a header
  std::vector<std::string_view> records;
  std::vector<uint64_t> line_numbers;  // 1-based, one per record
};

inline FileLines SplitFileLines(std::string_view text, bool has_header) {
  FileLines out;
  uint64_t number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (has_header && number == 1) {
      out.header = line;
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    out.records.push_back(line);
    out.line_numbers.push_back(number);
  }
  return out;
}

}  // namespace sluice::fuzz
