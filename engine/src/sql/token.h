// Tokens of the Sluice SQL dialect and the lexer that produces them.
#pragma once

#include <string>
#include <vector>

#include "sql/source_text.h"

namespace sluice {

enum class TokenKind : uint8_t {
  kIdentifier,        // unquoted name or keyword; `text` as written
  kQuotedIdentifier,  // "name" or `name`; `text` unquoted
  kString,            // 'text'; `text` unescaped
  kInteger,           // 123
  kDecimal,           // 1.5, 1e3
  kDuration,          // 10s, 5m, 100ms: `text` is the number, `unit` the suffix
  kOperator,          // + - * / % = <> != < <= > >= || ( ) , . ;
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  std::string unit;
  SourcePosition position;
};

// An annotation comment `-- @name: value`.
struct Annotation {
  std::string name;
  std::string value;
  SourcePosition position;
};

struct LexResult {
  std::vector<Token> tokens;  // always ends with a kEnd token
  std::vector<Annotation> annotations;
};

// Splits `source` into tokens. Comments (-- to end of line, /* */) are skipped; `-- @x: y`
// comments are kept as annotations. Errors (unterminated string, stray character) carry the
// position.
absl::StatusOr<LexResult> Lex(const SourceText& source);

}  // namespace sluice
