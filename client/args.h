// A small argument parser for `rqs` subcommands.
//
// Flags are "--name VALUE", "--name=VALUE" or boolean "--name"; everything
// else is positional. "--" ends flag parsing. Unknown flags are errors, so a
// typo never silently changes what a command does.
#ifndef RQS_CLIENT_ARGS_H_
#define RQS_CLIENT_ARGS_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rqs::client {

// What a command accepts.
struct ArgSpec {
  std::set<std::string> value_flags;    // Flags that take a value, without "--".
  std::set<std::string> boolean_flags;  // Flags that take none.
};

// Parsed arguments.
class ParsedArgs {
 public:
  std::vector<std::string> positional;

  // True if boolean flag `name` was given.
  bool Has(absl::string_view name) const;
  // The value of flag `name`, if given (the last one wins).
  std::optional<std::string> Get(absl::string_view name) const;
  // Every value of flag `name`, in the order given (empty if never given).
  std::vector<std::string> GetAll(absl::string_view name) const;
  // The value of an integer flag. Errors: INVALID_ARGUMENT naming the flag.
  absl::StatusOr<std::optional<int64_t>> GetInt(absl::string_view name) const;

 private:
  friend absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                              const ArgSpec& spec);
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
  std::set<std::string, std::less<>> booleans_;
};

// Parses `args` against `spec`. Errors: INVALID_ARGUMENT for an unknown flag
// or a value flag without a value.
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args, const ArgSpec& spec);

// Parses a positive 64-bit id (review, study, user, token). `what` names it in
// the message. Errors: INVALID_ARGUMENT.
absl::StatusOr<int64_t> ParseId(absl::string_view text, absl::string_view what);

}  // namespace rqs::client

#endif  // RQS_CLIENT_ARGS_H_
