#include "client/args.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace rqs::client {

bool ParsedArgs::Has(absl::string_view name) const { return booleans_.count(name) > 0; }

std::optional<std::string> ParsedArgs::Get(absl::string_view name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::GetAll(absl::string_view name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return {};
  return it->second;
}

absl::StatusOr<std::optional<int64_t>> ParsedArgs::GetInt(absl::string_view name) const {
  const std::optional<std::string> value = Get(name);
  if (!value.has_value()) return std::optional<int64_t>();
  int64_t number = 0;
  if (!absl::SimpleAtoi(*value, &number)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, ": expected an integer, got '", *value, "'"));
  }
  return std::optional<int64_t>(number);
}

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args, const ArgSpec& spec) {
  ParsedArgs parsed;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_done || !absl::StartsWith(arg, "--") || arg.size() == 2) {
      if (arg == "--" && !flags_done) {
        flags_done = true;
        continue;
      }
      parsed.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (spec.boolean_flags.count(name) > 0) {
      if (value.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
      }
      parsed.booleans_.insert(name);
    } else if (spec.value_flags.count(name) > 0) {
      if (!value.has_value()) {
        if (i + 1 >= args.size()) {
          return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
        }
        value = args[++i];
      }
      parsed.values_[name].push_back(*value);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
  }
  return parsed;
}

absl::StatusOr<int64_t> ParseId(absl::string_view text, absl::string_view what) {
  int64_t id = 0;
  if (!absl::SimpleAtoi(text, &id) || id <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a positive number, got '", text, "'"));
  }
  return id;
}

}  // namespace rqs::client
