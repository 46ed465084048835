// `rqs score FILE`: scores one study's answer file offline.
#ifndef RQS_CLIENT_SCORE_COMMAND_H_
#define RQS_CLIENT_SCORE_COMMAND_H_

#include <string>
#include <vector>

#include "client/command.h"

namespace rqs::client {

// Runs `rqs score [--pretty] FILE` where FILE is a path or "-" for stdin.
// Prints the score report as JSON on io.out and returns kExitOk. On bad input
// prints one line naming the problem on io.err, nothing on io.out, and returns
// kExitBadInput.
int RunScoreCommand(const std::vector<std::string>& args, CommandIo& io);

}  // namespace rqs::client

#endif  // RQS_CLIENT_SCORE_COMMAND_H_
