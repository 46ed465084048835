#include "db/store.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/array>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/row>
#include <pqxx/transaction>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "db/migrate.h"
#include "db/pool.h"
#include "db/store_reads.h"
#include "scoring/status_macros.h"

namespace rqs::db {
namespace {

using internal::ConnectionPool;

// Column lists shared by every query that returns an entity; the To*
// functions below read them by position. Timestamps come back as Unix
// microseconds (see rqs_unix_micros in 0001_initial.sql).
constexpr char kUserColumns[] = "u.id, u.name, u.is_admin, rqs_unix_micros(u.created_at)";
constexpr char kTokenColumns[] =
    "t.id, t.user_id, t.label, rqs_unix_micros(t.created_at), rqs_unix_micros(t.expires_at), "
    "rqs_unix_micros(t.revoked_at)";
constexpr char kReviewColumns[] =
    "r.id, r.name, r.instrument_id, r.target_rrl, r.status, coalesce(r.created_by, 0), "
    "rqs_unix_micros(r.created_at)";
constexpr char kMemberColumns[] = "m.review_id, m.user_id, m.role, rqs_unix_micros(m.added_at)";
constexpr char kStudyColumns[] =
    "s.id, s.review_id, s.title, s.authors, coalesce(s.year, 0), s.doi, s.study_type, "
    "s.external_id, s.notes, rqs_unix_micros(s.created_at)";
constexpr char kAssignmentColumns[] =
    "g.review_id, g.study_id, g.rater_id, rqs_unix_micros(g.assigned_at)";
constexpr char kAssessmentColumns[] =
    "a.id, a.review_id, a.study_id, a.rater_id, a.round, a.status, a.instrument_id, "
    "a.instrument_version, a.server_version, coalesce(a.idempotency_key, ''), "
    "rqs_unix_micros(a.created_at), rqs_unix_micros(a.updated_at), "
    "rqs_unix_micros(a.submitted_at)";

// Runs `sql` as the prepared statement `name` on the transaction's
// connection. The calls every submission makes use it: PostgreSQL then
// parses and plans each of them once per pooled connection, not once per
// call. `name` must always be given the same `sql` (libpqxx throws on a
// redefinition); a connection opened after a database restart prepares
// afresh on first use.
template <typename... Args>
pqxx::result ExecPrepared(pqxx::transaction_base& txn, const char* name, const std::string& sql,
                          Args&&... args) {
  txn.conn().prepare(name, sql);
  return txn.exec_prepared(name, std::forward<Args>(args)...);
}

absl::Time TimeAt(const pqxx::field& field) { return absl::FromUnixMicros(field.as<int64_t>()); }

std::optional<absl::Time> OptionalTimeAt(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return TimeAt(field);
}

// Nullable timestamps travel as text: "" for NULL, else Unix microseconds.
std::string MicrosOrEmpty(const std::optional<absl::Time>& time) {
  return time.has_value() ? std::to_string(absl::ToUnixMicros(*time)) : std::string();
}

// The audit triggers read the acting user and the action from the
// transaction-local settings rqs.actor_id ("" for the system) and rqs.action.
std::string AuditActor(int64_t actor_id) {
  return actor_id == 0 ? std::string() : std::to_string(actor_id);
}

void BeginAudited(pqxx::transaction_base& txn, std::string_view action, int64_t actor_id) {
  ExecPrepared(txn, "begin_audited",
               "SELECT set_config('rqs.actor_id', $1, true), set_config('rqs.action', $2, true)",
               AuditActor(actor_id), std::string(action));
}

// --- Enum names, as stored. ---

std::optional<ReviewStatus> ParseReviewStatus(std::string_view name) {
  if (name == "OPEN") return ReviewStatus::kOpen;
  if (name == "CLOSED") return ReviewStatus::kClosed;
  return std::nullopt;
}

std::optional<ReviewRole> ParseReviewRole(std::string_view name) {
  if (name == "COORDINATOR") return ReviewRole::kCoordinator;
  if (name == "RATER") return ReviewRole::kRater;
  if (name == "OBSERVER") return ReviewRole::kObserver;
  return std::nullopt;
}

std::optional<AssessmentStatus> ParseAssessmentStatus(std::string_view name) {
  if (name == "DRAFT") return AssessmentStatus::kDraft;
  if (name == "SUBMITTED") return AssessmentStatus::kSubmitted;
  return std::nullopt;
}

std::optional<scoring::StudyType> ParseStudyTypeName(const std::string& name) {
  absl::StatusOr<scoring::StudyType> type = scoring::ParseStudyType(name);
  if (!type.ok()) return std::nullopt;
  return *type;
}

// The schema's CHECK constraints make an unknown name impossible; throwing
// turns a violated invariant into INTERNAL through the pool.
template <typename T>
T Require(std::optional<T> value, std::string_view what) {
  if (!value.has_value()) {
    throw std::runtime_error(absl::StrCat("unknown ", std::string(what), " in database"));
  }
  return *value;
}

// --- Row readers, one per column list above. ---

User ToUser(const pqxx::row& row) {
  User user;
  user.id = row[0].as<int64_t>();
  user.name = row[1].as<std::string>();
  user.is_admin = row[2].as<bool>();
  user.created_at = TimeAt(row[3]);
  return user;
}

ApiToken ToToken(const pqxx::row& row) {
  ApiToken token;
  token.id = row[0].as<int64_t>();
  token.user_id = row[1].as<int64_t>();
  token.label = row[2].as<std::string>();
  token.created_at = TimeAt(row[3]);
  token.expires_at = OptionalTimeAt(row[4]);
  token.revoked_at = OptionalTimeAt(row[5]);
  return token;
}

Review ToReview(const pqxx::row& row) {
  Review review;
  review.id = row[0].as<int64_t>();
  review.name = row[1].as<std::string>();
  review.instrument_id = row[2].as<std::string>();
  review.target_rrl = row[3].as<int>();
  review.status = Require(ParseReviewStatus(row[4].as<std::string>()), "review status");
  review.created_by = row[5].as<int64_t>();
  review.created_at = TimeAt(row[6]);
  return review;
}

ReviewMember ToMember(const pqxx::row& row) {
  ReviewMember member;
  member.review_id = row[0].as<int64_t>();
  member.user_id = row[1].as<int64_t>();
  member.role = Require(ParseReviewRole(row[2].as<std::string>()), "review role");
  member.added_at = TimeAt(row[3]);
  return member;
}

Study ToStudy(const pqxx::row& row) {
  Study study;
  study.id = row[0].as<int64_t>();
  study.review_id = row[1].as<int64_t>();
  study.title = row[2].as<std::string>();
  study.authors = row[3].as<std::string>();
  study.year = row[4].as<int>();
  study.doi = row[5].as<std::string>();
  study.study_type = Require(ParseStudyTypeName(row[6].as<std::string>()), "study type");
  study.external_id = row[7].as<std::string>();
  study.notes = row[8].as<std::string>();
  study.created_at = TimeAt(row[9]);
  return study;
}

Assignment ToAssignment(const pqxx::row& row) {
  Assignment assignment;
  assignment.review_id = row[0].as<int64_t>();
  assignment.study_id = row[1].as<int64_t>();
  assignment.rater_id = row[2].as<int64_t>();
  assignment.assigned_at = TimeAt(row[3]);
  return assignment;
}

Assessment ToAssessment(const pqxx::row& row) {
  Assessment assessment;
  assessment.id = row[0].as<int64_t>();
  assessment.review_id = row[1].as<int64_t>();
  assessment.study_id = row[2].as<int64_t>();
  assessment.rater_id = row[3].as<int64_t>();
  assessment.round = row[4].as<int>();
  assessment.status = Require(ParseAssessmentStatus(row[5].as<std::string>()), "assessment status");
  assessment.instrument_id = row[6].as<std::string>();
  assessment.instrument_version = row[7].as<std::string>();
  assessment.server_version = row[8].as<std::string>();
  assessment.idempotency_key = row[9].as<std::string>();
  assessment.created_at = TimeAt(row[10]);
  assessment.updated_at = TimeAt(row[11]);
  assessment.submitted_at = OptionalTimeAt(row[12]);
  return assessment;
}

// Reads a one-dimensional text[] (NULL: empty) in PostgreSQL's own array
// syntax, which is cheaper on both ends than converting it to JSON.
std::vector<std::string> TextArray(const pqxx::field& field) {
  std::vector<std::string> values;
  if (field.is_null()) return values;
  pqxx::array_parser parser = field.as_array();
  for (auto [juncture, value] = parser.get_next(); juncture != pqxx::array_parser::done;
       std::tie(juncture, value) = parser.get_next()) {
    if (juncture == pqxx::array_parser::string_value) values.push_back(std::move(value));
  }
  return values;
}

// Adds answer rows (assessment id, criterion, option ids, points, rationale,
// evidence page, section and quote) to their assessments in `by_id`, then
// sorts each assessment's answers by criterion.
template <typename Rows>
void AttachAnswers(const Rows& rows, std::unordered_map<int64_t, Assessment*>& by_id) {
  for (const pqxx::row& row : rows) {
    Answer answer;
    answer.criterion = row[1].template as<int>();
    answer.option_ids = TextArray(row[2]);
    answer.points = row[3].template as<int>();
    answer.rationale = row[4].template as<std::string>();
    answer.evidence.page = row[5].template as<std::string>();
    answer.evidence.section = row[6].template as<std::string>();
    answer.evidence.quote = row[7].template as<std::string>();
    by_id.at(row[0].template as<int64_t>())->answers.push_back(std::move(answer));
  }
  for (auto& [id, assessment] : by_id) {
    std::sort(assessment->answers.begin(), assessment->answers.end(),
              [](const Answer& a, const Answer& b) { return a.criterion < b.criterion; });
  }
}

// Fills in the answers of `assessments` with one query.
void LoadAnswers(pqxx::transaction_base& txn, std::vector<Assessment>& assessments) {
  if (assessments.empty()) return;
  std::unordered_map<int64_t, Assessment*> by_id;
  std::vector<int64_t> ids;
  for (Assessment& assessment : assessments) {
    by_id[assessment.id] = &assessment;
    ids.push_back(assessment.id);
  }
  // The ids travel as one array parameter, e.g. "{3,7}". No ORDER BY: for a
  // whole review (a quarter of a million answers) the server's sort costs
  // more than sorting each assessment's few answers here.
  const pqxx::result rows = txn.exec_params(
      "SELECT assessment_id, criterion, option_ids, points, rationale, "
      "evidence_page, evidence_section, evidence_quote "
      "FROM assessment_answers WHERE assessment_id = ANY($1::bigint[])",
      absl::StrCat("{", absl::StrJoin(ids, ","), "}"));
  AttachAnswers(rows, by_id);
}

// Returns the assessments matching `where` (a constant SQL condition on
// table alias `a` with placeholders for `args`), answers included as
// `detail` says.
template <typename... Args>
std::vector<Assessment> QueryAssessments(pqxx::transaction_base& txn, AnswerDetail detail,
                                         const char* where, Args&&... args) {
  const pqxx::result rows =
      txn.exec_params(absl::StrCat("SELECT ", kAssessmentColumns, " FROM assessments a WHERE ",
                                   where, " ORDER BY a.study_id, a.rater_id, a.round"),
                      std::forward<Args>(args)...);
  std::vector<Assessment> assessments;
  assessments.reserve(rows.size());
  for (const pqxx::row& row : rows) assessments.push_back(ToAssessment(row));
  if (detail == AnswerDetail::kFull) {
    LoadAnswers(txn, assessments);
  } else {
    internal::LoadAnswerScores(txn, assessments);
  }
  return assessments;
}

// The same with whole answers.
template <typename... Args>
std::vector<Assessment> QueryAssessments(pqxx::transaction_base& txn, const char* where,
                                         Args&&... args) {
  return QueryAssessments(txn, AnswerDetail::kFull, where, std::forward<Args>(args)...);
}

absl::StatusOr<Assessment> QueryOneAssessment(pqxx::transaction_base& txn, int64_t id) {
  std::vector<Assessment> found = QueryAssessments(txn, "a.id = $1", id);
  if (found.empty()) return absl::NotFoundError(absl::StrCat("assessment ", id, " not found"));
  return std::move(found.front());
}

// `open_round`: whether rules can choose the round of an input with round 0.
absl::Status ValidateInput(const AssessmentInput& input, bool open_round) {
  if (input.round < (open_round ? 0 : 1)) {
    return absl::InvalidArgumentError(open_round ? "round must be 0 (the open round) or >= 1"
                                                 : "round must be >= 1");
  }
  if (input.instrument_version.empty() || input.server_version.empty()) {
    return absl::InvalidArgumentError("instrument_version and server_version are required");
  }
  std::set<int> seen;
  for (const Answer& answer : input.answers) {
    if (answer.criterion < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("criterion number ", answer.criterion, " must be >= 1"));
    }
    if (!seen.insert(answer.criterion).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("criterion ", answer.criterion, " is answered twice"));
    }
  }
  return absl::OkStatus();
}

// The answers as one JSON parameter, unpacked by jsonb_to_recordset: one
// statement for any number of answers, still fully parameterised.
std::string AnswersJson(const std::vector<Answer>& answers) {
  nlohmann::json json = nlohmann::json::array();
  for (const Answer& answer : answers) {
    json.push_back({{"criterion", answer.criterion},
                    {"option_ids", answer.option_ids},
                    {"points", answer.points},
                    {"rationale", answer.rationale},
                    {"evidence_page", answer.evidence.page},
                    {"evidence_section", answer.evidence.section},
                    {"evidence_quote", answer.evidence.quote}});
  }
  return json.dump();
}

// Creates or updates the DRAFT of (study, rater, round) of review
// `review_id` with `input`, answers included, inside `txn`. Returns its id.
absl::StatusOr<int64_t> WriteDraft(pqxx::transaction_base& txn, int64_t review_id,
                                   const AssessmentInput& input) {
  // One statement (one round trip) writes the whole draft. `d` inserts the
  // draft or updates the existing one; a submitted one is left alone (and
  // locked) and returns no row, so nothing else is written. Of an existing
  // draft, `dropped` deletes the answers the input no longer has and `written`
  // upserts the rest, leaving unchanged answers alone so that the audit log
  // records real changes. The two touch disjoint rows. The answers' foreign
  // key is checked at the end of the statement, when the new draft exists.
  const pqxx::result written = ExecPrepared(
      txn, "write_draft",
      "WITH d AS ("
      "  INSERT INTO assessments AS a (review_id, study_id, rater_id, round, status, "
      "    instrument_id, instrument_version, server_version) "
      "  SELECT r.id, $2, $3, $4, 'DRAFT', r.instrument_id, $5, $6 FROM reviews r WHERE r.id = $1 "
      "  ON CONFLICT (study_id, rater_id, round) DO UPDATE SET "
      "    instrument_version = EXCLUDED.instrument_version, "
      "    server_version = EXCLUDED.server_version, updated_at = now() "
      "  WHERE a.status = 'DRAFT' RETURNING a.id, a.xmax = 0 AS inserted), "
      "j AS (SELECT * FROM jsonb_to_recordset($7::jsonb) AS j(criterion integer, "
      "  option_ids jsonb, points integer, rationale text, evidence_page text, "
      "  evidence_section text, evidence_quote text)), "
      "dropped AS (DELETE FROM assessment_answers x USING d "
      "  WHERE NOT d.inserted AND x.assessment_id = d.id "
      "    AND x.criterion NOT IN (SELECT j.criterion FROM j)), "
      "written AS (INSERT INTO assessment_answers AS x (assessment_id, criterion, option_ids, "
      "    points, rationale, evidence_page, evidence_section, evidence_quote) "
      "  SELECT d.id, j.criterion, "
      "    ARRAY(SELECT o.value FROM jsonb_array_elements_text(j.option_ids) "
      "          WITH ORDINALITY AS o(value, n) ORDER BY o.n), "
      "    j.points, j.rationale, j.evidence_page, j.evidence_section, j.evidence_quote "
      "  FROM d, j "
      "  ON CONFLICT (assessment_id, criterion) DO UPDATE SET option_ids = EXCLUDED.option_ids, "
      "    points = EXCLUDED.points, rationale = EXCLUDED.rationale, "
      "    evidence_page = EXCLUDED.evidence_page, evidence_section = EXCLUDED.evidence_section, "
      "    evidence_quote = EXCLUDED.evidence_quote "
      "  WHERE (x.option_ids, x.points, x.rationale, x.evidence_page, x.evidence_section, "
      "    x.evidence_quote) IS DISTINCT FROM (EXCLUDED.option_ids, EXCLUDED.points, "
      "    EXCLUDED.rationale, EXCLUDED.evidence_page, EXCLUDED.evidence_section, "
      "    EXCLUDED.evidence_quote)) "
      "SELECT d.id FROM d",
      review_id, input.study_id, input.rater_id, input.round, input.instrument_version,
      input.server_version, AnswersJson(input.answers));
  if (written.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("the assessment of study ", input.study_id,
                                                      " by rater ", input.rater_id, " in round ",
                                                      input.round, " is already submitted"));
  }
  return written[0][0].as<int64_t>();
}

// The assessment just written from `input`: its row as `row` (the columns of
// kAssessmentColumns) and the input's answers, which are now exactly its
// stored answers. Saves reading back the 42 answers it has just sent.
Assessment WrittenAssessment(const pqxx::row& row, const AssessmentInput& input) {
  Assessment assessment = ToAssessment(row);
  assessment.answers = input.answers;
  std::sort(assessment.answers.begin(), assessment.answers.end(),
            [](const Answer& a, const Answer& b) { return a.criterion < b.criterion; });
  return assessment;
}

// Returns the assessment submitted by `rater_id` under `key`, if any.
std::optional<Assessment> FindByIdempotencyKey(pqxx::transaction_base& txn, int64_t rater_id,
                                               const std::string& key) {
  std::vector<Assessment> found =
      QueryAssessments(txn, "a.rater_id = $1 AND a.idempotency_key = $2", rater_id, key);
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

// Whether `assessment` answers the same submission as `input`; an input for
// the open round (0) matches any round of the study.
bool SameSubmission(const Assessment& assessment, const AssessmentInput& input) {
  return assessment.study_id == input.study_id &&
         (input.round == 0 || assessment.round == input.round);
}

// The first submission under the input's idempotency key, `replay_id`:
// nullopt if the key is new, ALREADY_EXISTS if it was used for another
// submission.
absl::StatusOr<std::optional<SubmitResult>> FindReplay(pqxx::transaction_base& txn,
                                                       const AssessmentInput& input,
                                                       std::optional<int64_t> replay_id) {
  if (!replay_id.has_value()) return std::nullopt;
  RQS_ASSIGN_OR_RETURN(Assessment first, QueryOneAssessment(txn, *replay_id));
  if (!SameSubmission(first, input)) {
    return absl::AlreadyExistsError(absl::StrCat("idempotency key '", input.idempotency_key,
                                                 "' was already used for another submission "
                                                 "(assessment ",
                                                 first.id, ")"));
  }
  return SubmitResult{std::move(first), true};
}

// --- Consensus ---

// Whether the review has an assessment (its policy is then fixed) is the
// first row of assessments_review (review_id, study_id) in index order. As
// EXISTS, PostgreSQL estimated a review's share of the table from the number
// of reviews and chose a sequential scan, expecting a match within a few
// rows; a review created after others found its rows at the end of the
// table, and every write to it read the whole table (35 ms per submission
// at 220,000 assessments). The order by study_id leaves the index as the
// only cheap way to the first row.
constexpr char kPolicyColumns[] =
    "p.review_id, p.agreement_threshold, p.max_rounds, p.stop_when_stable, "
    "p.level_threshold_percent, p.share_rationales, p.label_salt, "
    "coalesce((SELECT true FROM assessments a WHERE a.review_id = p.review_id "
    "          ORDER BY a.study_id LIMIT 1), false), "
    "rqs_unix_micros(p.updated_at)";

ReviewPolicy ToPolicy(const pqxx::row& row) {
  ReviewPolicy policy;
  policy.review_id = row[0].as<int64_t>();
  policy.policy.agreement_threshold = row[1].as<double>();
  policy.policy.max_rounds = row[2].as<int>();
  policy.policy.stop_when_stable = row[3].as<bool>();
  policy.policy.level_threshold_percent = row[4].as<double>();
  policy.policy.share_rationales = row[5].as<bool>();
  policy.label_salt = row[6].as<std::string>();
  policy.locked = row[7].as<bool>();
  policy.updated_at = TimeAt(row[8]);
  return policy;
}

// Reads the policy without locking it; NOT_FOUND if the review has none.
absl::StatusOr<ReviewPolicy> ReadPolicy(pqxx::transaction_base& txn, int64_t review_id) {
  const pqxx::result rows = ExecPrepared(
      txn, "read_policy",
      absl::StrCat("SELECT ", kPolicyColumns, " FROM review_policies p WHERE p.review_id = $1"),
      review_id);
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("review ", review_id, " not found"));
  return ToPolicy(rows[0]);
}

// Takes a share lock on the review's policy row, then reads it. The read is a
// separate statement on purpose: in READ COMMITTED only a statement started
// after the lock was granted sees what the lock holder before us committed.
absl::StatusOr<ReviewPolicy> ReadPolicyForShare(pqxx::transaction_base& txn, int64_t review_id) {
  if (ExecPrepared(txn, "share_policy",
                   "SELECT 1 FROM review_policies WHERE review_id = $1 FOR SHARE", review_id)
          .empty()) {
    return absl::NotFoundError(absl::StrCat("review ", review_id, " not found"));
  }
  return ReadPolicy(txn, review_id);
}

template <typename Enum, size_t N>
std::optional<Enum> ParseByName(std::string_view name, const Enum (&values)[N],
                                std::string_view (*name_of)(Enum)) {
  for (Enum value : values) {
    if (name_of(value) == name) return value;
  }
  return std::nullopt;
}

// scoring's names, as the std::string_view that ParseByName compares.
std::string_view DecisionName(scoring::StudyDecision decision) {
  const absl::string_view name = scoring::StudyDecisionName(decision);
  return std::string_view(name.data(), name.size());
}

std::string_view EndReasonNameOf(scoring::EndReason reason) {
  const absl::string_view name = scoring::EndReasonName(reason);
  return std::string_view(name.data(), name.size());
}

constexpr RoundCloseReason kCloseReasons[] = {RoundCloseReason::kAllSubmitted,
                                              RoundCloseReason::kCoordinator};
constexpr scoring::StudyDecision kDecisions[] = {scoring::StudyDecision::kContinue,
                                                 scoring::StudyDecision::kConsensus,
                                                 scoring::StudyDecision::kAdjudicate};
constexpr scoring::EndReason kEndReasons[] = {
    scoring::EndReason::kNone, scoring::EndReason::kAllAgreed, scoring::EndReason::kMaxRounds,
    scoring::EndReason::kStable};
constexpr ReviewEventKind kEventKinds[] = {
    ReviewEventKind::kSubmissionReceived, ReviewEventKind::kRoundClosed,
    ReviewEventKind::kAdjudicationRequired, ReviewEventKind::kStudyFinalised};

// A JSON array as PostgreSQL's array_to_json prints it; NULL reads as empty.
template <typename T>
std::vector<T> JsonArray(const pqxx::field& field) {
  if (field.is_null()) return {};
  return nlohmann::json::parse(field.as<std::string>()).get<std::vector<T>>();
}

std::string BigintArray(const std::vector<int64_t>& values) {
  return absl::StrCat("{", absl::StrJoin(values, ","), "}");
}

// Answers as stored by AnswersJson (study_consensus.answers).
std::vector<Answer> AnswersFromJson(const std::string& text) {
  std::vector<Answer> answers;
  for (const nlohmann::json& item : nlohmann::json::parse(text)) {
    Answer answer;
    answer.criterion = item.at("criterion").get<int>();
    answer.option_ids = item.at("option_ids").get<std::vector<std::string>>();
    answer.points = item.at("points").get<int>();
    answer.rationale = item.at("rationale").get<std::string>();
    answer.evidence.page = item.at("evidence_page").get<std::string>();
    answer.evidence.section = item.at("evidence_section").get<std::string>();
    answer.evidence.quote = item.at("evidence_quote").get<std::string>();
    answers.push_back(std::move(answer));
  }
  return answers;
}

// Which studies LoadStates reads: those of the review ($1) whose id is in
// $2, a bigint[] literal; all of them when $2 is empty. The condition folds
// to one of its branches when planned with the actual parameters.
std::string InIds(absl::string_view id_column) {
  return absl::StrCat("(cardinality($2::bigint[]) = 0 OR ", id_column, " = ANY($2::bigint[]))");
}

// The same for a table with review_id and study_id columns.
std::string InScope(absl::string_view table) {
  return absl::StrCat(table, ".review_id = $1 AND ", InIds(absl::StrCat(table, ".study_id")));
}

// The parts of a study's consensus state, each read by one query of
// LoadStates: its columns (read by position by LoadStates), their number,
// its table, the alias and study column its scope applies to, a further
// condition and the order of its rows.
enum StatePartId {
  kStudiesPart,
  kPanelPart,
  kSubmissionsPart,
  kSubmittedAnswersPart,
  kRoundsPart,
  kCriteriaPart,
  kAdjudicationsPart,
  kConsensusPart,
  kDraftsPart,
  kStatePartCount
};

struct StatePart {
  const char* columns;
  int width;
  const char* from;
  const char* alias;
  const char* study_column;
  const char* condition;
  const char* order;
};

constexpr int kMaxStatePartWidth = 13;

const StatePart& StatePartOf(StatePartId id) {
  static const StatePart kParts[kStatePartCount] = {
      {kStudyColumns, 10, "studies s", "s", "id", "", "s.id"},
      {"g.study_id, g.rater_id", 2, "assignments g", "g", "study_id", "", "g.study_id, g.rater_id"},
      {kAssessmentColumns, 13, "assessments a", "a", "study_id", " AND a.status = 'SUBMITTED'",
       "a.study_id, a.rater_id, a.round"},
      // Read with the other parts for one study only; LoadAnswers otherwise.
      {"x.assessment_id, x.criterion, x.option_ids, x.points, x.rationale, x.evidence_page, "
       "x.evidence_section, x.evidence_quote",
       8, "assessment_answers x JOIN assessments a ON a.id = x.assessment_id", "a", "study_id",
       " AND a.status = 'SUBMITTED'", ""},
      {"r.study_id, r.round, r.close_reason, coalesce(r.closed_by, 0), "
       "rqs_unix_micros(r.closed_at), array_to_json(r.missing_rater_ids)::text, "
       "r.changed_answers, r.decision, r.end_reason",
       9, "study_rounds r", "r", "study_id", "", "r.study_id, r.round"},
      {"c.study_id, c.round, c.criterion, c.agreed, coalesce(c.agreed_key, ''), "
       "c.agreed_option_ids, c.agreed_points, c.distribution::text, c.raters_answered, "
       "c.required",
       10, "round_criteria c JOIN study_rounds r ON r.study_id = c.study_id AND r.round = c.round",
       "r", "study_id", "", ""},
      {"j.study_id, j.criterion, j.option_ids, j.points, j.awarded_points, j.reason, "
       "j.adjudicated_by, rqs_unix_micros(j.adjudicated_at)",
       8, "adjudications j", "j", "study_id", "", "j.study_id, j.criterion"},
      {"k.study_id, k.total, k.max_total, k.percent, k.attained_level, "
       "rqs_unix_micros(k.finalised_at), k.answers::text",
       7, "study_consensus k", "k", "study_id", "", ""},
      {"a.study_id, a.rater_id, a.round", 3, "assessments a", "a", "study_id",
       " AND a.status = 'DRAFT'", "a.study_id, a.rater_id"},
  };
  return kParts[id];
}

// The review-wide query of a part: review $1, study ids $2 (see InIds).
std::string StatePartSql(StatePartId id) {
  const StatePart& part = StatePartOf(id);
  return absl::StrCat("SELECT ", part.columns, " FROM ", part.from, " WHERE ", part.alias,
                      ".review_id = $1 AND ",
                      InIds(absl::StrCat(part.alias, ".", part.study_column)), part.condition,
                      *part.order != '\0' ? " ORDER BY " : "", part.order);
}

// Every part of one study's state (review $1, study $2) in one statement:
// each row is (part, its position in the part, the part's columns as text,
// NULL-padded). Text, so that the parts share columns; the text forms parse
// as the columns' own values do. Every submission reads one study's state,
// so one round trip instead of nine matters.
std::string OneStudyStateSql() {
  std::vector<std::string> branches;
  for (int id = 0; id < kStatePartCount; ++id) {
    const StatePart& part = StatePartOf(static_cast<StatePartId>(id));
    std::vector<std::string> names;
    std::vector<std::string> texts;
    for (int column = 1; column <= kMaxStatePartWidth; ++column) {
      if (column <= part.width) {
        names.push_back(absl::StrCat("c", column));
        texts.push_back(absl::StrCat("t.c", column, "::text"));
      } else {
        texts.push_back("NULL");
      }
    }
    branches.push_back(absl::StrCat(
        "SELECT ", id, ", t.n, ", absl::StrJoin(texts, ", "), " FROM (SELECT ", part.columns,
        ", row_number() OVER (", *part.order != '\0' ? "ORDER BY " : "", part.order, ") FROM ",
        part.from, " WHERE ", part.alias, ".review_id = $1 AND ", part.alias, ".",
        part.study_column, " = $2", part.condition, ") AS t(", absl::StrJoin(names, ", "), ", n)"));
  }
  return absl::StrCat(absl::StrJoin(branches, " UNION ALL "), " ORDER BY 1, 2");
}

// Reads every part of one study's state in one prepared statement; returns
// each part's rows, sliced to the part's columns.
std::vector<std::vector<pqxx::row>> ReadOneStudyState(pqxx::transaction_base& txn,
                                                      int64_t review_id, int64_t study_id) {
  static const std::string sql = OneStudyStateSql();
  std::vector<std::vector<pqxx::row>> parts(kStatePartCount);
  const pqxx::result rows = ExecPrepared(txn, "one_study_state", sql, review_id, study_id);
  for (const pqxx::row& row : rows) {
    const int id = row[0].as<int>();
    const pqxx::row::size_type width =
        static_cast<pqxx::row::size_type>(StatePartOf(static_cast<StatePartId>(id)).width);
    parts.at(static_cast<size_t>(id)).push_back(row.slice(2, 2 + width));
  }
  return parts;
}

// Reads the consensus state of the review's studies in `study_ids` (all if
// empty), ordered by study id, with a fixed number of set-based queries
// however many studies there are (one for a single study).
std::vector<StudyConsensusState> LoadStates(pqxx::transaction_base& txn, int64_t review_id,
                                            const std::vector<int64_t>& study_ids,
                                            StateDetail detail = StateDetail::kFull) {
  const bool full = detail == StateDetail::kFull;
  const std::string ids = BigintArray(study_ids);
  // A single study is always read in full, in one statement.
  const bool one = study_ids.size() == 1 && full;
  std::vector<std::vector<pqxx::row>> one_study;
  if (one) one_study = ReadOneStudyState(txn, review_id, study_ids[0]);
  const auto part_rows = [&](StatePartId id) -> std::vector<pqxx::row> {
    if (one) return std::move(one_study[id]);
    const pqxx::result result = txn.exec_params(StatePartSql(id), review_id, ids);
    return std::vector<pqxx::row>(result.begin(), result.end());
  };
  const auto part_rows_sql = [&](const std::string& sql) -> std::vector<pqxx::row> {
    const pqxx::result result = txn.exec_params(sql, review_id, ids);
    return std::vector<pqxx::row>(result.begin(), result.end());
  };
  std::vector<StudyConsensusState> states;
  std::unordered_map<int64_t, StudyConsensusState*> by_id;
  for (const pqxx::row& row : part_rows(kStudiesPart)) {
    states.emplace_back();
    states.back().study = ToStudy(row);
  }
  for (StudyConsensusState& state : states) by_id[state.study.id] = &state;
  const auto state_of = [&](const pqxx::field& study_id) -> StudyConsensusState& {
    return *by_id.at(study_id.as<int64_t>());
  };

  for (const pqxx::row& row : part_rows(kPanelPart)) {
    state_of(row[0]).panel.push_back(row[1].as<int64_t>());
  }

  std::vector<Assessment> submitted;
  for (const pqxx::row& row : part_rows(kSubmissionsPart)) {
    submitted.push_back(ToAssessment(row));
  }
  if (one) {
    std::unordered_map<int64_t, Assessment*> submitted_by_id;
    for (Assessment& assessment : submitted) submitted_by_id[assessment.id] = &assessment;
    AttachAnswers(part_rows(kSubmittedAnswersPart), submitted_by_id);
  } else if (full) {
    LoadAnswers(txn, submitted);
  } else {
    internal::LoadAnswerScores(txn, submitted);
  }
  for (Assessment& assessment : submitted) {
    by_id.at(assessment.study_id)->submissions.push_back(std::move(assessment));
  }
  for (StudyConsensusState& state : states) {
    std::stable_sort(state.submissions.begin(), state.submissions.end(),
                     [](const Assessment& a, const Assessment& b) {
                       return std::make_pair(a.round, a.rater_id) <
                              std::make_pair(b.round, b.rater_id);
                     });
  }

  for (const pqxx::row& row : part_rows(kRoundsPart)) {
    ClosedRound round;
    round.round = row[1].as<int>();
    round.reason =
        Require(ParseByName(row[2].as<std::string>(), kCloseReasons, &RoundCloseReasonName),
                "round close reason");
    round.closed_by = row[3].as<int64_t>();
    round.closed_at = TimeAt(row[4]);
    round.missing_rater_ids = JsonArray<int64_t>(row[5]);
    round.changed_answers = row[6].as<bool>();
    round.decision =
        Require(ParseByName(row[7].as<std::string>(), kDecisions, &DecisionName), "decision");
    round.end_reason =
        Require(ParseByName(row[8].as<std::string>(), kEndReasons, &EndReasonNameOf), "end reason");
    state_of(row[0]).rounds.push_back(std::move(round));
  }

  if (full) {
    // A review repeats a few distinct distributions and agreed options over
    // tens of thousands of rows: each distinct text is parsed once.
    std::unordered_map<std::string, std::vector<std::pair<std::string, int>>> distributions;
    std::unordered_map<std::string, std::vector<std::string>> option_lists;
    for (const pqxx::row& row : part_rows(kCriteriaPart)) {
      RoundCriterionRecord criterion;
      criterion.criterion = row[2].as<int>();
      criterion.agreed = row[3].as<bool>();
      criterion.agreed_key = row[4].as<std::string>();
      auto options = option_lists.find(row[5].c_str());
      if (options == option_lists.end()) {
        options = option_lists.emplace(row[5].c_str(), TextArray(row[5])).first;
      }
      criterion.agreed_option_ids = options->second;
      criterion.agreed_points = row[6].as<int>();
      auto distribution = distributions.find(row[7].c_str());
      if (distribution == distributions.end()) {
        std::vector<std::pair<std::string, int>> parsed;
        const nlohmann::json json = nlohmann::json::parse(row[7].c_str());
        // nlohmann's objects iterate in key order, the order promised.
        for (const auto& [key, count] : json.items()) parsed.emplace_back(key, count.get<int>());
        distribution = distributions.emplace(row[7].c_str(), std::move(parsed)).first;
      }
      criterion.distribution = distribution->second;
      criterion.raters_answered = row[8].as<int>();
      criterion.required = row[9].as<int>();
      // Rounds are ordered and numbered from 1, so round n sits at n - 1.
      state_of(row[0])
          .rounds.at(static_cast<size_t>(row[1].as<int>() - 1))
          .criteria.push_back(std::move(criterion));
    }
  } else {
    // Criterion numbers and agreed flags from the rounds' copies (migration
    // 0004), or from their rows for rounds without one.
    std::set<std::pair<int64_t, int>> copied;
    for (const pqxx::row& row :
         txn.exec_params(absl::StrCat("SELECT o.study_id, o.round, o.criteria, o.agreed "
                                      "FROM round_outcomes o WHERE ",
                                      InScope("o")),
                         review_id, ids)) {
      const std::vector<int> numbers =
          internal::ParseIntArray(absl::string_view(row[2].c_str(), row[2].size()));
      const std::vector<bool> agreed =
          internal::ParseBoolArray(absl::string_view(row[3].c_str(), row[3].size()));
      if (numbers.size() != agreed.size()) {
        throw std::runtime_error("round outcome criteria and agreed flags differ in number");
      }
      const int round = row[1].as<int>();
      std::vector<RoundCriterionRecord>& criteria =
          state_of(row[0]).rounds.at(static_cast<size_t>(round - 1)).criteria;
      criteria.resize(numbers.size());
      for (std::size_t i = 0; i < numbers.size(); ++i) {
        criteria[i].criterion = numbers[i];
        criteria[i].agreed = agreed[i];
      }
      copied.emplace(row[0].as<int64_t>(), round);
    }
    std::vector<int64_t> uncopied_studies;
    std::vector<int64_t> uncopied_rounds;
    for (const StudyConsensusState& state : states) {
      for (const ClosedRound& round : state.rounds) {
        if (copied.count({state.study.id, round.round}) > 0) continue;
        uncopied_studies.push_back(state.study.id);
        uncopied_rounds.push_back(round.round);
      }
    }
    if (!uncopied_studies.empty()) {
      for (const pqxx::row& row : txn.exec_params(
               "SELECT c.study_id, c.round, c.criterion, c.agreed FROM round_criteria c "
               "JOIN unnest($1::bigint[], $2::bigint[]) AS u(study_id, round) "
               "ON c.study_id = u.study_id AND c.round = u.round",
               BigintArray(uncopied_studies), BigintArray(uncopied_rounds))) {
        RoundCriterionRecord criterion;
        criterion.criterion = row[2].as<int>();
        criterion.agreed = row[3].as<bool>();
        state_of(row[0])
            .rounds.at(static_cast<size_t>(row[1].as<int>() - 1))
            .criteria.push_back(criterion);
      }
    }
  }

  // Unsorted, like the answers (see LoadAnswers): sorted below.
  for (StudyConsensusState& state : states) {
    for (ClosedRound& round : state.rounds) {
      std::sort(round.criteria.begin(), round.criteria.end(),
                [](const RoundCriterionRecord& a, const RoundCriterionRecord& b) {
                  return a.criterion < b.criterion;
                });
    }
  }

  for (const pqxx::row& row : part_rows(kAdjudicationsPart)) {
    AdjudicationRecord adjudication;
    adjudication.criterion = row[1].as<int>();
    adjudication.option_ids = TextArray(row[2]);
    if (!row[3].is_null()) adjudication.points = row[3].as<int>();
    adjudication.awarded_points = row[4].as<int>();
    adjudication.reason = row[5].as<std::string>();
    adjudication.adjudicated_by = row[6].as<int64_t>();
    adjudication.adjudicated_at = TimeAt(row[7]);
    state_of(row[0]).adjudications.push_back(std::move(adjudication));
  }

  // Without texts, the answers come from their compact copy (migration
  // 0004): parsing a review's consensus as JSON would cost as much as the
  // rest of its state.
  for (const pqxx::row& row :
       full ? part_rows(kConsensusPart)
            : part_rows_sql(absl::StrCat(
                  "SELECT k.study_id, k.total, k.max_total, k.percent, k.attained_level, "
                  "rqs_unix_micros(k.finalised_at), k.answer_scores FROM study_consensus k "
                  "WHERE ",
                  InScope("k")))) {
    StudyConsensusRecord consensus;
    consensus.total = row[1].as<int>();
    consensus.max_total = row[2].as<int>();
    consensus.percent = row[3].as<double>();
    consensus.attained_level = row[4].as<int>();
    consensus.finalised_at = TimeAt(row[5]);
    consensus.answers =
        full ? AnswersFromJson(row[6].as<std::string>())
             : internal::ParseAnswerScores(absl::string_view(row[6].c_str(), row[6].size()));
    state_of(row[0]).consensus = std::move(consensus);
  }

  // Drafts count only in the open round: the one after the last closed round
  // while the study continues, none once it ended.
  std::map<int64_t, int> open_round;
  for (const StudyConsensusState& state : states) {
    const bool open =
        state.rounds.empty() || state.rounds.back().decision == scoring::StudyDecision::kContinue;
    open_round[state.study.id] = open ? static_cast<int>(state.rounds.size()) + 1 : 0;
  }
  for (const pqxx::row& row : part_rows(kDraftsPart)) {
    const int64_t study_id = row[0].as<int64_t>();
    if (row[2].as<int>() == open_round.at(study_id)) {
      by_id.at(study_id)->drafting.push_back(row[1].as<int64_t>());
    }
  }
  return states;
}

// What an assessment write holds and reads before writing.
struct LockedForAssessment {
  ReviewPolicy policy;  // Of the study's review; policy.review_id is the review.
  // The rater's assessment already submitted under the input's idempotency
  // key, if any (read as the statement started: a concurrent first attempt
  // that commits while we wait for the lock is caught by the unique key on
  // write, and then SubmitAssessment returns it).
  std::optional<int64_t> replay_id;
};

// The columns after kPolicyColumns of LockForAssessment's statement: the
// replay's id, then the audit settings (BeginAudited's, set as the row is
// read; their values are not used), then the transaction's plan cache mode.
// Every later statement of an assessment write, the triggers' included,
// finds its rows by key, so one generic plan per connection serves it. Left
// to choose, PostgreSQL planned some of them anew on every call, depending
// on the tables' statistics: in one run the one-study state (nine joined
// parts) took 1.1 ms to plan and 0.07 ms to run, and planning took 1.5 ms
// of a submission's 5 ms in the database.
constexpr char kLockedReplayAndAudit[] =
    "(SELECT x.id FROM assessments x WHERE x.rater_id = $2 AND x.idempotency_key = $3), "
    "set_config('rqs.actor_id', $4, true), set_config('rqs.action', $5, true), "
    "set_config('plan_cache_mode', 'force_generic_plan', true)";
constexpr char kLockedRows[] =
    "studies s JOIN review_policies p ON p.review_id = s.review_id WHERE s.id = $1";

// Locks the study and then the review's policy FOR SHARE, as every
// consensus write does (several studies: by id first, then the policy), and
// reads the policy and the replay, all in one statement. `exclusive` locks
// the study FOR UPDATE (its consensus state is about to be read and acted
// on), otherwise FOR SHARE (a plain write that must not interleave with a
// transition). Within one statement PostgreSQL may take the two locks in
// either order; that cannot deadlock: only SetReviewPolicy locks a policy
// exclusively, and it locks no study.
// A draft has no idempotency key: `idempotency_key` "" finds no replay.
// The same statement starts the audit of the transaction (BeginAudited) for
// `action` by `actor_id`, before anything is written.
absl::StatusOr<LockedForAssessment> LockForAssessment(pqxx::transaction_base& txn,
                                                      std::string_view action, int64_t actor_id,
                                                      int64_t study_id, int64_t rater_id,
                                                      const std::string& idempotency_key,
                                                      bool exclusive) {
  static const std::string* const kSql[2] = {
      new std::string(absl::StrCat(
          "SELECT ", kPolicyColumns, ", ", kLockedReplayAndAudit, " FROM ", kLockedRows,
          " FOR SHARE OF s, p")),
      new std::string(absl::StrCat("SELECT ", kPolicyColumns, ", ", kLockedReplayAndAudit,
                                   " FROM ", kLockedRows, " FOR UPDATE OF s FOR SHARE OF p")),
  };
  const pqxx::result rows =
      ExecPrepared(txn, exclusive ? "lock_for_assessment" : "share_for_assessment",
                   *kSql[exclusive ? 1 : 0], study_id, rater_id, idempotency_key,
                   AuditActor(actor_id), std::string(action));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("study ", study_id, " not found"));
  }
  LockedForAssessment locked;
  locked.policy = ToPolicy(rows[0]);
  if (!rows[0][9].is_null()) locked.replay_id = rows[0][9].as<int64_t>();
  return locked;
}

struct PendingEvent {
  int64_t study_id = 0;
  int round = 0;
  ReviewEventKind kind = ReviewEventKind::kSubmissionReceived;
  int64_t rater_id = 0;
};

// Records `events` in order, in the outbox of review events
// (0003_event_outbox.sql): no lock, so concurrent changes to one review
// commit together. Readers give them their ids in commit order
// (SequenceEvents).
void InsertEvents(pqxx::transaction_base& txn, int64_t review_id,
                  const std::vector<PendingEvent>& events) {
  if (events.empty()) return;
  nlohmann::json json = nlohmann::json::array();
  for (const PendingEvent& event : events) {
    json.push_back({{"study_id", event.study_id},
                    {"round", event.round},
                    {"kind", std::string(ReviewEventKindName(event.kind))},
                    {"rater_id", event.rater_id}});
  }
  ExecPrepared(txn, "insert_review_events",
               "INSERT INTO review_event_outbox (review_id, study_id, round, kind, rater_id) "
               "SELECT $1, e.study_id, e.round, e.kind, NULLIF(e.rater_id, 0) "
               "FROM ROWS FROM (jsonb_to_recordset($2::jsonb) "
               "  AS (study_id bigint, round integer, kind text, rater_id bigint)) "
               "  WITH ORDINALITY AS e(study_id, round, kind, rater_id, n) "
               "ORDER BY e.n",
               review_id, json.dump());
}

// Moves the review's committed events from the outbox into review_events,
// where they get their ids in commit order. Its own transaction (the
// statement commits on its own): the per-review lock it takes is held
// until then.
void SequenceEvents(pqxx::nontransaction& txn, int64_t review_id) {
  ExecPrepared(txn, "sequence_review_events", "SELECT rqs_sequence_review_events($1)", review_id);
}

absl::Status ValidateClosedRound(const StudyConsensusState& state, const ClosedRound& round) {
  const int64_t study_id = state.study.id;
  const int next = static_cast<int>(state.rounds.size()) + 1;
  if (!state.rounds.empty() && state.rounds.back().decision != scoring::StudyDecision::kContinue) {
    return absl::FailedPreconditionError(absl::StrCat("study ", study_id, " ended after round ",
                                                      state.rounds.size(), "; no round is open"));
  }
  if (round.round != next) {
    return absl::FailedPreconditionError(absl::StrCat("study ", study_id, ": cannot close round ",
                                                      round.round, "; the open round is ", next));
  }
  int previous = 0;
  for (const RoundCriterionRecord& criterion : round.criteria) {
    if (criterion.criterion <= previous) {
      return absl::InvalidArgumentError(
          absl::StrCat("study ", study_id, " round ", round.round,
                       ": criteria must be >= 1, sorted and unique; got ", criterion.criterion,
                       " after ", previous));
    }
    previous = criterion.criterion;
    std::set<std::string> keys;
    for (const auto& [key, count] : criterion.distribution) {
      if (!keys.insert(key).second) {
        return absl::InvalidArgumentError(absl::StrCat("study ", study_id, " round ", round.round,
                                                       " criterion ", criterion.criterion,
                                                       ": answer '", key, "' counted twice"));
      }
    }
  }
  return absl::OkStatus();
}

void InsertClosedRound(pqxx::transaction_base& txn, int64_t review_id, int64_t study_id,
                       const ClosedRound& round) {
  txn.exec_params(
      "INSERT INTO study_rounds (study_id, review_id, round, close_reason, closed_by, "
      "missing_rater_ids, changed_answers, decision, end_reason) "
      "VALUES ($1, $2, $3, $4, NULLIF($5::bigint, 0), $6::bigint[], $7, $8, $9)",
      study_id, review_id, round.round, std::string(RoundCloseReasonName(round.reason)),
      round.closed_by, BigintArray(round.missing_rater_ids), round.changed_answers,
      std::string(DecisionName(round.decision)), std::string(EndReasonNameOf(round.end_reason)));
  if (round.criteria.empty()) return;
  nlohmann::json criteria = nlohmann::json::array();
  for (const RoundCriterionRecord& criterion : round.criteria) {
    nlohmann::json distribution = nlohmann::json::object();
    for (const auto& [key, count] : criterion.distribution) distribution[key] = count;
    criteria.push_back({{"criterion", criterion.criterion},
                        {"agreed", criterion.agreed},
                        {"agreed_key", criterion.agreed_key},
                        {"agreed_option_ids", criterion.agreed_option_ids},
                        {"agreed_points", criterion.agreed_points},
                        {"distribution", distribution},
                        {"raters_answered", criterion.raters_answered},
                        {"required", criterion.required}});
  }
  // An empty key means "none" (NULL), which the schema requires exactly when
  // the criterion was not agreed.
  txn.exec_params(
      "INSERT INTO round_criteria (study_id, round, criterion, agreed, agreed_key, "
      "agreed_option_ids, agreed_points, distribution, raters_answered, required) "
      "SELECT $1, $2, j.criterion, j.agreed, NULLIF(j.agreed_key, ''), "
      "  ARRAY(SELECT o.value FROM jsonb_array_elements_text(j.agreed_option_ids) "
      "        WITH ORDINALITY AS o(value, n) ORDER BY o.n), "
      "  j.agreed_points, j.distribution, j.raters_answered, j.required "
      "FROM jsonb_to_recordset($3::jsonb) AS j(criterion integer, agreed boolean, "
      "  agreed_key text, agreed_option_ids jsonb, agreed_points integer, distribution jsonb, "
      "  raters_answered integer, required integer)",
      study_id, round.round, criteria.dump());
}

// Checks and stores `write` for the locked study whose current state is
// `state`, queueing its events. Shared by TransitionStudies and
// SubmitAssessment's on_round_complete.
absl::Status ApplyTransitionWrite(pqxx::transaction_base& txn, int64_t review_id, int64_t actor_id,
                                  const StudyConsensusState& state,
                                  const StudyTransitionWrite& write,
                                  std::vector<PendingEvent>& events) {
  const int64_t study_id = state.study.id;
  int last_round = static_cast<int>(state.rounds.size());
  if (write.closed_round.has_value()) {
    RQS_RETURN_IF_ERROR(ValidateClosedRound(state, *write.closed_round));
    InsertClosedRound(txn, review_id, study_id, *write.closed_round);
    last_round = write.closed_round->round;
    events.push_back({study_id, last_round, ReviewEventKind::kRoundClosed, 0});
    if (write.closed_round->decision == scoring::StudyDecision::kAdjudicate) {
      events.push_back({study_id, last_round, ReviewEventKind::kAdjudicationRequired, 0});
    }
  }
  if (!write.adjudications.empty()) {
    std::set<int> adjudicated;
    for (const AdjudicationRecord& existing : state.adjudications) {
      adjudicated.insert(existing.criterion);
    }
    nlohmann::json adjudications = nlohmann::json::array();
    for (const AdjudicationRecord& adjudication : write.adjudications) {
      // The primary key catches this too; checking first names the criterion.
      if (!adjudicated.insert(adjudication.criterion).second) {
        return absl::AlreadyExistsError(absl::StrCat("criterion ", adjudication.criterion,
                                                     " of study ", study_id,
                                                     " is already adjudicated"));
      }
      adjudications.push_back(
          {{"criterion", adjudication.criterion},
           {"option_ids", adjudication.option_ids},
           {"points", adjudication.points.has_value() ? nlohmann::json(*adjudication.points)
                                                      : nlohmann::json()},
           {"awarded_points", adjudication.awarded_points},
           {"reason", adjudication.reason},
           {"adjudicated_by",
            adjudication.adjudicated_by != 0 ? adjudication.adjudicated_by : actor_id}});
    }
    txn.exec_params(
        "INSERT INTO adjudications (study_id, review_id, criterion, option_ids, points, "
        "awarded_points, reason, adjudicated_by) "
        "SELECT $1, $2, j.criterion, "
        "  ARRAY(SELECT o.value FROM jsonb_array_elements_text(j.option_ids) "
        "        WITH ORDINALITY AS o(value, n) ORDER BY o.n), "
        "  j.points, j.awarded_points, j.reason, NULLIF(j.adjudicated_by, 0) "
        "FROM jsonb_to_recordset($3::jsonb) AS j(criterion integer, option_ids jsonb, "
        "  points integer, awarded_points integer, reason text, adjudicated_by bigint)",
        study_id, review_id, adjudications.dump());
  }
  if (write.consensus.has_value()) {
    if (state.consensus.has_value()) {
      return absl::AlreadyExistsError(absl::StrCat("study ", study_id, " is already finalised"));
    }
    const StudyConsensusRecord& consensus = *write.consensus;
    txn.exec_params(
        "INSERT INTO study_consensus (study_id, review_id, answers, total, max_total, percent, "
        "attained_level) VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)",
        study_id, review_id, AnswersJson(consensus.answers), consensus.total, consensus.max_total,
        consensus.percent, consensus.attained_level);
    events.push_back({study_id, last_round, ReviewEventKind::kStudyFinalised, 0});
  }
  return absl::OkStatus();
}

// `state` with `submitted` added, as LoadStates would read it once the
// submission commits: among the submissions in (round, rater) order, and no
// longer drafting.
StudyConsensusState WithSubmission(StudyConsensusState state, Assessment submitted) {
  const int64_t rater_id = submitted.rater_id;
  state.drafting.erase(std::remove(state.drafting.begin(), state.drafting.end(), rater_id),
                       state.drafting.end());
  const auto key = [](const Assessment& a) { return std::make_pair(a.round, a.rater_id); };
  std::vector<Assessment>& submissions = state.submissions;
  const auto position =
      std::upper_bound(submissions.begin(), submissions.end(), submitted,
                       [&](const Assessment& a, const Assessment& b) { return key(a) < key(b); });
  submissions.insert(position, std::move(submitted));
  return state;
}

// Returns whether every rater on the study's panel (at least one) has
// submitted `round`.
bool PanelSubmitted(const StudyConsensusState& state, int round) {
  if (state.panel.empty()) return false;
  for (const int64_t rater_id : state.panel) {
    const bool submitted = std::any_of(
        state.submissions.begin(), state.submissions.end(),
        [&](const Assessment& a) { return a.rater_id == rater_id && a.round == round; });
    if (!submitted) return false;
  }
  return true;
}

// The isolation of consensus reads: one snapshot for every query, without
// SERIALIZABLE's predicate locks on the many rows a review state reads.
using SnapshotTransaction = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

}  // namespace

std::string_view ReviewStatusName(ReviewStatus status) {
  switch (status) {
    case ReviewStatus::kOpen:
      return "OPEN";
    case ReviewStatus::kClosed:
      return "CLOSED";
  }
  return "";
}

std::string_view ReviewRoleName(ReviewRole role) {
  switch (role) {
    case ReviewRole::kCoordinator:
      return "COORDINATOR";
    case ReviewRole::kRater:
      return "RATER";
    case ReviewRole::kObserver:
      return "OBSERVER";
  }
  return "";
}

std::string_view AssessmentStatusName(AssessmentStatus status) {
  switch (status) {
    case AssessmentStatus::kDraft:
      return "DRAFT";
    case AssessmentStatus::kSubmitted:
      return "SUBMITTED";
  }
  return "";
}

std::string_view RoundCloseReasonName(RoundCloseReason reason) {
  switch (reason) {
    case RoundCloseReason::kAllSubmitted:
      return "ALL_SUBMITTED";
    case RoundCloseReason::kCoordinator:
      return "COORDINATOR";
  }
  return "";
}

std::string_view ReviewEventKindName(ReviewEventKind kind) {
  switch (kind) {
    case ReviewEventKind::kSubmissionReceived:
      return "SUBMISSION_RECEIVED";
    case ReviewEventKind::kRoundClosed:
      return "ROUND_CLOSED";
    case ReviewEventKind::kAdjudicationRequired:
      return "ADJUDICATION_REQUIRED";
    case ReviewEventKind::kStudyFinalised:
      return "STUDY_FINALISED";
  }
  return "";
}

// --- Store ---

Store::Store(std::unique_ptr<ConnectionPool> pool) : pool_(std::move(pool)) {}
Store::~Store() = default;

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("pool_size must be >= 1, got ", options.pool_size));
  }
  if (options.migrate) {
    RQS_ASSIGN_OR_RETURN(const int version,
                         ApplyMigrations(options.conninfo, EmbeddedMigrations()));
    (void)version;
  } else {
    RQS_ASSIGN_OR_RETURN(const int version, ReadSchemaVersion(options.conninfo));
    if (version != LatestSchemaVersion()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the database schema is at version ", version,
                       " but this server needs version ", LatestSchemaVersion(),
                       version > LatestSchemaVersion() ? "; run a newer rqs server"
                                                       : "; open it with migrations enabled"));
    }
  }
  return std::unique_ptr<Store>(new Store(std::make_unique<ConnectionPool>(
      options.conninfo, options.pool_size, options.acquire_timeout)));
}

absl::StatusOr<int> Store::SchemaVersion() {
  return pool_->Run("SchemaVersion", [](pqxx::connection& c) -> absl::StatusOr<int> {
    pqxx::nontransaction txn(c);
    return txn.exec("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0].as<int>();
  });
}

// --- Users ---

namespace {

User InsertUser(pqxx::work& txn, const NewUser& user) {
  const pqxx::result rows = txn.exec_params(
      absl::StrCat("INSERT INTO users AS u (name, is_admin) VALUES ($1, $2) RETURNING ",
                   kUserColumns),
      user.name, user.is_admin);
  return ToUser(rows[0]);
}

ApiToken InsertApiToken(pqxx::work& txn, const NewApiToken& token) {
  const pqxx::result rows = txn.exec_params(
      absl::StrCat("INSERT INTO api_tokens AS t (user_id, token_hash, label, expires_at) "
                   "VALUES ($1, $2, $3, rqs_from_unix_micros(NULLIF($4, '')::bigint)) "
                   "RETURNING ",
                   kTokenColumns),
      token.user_id, token.token_hash, token.label, MicrosOrEmpty(token.expires_at));
  return ToToken(rows[0]);
}

}  // namespace

absl::StatusOr<User> Store::CreateUser(const NewUser& user, int64_t actor_id) {
  return pool_->Run("CreateUser", [&](pqxx::connection& c) -> absl::StatusOr<User> {
    pqxx::work txn(c);
    BeginAudited(txn, "CreateUser", actor_id);
    User created = InsertUser(txn, user);
    txn.commit();
    return created;
  });
}

absl::StatusOr<User> Store::CreateUserWithToken(const NewUser& user, NewApiToken token,
                                                int64_t actor_id) {
  return pool_->Run("CreateUserWithToken", [&](pqxx::connection& c) -> absl::StatusOr<User> {
    pqxx::work txn(c);
    BeginAudited(txn, "CreateUserWithToken", actor_id);
    User created = InsertUser(txn, user);
    token.user_id = created.id;
    InsertApiToken(txn, token);
    txn.commit();
    return created;
  });
}

absl::StatusOr<User> Store::GetUser(int64_t user_id) {
  return pool_->Run("GetUser", [&](pqxx::connection& c) -> absl::StatusOr<User> {
    pqxx::nontransaction txn(c);
    const pqxx::result rows = txn.exec_params(
        absl::StrCat("SELECT ", kUserColumns, " FROM users u WHERE u.id = $1"), user_id);
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
    return ToUser(rows[0]);
  });
}

absl::StatusOr<User> Store::GetUserByName(std::string_view name) {
  return pool_->Run("GetUserByName", [&](pqxx::connection& c) -> absl::StatusOr<User> {
    pqxx::nontransaction txn(c);
    const pqxx::result rows =
        txn.exec_params(absl::StrCat("SELECT ", kUserColumns, " FROM users u WHERE u.name = $1"),
                        std::string(name));
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("user '", std::string(name), "' not found"));
    }
    return ToUser(rows[0]);
  });
}

absl::StatusOr<std::vector<User>> Store::ListUsers() {
  return pool_->Run("ListUsers", [&](pqxx::connection& c) -> absl::StatusOr<std::vector<User>> {
    pqxx::nontransaction txn(c);
    std::vector<User> users;
    for (const pqxx::row& row :
         txn.exec(absl::StrCat("SELECT ", kUserColumns, " FROM users u ORDER BY u.id"))) {
      users.push_back(ToUser(row));
    }
    return users;
  });
}

absl::StatusOr<User> Store::SetUserAdmin(int64_t user_id, bool is_admin, int64_t actor_id) {
  return pool_->Run("SetUserAdmin", [&](pqxx::connection& c) -> absl::StatusOr<User> {
    pqxx::work txn(c);
    BeginAudited(txn, "SetUserAdmin", actor_id);
    const pqxx::result rows = txn.exec_params(
        absl::StrCat("UPDATE users u SET is_admin = $2 WHERE u.id = $1 RETURNING ", kUserColumns),
        user_id, is_admin);
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
    User updated = ToUser(rows[0]);
    txn.commit();
    return updated;
  });
}

// --- API tokens ---

absl::StatusOr<ApiToken> Store::CreateApiToken(const NewApiToken& token, int64_t actor_id) {
  return pool_->Run("CreateApiToken", [&](pqxx::connection& c) -> absl::StatusOr<ApiToken> {
    pqxx::work txn(c);
    BeginAudited(txn, "CreateApiToken", actor_id);
    ApiToken created = InsertApiToken(txn, token);
    txn.commit();
    return created;
  });
}

absl::StatusOr<AuthenticatedUser> Store::LookupApiToken(std::string_view token_hash) {
  return pool_->Run(
      "LookupApiToken", [&](pqxx::connection& c) -> absl::StatusOr<AuthenticatedUser> {
        pqxx::nontransaction txn(c);
        // Expiry is judged by the database clock, the one that stamped
        // created_at, so server clock skew cannot extend a token.
        const pqxx::result rows =
            ExecPrepared(txn, "lookup_api_token",
                         absl::StrCat("SELECT t.id, t.revoked_at IS NOT NULL, "
                                      "coalesce(t.expires_at <= now(), false), ",
                                      kUserColumns,
                                      " FROM api_tokens t JOIN users u ON u.id = t.user_id "
                                      "WHERE t.token_hash = $1"),
                         std::string(token_hash));
        if (rows.empty()) return absl::UnauthenticatedError("unknown API token");
        const pqxx::row& row = rows[0];
        if (row[1].as<bool>()) return absl::UnauthenticatedError("API token revoked");
        if (row[2].as<bool>()) return absl::UnauthenticatedError("API token expired");
        AuthenticatedUser result;
        result.token_id = row[0].as<int64_t>();
        result.user.id = row[3].as<int64_t>();
        result.user.name = row[4].as<std::string>();
        result.user.is_admin = row[5].as<bool>();
        result.user.created_at = TimeAt(row[6]);
        return result;
      });
}

absl::StatusOr<std::vector<ApiToken>> Store::ListApiTokens(int64_t user_id) {
  return pool_->Run(
      "ListApiTokens", [&](pqxx::connection& c) -> absl::StatusOr<std::vector<ApiToken>> {
        pqxx::nontransaction txn(c);
        std::vector<ApiToken> tokens;
        for (const pqxx::row& row :
             txn.exec_params(absl::StrCat("SELECT ", kTokenColumns,
                                          " FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.id"),
                             user_id)) {
          tokens.push_back(ToToken(row));
        }
        return tokens;
      });
}

absl::StatusOr<ApiToken> Store::RevokeApiToken(int64_t token_id, int64_t actor_id) {
  return pool_->Run("RevokeApiToken", [&](pqxx::connection& c) -> absl::StatusOr<ApiToken> {
    pqxx::work txn(c);
    BeginAudited(txn, "RevokeApiToken", actor_id);
    // Revoking again keeps the first revocation time.
    const pqxx::result rows = txn.exec_params(
        absl::StrCat("UPDATE api_tokens t SET revoked_at = coalesce(t.revoked_at, now()) "
                     "WHERE t.id = $1 RETURNING ",
                     kTokenColumns),
        token_id);
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("API token ", token_id, " not found"));
    }
    ApiToken revoked = ToToken(rows[0]);
    txn.commit();
    return revoked;
  });
}

// --- Reviews and members ---

absl::StatusOr<Review> Store::CreateReview(const NewReview& review, int64_t actor_id) {
  return pool_->Run("CreateReview", [&](pqxx::connection& c) -> absl::StatusOr<Review> {
    pqxx::work txn(c);
    BeginAudited(txn, "CreateReview", actor_id);
    const pqxx::result rows = txn.exec_params(
        absl::StrCat("INSERT INTO reviews AS r (name, instrument_id, target_rrl, created_by) "
                     "VALUES ($1, $2, $3, NULLIF($4::bigint, 0)) RETURNING ",
                     kReviewColumns),
        review.name, review.instrument_id, review.target_rrl, actor_id);
    Review created = ToReview(rows[0]);
    // The policy row starts with scoring's defaults; its salt is the
    // database's to generate (see 0002_consensus.sql).
    const scoring::ConsensusPolicy defaults;
    txn.exec_params(
        "INSERT INTO review_policies (review_id, agreement_threshold, max_rounds, "
        "stop_when_stable, level_threshold_percent, share_rationales) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        created.id, defaults.agreement_threshold, defaults.max_rounds, defaults.stop_when_stable,
        defaults.level_threshold_percent, defaults.share_rationales);
    if (review.coordinator_id != 0) {
      txn.exec_params(
          "INSERT INTO review_members (review_id, user_id, role) VALUES ($1, $2, 'COORDINATOR')",
          created.id, review.coordinator_id);
    }
    txn.commit();
    return created;
  });
}

absl::StatusOr<Review> Store::GetReview(int64_t review_id) {
  return pool_->Run("GetReview", [&](pqxx::connection& c) -> absl::StatusOr<Review> {
    pqxx::nontransaction txn(c);
    const pqxx::result rows = txn.exec_params(
        absl::StrCat("SELECT ", kReviewColumns, " FROM reviews r WHERE r.id = $1"), review_id);
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("review ", review_id, " not found"));
    }
    return ToReview(rows[0]);
  });
}

absl::StatusOr<std::vector<Review>> Store::ListReviews() {
  return pool_->Run("ListReviews", [&](pqxx::connection& c) -> absl::StatusOr<std::vector<Review>> {
    pqxx::nontransaction txn(c);
    std::vector<Review> reviews;
    for (const pqxx::row& row :
         txn.exec(absl::StrCat("SELECT ", kReviewColumns, " FROM reviews r ORDER BY r.id"))) {
      reviews.push_back(ToReview(row));
    }
    return reviews;
  });
}

absl::StatusOr<std::vector<Review>> Store::ListReviewsForUser(int64_t user_id) {
  return pool_->Run(
      "ListReviewsForUser", [&](pqxx::connection& c) -> absl::StatusOr<std::vector<Review>> {
        pqxx::nontransaction txn(c);
        std::vector<Review> reviews;
        for (const pqxx::row& row : txn.exec_params(
                 absl::StrCat("SELECT ", kReviewColumns,
                              " FROM reviews r JOIN review_members m ON m.review_id = r.id "
                              "WHERE m.user_id = $1 ORDER BY r.id"),
                 user_id)) {
          reviews.push_back(ToReview(row));
        }
        return reviews;
      });
}

absl::StatusOr<Review> Store::SetReviewStatus(int64_t review_id, ReviewStatus status,
                                              int64_t actor_id) {
  return pool_->Run("SetReviewStatus", [&](pqxx::connection& c) -> absl::StatusOr<Review> {
    pqxx::work txn(c);
    BeginAudited(txn, "SetReviewStatus", actor_id);
    const pqxx::result rows = txn.exec_params(
        absl::StrCat("UPDATE reviews r SET status = $2 WHERE r.id = $1 RETURNING ", kReviewColumns),
        review_id, std::string(ReviewStatusName(status)));
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("review ", review_id, " not found"));
    }
    Review updated = ToReview(rows[0]);
    txn.commit();
    return updated;
  });
}

absl::StatusOr<ReviewMember> Store::AddReviewMember(int64_t review_id, int64_t user_id,
                                                    ReviewRole role, int64_t actor_id) {
  return pool_->Run("AddReviewMember", [&](pqxx::connection& c) -> absl::StatusOr<ReviewMember> {
    pqxx::work txn(c);
    BeginAudited(txn, "AddReviewMember", actor_id);
    const pqxx::result rows =
        txn.exec_params(absl::StrCat("INSERT INTO review_members AS m (review_id, user_id, role) "
                                     "VALUES ($1, $2, $3) RETURNING ",
                                     kMemberColumns),
                        review_id, user_id, std::string(ReviewRoleName(role)));
    ReviewMember added = ToMember(rows[0]);
    txn.commit();
    return added;
  });
}

absl::StatusOr<ReviewMember> Store::SetReviewMemberRole(int64_t review_id, int64_t user_id,
                                                        ReviewRole role, int64_t actor_id) {
  return pool_->Run(
      "SetReviewMemberRole", [&](pqxx::connection& c) -> absl::StatusOr<ReviewMember> {
        pqxx::work txn(c);
        BeginAudited(txn, "SetReviewMemberRole", actor_id);
        // Update first: the row lock orders this against a concurrent
        // AssignStudy (which locks the member row), so the check below sees
        // its assignment.
        const pqxx::result rows =
            txn.exec_params(absl::StrCat("UPDATE review_members m SET role = $3 "
                                         "WHERE m.review_id = $1 AND m.user_id = $2 RETURNING ",
                                         kMemberColumns),
                            review_id, user_id, std::string(ReviewRoleName(role)));
        if (rows.empty()) {
          return absl::NotFoundError(
              absl::StrCat("user ", user_id, " is not a member of review ", review_id));
        }
        if (role != ReviewRole::kRater &&
            !txn.exec_params("SELECT 1 FROM assignments WHERE review_id = $1 AND rater_id = $2 "
                             "LIMIT 1",
                             review_id, user_id)
                 .empty()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "user ", user_id, " has assignments in review ", review_id, "; stays a RATER"));
        }
        ReviewMember updated = ToMember(rows[0]);
        txn.commit();
        return updated;
      });
}

absl::Status Store::RemoveReviewMember(int64_t review_id, int64_t user_id, int64_t actor_id) {
  return pool_->Run("RemoveReviewMember", [&](pqxx::connection& c) -> absl::Status {
    pqxx::work txn(c);
    BeginAudited(txn, "RemoveReviewMember", actor_id);
    // Lock the review's member rows: two coordinators removing each other at
    // once must not leave the review without one.
    const pqxx::result members = txn.exec_params(
        "SELECT user_id, role FROM review_members WHERE review_id = $1 FOR UPDATE", review_id);
    int coordinators = 0;
    std::optional<std::string> role;
    for (const pqxx::row& row : members) {
      const std::string member_role = row[1].as<std::string>();
      if (member_role == "COORDINATOR") ++coordinators;
      if (row[0].as<int64_t>() == user_id) role = member_role;
    }
    if (!role.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("user ", user_id, " is not a member of review ", review_id));
    }
    if (*role == "COORDINATOR" && coordinators == 1) {
      return absl::FailedPreconditionError(
          absl::StrCat("user ", user_id, " is the only coordinator of review ", review_id,
                       "; make someone else coordinator first"));
    }
    // A rater's assignments and assessments are part of the review's history.
    if (!txn.exec_params("SELECT 1 FROM assignments WHERE review_id = $1 AND rater_id = $2 "
                         "LIMIT 1",
                         review_id, user_id)
             .empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("user ", user_id, " has assignments in review ", review_id,
                       "; their ratings stay part of the review, so they stay a member"));
    }
    txn.exec_params("DELETE FROM review_members WHERE review_id = $1 AND user_id = $2", review_id,
                    user_id);
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<ReviewMember>> Store::ListReviewMembers(int64_t review_id) {
  return pool_->Run(
      "ListReviewMembers", [&](pqxx::connection& c) -> absl::StatusOr<std::vector<ReviewMember>> {
        pqxx::read_transaction txn(c);
        if (txn.exec_params("SELECT 1 FROM reviews WHERE id = $1", review_id).empty()) {
          return absl::NotFoundError(absl::StrCat("review ", review_id, " not found"));
        }
        std::vector<ReviewMember> members;
        for (const pqxx::row& row : txn.exec_params(
                 absl::StrCat("SELECT ", kMemberColumns,
                              " FROM review_members m WHERE m.review_id = $1 ORDER BY m.user_id"),
                 review_id)) {
          members.push_back(ToMember(row));
        }
        return members;
      });
}

absl::StatusOr<ReviewRole> Store::GetReviewRole(int64_t review_id, int64_t user_id) {
  return pool_->Run("GetReviewRole", [&](pqxx::connection& c) -> absl::StatusOr<ReviewRole> {
    pqxx::nontransaction txn(c);
    const pqxx::result rows =
        txn.exec_params("SELECT role FROM review_members WHERE review_id = $1 AND user_id = $2",
                        review_id, user_id);
    if (rows.empty()) {
      return absl::NotFoundError(
          absl::StrCat("user ", user_id, " is not a member of review ", review_id));
    }
    return Require(ParseReviewRole(rows[0][0].as<std::string>()), "review role");
  });
}

absl::StatusOr<StudyAccess> Store::GetStudyAccess(int64_t review_id, int64_t study_id,
                                                  int64_t user_id) {
  return pool_->Run("GetStudyAccess", [&](pqxx::connection& c) -> absl::StatusOr<StudyAccess> {
    pqxx::nontransaction txn(c);
    // Review columns 0..6, the role 7, study columns 8..17, assigned 18.
    const pqxx::result rows = ExecPrepared(
        txn, "study_access",
        absl::StrCat("SELECT ", kReviewColumns, ", m.role, ", kStudyColumns,
                     ", EXISTS (SELECT 1 FROM assignments g "
                     "          WHERE g.study_id = s.id AND g.rater_id = $3) "
                     "FROM reviews r "
                     "LEFT JOIN review_members m ON m.review_id = r.id AND m.user_id = $3 "
                     "LEFT JOIN studies s ON s.id = $2 AND s.review_id = r.id "
                     "WHERE r.id = $1"),
        review_id, study_id, user_id);
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("review ", review_id, " not found"));
    const pqxx::row& row = rows[0];
    StudyAccess access;
    access.review = ToReview(row.slice(0, 7));
    if (!row[7].is_null()) {
      access.role = Require(ParseReviewRole(row[7].as<std::string>()), "review role");
    }
    if (!row[8].is_null()) access.study = ToStudy(row.slice(8, 18));
    access.assigned = row[18].as<bool>();
    return access;
  });
}

// --- Studies ---

namespace {

Study InsertStudy(pqxx::work& txn, const NewStudy& study) {
  const pqxx::result rows = txn.exec_params(
      absl::StrCat("INSERT INTO studies AS s (review_id, title, authors, year, doi, "
                   "study_type, external_id, notes) "
                   "VALUES ($1, $2, $3, NULLIF($4, 0), $5, $6, $7, $8) RETURNING ",
                   kStudyColumns),
      study.review_id, study.title, study.authors, study.year, study.doi,
      std::string(scoring::StudyTypeName(study.study_type)), study.external_id, study.notes);
  return ToStudy(rows[0]);
}

}  // namespace

absl::StatusOr<Study> Store::CreateStudy(const NewStudy& study, int64_t actor_id) {
  RQS_ASSIGN_OR_RETURN(std::vector<Study> created, CreateStudies({study}, actor_id));
  return std::move(created.front());
}

absl::StatusOr<std::vector<Study>> Store::CreateStudies(const std::vector<NewStudy>& studies,
                                                        int64_t actor_id) {
  return pool_->Run("CreateStudies",
                    [&](pqxx::connection& c) -> absl::StatusOr<std::vector<Study>> {
                      pqxx::work txn(c);
                      BeginAudited(txn, "CreateStudies", actor_id);
                      std::vector<Study> created;
                      created.reserve(studies.size());
                      for (const NewStudy& study : studies) {
                        created.push_back(InsertStudy(txn, study));
                      }
                      txn.commit();
                      return created;
                    });
}

absl::StatusOr<Study> Store::GetStudy(int64_t study_id) {
  return pool_->Run("GetStudy", [&](pqxx::connection& c) -> absl::StatusOr<Study> {
    pqxx::nontransaction txn(c);
    const pqxx::result rows = txn.exec_params(
        absl::StrCat("SELECT ", kStudyColumns, " FROM studies s WHERE s.id = $1"), study_id);
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("study ", study_id, " not found"));
    return ToStudy(rows[0]);
  });
}

absl::StatusOr<std::vector<Study>> Store::ListStudies(int64_t review_id) {
  return pool_->Run("ListStudies", [&](pqxx::connection& c) -> absl::StatusOr<std::vector<Study>> {
    pqxx::nontransaction txn(c);
    std::vector<Study> studies;
    for (const pqxx::row& row :
         txn.exec_params(absl::StrCat("SELECT ", kStudyColumns,
                                      " FROM studies s WHERE s.review_id = $1 ORDER BY s.id"),
                         review_id)) {
      studies.push_back(ToStudy(row));
    }
    return studies;
  });
}

// --- Assignments ---

absl::StatusOr<Assignment> Store::AssignStudy(int64_t study_id, int64_t rater_id,
                                              int64_t actor_id) {
  RQS_ASSIGN_OR_RETURN(std::vector<Assignment> created,
                       AssignStudies({{study_id, rater_id}}, actor_id));
  if (created.empty()) {
    return absl::AlreadyExistsError(
        absl::StrCat("user ", rater_id, " is already assigned to study ", study_id));
  }
  return std::move(created.front());
}

absl::StatusOr<std::vector<Assignment>> Store::AssignStudies(
    const std::vector<std::pair<int64_t, int64_t>>& study_rater_pairs, int64_t actor_id) {
  return pool_->Run(
      "AssignStudies", [&](pqxx::connection& c) -> absl::StatusOr<std::vector<Assignment>> {
        pqxx::work txn(c);
        BeginAudited(txn, "AssignStudies", actor_id);
        std::vector<Assignment> created;
        for (const auto& [study_id, rater_id] : study_rater_pairs) {
          const pqxx::result study =
              txn.exec_params("SELECT review_id FROM studies WHERE id = $1", study_id);
          if (study.empty()) {
            return absl::NotFoundError(absl::StrCat("study ", study_id, " not found"));
          }
          const int64_t review_id = study[0][0].as<int64_t>();
          // FOR SHARE: the role cannot change until this assignment commits.
          const pqxx::result member = txn.exec_params(
              "SELECT role FROM review_members WHERE review_id = $1 AND user_id = $2 FOR SHARE",
              review_id, rater_id);
          if (member.empty() || member[0][0].as<std::string>() != "RATER") {
            return absl::FailedPreconditionError(
                absl::StrCat("user ", rater_id, " is not a RATER of review ", review_id));
          }
          // An existing assignment is kept as it is, so assigning is idempotent.
          const pqxx::result rows = txn.exec_params(
              absl::StrCat("INSERT INTO assignments AS g (review_id, study_id, rater_id) "
                           "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING ",
                           kAssignmentColumns),
              review_id, study_id, rater_id);
          if (!rows.empty()) created.push_back(ToAssignment(rows[0]));
        }
        txn.commit();
        return created;
      });
}

absl::StatusOr<std::vector<Assignment>> Store::AutoAssign(int64_t review_id, int raters_per_study,
                                                          int64_t actor_id) {
  if (raters_per_study < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("raters_per_study must be >= 1, got ", raters_per_study));
  }
  return pool_->Run(
      "AutoAssign", [&](pqxx::connection& c) -> absl::StatusOr<std::vector<Assignment>> {
        pqxx::work txn(c);
        BeginAudited(txn, "AutoAssign", actor_id);
        // One AutoAssign per review at a time, so two cannot both see a
        // study as short of raters.
        if (txn.exec_params("SELECT 1 FROM reviews WHERE id = $1 FOR UPDATE", review_id).empty()) {
          return absl::NotFoundError(absl::StrCat("review ", review_id, " not found"));
        }
        // Raters and their current load, locked against role changes.
        std::map<int64_t, int> load;
        for (const pqxx::row& row : txn.exec_params(
                 "SELECT user_id FROM review_members WHERE review_id = $1 AND role = 'RATER' "
                 "ORDER BY user_id FOR SHARE",
                 review_id)) {
          load[row[0].as<int64_t>()] = 0;
        }
        if (static_cast<int>(load.size()) < raters_per_study) {
          return absl::FailedPreconditionError(absl::StrCat("review ", review_id, " has ",
                                                            load.size(), " raters, fewer than ",
                                                            raters_per_study));
        }
        std::map<int64_t, std::set<int64_t>> raters_of_study;
        for (const pqxx::row& row : txn.exec_params(
                 "SELECT id FROM studies WHERE review_id = $1 ORDER BY id", review_id)) {
          raters_of_study[row[0].as<int64_t>()];
        }
        for (const pqxx::row& row : txn.exec_params(
                 "SELECT study_id, rater_id FROM assignments WHERE review_id = $1", review_id)) {
          const int64_t rater = row[1].as<int64_t>();
          raters_of_study[row[0].as<int64_t>()].insert(rater);
          if (auto it = load.find(rater); it != load.end()) ++it->second;
        }
        std::vector<Assignment> created;
        for (auto& [study_id, raters] : raters_of_study) {
          while (static_cast<int>(raters.size()) < raters_per_study) {
            // Least-loaded rater not yet on this study; std::map order makes
            // the lowest id win ties.
            int64_t best = 0;
            int best_load = 0;
            for (const auto& [rater, count] : load) {
              if (raters.count(rater) != 0) continue;
              if (best == 0 || count < best_load) {
                best = rater;
                best_load = count;
              }
            }
            if (best == 0) break;  // Every rater is on it already.
            const pqxx::result rows = txn.exec_params(
                absl::StrCat("INSERT INTO assignments AS g (review_id, study_id, rater_id) "
                             "VALUES ($1, $2, $3) RETURNING ",
                             kAssignmentColumns),
                review_id, study_id, best);
            created.push_back(ToAssignment(rows[0]));
            raters.insert(best);
            ++load[best];
          }
        }
        txn.commit();
        return created;
      });
}

absl::StatusOr<std::vector<Assignment>> Store::ListAssignments(int64_t review_id,
                                                               int64_t rater_id) {
  return pool_->Run(
      "ListAssignments", [&](pqxx::connection& c) -> absl::StatusOr<std::vector<Assignment>> {
        pqxx::nontransaction txn(c);
        std::vector<Assignment> assignments;
        for (const pqxx::row& row :
             txn.exec_params(absl::StrCat("SELECT ", kAssignmentColumns,
                                          " FROM assignments g WHERE g.review_id = $1 "
                                          "AND ($2::bigint = 0 OR g.rater_id = $2::bigint) "
                                          "ORDER BY g.study_id, g.rater_id"),
                             review_id, rater_id)) {
          assignments.push_back(ToAssignment(row));
        }
        return assignments;
      });
}

absl::StatusOr<bool> Store::IsAssigned(int64_t study_id, int64_t rater_id) {
  return pool_->Run("IsAssigned", [&](pqxx::connection& c) -> absl::StatusOr<bool> {
    pqxx::nontransaction txn(c);
    return txn
        .exec_params(
            "SELECT EXISTS (SELECT 1 FROM assignments WHERE study_id = $1 AND rater_id = $2)",
            study_id, rater_id)[0][0]
        .as<bool>();
  });
}

// --- Assessments ---

absl::StatusOr<Assessment> Store::SaveDraft(const AssessmentInput& input, int64_t actor_id,
                                            const AssessmentRules* rules) {
  const bool open_round = rules != nullptr && rules->open_round;
  RQS_RETURN_IF_ERROR(ValidateInput(input, open_round));
  const bool check = rules != nullptr && rules->check;
  return pool_->Run("SaveDraft", [&](pqxx::connection& c) -> absl::StatusOr<Assessment> {
    pqxx::work txn(c);
    // The first assessment of a review fixes its policy: holding the policy
    // row shared orders this against SetReviewPolicy.
    RQS_ASSIGN_OR_RETURN(const LockedForAssessment locked,
                         LockForAssessment(txn, "SaveDraft", actor_id, input.study_id,
                                           input.rater_id,
                                           /*idempotency_key=*/"", check || input.round == 0));
    const ReviewPolicy& policy = locked.policy;
    const int64_t review_id = policy.review_id;
    AssessmentInput resolved;
    const AssessmentInput* effective = &input;
    if (check || input.round == 0) {
      std::vector<StudyConsensusState> state = LoadStates(txn, review_id, {input.study_id});
      if (input.round == 0) {
        resolved = input;
        resolved.round = rules->open_round(policy, state.at(0));
        effective = &resolved;
      }
      if (check) RQS_RETURN_IF_ERROR(rules->check(policy, state.at(0), *effective));
    }
    RQS_ASSIGN_OR_RETURN(const int64_t id, WriteDraft(txn, review_id, *effective));
    const pqxx::result row = ExecPrepared(
        txn, "read_assessment",
        absl::StrCat("SELECT ", kAssessmentColumns, " FROM assessments a WHERE a.id = $1"), id);
    Assessment saved = WrittenAssessment(row.at(0), *effective);
    txn.commit();
    return saved;
  });
}

absl::StatusOr<SubmitResult> Store::SubmitAssessment(const AssessmentInput& input, int64_t actor_id,
                                                     const AssessmentRules* rules) {
  const bool open_round = rules != nullptr && rules->open_round;
  RQS_RETURN_IF_ERROR(ValidateInput(input, open_round));
  if (input.idempotency_key.empty() || input.idempotency_key.size() > 200) {
    return absl::InvalidArgumentError("idempotency_key must have 1..200 characters");
  }
  const bool check = rules != nullptr && rules->check;
  const bool close = rules != nullptr && rules->on_round_complete;
  const bool read_state = check || close || input.round == 0;
  absl::StatusOr<SubmitResult> result =
      pool_->Run("SubmitAssessment", [&](pqxx::connection& c) -> absl::StatusOr<SubmitResult> {
        pqxx::work txn(c);
        RQS_ASSIGN_OR_RETURN(const LockedForAssessment locked,
                             LockForAssessment(txn, "SubmitAssessment", actor_id, input.study_id,
                                               input.rater_id, input.idempotency_key,
                                               read_state));
        const ReviewPolicy& policy = locked.policy;
        const int64_t review_id = policy.review_id;
        // A replay returns the first result without running the rules.
        RQS_ASSIGN_OR_RETURN(std::optional<SubmitResult> replayed,
                             FindReplay(txn, input, locked.replay_id));
        if (replayed.has_value()) return *std::move(replayed);
        std::optional<StudyConsensusState> state;
        AssessmentInput resolved;
        const AssessmentInput* effective = &input;
        if (read_state) {
          state = std::move(LoadStates(txn, review_id, {input.study_id}).at(0));
          if (input.round == 0) {
            resolved = input;
            resolved.round = rules->open_round(policy, *state);
            effective = &resolved;
          }
          if (check) RQS_RETURN_IF_ERROR(rules->check(policy, *state, *effective));
        }
        RQS_ASSIGN_OR_RETURN(const int64_t id, WriteDraft(txn, review_id, *effective));
        // Answers first, status last: the database refuses to touch the
        // answers of a SUBMITTED assessment. The same statement records the
        // submission's event in the outbox (see InsertEvents), before any
        // event of a transition it completes.
        static const std::string* const kSubmitSql = new std::string(absl::StrCat(
            "WITH a AS (UPDATE assessments a SET status = 'SUBMITTED', idempotency_key = $2, "
            "  submitted_at = now(), updated_at = now() WHERE a.id = $1 RETURNING a.*), "
            "e AS (INSERT INTO review_event_outbox (review_id, study_id, round, kind, rater_id) "
            "  SELECT a.review_id, a.study_id, a.round, $3, a.rater_id FROM a) "
            "SELECT ",
            kAssessmentColumns, " FROM a"));
        const pqxx::result row =
            ExecPrepared(txn, "submit_assessment", *kSubmitSql, id, input.idempotency_key,
                         std::string(ReviewEventKindName(ReviewEventKind::kSubmissionReceived)));
        Assessment submitted = WrittenAssessment(row.at(0), *effective);
        std::vector<PendingEvent> events;
        // A late submission to a round already closed completes nothing.
        // Otherwise the study's state now is the one read under the lock plus
        // this submission.
        if (close && static_cast<size_t>(effective->round) == state->rounds.size() + 1) {
          const StudyConsensusState now = WithSubmission(*std::move(state), submitted);
          if (PanelSubmitted(now, effective->round)) {
            RQS_ASSIGN_OR_RETURN(const StudyTransitionWrite write,
                                 rules->on_round_complete(policy, now));
            RQS_RETURN_IF_ERROR(ApplyTransitionWrite(txn, review_id, actor_id, now, write, events));
          }
        }
        InsertEvents(txn, review_id, events);
        txn.commit();
        return SubmitResult{std::move(submitted), false};
      });
  if (result.ok() || absl::IsInvalidArgument(result.status()) ||
      absl::IsNotFound(result.status()) || absl::IsUnavailable(result.status())) {
    return result;
  }
  // A concurrent retry of this same submission may have committed first (its
  // row lock or unique key made this attempt fail): then that is the result.
  absl::StatusOr<std::optional<Assessment>> first = pool_->Run(
      "SubmitAssessment", [&](pqxx::connection& c) -> absl::StatusOr<std::optional<Assessment>> {
        pqxx::read_transaction txn(c);
        return FindByIdempotencyKey(txn, input.rater_id, input.idempotency_key);
      });
  if (first.ok() && first->has_value() && SameSubmission(**first, input)) {
    return SubmitResult{**std::move(first), true};
  }
  return result;
}

absl::StatusOr<Assessment> Store::GetAssessment(int64_t assessment_id) {
  return pool_->Run("GetAssessment", [&](pqxx::connection& c) -> absl::StatusOr<Assessment> {
    pqxx::read_transaction txn(c);
    return QueryOneAssessment(txn, assessment_id);
  });
}

absl::StatusOr<Assessment> Store::FindAssessment(int64_t study_id, int64_t rater_id, int round) {
  return pool_->Run("FindAssessment", [&](pqxx::connection& c) -> absl::StatusOr<Assessment> {
    pqxx::read_transaction txn(c);
    std::vector<Assessment> found = QueryAssessments(
        txn, "a.study_id = $1 AND a.rater_id = $2 AND a.round = $3", study_id, rater_id, round);
    if (found.empty()) {
      return absl::NotFoundError(absl::StrCat("no assessment of study ", study_id, " by rater ",
                                              rater_id, " in round ", round));
    }
    return std::move(found.front());
  });
}

absl::StatusOr<std::vector<Assessment>> Store::ListAssessments(
    int64_t review_id, int64_t study_id, int64_t rater_id, std::optional<AssessmentStatus> status,
    AnswerDetail detail) {
  const std::string status_name =
      status.has_value() ? std::string(AssessmentStatusName(*status)) : std::string();
  return pool_->Run("ListAssessments",
                    [&](pqxx::connection& c) -> absl::StatusOr<std::vector<Assessment>> {
                      pqxx::read_transaction txn(c);
                      return QueryAssessments(txn, detail,
                                              "a.review_id = $1 "
                                              "AND ($2::bigint = 0 OR a.study_id = $2::bigint) "
                                              "AND ($3::bigint = 0 OR a.rater_id = $3::bigint) "
                                              "AND ($4::text = '' OR a.status = $4::text)",
                                              review_id, study_id, rater_id, status_name);
                    });
}

// --- Consensus ---

absl::StatusOr<ReviewPolicy> Store::GetReviewPolicy(int64_t review_id) {
  return pool_->Run("GetReviewPolicy", [&](pqxx::connection& c) -> absl::StatusOr<ReviewPolicy> {
    pqxx::nontransaction txn(c);
    return ReadPolicy(txn, review_id);
  });
}

absl::StatusOr<ReviewPolicy> Store::SetReviewPolicy(int64_t review_id,
                                                    const scoring::ConsensusPolicy& policy,
                                                    int64_t actor_id) {
  RQS_RETURN_IF_ERROR(scoring::ValidatePolicy(policy));
  return pool_->Run("SetReviewPolicy", [&](pqxx::connection& c) -> absl::StatusOr<ReviewPolicy> {
    pqxx::work txn(c);
    BeginAudited(txn, "SetReviewPolicy", actor_id);
    // Exclusive against the share lock of every assessment write; the check
    // below is a new statement, so it sees any assessment committed while we
    // waited for the lock.
    if (txn.exec_params("SELECT 1 FROM review_policies WHERE review_id = $1 FOR UPDATE", review_id)
            .empty()) {
      return absl::NotFoundError(absl::StrCat("review ", review_id, " not found"));
    }
    if (!txn.exec_params("SELECT 1 FROM assessments WHERE review_id = $1 LIMIT 1", review_id)
             .empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the consensus policy of review ", review_id, " is fixed: round 1 has opened"));
    }
    txn.exec_params(
        "UPDATE review_policies SET agreement_threshold = $2, max_rounds = $3, "
        "stop_when_stable = $4, level_threshold_percent = $5, share_rationales = $6, "
        "updated_at = now() WHERE review_id = $1",
        review_id, policy.agreement_threshold, policy.max_rounds, policy.stop_when_stable,
        policy.level_threshold_percent, policy.share_rationales);
    RQS_ASSIGN_OR_RETURN(ReviewPolicy updated, ReadPolicy(txn, review_id));
    txn.commit();
    return updated;
  });
}

absl::StatusOr<StudyConsensusState> Store::GetStudyConsensusState(int64_t study_id) {
  return pool_->Run("GetStudyConsensusState",
                    [&](pqxx::connection& c) -> absl::StatusOr<StudyConsensusState> {
                      SnapshotTransaction txn(c);
                      const pqxx::result study =
                          txn.exec_params("SELECT review_id FROM studies WHERE id = $1", study_id);
                      if (study.empty()) {
                        return absl::NotFoundError(absl::StrCat("study ", study_id, " not found"));
                      }
                      std::vector<StudyConsensusState> states =
                          LoadStates(txn, study[0][0].as<int64_t>(), {study_id});
                      return std::move(states.at(0));
                    });
}

absl::StatusOr<std::vector<StudyConsensusState>> Store::ListStudyConsensusStates(
    int64_t review_id, StateDetail detail) {
  return pool_->Run(
      "ListStudyConsensusStates",
      [&](pqxx::connection& c) -> absl::StatusOr<std::vector<StudyConsensusState>> {
        SnapshotTransaction txn(c);
        if (txn.exec_params("SELECT 1 FROM reviews WHERE id = $1", review_id).empty()) {
          return absl::NotFoundError(absl::StrCat("review ", review_id, " not found"));
        }
        return LoadStates(txn, review_id, {}, detail);
      });
}

absl::StatusOr<std::vector<StudyConsensusState>> Store::TransitionStudies(
    int64_t review_id, const std::vector<int64_t>& study_ids, const StudyTransition& transition,
    std::string_view action, int64_t actor_id) {
  return pool_->Run(
      "TransitionStudies",
      [&](pqxx::connection& c) -> absl::StatusOr<std::vector<StudyConsensusState>> {
        pqxx::work txn(c);
        BeginAudited(txn, action, actor_id);
        // Id order, as every writer locks studies, so two batches cannot
        // deadlock; the lock holds off submissions to these studies too.
        std::set<int64_t> locked;
        for (const pqxx::row& row :
             txn.exec_params(absl::StrCat("SELECT id FROM studies WHERE review_id = $1 AND ",
                                          InIds("id"), " ORDER BY id FOR UPDATE"),
                             review_id, BigintArray(study_ids))) {
          locked.insert(row[0].as<int64_t>());
        }
        RQS_ASSIGN_OR_RETURN(const ReviewPolicy policy, ReadPolicyForShare(txn, review_id));
        for (int64_t study_id : study_ids) {
          if (locked.count(study_id) == 0) {
            return absl::NotFoundError(
                absl::StrCat("study ", study_id, " not found in review ", review_id));
          }
        }
        const std::vector<int64_t> ids(locked.begin(), locked.end());
        if (ids.empty()) return std::vector<StudyConsensusState>();
        std::vector<PendingEvent> events;
        for (const StudyConsensusState& state : LoadStates(txn, review_id, ids)) {
          RQS_ASSIGN_OR_RETURN(const StudyTransitionWrite write, transition(policy, state));
          RQS_RETURN_IF_ERROR(ApplyTransitionWrite(txn, review_id, actor_id, state, write, events));
        }
        InsertEvents(txn, review_id, events);
        std::vector<StudyConsensusState> after = LoadStates(txn, review_id, ids);
        txn.commit();
        return after;
      });
}

absl::StatusOr<std::vector<ReviewEvent>> Store::ListReviewEvents(int64_t review_id,
                                                                 int64_t after_id, int limit) {
  if (limit < 1 || limit > 10000) {
    return absl::InvalidArgumentError(absl::StrCat("limit must be 1..10000, got ", limit));
  }
  return pool_->Run(
      "ListReviewEvents", [&](pqxx::connection& c) -> absl::StatusOr<std::vector<ReviewEvent>> {
        pqxx::nontransaction txn(c);
        SequenceEvents(txn, review_id);
        std::vector<ReviewEvent> events;
        for (const pqxx::row& row : txn.exec_params(
                 "SELECT id, review_id, study_id, round, kind, coalesce(rater_id, 0), "
                 "rqs_unix_micros(at) FROM review_events WHERE review_id = $1 AND id > $2 "
                 "ORDER BY id LIMIT $3",
                 review_id, after_id, limit)) {
          ReviewEvent event;
          event.id = row[0].as<int64_t>();
          event.review_id = row[1].as<int64_t>();
          event.study_id = row[2].as<int64_t>();
          event.round = row[3].as<int>();
          event.kind =
              Require(ParseByName(row[4].as<std::string>(), kEventKinds, &ReviewEventKindName),
                      "review event kind");
          event.rater_id = row[5].as<int64_t>();
          event.at = TimeAt(row[6]);
          events.push_back(event);
        }
        return events;
      });
}

absl::StatusOr<int64_t> Store::LatestReviewEventId(int64_t review_id) {
  return pool_->Run("LatestReviewEventId", [&](pqxx::connection& c) -> absl::StatusOr<int64_t> {
    pqxx::nontransaction txn(c);
    SequenceEvents(txn, review_id);
    return txn
        .exec_params("SELECT coalesce(max(id), 0) FROM review_events WHERE review_id = $1",
                     review_id)[0][0]
        .as<int64_t>();
  });
}

// --- Audit log ---

absl::StatusOr<std::vector<AuditEntry>> Store::ListAuditLog(const AuditQuery& query) {
  if (query.limit < 1 || query.limit > 1000) {
    return absl::InvalidArgumentError(absl::StrCat("limit must be 1..1000, got ", query.limit));
  }
  return pool_->Run(
      "ListAuditLog", [&](pqxx::connection& c) -> absl::StatusOr<std::vector<AuditEntry>> {
        pqxx::nontransaction txn(c);
        std::vector<AuditEntry> entries;
        for (const pqxx::row& row : txn.exec_params(
                 "SELECT id, rqs_unix_micros(at), coalesce(actor_id, 0), action, operation, "
                 "entity, entity_id, coalesce(before::text, ''), coalesce(after::text, '') "
                 "FROM audit_log "
                 "WHERE ($1::text = '' OR entity = $1::text) "
                 "AND ($2::text = '' OR entity_id = $2::text) AND id > $3::bigint "
                 "ORDER BY id LIMIT $4::integer",
                 query.entity, query.entity_id, query.after_id, query.limit)) {
          AuditEntry entry;
          entry.id = row[0].as<int64_t>();
          entry.at = TimeAt(row[1]);
          entry.actor_id = row[2].as<int64_t>();
          entry.action = row[3].as<std::string>();
          entry.operation = row[4].as<std::string>();
          entry.entity = row[5].as<std::string>();
          entry.entity_id = row[6].as<std::string>();
          entry.before_json = row[7].as<std::string>();
          entry.after_json = row[8].as<std::string>();
          entries.push_back(std::move(entry));
        }
        return entries;
      });
}

}  // namespace rqs::db
