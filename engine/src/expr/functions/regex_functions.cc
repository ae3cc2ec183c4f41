// Regular expressions through RE2: REGEXP, REGEXP_EXTRACT and REGEXP_REPLACE, as Flink names
// and defines them.
//
// Patterns are RE2's syntax, which is Java's (Flink's) without backreferences and lookaround;
// RE2 matches in time linear in the text, so a user's pattern cannot stall a job. A constant
// pattern that RE2 refuses is an error when the query binds, at the pattern, with RE2's reason; a
// pattern computed per row that does not compile gives NULL. Compiled patterns are cached per
// thread (pattern_cache.h): a constant pattern compiles once.
//
//   REGEXP(text, pattern)                 TRUE when some part of text matches
//   REGEXP_EXTRACT(text, pattern[, n])    group n (1 the first, 0 the whole match; default 0,
//                                         as Flink's) of the first match; NULL when nothing
//                                         matches, n is not a group or the group took no part
//   REGEXP_REPLACE(text, pattern, with)   every match replaced; in `with`, $n is group n and
//                                         \x is x, as Java's replaceAll reads it
#include <re2/re2.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "common/strings.h"
#include "expr/functions/kernel_loops.h"
#include "expr/functions/pattern_cache.h"
#include "expr/scalar_function.h"

namespace sluice {
namespace {

// The most groups REGEXP_EXTRACT can return (RE2 has no limit; the kernel keeps its matches on
// the stack).
constexpr int kMaxGroup = 31;

std::unique_ptr<RE2> CompileRegex(std::string_view pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto compiled = std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  return compiled->ok() ? std::move(compiled) : nullptr;
}

const RE2* LookUpRegex(std::string_view pattern) {
  return CachedPattern<RE2>(pattern, CompileRegex);
}

std::optional<std::string> CheckRegex(size_t argument, const Value& value) {
  if (argument != 1) return std::nullopt;
  RE2::Options options;
  options.set_log_errors(false);
  const RE2 compiled(re2::StringPiece(value.str().data(), value.str().size()), options);
  if (compiled.ok()) return std::nullopt;
  return StrCat("invalid regular expression '", value.str(), "': ", compiled.error(),
                " (RE2 syntax: Java's without backreferences and lookaround)");
}

// Java's replaceAll replacement `with` as an RE2 rewrite string: $n -> \n, \x -> x (a literal
// backslash is \\ in a rewrite). nullopt for a '$' not followed by a digit, or a trailing '\'.
std::optional<std::string> RewriteOfReplacement(std::string_view with) {
  std::string rewrite;
  rewrite.reserve(with.size());
  for (size_t i = 0; i < with.size(); ++i) {
    const char c = with[i];
    if (c == '\\') {
      if (i + 1 == with.size()) return std::nullopt;
      const char escaped = with[++i];
      if (escaped == '\\')
        rewrite.append("\\\\");
      else
        rewrite.push_back(escaped);
    } else if (c == '$') {
      if (i + 1 == with.size() || with[i + 1] < '0' || with[i + 1] > '9') return std::nullopt;
      rewrite.push_back('\\');
      rewrite.push_back(with[++i]);
    } else {
      rewrite.push_back(c);
    }
  }
  return rewrite;
}

std::optional<std::string> CheckRegexAndReplacement(size_t argument, const Value& value) {
  if (argument == 2 && !RewriteOfReplacement(value.str())) {
    return StrCat("invalid replacement '", value.str(),
                  "': '$' must be followed by a group number (\\$ is a '$')");
  }
  return CheckRegex(argument, value);
}

inline re2::StringPiece Piece(std::string_view text) {
  return {text.data(), text.size()};
}

void RegexpKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const std::string_view* text = arguments[0]->data<std::string_view>();
  const std::string_view* patterns = arguments[1]->data<std::string_view>();
  uint8_t* result = out.data<uint8_t>();
  uint8_t* valid = out.validity();
  LastPattern<RE2> last;
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    result[row] = 0;
    if (!valid[row]) return;
    if (last.Changed(patterns[row])) last = {patterns[row], LookUpRegex(patterns[row]), true};
    if (last.compiled == nullptr) {
      valid[row] = 0;
      return;
    }
    result[row] = RE2::PartialMatch(Piece(text[row]), *last.compiled) ? 1 : 0;
  });
}

// REGEXP_EXTRACT with the group from `group(row)`. The result is a view into the text.
template <typename Group>
void ExtractRows(const KernelContext& context, const Column* const* arguments, Column& out, Group&& group) {
  const std::string_view* text = arguments[0]->data<std::string_view>();
  const std::string_view* patterns = arguments[1]->data<std::string_view>();
  std::string_view* result = out.data<std::string_view>();
  uint8_t* valid = out.validity();
  LastPattern<RE2> last;
  std::array<re2::StringPiece, kMaxGroup + 1> matches;
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    result[row] = {};
    if (!valid[row]) return;
    if (last.Changed(patterns[row])) last = {patterns[row], LookUpRegex(patterns[row]), true};
    const int64_t n = group(row);
    const RE2* re = last.compiled;
    if (re == nullptr || n < 0 || n > kMaxGroup || n > re->NumberOfCapturingGroups() ||
        !re->Match(Piece(text[row]), 0, text[row].size(), RE2::UNANCHORED, matches.data(),
                   static_cast<int>(n) + 1) ||
        matches[n].data() == nullptr) {
      valid[row] = 0;
      return;
    }
    result[row] = {matches[n].data(), matches[n].size()};
  });
  out.KeepAliveStringsOf(*arguments[0]);
}

void RegexpExtractKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  ExtractRows(context, arguments, out, [](size_t) -> int64_t { return 0; });
}

void RegexpExtractGroupKernel(const KernelContext& context, const Column* const* arguments, size_t,
                              Column& out) {
  const int64_t* group = arguments[2]->data<int64_t>();
  ExtractRows(context, arguments, out, [group](size_t row) { return group[row]; });
}

void RegexpReplaceKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const std::string_view* text = arguments[0]->data<std::string_view>();
  const std::string_view* patterns = arguments[1]->data<std::string_view>();
  const std::string_view* replacements = arguments[2]->data<std::string_view>();
  std::string_view* result = out.data<std::string_view>();
  uint8_t* valid = out.validity();
  StringHeap& heap = out.heap();
  LastPattern<RE2> last;
  std::string_view last_replacement;
  std::optional<std::string> rewrite;
  bool have_rewrite = false;
  std::string replaced;  // reused: grows to the longest result of the batch
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    result[row] = {};
    if (!valid[row]) return;
    if (last.Changed(patterns[row])) last = {patterns[row], LookUpRegex(patterns[row]), true};
    const std::string_view with = replacements[row];
    if (!have_rewrite || with.data() != last_replacement.data() || with.size() != last_replacement.size()) {
      rewrite = RewriteOfReplacement(with);
      last_replacement = with;
      have_rewrite = true;
    }
    if (last.compiled == nullptr || !rewrite) {
      valid[row] = 0;
      return;
    }
    replaced.assign(text[row]);
    if (RE2::GlobalReplace(&replaced, *last.compiled, Piece(*rewrite)) == 0) {
      result[row] = text[row];  // nothing matched: the text itself, no copy
      return;
    }
    result[row] = heap.Add(replaced);
  });
  out.KeepAliveStringsOf(*arguments[0]);
}

void Add(FunctionRegistry& registry, std::string_view name, std::vector<TypeId> arguments, TypeId return_type,
         ScalarKernel kernel, ConstantArgumentCheck check) {
  ScalarFunctionSignature signature;
  signature.arguments = std::move(arguments);
  signature.return_type = return_type;
  signature.kernel = kernel;
  signature.check_constant_argument = check;
  registry.Register(name, std::move(signature));
}

}  // namespace

void RegisterRegexFunctions(FunctionRegistry& registry) {
  constexpr TypeId kString = TypeId::kString;
  Add(registry, "regexp", {kString, kString}, TypeId::kBoolean, RegexpKernel, CheckRegex);
  Add(registry, "regexp_extract", {kString, kString}, kString, RegexpExtractKernel, CheckRegex);
  Add(registry, "regexp_extract", {kString, kString, TypeId::kInt64}, kString, RegexpExtractGroupKernel,
      CheckRegex);
  Add(registry, "regexp_replace", {kString, kString, kString}, kString, RegexpReplaceKernel,
      CheckRegexAndReplacement);
}

}  // namespace sluice
