// `rqs agreement`: inter-rater agreement statistics for a ratings CSV.
//
//   rqs agreement [--bootstrap N] [--seed S] [--threads T] FILE.csv
//
// FILE holds long-format ratings (see client/ratings_csv.h); `-` reads stdin.
// The command prints one JSON document, {"criteria": [...]}, with one entry
// per criterion in order of first appearance and, when there are several
// criteria, a last entry "total" for the per-study, per-rater sum over all
// criteria. Each entry carries every statistic of scoring/agreement.h with its
// uncertainty, interpretation band and warnings; undefined figures are null.
#ifndef RQS_CLIENT_AGREEMENT_COMMAND_H_
#define RQS_CLIENT_AGREEMENT_COMMAND_H_

#include <string>
#include <vector>

#include "client/command.h"

namespace rqs::client {

// Runs `rqs agreement` with `args` (the words after the subcommand name).
// Writes the JSON report to io.out and returns kExitOk; on bad flags, an
// unreadable file or bad input (missing header column, a value that is not a
// number, a duplicate rating, an empty file, a criterion with fewer than two
// raters) writes one message naming the problem (and the line, for file
// contents) to io.err, nothing to io.out, and returns kExitBadInput.
int RunAgreementCommand(const std::vector<std::string>& args, CommandIo& io);

}  // namespace rqs::client

#endif  // RQS_CLIENT_AGREEMENT_COMMAND_H_
