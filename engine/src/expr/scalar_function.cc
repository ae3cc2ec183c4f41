#include "expr/scalar_function.h"

#include "common/strings.h"
#include "types/schema.h"

namespace sluice {

const FunctionRegistry& FunctionRegistry::Default() {
  static const FunctionRegistry* registry = [] {
    auto* r = new FunctionRegistry();
    RegisterOperatorFunctions(*r);
    RegisterConditionalFunctions(*r);
    RegisterStringFunctions(*r);
    RegisterMathFunctions(*r);
    RegisterTimeFunctions(*r);
    RegisterRegexFunctions(*r);
    RegisterDecimalFunctions(*r);
    return r;
  }();
  return *registry;
}

void FunctionRegistry::Register(std::string_view name, ScalarFunctionSignature signature) {
  functions_[AsciiToLower(name)].push_back(std::move(signature));
}

void FunctionRegistry::RegisterDerived(std::string_view name, TypeDerivation derive, ScalarKernel kernel,
                                       std::string_view description, NullHandling null_handling) {
  ScalarFunctionSignature signature;
  signature.derive_types = derive;
  signature.kernel = kernel;
  signature.null_handling = null_handling;
  signature.description = description;
  Register(name, std::move(signature));
}

bool FunctionRegistry::Contains(std::string_view name) const {
  return functions_.count(AsciiToLower(name)) > 0;
}

std::vector<std::string> FunctionRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, overloads] : functions_) names.push_back(name);
  return names;
}

absl::StatusOr<ResolvedFunction> FunctionRegistry::Resolve(std::string_view name,
                                                           const std::vector<TypeId>& argument_types) const {
  const std::string key = AsciiToLower(name);
  auto it = functions_.find(key);
  if (it == functions_.end()) {
    std::string message = StrCat("unknown function '", AsciiToUpper(name), "'");
    if (auto nearest = NearestName(key, Names())) {
      StrAppend(&message, "; did you mean '", AsciiToUpper(*nearest), "'?");
    }
    return absl::NotFoundError(message);
  }
  const ScalarFunctionSignature* best = nullptr;
  std::vector<TypeId> best_types;
  TypeId best_return_type = TypeId::kNull;
  int best_cost = 1 << 30;
  for (const auto& signature : it->second) {
    if (signature.derive_types != nullptr) {
      std::optional<DerivedTypes> derived = signature.derive_types(argument_types);
      if (!derived) continue;
      int cost = 0;
      for (size_t i = 0; i < argument_types.size(); ++i) cost += argument_types[i] != derived->arguments[i];
      if (cost < best_cost) {
        best = &signature;
        best_cost = cost;
        best_types = std::move(derived->arguments);
        best_return_type = derived->return_type;
      }
      continue;
    }
    const size_t fixed = signature.arguments.size();
    if (argument_types.size() < fixed) continue;
    if (argument_types.size() > fixed && !signature.variadic) continue;
    std::vector<TypeId> parameter_types;
    int cost = 0;
    bool matches = true;
    for (size_t i = 0; i < argument_types.size(); ++i) {
      const TypeId parameter = i < fixed ? signature.arguments[i] : *signature.variadic;
      if (!ImplicitlyConvertible(argument_types[i], parameter)) {
        matches = false;
        break;
      }
      if (argument_types[i] != parameter) ++cost;
      parameter_types.push_back(parameter);
    }
    if (matches && cost < best_cost) {
      best = &signature;
      best_cost = cost;
      best_types = std::move(parameter_types);
      best_return_type = signature.return_type;
    }
  }
  if (best == nullptr) {
    std::vector<std::string> names;
    for (TypeId type : argument_types) names.emplace_back(TypeName(type));
    std::vector<std::string> candidates;
    for (const auto& signature : it->second) {
      if (signature.derive_types != nullptr) {
        candidates.push_back(StrCat(AsciiToUpper(key), "(", signature.description, ")"));
        continue;
      }
      std::vector<std::string> parameters;
      for (TypeId type : signature.arguments) parameters.emplace_back(TypeName(type));
      if (signature.variadic) parameters.push_back(StrCat(TypeName(*signature.variadic), "..."));
      candidates.push_back(StrCat(AsciiToUpper(key), "(", StrJoin(parameters, ", "), ")"));
    }
    return absl::InvalidArgumentError(StrCat("no version of ", AsciiToUpper(key), " takes (",
                                             StrJoin(names, ", "),
                                             "); candidates: ", StrJoin(candidates, ", ")));
  }
  return ResolvedFunction{best, std::move(best_types), best_return_type};
}

}  // namespace sluice
