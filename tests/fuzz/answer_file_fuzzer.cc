// Fuzz target for the answer-file JSON reader behind `rqs score` and
// `rqs submit`: ParseAnswerFile, ScoreAnswerFile and the report they feed.
//
// An answer file is typed by hand or produced by other tools, so it is
// untrusted: whatever the bytes, the reader must return a status (never throw,
// crash or hang), every error must be INVALID_ARGUMENT as documented, and a
// successful score must be internally consistent.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/answer_file.h"
#include "scoring/score.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

void CheckParsed(const rqs::client::AnswerFile& file) {
  RQS_FUZZ_CHECK(file.instrument != nullptr);
  // The notes are parallel to the answers; `rqs submit` indexes one by the other.
  RQS_FUZZ_CHECK(file.notes.size() == file.request.answers.size());
  RQS_FUZZ_CHECK(!file.review_id.has_value() || *file.review_id > 0);
  RQS_FUZZ_CHECK(!file.study_id.has_value() || *file.study_id > 0);
}

void CheckReport(const rqs::scoring::ScoreReport& report) {
  RQS_FUZZ_CHECK(report.min <= report.total && report.total <= report.max);
  RQS_FUZZ_CHECK(report.target_level >= 0);
  RQS_FUZZ_CHECK(report.levels.size() == static_cast<size_t>(report.target_level));
  RQS_FUZZ_CHECK(report.attained_level >= 0 && report.attained_level <= report.target_level);
  RQS_FUZZ_CHECK(report.level_threshold_percent >= 0 && report.level_threshold_percent <= 100);
  int sum = 0;
  for (const rqs::scoring::CriterionScore& criterion : report.criteria) {
    RQS_FUZZ_CHECK(criterion.points <= criterion.max);
    sum += criterion.points;
  }
  RQS_FUZZ_CHECK(sum == report.total);
  // `rqs score` prints this JSON; serialising must not throw (e.g. on invalid
  // UTF-8 echoed from the input).
  const std::string json = rqs::client::ScoreReportToJson(report).dump();
  RQS_FUZZ_CHECK(!json.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);

  // Any exception escaping here is a crash: ParseAnswerFile must report every
  // bad input as a status (a number beyond double, 1e400, once escaped).
  const absl::StatusOr<rqs::client::AnswerFile> file = rqs::client::ParseAnswerFile(text);
  if (!file.ok()) {
    RQS_FUZZ_CHECK(absl::IsInvalidArgument(file.status()));
    RQS_FUZZ_CHECK(!file.status().message().empty());
    // ScoreAnswerFile would only return the same status; skipping it keeps
    // the rate of executions up.
    return 0;
  }
  CheckParsed(*file);

  const absl::StatusOr<rqs::scoring::ScoreReport> report = rqs::client::ScoreAnswerFile(text);
  if (report.ok()) {
    CheckReport(*report);
  } else {
    // The rubric's checks (unknown criterion, option, points, ...).
    RQS_FUZZ_CHECK(absl::IsInvalidArgument(report.status()));
  }
  return 0;
}
