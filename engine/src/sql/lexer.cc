#include "common/strings.h"
#include "sql/token.h"

namespace sluice {
namespace {

bool IsIdentifierStart(char c) {
  return IsAsciiAlpha(c) || c == '_';
}
bool IsIdentifierChar(char c) {
  return (IsAsciiAlpha(c) || IsAsciiDigit(c)) || c == '_' || c == '$';
}

class Lexer {
 public:
  explicit Lexer(const SourceText& source) : source_(source), text_(source.text()) {}

  absl::StatusOr<LexResult> Run() {
    LexResult result;
    while (true) {
      SLUICE_RETURN_IF_ERROR(SkipSpaceAndComments(result.annotations));
      if (offset_ >= text_.size()) break;
      Token token;
      token.position = Position();
      const char c = text_[offset_];
      if (IsIdentifierStart(c)) {
        const size_t start = offset_;
        while (offset_ < text_.size() && IsIdentifierChar(text_[offset_])) Advance();
        token.kind = TokenKind::kIdentifier;
        token.text = text_.substr(start, offset_ - start);
      } else if (IsAsciiDigit(c) ||
                 (c == '.' && offset_ + 1 < text_.size() && IsAsciiDigit(text_[offset_ + 1]))) {
        SLUICE_RETURN_IF_ERROR(LexNumber(token));
      } else if (c == '\'') {
        SLUICE_RETURN_IF_ERROR(LexQuoted(token, '\'', TokenKind::kString, "string"));
      } else if (c == '"' || c == '`') {
        SLUICE_RETURN_IF_ERROR(LexQuoted(token, c, TokenKind::kQuotedIdentifier, "identifier"));
      } else {
        SLUICE_RETURN_IF_ERROR(LexOperator(token));
      }
      result.tokens.push_back(std::move(token));
    }
    Token end;
    end.kind = TokenKind::kEnd;
    end.position = Position();
    result.tokens.push_back(std::move(end));
    return result;
  }

 private:
  SourcePosition Position() const { return {line_, column_}; }

  void Advance() {
    if (text_[offset_] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    ++offset_;
  }

  absl::Status SkipSpaceAndComments(std::vector<Annotation>& annotations) {
    while (offset_ < text_.size()) {
      const char c = text_[offset_];
      if (IsAsciiSpace(c)) {
        Advance();
      } else if (c == '-' && offset_ + 1 < text_.size() && text_[offset_ + 1] == '-') {
        const SourcePosition position = Position();
        const size_t start = offset_ + 2;
        while (offset_ < text_.size() && text_[offset_] != '\n') Advance();
        ParseAnnotation(text_.substr(start, offset_ - start), position, annotations);
      } else if (c == '/' && offset_ + 1 < text_.size() && text_[offset_ + 1] == '*') {
        const SourcePosition position = Position();
        Advance();
        Advance();
        while (offset_ + 1 < text_.size() && !(text_[offset_] == '*' && text_[offset_ + 1] == '/')) {
          Advance();
        }
        if (offset_ + 1 >= text_.size()) return source_.Error(position, "unterminated /* comment");
        Advance();
        Advance();
      } else {
        break;
      }
    }
    return absl::OkStatus();
  }

  static void ParseAnnotation(std::string_view comment, SourcePosition position,
                              std::vector<Annotation>& annotations) {
    comment = StripWhitespace(comment);
    if (comment.empty() || comment[0] != '@') return;
    const size_t colon = comment.find(':');
    Annotation annotation;
    annotation.position = position;
    if (colon == std::string_view::npos) {
      annotation.name = std::string(StripWhitespace(comment.substr(1)));
    } else {
      annotation.name = std::string(StripWhitespace(comment.substr(1, colon - 1)));
      annotation.value = std::string(StripWhitespace(comment.substr(colon + 1)));
    }
    if (!annotation.name.empty()) annotations.push_back(std::move(annotation));
  }

  absl::Status LexNumber(Token& token) {
    const size_t start = offset_;
    bool decimal = false;
    while (offset_ < text_.size() && IsAsciiDigit(text_[offset_])) Advance();
    if (offset_ < text_.size() && text_[offset_] == '.') {
      decimal = true;
      Advance();
      while (offset_ < text_.size() && IsAsciiDigit(text_[offset_])) Advance();
    }
    if (offset_ < text_.size() && (text_[offset_] == 'e' || text_[offset_] == 'E')) {
      size_t look = offset_ + 1;
      if (look < text_.size() && (text_[look] == '+' || text_[look] == '-')) ++look;
      if (look < text_.size() && IsAsciiDigit(text_[look])) {
        decimal = true;
        while (offset_ < look) Advance();
        while (offset_ < text_.size() && IsAsciiDigit(text_[offset_])) Advance();
      }
    }
    token.text = text_.substr(start, offset_ - start);
    token.kind = decimal ? TokenKind::kDecimal : TokenKind::kInteger;
    // A duration shorthand: digits immediately followed by a unit (10s, 5m, 100ms, 1h, 2d).
    if (!decimal && offset_ < text_.size() && IsIdentifierStart(text_[offset_])) {
      const size_t unit_start = offset_;
      size_t end = offset_;
      while (end < text_.size() && IsIdentifierChar(text_[end])) ++end;
      const std::string unit = AsciiToLower(text_.substr(unit_start, end - unit_start));
      if (unit == "ms" || unit == "s" || unit == "m" || unit == "h" || unit == "d") {
        while (offset_ < end) Advance();
        token.kind = TokenKind::kDuration;
        token.unit = unit;
      } else {
        return source_.Error(Position(),
                             StrCat("invalid duration unit '", unit, "' (expected ms, s, m, h or d)"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status LexQuoted(Token& token, char quote, TokenKind kind, std::string_view what) {
    const SourcePosition position = Position();
    Advance();
    std::string value;
    while (true) {
      if (offset_ >= text_.size()) {
        return source_.Error(position, StrCat("unterminated ", what));
      }
      const char c = text_[offset_];
      if (c == quote) {
        if (offset_ + 1 < text_.size() && text_[offset_ + 1] == quote) {
          value += quote;
          Advance();
          Advance();
          continue;
        }
        Advance();
        break;
      }
      value += c;
      Advance();
    }
    token.kind = kind;
    token.text = std::move(value);
    return absl::OkStatus();
  }

  absl::Status LexOperator(Token& token) {
    static constexpr std::string_view kTwoChar[] = {"<>", "!=", "<=", ">=", "||"};
    token.kind = TokenKind::kOperator;
    if (offset_ + 1 < text_.size()) {
      const std::string_view two = std::string_view(text_).substr(offset_, 2);
      for (std::string_view op : kTwoChar) {
        if (two == op) {
          token.text = std::string(op == "!=" ? "<>" : op);
          Advance();
          Advance();
          return absl::OkStatus();
        }
      }
    }
    const char c = text_[offset_];
    if (std::string_view("+-*/%=<>(),.;").find(c) == std::string_view::npos) {
      return source_.Error(Position(), StrCat("unexpected character '", std::string(1, c), "'"));
    }
    token.text = std::string(1, c);
    Advance();
    return absl::OkStatus();
  }

  const SourceText& source_;
  const std::string& text_;
  size_t offset_ = 0;
  uint32_t line_ = 1;
  uint32_t column_ = 1;
};

}  // namespace

absl::StatusOr<LexResult> Lex(const SourceText& source) {
  return Lexer(source).Run();
}

}  // namespace sluice
