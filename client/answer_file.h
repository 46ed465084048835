// The answer-file format read by `rqs score` (and written by `rqs template`).
//
// An answer file is one study's answers as JSON:
//
//   {
//     "instrument": "rqs2",          // "rqs2" or "rqs1"
//     "study_type": "HCR",           // "HCR", "DLR" or "HYBRID"
//     "target_rrl": 9,               // optional, 1-9 (RQS 2.0 only), default 9
//     "level_threshold": 50,         // optional percent, default 50
//     "review_id": 3, "study_id": 12,  // optional, written by `rqs template`
//     "round": 2,                    // optional Delphi round, written by
//                                    // `rqs feedback --template`
//     "answers": [
//       {"criterion": 1, "option": "consensus_method"},
//       {"criterion": 17, "options": ["statistic", "resampling"]},
//       {"criterion": 14, "points": 2, "rationale": "...", "evidence": "p. 4"}
//     ]
//   }
//
// Reading is strict: unknown keys, wrong JSON types and out-of-range numbers
// are errors, because a silently ignored typo is a wrong score.
#ifndef RQS_CLIENT_ANSWER_FILE_H_
#define RQS_CLIENT_ANSWER_FILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "scoring/instrument.h"
#include "scoring/score.h"

namespace rqs::client {

// Where in a paper a rater found the evidence for an answer. In the file,
// "evidence" is either free text (kept as `section`) or an object with any of
// "page", "section" and "quote".
struct EvidenceNote {
  std::string page;
  std::string section;
  std::string quote;
};

// What a rater wrote beside an answer; not part of the score.
struct AnswerNote {
  std::string rationale;
  EvidenceNote evidence;
};

// One parsed answer file.
struct AnswerFile {
  const scoring::Instrument* instrument = nullptr;
  scoring::ScoreRequest request;
  // Parallel to request.answers.
  std::vector<AnswerNote> notes;
  // Written by `rqs template` so that `rqs submit` can check it sends the
  // file to the study it was made for.
  std::optional<int64_t> review_id;
  std::optional<int64_t> study_id;
  // Written by `rqs feedback --template` so that `rqs submit` sends the
  // answers to the round they were made for, not a later one.
  std::optional<int> round;
};

// Parses an answer file. Does not check answers against the rubric; that is
// scoring::ScoreStudy's job, so the rules live in one place.
// Errors: INVALID_ARGUMENT with a one-line message naming the JSON location
// (e.g. "answers[2].points: expected an integer, got string") and the reason.
absl::StatusOr<AnswerFile> ParseAnswerFile(absl::string_view json_text);

// Parses and scores an answer file.
// Errors: as ParseAnswerFile and scoring::ScoreStudy.
absl::StatusOr<scoring::ScoreReport> ScoreAnswerFile(absl::string_view json_text);

// The score report as JSON: instrument, study_type, target_rrl, total, max,
// min, percent, attained_rrl, level_threshold, levels[] (instruments with
// levels only) and criteria[].
nlohmann::ordered_json ScoreReportToJson(const scoring::ScoreReport& report);

}  // namespace rqs::client

#endif  // RQS_CLIENT_ANSWER_FILE_H_
