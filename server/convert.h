// Conversions between the wire messages (rqs.v1) and the structs of db/ and
// scoring/. Pure functions, no I/O; the services stay thin by calling these.
#ifndef RQS_SERVER_CONVERT_H_
#define RQS_SERVER_CONVERT_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "db/store.h"
#include "google/protobuf/timestamp.pb.h"
#include "rqs/v1/assessment.pb.h"
#include "rqs/v1/instrument.pb.h"
#include "rqs/v1/review.pb.h"
#include "rqs/v1/user.pb.h"
#include "scoring/instrument.h"
#include "scoring/score.h"

namespace rqs::server {

// Sets `out` to `time`.
void ToProto(absl::Time time, google::protobuf::Timestamp* out);

// Returns the wire study type.
v1::StudyType ToProto(scoring::StudyType type);
// Returns the engine's study type. INVALID_ARGUMENT naming `field` for
// STUDY_TYPE_UNSPECIFIED or an unknown value.
absl::StatusOr<scoring::StudyType> FromProto(v1::StudyType type, absl::string_view field);

// Returns the wire role.
v1::Role ToProto(db::ReviewRole role);
// Returns the stored role. INVALID_ARGUMENT naming `field` if unset/unknown.
absl::StatusOr<db::ReviewRole> FromProto(v1::Role role, absl::string_view field);

// Fills the wire form of an instrument (summary only, or whole).
void ToProto(const scoring::Instrument& instrument, v1::InstrumentSummary* out);
void ToProto(const scoring::Instrument& instrument, v1::Instrument* out);

void ToProto(const db::User& user, v1::User* out);
void ToProto(const db::ApiToken& token, v1::Token* out);
void ToProto(const db::Review& review, db::ReviewRole caller_role, v1::Review* out);
void ToProto(const db::Study& study, v1::Study* out);
void ToProto(const db::Assignment& assignment, v1::Assignment* out);
void ToProto(const scoring::ScoreReport& report, v1::ScoreReport* out);
// The assessment with `report` (computed from its answers).
void ToProto(const db::Assessment& assessment, const scoring::ScoreReport& report,
             v1::Assessment* out);

// Returns the engine's answers for wire answers: points when set, else the
// option ids (possibly none).
std::vector<scoring::Answer> ToScoringAnswers(
    const google::protobuf::RepeatedPtrField<v1::Answer>& answers);
// Returns the engine's answers for stored answers: the option ids when there
// are any, else the stored points (answers given as points, or an additive
// criterion with no sub-item met, which canonicalisation maps back to that
// choice). Scoring them reproduces the stored report.
std::vector<scoring::Answer> ToScoringAnswers(const std::vector<db::Answer>& answers);
// The same for one answer, overwriting `answer` and reusing its storage:
// review-wide figures convert a quarter of a million answers.
void AssignScoringAnswer(const db::Answer& stored, scoring::Answer& answer);

// Returns the stored answers for wire answers, taking each criterion's points
// from `report` (criteria the report does not score keep 0).
std::vector<db::Answer> ToDbAnswers(const google::protobuf::RepeatedPtrField<v1::Answer>& answers,
                                    const scoring::ScoreReport& report);

// Scores `answers` for `study` with the review's instrument and target
// level, exactly as `rqs score` would. Errors: INVALID_ARGUMENT naming the
// criterion (see scoring/score.h).
absl::StatusOr<scoring::ScoreReport> ScoreAnswers(const db::Review& review, const db::Study& study,
                                                  std::vector<scoring::Answer> answers);

// Returns the AssessmentState of a stored assessment.
v1::AssessmentState StateOf(const db::Assessment& assessment);

}  // namespace rqs::server

#endif  // RQS_SERVER_CONVERT_H_
