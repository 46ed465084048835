// `rqs rubric [INSTRUMENT]`: prints a built-in instrument's rubric.
#ifndef RQS_CLIENT_RUBRIC_COMMAND_H_
#define RQS_CLIENT_RUBRIC_COMMAND_H_

#include <string>
#include <vector>

#include "client/command.h"
#include "nlohmann/json.hpp"
#include "scoring/instrument.h"

namespace rqs::client {

// The whole rubric as JSON: id, name, version, citation, levels and every
// criterion with its number, name, rrl, applies_to, kind, description and
// options (id, label, points).
nlohmann::ordered_json InstrumentToJson(const scoring::Instrument& instrument);

// Runs `rqs rubric [--table] [INSTRUMENT]` (default rqs2): JSON by default, a
// human-readable table with --table. Unknown instrument: kExitBadInput.
int RunRubricCommand(const std::vector<std::string>& args, CommandIo& io);

}  // namespace rqs::client

#endif  // RQS_CLIENT_RUBRIC_COMMAND_H_
