// `rqs`: the command-line client. Dispatches to one subcommand per verb.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "client/command.h"
#include "client/rubric_command.h"
#include "client/score_command.h"

namespace {

struct Subcommand {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args, rqs::client::CommandIo& io);
};

// Every subcommand, in the order `rqs --help` lists them.
const Subcommand kSubcommands[] = {
    {"rubric", "print an instrument's criteria, levels and option ids",
     &rqs::client::RunRubricCommand},
    {"score", "score one study's answers offline and print its score report (JSON)",
     &rqs::client::RunScoreCommand},
};

void PrintUsage(std::ostream& out) {
  out << "usage: rqs COMMAND [ARGS...]\n\ncommands:\n";
  for (const Subcommand& command : kSubcommands) {
    out << "  " << command.name << std::string(12 - std::strlen(command.name), ' ')
        << command.summary << "\n";
  }
  out << "\nRun 'rqs COMMAND --help' for a command's arguments.\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  if (argc < 2) {
    PrintUsage(std::cerr);
    return rqs::client::kExitBadInput;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(std::cout);
    return rqs::client::kExitOk;
  }
  rqs::client::CommandIo io{std::cin, std::cout, std::cerr};
  for (const Subcommand& command : kSubcommands) {
    if (name == command.name) {
      return command.run(std::vector<std::string>(argv + 2, argv + argc), io);
    }
  }
  std::cerr << "rqs: unknown command '" << name << "'\n";
  PrintUsage(std::cerr);
  return rqs::client::kExitBadInput;
}
