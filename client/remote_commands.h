// The `rqs` subcommands that talk to rqs-server.
//
// Each takes its arguments (after the subcommand name), the global options
// (server, token, TLS, deadline, --json) and the process streams, and returns
// the exit status: 0 on success, 1 when the server refused or failed, 2 for
// bad arguments or input files. A failure prints the server's message on one
// line of io.err.
#ifndef RQS_CLIENT_REMOTE_COMMANDS_H_
#define RQS_CLIENT_REMOTE_COMMANDS_H_

#include <string>
#include <vector>

#include "client/command.h"
#include "client/connection.h"

namespace rqs::client {

using RemoteCommand = int (*)(const std::vector<std::string>& args, const GlobalOptions& options,
                              CommandIo& io);

// user create NAME [--admin] | user list | user whoami
int RunUserCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                   CommandIo& io);
// token issue USER_ID [--label L] [--expires-in-days N] | token list [USER_ID] |
// token revoke TOKEN_ID
int RunTokenCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                    CommandIo& io);
// review create NAME [--instrument rqs2] [--target-rrl N] | review list | review show ID
int RunReviewCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                     CommandIo& io);
// member add REVIEW USER_ID ROLE | member remove REVIEW USER_ID | member list REVIEW
int RunMemberCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                     CommandIo& io);
// study add REVIEW --title T [...] | study import REVIEW FILE [--type T] [--format F] |
// study list REVIEW
int RunStudyCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                    CommandIo& io);
// assign REVIEW --per-study K | assign REVIEW STUDY:RATER...
int RunAssignCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                     CommandIo& io);
// assignments REVIEW [--all]  (with each study's Delphi round and whether it
// needs the caller's answers)
int RunAssignmentsCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                          CommandIo& io);
// instruments | instrument ID
int RunInstrumentsCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                          CommandIo& io);
// template STUDY --review R [--output FILE]
int RunTemplateCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                       CommandIo& io);
// submit STUDY FILE [--review R] [--round R] [--draft] [--idempotency-key K]
// (round: --round, else the answer file's "round", else the open round)
int RunSubmitCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                     CommandIo& io);
// show STUDY --review R [--round R]  (round 0 or absent: the latest)
int RunShowCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                   CommandIo& io);

}  // namespace rqs::client

#endif  // RQS_CLIENT_REMOTE_COMMANDS_H_
