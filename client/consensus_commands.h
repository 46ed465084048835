// The `rqs` subcommands of the consensus process (ConsensusService): the
// review's policy, progress, closing rounds, Delphi feedback, adjudication,
// the consensus, agreement, the summary, exports, the HTML report and the
// live event stream.
//
// Like the other remote commands (client/remote_commands.h) each takes its
// arguments (after the subcommand name), the global options and the process
// streams; prints a table by default and the proto3 JSON of the reply with
// --json; and returns 0 on success, 1 when the server refused or failed
// (its message on one line of io.err), 2 for bad arguments or input files.
// Every unary call has the --timeout deadline. The argument grammar is in
// client/consensus_args.h.
#ifndef RQS_CLIENT_CONSENSUS_COMMANDS_H_
#define RQS_CLIENT_CONSENSUS_COMMANDS_H_

#include <string>
#include <vector>

#include "client/command.h"
#include "client/connection.h"

namespace rqs::client {

// policy show --review N | policy set --review N [--threshold X] ...
int RunPolicyCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                     CommandIo& io);
// progress --review N
int RunProgressCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                       CommandIo& io);
// round close --review N (--study S | --all) --round R
int RunRoundCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                    CommandIo& io);
// feedback --review N --study S [--template FILE]
int RunFeedbackCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                       CommandIo& io);
// adjudicate --review N --study S --criterion C (--option ID... | --points P)
// --reason TEXT | adjudicate --review N --study S --file FILE
int RunAdjudicateCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                         CommandIo& io);
// consensus --review N [--study S]
int RunConsensusCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                        CommandIo& io);
// agreement --review N [--bootstrap B] [--seed S] asks the server; without
// --review, `rqs agreement FILE.csv` runs offline (client/agreement_command.h)
// exactly as before.
int RunAgreementDispatch(const std::vector<std::string>& args, const GlobalOptions& options,
                         CommandIo& io);
// summary --review N
int RunSummaryCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                      CommandIo& io);
// export --review N --format long|wide|json [-o FILE]
int RunExportCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                     CommandIo& io);
// report --review N --html FILE
int RunReportCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                     CommandIo& io);
// watch --review N [--after ID] (client/watch_command.cc)
int RunWatchCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                    CommandIo& io);

}  // namespace rqs::client

#endif  // RQS_CLIENT_CONSENSUS_COMMANDS_H_
