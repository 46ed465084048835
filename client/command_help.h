// The help text of each `rqs` subcommand, printed by `rqs help COMMAND` and
// `rqs COMMAND --help`.
#ifndef RQS_CLIENT_COMMAND_HELP_H_
#define RQS_CLIENT_COMMAND_HELP_H_

#include <optional>
#include <string_view>

namespace rqs::client {

// The usage and description of `command` (e.g. "feedback"), ending in a
// newline; nullopt for an unknown command.
std::optional<std::string_view> CommandHelp(std::string_view command);

}  // namespace rqs::client

#endif  // RQS_CLIENT_COMMAND_HELP_H_
