#include "db/store.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/row>
#include <pqxx/transaction>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "db/migrate.h"
#include "db/pool.h"
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

absl::Time TimeAt(const pqxx::field& field) { return absl::FromUnixMicros(field.as<int64_t>()); }

std::optional<absl::Time> OptionalTimeAt(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return TimeAt(field);
}

// Nullable timestamps travel as text: "" for NULL, else Unix microseconds.
std::string MicrosOrEmpty(const std::optional<absl::Time>& time) {
  return time.has_value() ? std::to_string(absl::ToUnixMicros(*time)) : std::string();
}

// The audit triggers read the acting user and the action from these
// transaction-local settings.
void BeginAudited(pqxx::transaction_base& txn, std::string_view action, int64_t actor_id) {
  txn.exec_params("SELECT set_config('rqs.actor_id', $1, true), set_config('rqs.action', $2, true)",
                  actor_id == 0 ? std::string() : std::to_string(actor_id), std::string(action));
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

// Fills in the answers of `assessments` with one query.
void LoadAnswers(pqxx::transaction_base& txn, std::vector<Assessment>& assessments) {
  if (assessments.empty()) return;
  std::map<int64_t, Assessment*> by_id;
  std::vector<int64_t> ids;
  for (Assessment& assessment : assessments) {
    by_id[assessment.id] = &assessment;
    ids.push_back(assessment.id);
  }
  // The ids travel as one array parameter, e.g. "{3,7}".
  const pqxx::result rows = txn.exec_params(
      "SELECT assessment_id, criterion, array_to_json(option_ids)::text, points, rationale, "
      "evidence_page, evidence_section, evidence_quote "
      "FROM assessment_answers WHERE assessment_id = ANY($1::bigint[]) "
      "ORDER BY assessment_id, criterion",
      absl::StrCat("{", absl::StrJoin(ids, ","), "}"));
  for (const pqxx::row& row : rows) {
    Answer answer;
    answer.criterion = row[1].as<int>();
    answer.option_ids =
        nlohmann::json::parse(row[2].as<std::string>()).get<std::vector<std::string>>();
    answer.points = row[3].as<int>();
    answer.rationale = row[4].as<std::string>();
    answer.evidence.page = row[5].as<std::string>();
    answer.evidence.section = row[6].as<std::string>();
    answer.evidence.quote = row[7].as<std::string>();
    by_id.at(row[0].as<int64_t>())->answers.push_back(std::move(answer));
  }
}

// Returns the assessments matching `where` (a constant SQL condition on
// table alias `a` with placeholders for `args`), answers included.
template <typename... Args>
std::vector<Assessment> QueryAssessments(pqxx::transaction_base& txn, const char* where,
                                         Args&&... args) {
  const pqxx::result rows =
      txn.exec_params(absl::StrCat("SELECT ", kAssessmentColumns, " FROM assessments a WHERE ",
                                   where, " ORDER BY a.study_id, a.rater_id, a.round"),
                      std::forward<Args>(args)...);
  std::vector<Assessment> assessments;
  for (const pqxx::row& row : rows) assessments.push_back(ToAssessment(row));
  LoadAnswers(txn, assessments);
  return assessments;
}

absl::StatusOr<Assessment> QueryOneAssessment(pqxx::transaction_base& txn, int64_t id) {
  std::vector<Assessment> found = QueryAssessments(txn, "a.id = $1", id);
  if (found.empty()) return absl::NotFoundError(absl::StrCat("assessment ", id, " not found"));
  return std::move(found.front());
}

absl::Status ValidateInput(const AssessmentInput& input) {
  if (input.round < 1) return absl::InvalidArgumentError("round must be >= 1");
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

// Creates or updates the DRAFT of (study, rater, round) with `input`, answers
// included, inside `txn`. Returns its id.
absl::StatusOr<int64_t> WriteDraft(pqxx::transaction_base& txn, const AssessmentInput& input) {
  const pqxx::result study = txn.exec_params(
      "SELECT s.review_id, r.instrument_id FROM studies s JOIN reviews r ON r.id = s.review_id "
      "WHERE s.id = $1",
      input.study_id);
  if (study.empty()) {
    return absl::NotFoundError(absl::StrCat("study ", input.study_id, " not found"));
  }
  const int64_t review_id = study[0][0].as<int64_t>();
  const std::string instrument_id = study[0][1].as<std::string>();

  const pqxx::result existing = txn.exec_params(
      "SELECT id, status FROM assessments WHERE study_id = $1 AND rater_id = $2 AND round = $3 "
      "FOR UPDATE",
      input.study_id, input.rater_id, input.round);
  int64_t id = 0;
  if (!existing.empty()) {
    if (existing[0][1].as<std::string>() != "DRAFT") {
      return absl::FailedPreconditionError(absl::StrCat("the assessment of study ", input.study_id,
                                                        " by rater ", input.rater_id, " in round ",
                                                        input.round, " is already submitted"));
    }
    id = existing[0][0].as<int64_t>();
    txn.exec_params(
        "UPDATE assessments SET instrument_version = $2, server_version = $3, "
        "updated_at = now() WHERE id = $1",
        id, input.instrument_version, input.server_version);
  } else {
    const pqxx::result inserted = txn.exec_params(
        "INSERT INTO assessments (review_id, study_id, rater_id, round, status, instrument_id, "
        "instrument_version, server_version) VALUES ($1, $2, $3, $4, 'DRAFT', $5, $6, $7) "
        "ON CONFLICT (study_id, rater_id, round) DO NOTHING RETURNING id",
        review_id, input.study_id, input.rater_id, input.round, instrument_id,
        input.instrument_version, input.server_version);
    if (inserted.empty()) {
      return absl::AbortedError("a concurrent request created the same assessment; retry");
    }
    id = inserted[0][0].as<int64_t>();
  }

  const std::string answers = AnswersJson(input.answers);
  txn.exec_params(
      "DELETE FROM assessment_answers WHERE assessment_id = $1 AND criterion NOT IN "
      "(SELECT (e ->> 'criterion')::integer FROM jsonb_array_elements($2::jsonb) e)",
      id, answers);
  // Unchanged answers are left alone, so the audit log records real changes.
  txn.exec_params(
      "INSERT INTO assessment_answers AS x (assessment_id, criterion, option_ids, points, "
      "rationale, evidence_page, evidence_section, evidence_quote) "
      "SELECT $1, j.criterion, "
      "  ARRAY(SELECT o.value FROM jsonb_array_elements_text(j.option_ids) "
      "        WITH ORDINALITY AS o(value, n) ORDER BY o.n), "
      "  j.points, j.rationale, j.evidence_page, j.evidence_section, j.evidence_quote "
      "FROM jsonb_to_recordset($2::jsonb) AS j(criterion integer, option_ids jsonb, "
      "  points integer, rationale text, evidence_page text, evidence_section text, "
      "  evidence_quote text) "
      "ON CONFLICT (assessment_id, criterion) DO UPDATE SET option_ids = EXCLUDED.option_ids, "
      "  points = EXCLUDED.points, rationale = EXCLUDED.rationale, "
      "  evidence_page = EXCLUDED.evidence_page, evidence_section = EXCLUDED.evidence_section, "
      "  evidence_quote = EXCLUDED.evidence_quote "
      "WHERE (x.option_ids, x.points, x.rationale, x.evidence_page, x.evidence_section, "
      "  x.evidence_quote) IS DISTINCT FROM (EXCLUDED.option_ids, EXCLUDED.points, "
      "  EXCLUDED.rationale, EXCLUDED.evidence_page, EXCLUDED.evidence_section, "
      "  EXCLUDED.evidence_quote)",
      id, answers);
  return id;
}

// Returns the assessment submitted by `rater_id` under `key`, if any.
std::optional<Assessment> FindByIdempotencyKey(pqxx::transaction_base& txn, int64_t rater_id,
                                               const std::string& key) {
  std::vector<Assessment> found =
      QueryAssessments(txn, "a.rater_id = $1 AND a.idempotency_key = $2", rater_id, key);
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

bool SameSubmission(const Assessment& assessment, const AssessmentInput& input) {
  return assessment.study_id == input.study_id && assessment.round == input.round;
}

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
            txn.exec_params(absl::StrCat("SELECT t.id, t.revoked_at IS NOT NULL, "
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

absl::StatusOr<Assessment> Store::SaveDraft(const AssessmentInput& input, int64_t actor_id) {
  RQS_RETURN_IF_ERROR(ValidateInput(input));
  return pool_->Run("SaveDraft", [&](pqxx::connection& c) -> absl::StatusOr<Assessment> {
    pqxx::work txn(c);
    BeginAudited(txn, "SaveDraft", actor_id);
    RQS_ASSIGN_OR_RETURN(const int64_t id, WriteDraft(txn, input));
    RQS_ASSIGN_OR_RETURN(Assessment saved, QueryOneAssessment(txn, id));
    txn.commit();
    return saved;
  });
}

absl::StatusOr<SubmitResult> Store::SubmitAssessment(const AssessmentInput& input,
                                                     int64_t actor_id) {
  RQS_RETURN_IF_ERROR(ValidateInput(input));
  if (input.idempotency_key.empty() || input.idempotency_key.size() > 200) {
    return absl::InvalidArgumentError("idempotency_key must have 1..200 characters");
  }
  absl::StatusOr<SubmitResult> result =
      pool_->Run("SubmitAssessment", [&](pqxx::connection& c) -> absl::StatusOr<SubmitResult> {
        pqxx::work txn(c);
        BeginAudited(txn, "SubmitAssessment", actor_id);
        if (std::optional<Assessment> first =
                FindByIdempotencyKey(txn, input.rater_id, input.idempotency_key)) {
          if (!SameSubmission(*first, input)) {
            return absl::AlreadyExistsError(absl::StrCat(
                "idempotency key '", input.idempotency_key,
                "' was already used for another submission (assessment ", first->id, ")"));
          }
          return SubmitResult{*std::move(first), true};
        }
        RQS_ASSIGN_OR_RETURN(const int64_t id, WriteDraft(txn, input));
        // Answers first, status last: the database refuses to touch the
        // answers of a SUBMITTED assessment.
        txn.exec_params(
            "UPDATE assessments SET status = 'SUBMITTED', idempotency_key = $2, "
            "submitted_at = now(), updated_at = now() WHERE id = $1",
            id, input.idempotency_key);
        RQS_ASSIGN_OR_RETURN(Assessment submitted, QueryOneAssessment(txn, id));
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
    int64_t review_id, int64_t study_id, int64_t rater_id, std::optional<AssessmentStatus> status) {
  const std::string status_name =
      status.has_value() ? std::string(AssessmentStatusName(*status)) : std::string();
  return pool_->Run("ListAssessments",
                    [&](pqxx::connection& c) -> absl::StatusOr<std::vector<Assessment>> {
                      pqxx::read_transaction txn(c);
                      return QueryAssessments(txn,
                                              "a.review_id = $1 "
                                              "AND ($2::bigint = 0 OR a.study_id = $2::bigint) "
                                              "AND ($3::bigint = 0 OR a.rater_id = $3::bigint) "
                                              "AND ($4::text = '' OR a.status = $4::text)",
                                              review_id, study_id, rater_id, status_name);
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
