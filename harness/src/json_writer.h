// JsonWriter: builds one JSON document with indentation, for result files. Keys and values
// are written in call order; the caller nests Begin/End pairs correctly.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::bench {

class JsonWriter {
 public:
  JsonWriter& BeginObject(std::string_view key = {}) { return Open(key, '{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray(std::string_view key = {}) { return Open(key, '['); }
  JsonWriter& EndArray() { return Close(']'); }

  JsonWriter& String(std::string_view key, std::string_view value) {
    Key(key);
    Quote(value);
    return *this;
  }
  JsonWriter& Number(std::string_view key, double value) {
    Key(key);
    if (!std::isfinite(value)) {
      out_ += "null";
    } else {
      char text[32];
      std::snprintf(text, sizeof text, "%.10g", value);
      out_ += text;
    }
    return *this;
  }
  JsonWriter& Integer(std::string_view key, int64_t value) {
    Key(key);
    out_ += std::to_string(value);
    return *this;
  }
  JsonWriter& Bool(std::string_view key, bool value) {
    Key(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  JsonWriter& Null(std::string_view key) {
    Key(key);
    out_ += "null";
    return *this;
  }
  JsonWriter& OptionalNumber(std::string_view key, const std::optional<double>& value) {
    return value ? Number(key, *value) : Null(key);
  }

  const std::string& text() const { return out_; }

 private:
  JsonWriter& Open(std::string_view key, char bracket) {
    Key(key);
    out_ += bracket;
    ++depth_;
    first_ = true;
    return *this;
  }
  JsonWriter& Close(char bracket) {
    --depth_;
    if (!first_) Newline();
    out_ += bracket;
    first_ = false;
    if (depth_ == 0) out_ += '\n';
    return *this;
  }
  void Key(std::string_view key) {
    if (depth_ > 0) {
      if (!first_) out_ += ',';
      Newline();
    }
    first_ = false;
    if (!key.empty()) {
      Quote(key);
      out_ += ": ";
    }
  }
  void Newline() {
    out_ += '\n';
    out_.append(static_cast<size_t>(depth_) * 2, ' ');
  }
  void Quote(std::string_view text) {
    out_ += '"';
    for (char c : text) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\u%04x", c);
            out_ += escape;
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  int depth_ = 0;
  bool first_ = true;
};

}  // namespace sluice::bench
