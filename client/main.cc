// `rqs`: the command-line client. Dispatches to one subcommand per verb.
#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "client/agreement_command.h"
#include "client/command.h"
#include "client/command_help.h"
#include "client/connection.h"
#include "client/consensus_commands.h"
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
    {"agreement", "inter-rater agreement: of a ratings CSV (JSON), or --review N: the server's",
     nullptr, &rqs::client::RunAgreementDispatch},
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
    // The consensus process.
    {"policy", "show|set: the review's consensus policy", nullptr, &rqs::client::RunPolicyCommand},
    {"progress", "where each study stands in the Delphi rounds", nullptr,
     &rqs::client::RunProgressCommand},
    {"round", "close: close a study's (or every study's) open round", nullptr,
     &rqs::client::RunRoundCommand},
    {"feedback", "anonymised feedback for a later round; --template: its answer file", nullptr,
     &rqs::client::RunFeedbackCommand},
    {"adjudicate", "set the final answer of a disputed criterion, with a reason", nullptr,
     &rqs::client::RunAdjudicateCommand},
    {"consensus", "the consensus score and RRL per study, and where each answer came from", nullptr,
     &rqs::client::RunConsensusCommand},
    {"summary", "the review summary as publications print it", nullptr,
     &rqs::client::RunSummaryCommand},
    {"export", "export the review as long CSV, wide CSV or JSON", nullptr,
     &rqs::client::RunExportCommand},
    {"report", "write the review's self-contained HTML report", nullptr,
     &rqs::client::RunReportCommand},
    {"watch", "live display of the review's events", nullptr, &rqs::client::RunWatchCommand},
};

void PrintUsage(std::ostream& out) {
  out << "usage: rqs COMMAND [ARGS...]\n\ncommands:\n";
  for (const Subcommand& command : kSubcommands) {
    out << "  " << command.name << std::string(12 - std::strlen(command.name), ' ')
        << command.summary << "\n";
  }
  out << "\n'rqs help COMMAND' or 'rqs COMMAND --help' describes a command.\n";
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
  std::string name = args[0];
  std::vector<std::string> command_args(args.begin() + 1, args.end());
  if (name == "--help" || name == "-h" || name == "help") {
    if (name != "help" || command_args.empty()) {
      PrintUsage(std::cout);
      return rqs::client::kExitOk;
    }
    // "rqs help COMMAND" is "rqs COMMAND --help".
    name = command_args[0];
    command_args = {"--help"};
  }
  const auto flags_end = std::find(command_args.begin(), command_args.end(), "--");
  const bool wants_help = std::find_if(command_args.begin(), flags_end, [](const std::string& arg) {
                            return arg == "--help" || arg == "-h";
                          }) != flags_end;
  if (wants_help) {
    if (const auto help = rqs::client::CommandHelp(name); help.has_value()) {
      std::cout << *help;
      return rqs::client::kExitOk;
    }
  }
  rqs::client::CommandIo io{std::cin, std::cout, std::cerr};
  for (const Subcommand& command : kSubcommands) {
    if (name == command.name) {
      return command.remote != nullptr ? command.remote(command_args, *options, io)
                                       : command.run(command_args, io);
    }
  }
  std::cerr << "rqs: unknown command '" << name << "'\n";
  PrintUsage(std::cerr);
  return rqs::client::kExitBadInput;
}
