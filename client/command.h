// The shape shared by every `rqs` subcommand.
//
// A command receives its arguments (without the program and subcommand names)
// and the process streams, and returns the process exit status. Keeping the
// streams injectable lets tests run commands in-process.
#ifndef RQS_CLIENT_COMMAND_H_
#define RQS_CLIENT_COMMAND_H_

#include <iosfwd>
#include <string>
#include <vector>

namespace rqs::client {

// Exit statuses shared by all commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   // The command ran but failed (e.g. server error).
inline constexpr int kExitBadInput = 2;  // Bad arguments or bad input file.

// Streams a command reads and writes.
struct CommandIo {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
};

}  // namespace rqs::client

#endif  // RQS_CLIENT_COMMAND_H_
