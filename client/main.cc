// `rqs`: the command-line client. Dispatches to one subcommand per verb.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "client/agreement_command.h"
#include "client/command.h"
#include "client/connection.h"
#include "client/remote_commands.h"
#include "client/rubric_command.h"
#include "client/score_command.h"

namespace {

struct Subcommand {
  const char* name;
  const char* summary;
  // Exactly one is set: offline commands need no server.
  int (*run)(const std::vector<std::string>& args, rqs::client::CommandIo& io);
  rqs::client::RemoteCommand remote = nullptr;
};

// Every subcommand, in the order `rqs --help` lists them.
const Subcommand kSubcommands[] = {
    {"rubric", "print an instrument's criteria, levels and option ids",
     &rqs::client::RunRubricCommand},
    {"score", "score one study's answers offline and print its score report (JSON)",
     &rqs::client::RunScoreCommand},
    {"agreement", "inter-rater agreement statistics of a ratings CSV (JSON)",
     &rqs::client::RunAgreementCommand},
    // Talk to rqs-server.
    {"user", "create|list|whoami: users (create and list: admins)", nullptr,
     &rqs::client::RunUserCommand},
    {"token", "issue|list|revoke: API tokens (admins)", nullptr, &rqs::client::RunTokenCommand},
    {"instruments", "list the server's instruments, or print one rubric", nullptr,
     &rqs::client::RunInstrumentsCommand},
    {"review", "create|list|show: reviews", nullptr, &rqs::client::RunReviewCommand},
    {"member", "add|remove|list: review members and their roles", nullptr,
     &rqs::client::RunMemberCommand},
    {"study", "add|import|list: a review's studies (import reads CSV or RIS)", nullptr,
     &rqs::client::RunStudyCommand},
    {"assign", "assign raters to studies, explicitly or K per study", nullptr,
     &rqs::client::RunAssignCommand},
    {"assignments", "your assignments and progress (--all: everyone's)", nullptr,
     &rqs::client::RunAssignmentsCommand},
    {"template", "write an answer file to fill in for a study", nullptr,
     &rqs::client::RunTemplateCommand},
    {"submit", "submit (or --draft save) an answer file for a study", nullptr,
     &rqs::client::RunSubmitCommand},
    {"show", "your assessment of a study with its score report", nullptr,
     &rqs::client::RunShowCommand},
};

void PrintUsage(std::ostream& out) {
  out << "usage: rqs COMMAND [ARGS...]\n\ncommands:\n";
  for (const Subcommand& command : kSubcommands) {
    out << "  " << command.name << std::string(12 - std::strlen(command.name), ' ')
        << command.summary << "\n";
  }
  out << "\nglobal flags (anywhere; or the environment):\n"
         "  --server ADDR    RQS_SERVER   rqs-server address, default localhost:50051\n"
         "  --token TOKEN    RQS_TOKEN    API token\n"
         "  --tls-ca FILE    RQS_TLS_CA   trust these PEM roots and use TLS (--tls: system roots)\n"
         "  --timeout SECS   RQS_TIMEOUT  deadline of each call, default 30\n"
         "  --json                        machine-readable output\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<rqs::client::GlobalOptions> options =
      rqs::client::ExtractGlobalOptions(args, rqs::client::ProcessEnvironment());
  if (!options.ok()) {
    std::cerr << "rqs: " << options.status().message() << "\n";
    return rqs::client::kExitBadInput;
  }
  if (args.empty()) {
    PrintUsage(std::cerr);
    return rqs::client::kExitBadInput;
  }
  const std::string name = args[0];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(std::cout);
    return rqs::client::kExitOk;
  }
  rqs::client::CommandIo io{std::cin, std::cout, std::cerr};
  for (const Subcommand& command : kSubcommands) {
    if (name == command.name) {
      const std::vector<std::string> command_args(args.begin() + 1, args.end());
      return command.remote != nullptr ? command.remote(command_args, *options, io)
                                       : command.run(command_args, io);
    }
  }
  std::cerr << "rqs: unknown command '" << name << "'\n";
  PrintUsage(std::cerr);
  return rqs::client::kExitBadInput;
}
