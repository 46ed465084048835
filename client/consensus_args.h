// Argument parsing of the consensus commands (policy, progress, round,
// feedback, adjudicate, consensus, remote agreement, summary, export, report,
// watch) and the adjudication batch file.
//
// Each parser takes the words after the subcommand name, with the global
// flags (--server, --token, --json, ...) already removed, and returns what
// the command sends, or INVALID_ARGUMENT with a one-line message naming the
// flag and ending in "(see 'rqs help COMMAND')".
// Parsing checks syntax only (numbers are numbers, yes is yes); the ranges of
// values are the server's to judge, so the rules live in one place.
//
// The review is --review N, else the environment variable RQS_REVIEW; review-
// only commands also take it as their one positional argument, like
// `rqs assignments REVIEW`.
#ifndef RQS_CLIENT_CONSENSUS_ARGS_H_
#define RQS_CLIENT_CONSENSUS_ARGS_H_

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rqs/v1/consensus.pb.h"

namespace rqs::client {

// `policy show` or `policy set` with the fields to change.
struct PolicyArgs {
  bool set = false;  // false: show.
  int64_t review_id = 0;
  std::optional<double> agreement_threshold;  // --threshold
  std::optional<int32_t> max_rounds;          // --max-rounds
  std::optional<bool> stop_when_stable;       // --stop-when-stable yes|no
  std::optional<double> level_threshold;      // --level-threshold (percent)
  std::optional<bool> share_rationales;       // --share-rationales yes|no
};

// policy show [--review N] | policy set [--review N] [--threshold X]
// [--max-rounds N] [--stop-when-stable yes|no] [--level-threshold P]
// [--share-rationales yes|no]. `set` needs at least one field.
absl::StatusOr<PolicyArgs> ParsePolicyArgs(const std::vector<std::string>& args);

// Returns `policy` with the fields given in `args` replaced; the others kept.
rqs::v1::Policy ApplyPolicyChanges(const PolicyArgs& args, rqs::v1::Policy policy);

// "yes"/"no" (also true/false, on/off, 1/0), case-insensitive. `flag` names
// the flag in the error.
absl::StatusOr<bool> ParseYesNo(absl::string_view text, absl::string_view flag);

// [REVIEW] [--review N]: the commands that need only the review (progress,
// summary). `command` names the command's help in errors.
absl::StatusOr<int64_t> ParseReviewOnlyArgs(const std::vector<std::string>& args,
                                            absl::string_view command);

// round close --review N (--study S | --all) --round R
absl::StatusOr<rqs::v1::CloseRoundRequest> ParseRoundArgs(const std::vector<std::string>& args);

// feedback --review N --study S [--template FILE]
struct FeedbackArgs {
  rqs::v1::GetFeedbackRequest request;
  std::optional<std::string> template_path;
};
absl::StatusOr<FeedbackArgs> ParseFeedbackArgs(const std::vector<std::string>& args);

// adjudicate --review N --study S --criterion C (--option ID... | --points P)
//   --reason TEXT
// adjudicate --review N --study S --file FILE   (FILE "-" reads `in`)
// --option may repeat and may hold a comma-separated list. Errors also
// name a problem in the file (see ParseAdjudicationFile); a file that cannot
// be read is ReadInputFile's error (NOT_FOUND, PERMISSION_DENIED, ...).
absl::StatusOr<rqs::v1::AdjudicateRequest> ParseAdjudicateArgs(const std::vector<std::string>& args,
                                                               std::istream& in);

// Parses an adjudication batch file: a JSON list of objects
//   {"criterion": 7, "option_ids": ["yes"], "reason": "..."}
//   {"criterion": 9, "points": 2, "reason": "..."}
// Each needs "criterion", exactly one of "option_ids" (a list of strings,
// possibly empty for an additive criterion none of whose sub-items is met)
// and "points", and a "reason" string. Unknown keys are errors, as in answer
// files. Errors: INVALID_ARGUMENT naming the location, e.g.
// "[2].points: expected an integer, got string".
absl::StatusOr<std::vector<rqs::v1::AdjudicationInput>> ParseAdjudicationFile(
    absl::string_view json_text);

// consensus [REVIEW] [--review N] [--study S]
absl::StatusOr<rqs::v1::GetConsensusRequest> ParseConsensusArgs(
    const std::vector<std::string>& args);

// True when `args` of `rqs agreement` ask for the server's figures: they
// hold --review (a ratings CSV is read offline otherwise).
bool IsRemoteAgreement(const std::vector<std::string>& args);

// agreement --review N [--bootstrap B] [--seed S]
absl::StatusOr<rqs::v1::GetAgreementRequest> ParseRemoteAgreementArgs(
    const std::vector<std::string>& args);

// export [REVIEW] [--review N] --format long|wide|json [-o FILE | --output FILE]
struct ExportArgs {
  rqs::v1::ExportRequest request;
  std::optional<std::string> output;  // Absent or "-": standard output.
};
absl::StatusOr<ExportArgs> ParseExportArgs(const std::vector<std::string>& args);

// "long", "wide" or "json".
absl::StatusOr<rqs::v1::ExportFormat> ParseExportFormat(absl::string_view text);

// report [REVIEW] [--review N] --html FILE
struct ReportArgs {
  int64_t review_id = 0;
  std::string html_path;
};
absl::StatusOr<ReportArgs> ParseReportArgs(const std::vector<std::string>& args);

// watch [REVIEW] [--review N] [--after ID]; --after defaults to -1 (only new
// events); 0 replays the whole history.
absl::StatusOr<rqs::v1::WatchReviewRequest> ParseWatchArgs(const std::vector<std::string>& args);

}  // namespace rqs::client

#endif  // RQS_CLIENT_CONSENSUS_ARGS_H_
