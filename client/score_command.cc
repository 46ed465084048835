#include "client/score_command.h"

#include <ostream>

#include "client/answer_file.h"
#include "client/input_file.h"

namespace rqs::client {
namespace {

constexpr char kUsage[] =
    "usage: rqs score [--pretty] FILE\n"
    "  Scores one study's answers (JSON; FILE '-' reads stdin) and prints the\n"
    "  score report as JSON. See README.md, 'Answer files', for the format.\n";

}  // namespace

int RunScoreCommand(const std::vector<std::string>& args, CommandIo& io) {
  bool pretty = false;
  std::string path;
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      io.out << kUsage;
      return kExitOk;
    }
    if (arg == "--pretty") {
      pretty = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      io.err << "rqs score: unknown flag '" << arg << "'\n" << kUsage;
      return kExitBadInput;
    } else if (path.empty()) {
      path = arg;
    } else {
      io.err << "rqs score: takes one FILE, got '" << path << "' and '" << arg << "'\n";
      return kExitBadInput;
    }
  }
  if (path.empty()) {
    io.err << "rqs score: missing FILE\n" << kUsage;
    return kExitBadInput;
  }
  absl::StatusOr<std::string> text = ReadInputFile(path, io.in);
  if (!text.ok()) {
    io.err << "rqs score: " << text.status().message() << "\n";
    return kExitBadInput;
  }
  absl::StatusOr<scoring::ScoreReport> report = ScoreAnswerFile(*text);
  if (!report.ok()) {
    io.err << "rqs score: " << (path == "-" ? "<stdin>" : path) << ": " << report.status().message()
           << "\n";
    return kExitBadInput;
  }
  io.out << ScoreReportToJson(*report).dump(pretty ? 2 : -1) << "\n";
  return kExitOk;
}

}  // namespace rqs::client
