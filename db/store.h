// Storage layer of the rqs server: every read and write of PostgreSQL.
//
// A Store owns a pool of libpq connections and exposes plain structs in and
// out. Nothing above db/ sees SQL, libpqxx or its exceptions: every failure is
// an absl::Status with one of these codes:
//
//   NOT_FOUND            the entity (or a row it refers to) does not exist.
//   ALREADY_EXISTS       a uniqueness rule was violated (user name, token hash,
//                        membership, assignment, study external id, ...).
//   INVALID_ARGUMENT     a value breaks a rule of the schema (empty name, RRL out
//                        of range, malformed hash, ...).
//   FAILED_PRECONDITION  the request conflicts with stored state (assessment
//                        already submitted, user is not a rater of the review,
//                        database schema newer than this server, ...).
//   UNAUTHENTICATED      only from LookupApiToken: unknown, revoked or expired.
//   ABORTED              a concurrent transaction won (serialization failure or
//                        deadlock); retrying the call is safe.
//   UNAVAILABLE          the database cannot be reached, a connection broke, or
//                        no pooled connection freed up in time. Retrying later
//                        is safe; the pool reconnects by itself once the
//                        database is back.
//   INTERNAL             anything unexpected (a bug).
//
// Every write runs in one transaction and returns only after it committed.
// Every write takes the id of the acting user (`actor_id`, 0 for the system
// itself, e.g. bootstrap) which the database records, with the row before and
// after, in the append-only audit log.
//
// Authorization is the caller's job; the queries it needs (LookupApiToken,
// GetReviewRole, IsAssigned) are here. A Store is thread-safe.
//
// Example:
//
//   rqs::db::StoreOptions options;
//   options.conninfo = url;
//   options.pool_size = 8;
//   RQS_ASSIGN_OR_RETURN(std::unique_ptr<rqs::db::Store> store,
//                        rqs::db::Store::Open(options));
//   rqs::db::NewUser alice;
//   alice.name = "alice";
//   RQS_ASSIGN_OR_RETURN(rqs::db::User user, store->CreateUser(alice, /*actor_id=*/0));
#ifndef RQS_DB_STORE_H_
#define RQS_DB_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "scoring/consensus.h"
#include "scoring/instrument.h"

namespace rqs::db {

namespace internal {
class ConnectionPool;
}  // namespace internal

// ---------------------------------------------------------------------------
// Users and API tokens.

struct User {
  int64_t id = 0;
  std::string name;  // Unique login name.
  bool is_admin = false;
  absl::Time created_at;
};

struct NewUser {
  std::string name;  // Non-empty, at most 200 characters, unique.
  bool is_admin = false;
};

// An API token as stored: only the SHA-256 of the secret is kept (see
// db/token.h). The clear-text secret is shown to the user once, never stored.
struct ApiToken {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string label;  // Free text, e.g. "laptop".
  absl::Time created_at;
  std::optional<absl::Time> expires_at;  // nullopt: never expires.
  std::optional<absl::Time> revoked_at;  // nullopt: not revoked.
};

struct NewApiToken {
  int64_t user_id = 0;
  std::string token_hash;  // Lower-case hex SHA-256 of the secret (64 chars).
  std::string label;
  std::optional<absl::Time> expires_at;
};

// The result of authenticating a request by its token.
struct AuthenticatedUser {
  User user;
  int64_t token_id = 0;
};

// ---------------------------------------------------------------------------
// Reviews and their members.

enum class ReviewStatus { kOpen, kClosed };

// A user's role within one review.
enum class ReviewRole { kCoordinator, kRater, kObserver };

struct Review {
  int64_t id = 0;
  std::string name;
  std::string instrument_id;  // "rqs2", "rqs1": see scoring/instrument.h.
  int target_rrl = 0;         // Target radiomics readiness level, 0..9.
  ReviewStatus status = ReviewStatus::kOpen;
  int64_t created_by = 0;  // User id; 0 if created by the system.
  absl::Time created_at;
};

struct NewReview {
  std::string name;           // Non-empty.
  std::string instrument_id;  // Non-empty; the caller checks it is known.
  int target_rrl = 0;         // 0..9.
  // If non-zero, this user becomes the review's first COORDINATOR in the same
  // transaction.
  int64_t coordinator_id = 0;
};

struct ReviewMember {
  int64_t review_id = 0;
  int64_t user_id = 0;
  ReviewRole role = ReviewRole::kObserver;
  absl::Time added_at;
};

// ---------------------------------------------------------------------------
// Studies and rater assignments.

struct Study {
  int64_t id = 0;
  int64_t review_id = 0;
  std::string title;
  std::string authors;  // Free text, e.g. "Lambin P, Leijenaar RTH".
  int year = 0;         // Publication year; 0 if unknown.
  std::string doi;      // May be empty.
  scoring::StudyType study_type = scoring::StudyType::kHandcrafted;
  std::string external_id;  // Caller's id (e.g. a PMID); unique per review if non-empty.
  std::string notes;
  absl::Time created_at;
};

struct NewStudy {
  int64_t review_id = 0;
  std::string title;  // Non-empty.
  std::string authors;
  int year = 0;  // 0 (unknown) or 1800..3000.
  std::string doi;
  scoring::StudyType study_type = scoring::StudyType::kHandcrafted;
  std::string external_id;
  std::string notes;
};

// Rater `rater_id` is to score study `study_id`.
struct Assignment {
  int64_t review_id = 0;
  int64_t study_id = 0;
  int64_t rater_id = 0;
  absl::Time assigned_at;
};

// ---------------------------------------------------------------------------
// Assessments.

enum class AssessmentStatus { kDraft, kSubmitted };

// Where in the paper the rater found the evidence; any part may be empty.
struct EvidenceLocation {
  std::string page;     // e.g. "4".
  std::string section;  // e.g. "Methods, 2.3".
  std::string quote;    // Verbatim text from the paper.
};

// The rater's answer to one criterion.
struct Answer {
  int criterion = 0;                    // Criterion number, >= 1.
  std::vector<std::string> option_ids;  // Chosen option(s); see scoring::Option.
  int points = 0;                       // Points the options award (caller computes).
  std::string rationale;                // Free text.
  EvidenceLocation evidence;
};

// How much of each stored answer a read returns.
enum class AnswerDetail {
  // Everything: options, points, rationale and evidence.
  kFull,
  // Criterion, options and points; rationale and evidence are left empty.
  // What scores and agreement statistics need: a review-wide read holds a
  // quarter of a million answers, whose texts would cost most of its time
  // and memory.
  kScores,
};

// One rater's assessment of one study in one round. There is at most one per
// (study, rater, round).
struct Assessment {
  int64_t id = 0;
  int64_t review_id = 0;
  int64_t study_id = 0;
  int64_t rater_id = 0;
  int round = 1;  // Delphi round; 1 until rounds exist.
  AssessmentStatus status = AssessmentStatus::kDraft;
  std::string instrument_id;
  std::string instrument_version;  // Rubric version that scored it.
  std::string server_version;      // rqs server version that stored it.
  std::string idempotency_key;     // Empty for drafts.
  std::vector<Answer> answers;     // Ordered by criterion.
  absl::Time created_at;
  absl::Time updated_at;
  std::optional<absl::Time> submitted_at;
};

// The content of SaveDraft and SubmitAssessment. The review and instrument id
// are taken from the study's review.
struct AssessmentInput {
  int64_t study_id = 0;
  int64_t rater_id = 0;
  // >= 1; or 0 for "the study's open round", chosen by
  // AssessmentRules::open_round with the study locked.
  int round = 1;
  std::string instrument_version;  // Non-empty.
  std::string server_version;      // Non-empty.
  // At most one answer per criterion. A draft may hold any subset.
  std::vector<Answer> answers;
  // SubmitAssessment only: client-chosen, 1..200 characters, unique per rater.
  std::string idempotency_key;
};

struct SubmitResult {
  Assessment assessment;
  // True if `idempotency_key` had already been used by this rater for this
  // study and round (any round if the input's round was 0): `assessment` is
  // the first submission, nothing was stored.
  bool replayed = false;
};

// What a user may see of a study of a review, read in one query for the
// authorisation of a per-study call.
struct StudyAccess {
  Review review;
  std::optional<ReviewRole> role;  // Unset: the user is not a member.
  std::optional<Study> study;      // Unset: no such study in this review.
  bool assigned = false;           // The user is assigned to the study.
};

// ---------------------------------------------------------------------------
// Consensus: policy, Delphi rounds, adjudications, consensus, events.
//
// db/ stores the consensus process; the rules (which criteria are agreed,
// when a study ends, what the consensus scores) are scoring/consensus.h's and
// reach the store as callbacks that run inside the store's transaction, with
// the study locked. So a round closes, a study finalises and its events are
// recorded in one transaction, and of concurrent transitions of one study
// exactly one happens.

// The review's consensus policy as stored. Every review has one (defaults
// until SetReviewPolicy), with a secret salt for anonymised rater labels.
struct ReviewPolicy {
  int64_t review_id = 0;
  scoring::ConsensusPolicy policy;
  std::string label_salt;  // Random secret, hex; never leaves the server.
  // True once the review's first assessment (draft or submitted) was saved:
  // round 1 has opened and the policy can no longer change.
  bool locked = false;
  absl::Time updated_at;
};

// Why a round closed.
enum class RoundCloseReason { kAllSubmitted, kCoordinator };

// The stored result of one criterion in one closed round.
struct RoundCriterionRecord {
  int criterion = 0;
  bool agreed = false;
  // The agreed answer (canonical), when agreed.
  std::string agreed_key;
  std::vector<std::string> agreed_option_ids;
  int agreed_points = 0;
  std::vector<std::pair<std::string, int>> distribution;  // Answer key -> raters, by key.
  int raters_answered = 0;
  int required = 0;
};

// A closed round of one study.
struct ClosedRound {
  int round = 0;
  RoundCloseReason reason = RoundCloseReason::kCoordinator;
  int64_t closed_by = 0;  // 0: closed by the system (last submission).
  absl::Time closed_at;   // Set by the store.
  std::vector<int64_t> missing_rater_ids;
  bool changed_answers = true;  // RoundChangedAnswers; true for round 1.
  scoring::StudyDecision decision = scoring::StudyDecision::kContinue;
  scoring::EndReason end_reason = scoring::EndReason::kNone;
  std::vector<RoundCriterionRecord> criteria;  // By criterion.
};

// A coordinator's final answer to a criterion still disputed at the end.
struct AdjudicationRecord {
  int criterion = 0;
  std::vector<std::string> option_ids;
  std::optional<int> points;   // Set when answered by points.
  int awarded_points = 0;      // Points the answer awards.
  std::string reason;          // Non-blank.
  int64_t adjudicated_by = 0;  // 0 when written: the acting user (actor_id).
  absl::Time adjudicated_at;   // Set by the store.
};

// The final consensus of a study: answers and their score.
struct StudyConsensusRecord {
  // By criterion: option ids or points (the source follows from the rounds
  // and adjudications).
  std::vector<Answer> answers;
  int total = 0;
  int max_total = 0;
  double percent = 0;
  int attained_level = 0;
  absl::Time finalised_at;  // Set by the store.
};

// Everything stored about one study's consensus process, read in one
// snapshot.
struct StudyConsensusState {
  Study study;
  std::vector<int64_t> panel;  // Assigned raters, by id.
  // Submitted assessments of every round, by round then rater.
  std::vector<Assessment> submissions;
  // Raters with a draft in the open round (not submitted).
  std::vector<int64_t> drafting;
  std::vector<ClosedRound> rounds;                // Closed rounds, by round.
  std::vector<AdjudicationRecord> adjudications;  // By criterion.
  std::optional<StudyConsensusRecord> consensus;  // Once finalised.
};

// How much of each study's consensus state a review-wide read returns.
enum class StateDetail {
  // Everything.
  kFull,
  // What review-wide figures (progress, consensus, agreement, summary) need,
  // in a fraction of the time and memory: the answers of submissions and
  // consensus as AnswerDetail::kScores, and the criteria of closed rounds
  // with their number and whether they were agreed only (agreed answer,
  // distribution and counts left empty). Not for feedback or transitions.
  kStatistics,
};

// What a transition writes; empty members write nothing.
struct StudyTransitionWrite {
  std::optional<ClosedRound> closed_round;  // Must be the next round.
  std::vector<AdjudicationRecord> adjudications;
  std::optional<StudyConsensusRecord> consensus;
};

// Runs inside the store's transaction with the study locked. Gets the
// review's policy and the study's state; returns what to write, or an error
// that rolls everything back and is returned as is.
using StudyTransition = std::function<absl::StatusOr<StudyTransitionWrite>(
    const ReviewPolicy& policy, const StudyConsensusState& state)>;

// Consensus rules applied when an assessment is saved (see SaveDraft and
// SubmitAssessment).
struct AssessmentRules {
  // Required for an input with round 0: returns the study's open round, the
  // round the input is then written to. Called with the study locked.
  std::function<int(const ReviewPolicy& policy, const StudyConsensusState& state)> open_round;
  // Called with the study locked, before anything is written (not for an
  // idempotent replay): an error refuses the write (e.g. the round is closed
  // or a criterion is not open).
  std::function<absl::Status(const ReviewPolicy& policy, const StudyConsensusState& state,
                             const AssessmentInput& input)>
      check;
  // SubmitAssessment only: called after the assessment is written, when
  // every rater on the panel has submitted the input's round and that round
  // is still the open one (not closed yet); normally closes the round
  // (reason kAllSubmitted). Its write is checked and stored as
  // TransitionStudies does.
  StudyTransition on_round_complete;
};

enum class ReviewEventKind {
  kSubmissionReceived,
  kRoundClosed,
  kAdjudicationRequired,
  kStudyFinalised
};

// One event of a review, recorded in the transaction of the change it
// describes: a submission, a closed round (plus ADJUDICATION_REQUIRED or
// STUDY_FINALISED when the round ended the study), a finalisation.
struct ReviewEvent {
  // Increasing in commit order within a review, so a reader paging by id
  // (after_id) never skips an event that commits later with a smaller id.
  // A change records its events in an outbox without locking; readers move
  // them into the review's log, one mover at a time, and number them then
  // (0003_event_outbox.sql).
  int64_t id = 0;
  int64_t review_id = 0;
  int64_t study_id = 0;
  int round = 0;
  ReviewEventKind kind = ReviewEventKind::kSubmissionReceived;
  int64_t rater_id = 0;  // Submissions only.
  absl::Time at;
};

// ---------------------------------------------------------------------------
// Audit log.

// One row change, recorded by the database itself (triggers), so no write can
// skip it. Token hashes are never copied into the log.
struct AuditEntry {
  int64_t id = 0;           // Increases with time.
  absl::Time at;            // Start of the transaction that made the change.
  int64_t actor_id = 0;     // 0: the system.
  std::string action;       // Store method, e.g. "CreateUser", "SubmitAssessment".
  std::string operation;    // "INSERT", "UPDATE" or "DELETE".
  std::string entity;       // Table, e.g. "users", "assessments".
  std::string entity_id;    // Primary key; "a/b" for composite keys.
  std::string before_json;  // Row before as JSON; empty for INSERT.
  std::string after_json;   // Row after as JSON; empty for DELETE.
};

struct AuditQuery {
  std::string entity;     // Empty: any.
  std::string entity_id;  // Empty: any.
  int64_t after_id = 0;   // Only entries with id > after_id (paging).
  int limit = 100;        // 1..1000.
};

// ---------------------------------------------------------------------------

struct StoreOptions {
  // libpq connection string or URL, e.g. "host=/tmp/pg dbname=rqs" or
  // "postgresql:///rqs?host=/tmp/pg".
  std::string conninfo;
  // Most connections open at once. Connections open lazily, on first need.
  int pool_size = 4;
  // How long a call waits for a free pooled connection before UNAVAILABLE.
  absl::Duration acquire_timeout = absl::Seconds(10);
  // Apply pending migrations in Open (under an advisory lock). If false, Open
  // only checks that the schema is exactly the version this binary knows.
  bool migrate = true;
};

class Store {
 public:
  // Connects, migrates (if options.migrate) and checks the schema version.
  // Returns INVALID_ARGUMENT for a bad pool size, UNAVAILABLE if the database
  // cannot be reached, FAILED_PRECONDITION if the schema is newer than this
  // binary knows (or older, with migrate = false).
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Returns the highest applied migration version.
  absl::StatusOr<int> SchemaVersion();

  // Users -------------------------------------------------------------------

  // Returns the new user. ALREADY_EXISTS if the name is taken.
  absl::StatusOr<User> CreateUser(const NewUser& user, int64_t actor_id);
  // Creates a user and their first API token in one transaction, so neither
  // exists without the other (the bootstrap admin). `token.user_id` is
  // ignored. Returns the new user; ALREADY_EXISTS if the name is taken.
  absl::StatusOr<User> CreateUserWithToken(const NewUser& user, NewApiToken token,
                                           int64_t actor_id);
  // Returns the user, or NOT_FOUND.
  absl::StatusOr<User> GetUser(int64_t user_id);
  // Returns the user with this login name, or NOT_FOUND.
  absl::StatusOr<User> GetUserByName(std::string_view name);
  // Returns all users ordered by id.
  absl::StatusOr<std::vector<User>> ListUsers();
  // Sets the admin flag; returns the updated user or NOT_FOUND.
  absl::StatusOr<User> SetUserAdmin(int64_t user_id, bool is_admin, int64_t actor_id);

  // API tokens --------------------------------------------------------------

  // Stores a token hash. Returns the token; NOT_FOUND for an unknown user,
  // INVALID_ARGUMENT for a malformed hash, ALREADY_EXISTS for a known hash.
  absl::StatusOr<ApiToken> CreateApiToken(const NewApiToken& token, int64_t actor_id);
  // Returns the user owning the token with this hash. UNAUTHENTICATED if no
  // such token exists, or it is revoked, or it expired (the message says
  // which; do not forward it to an unauthenticated client).
  absl::StatusOr<AuthenticatedUser> LookupApiToken(std::string_view token_hash);
  // Returns the user's tokens (including revoked and expired) ordered by id.
  absl::StatusOr<std::vector<ApiToken>> ListApiTokens(int64_t user_id);
  // Revokes a token; revoking twice is OK. Returns the token or NOT_FOUND.
  absl::StatusOr<ApiToken> RevokeApiToken(int64_t token_id, int64_t actor_id);

  // Reviews and members -----------------------------------------------------

  // Returns the new review. NOT_FOUND if coordinator_id is not a user.
  absl::StatusOr<Review> CreateReview(const NewReview& review, int64_t actor_id);
  // Returns the review or NOT_FOUND.
  absl::StatusOr<Review> GetReview(int64_t review_id);
  // Returns every review ordered by id.
  absl::StatusOr<std::vector<Review>> ListReviews();
  // Returns the reviews `user_id` is a member of, ordered by id.
  absl::StatusOr<std::vector<Review>> ListReviewsForUser(int64_t user_id);
  // Returns the updated review or NOT_FOUND.
  absl::StatusOr<Review> SetReviewStatus(int64_t review_id, ReviewStatus status, int64_t actor_id);

  // Adds a member. Returns it; ALREADY_EXISTS if already a member, NOT_FOUND
  // for an unknown review or user.
  absl::StatusOr<ReviewMember> AddReviewMember(int64_t review_id, int64_t user_id, ReviewRole role,
                                               int64_t actor_id);
  // Changes a member's role. Returns the member or NOT_FOUND. A rater who has
  // assignments cannot stop being a rater: FAILED_PRECONDITION.
  absl::StatusOr<ReviewMember> SetReviewMemberRole(int64_t review_id, int64_t user_id,
                                                   ReviewRole role, int64_t actor_id);
  // Removes a member. NOT_FOUND if not a member; FAILED_PRECONDITION for the
  // only coordinator, or a rater who has assignments (their ratings stay part
  // of the review's history).
  absl::Status RemoveReviewMember(int64_t review_id, int64_t user_id, int64_t actor_id);
  // Returns the review's members ordered by user id (NOT_FOUND: no review).
  absl::StatusOr<std::vector<ReviewMember>> ListReviewMembers(int64_t review_id);
  // Returns the user's role in the review; NOT_FOUND if not a member.
  absl::StatusOr<ReviewRole> GetReviewRole(int64_t review_id, int64_t user_id);
  // Returns the review, the user's role in it, the study if it belongs to
  // the review and whether the user is assigned to it. NOT_FOUND only if the
  // review does not exist.
  absl::StatusOr<StudyAccess> GetStudyAccess(int64_t review_id, int64_t study_id, int64_t user_id);

  // Studies -----------------------------------------------------------------

  // Returns the new study. NOT_FOUND for an unknown review, ALREADY_EXISTS
  // if external_id is already used in the review.
  absl::StatusOr<Study> CreateStudy(const NewStudy& study, int64_t actor_id);
  // Adds several studies in one transaction: all are stored or none. Returns
  // them in order; errors as CreateStudy.
  absl::StatusOr<std::vector<Study>> CreateStudies(const std::vector<NewStudy>& studies,
                                                   int64_t actor_id);
  // Returns the study or NOT_FOUND.
  absl::StatusOr<Study> GetStudy(int64_t study_id);
  // Returns the review's studies ordered by id.
  absl::StatusOr<std::vector<Study>> ListStudies(int64_t review_id);

  // Assignments -------------------------------------------------------------

  // Assigns a rater to a study. Returns the assignment; NOT_FOUND for an
  // unknown study, FAILED_PRECONDITION if the user is not a RATER of the
  // study's review, ALREADY_EXISTS if already assigned.
  absl::StatusOr<Assignment> AssignStudy(int64_t study_id, int64_t rater_id, int64_t actor_id);
  // Assigns (study, rater) pairs in one transaction: all or none. Pairs
  // already assigned are kept as they are and not returned. Returns the new
  // assignments; errors as AssignStudy (except ALREADY_EXISTS).
  absl::StatusOr<std::vector<Assignment>> AssignStudies(
      const std::vector<std::pair<int64_t, int64_t>>& study_rater_pairs, int64_t actor_id);
  // Gives every study of the review `raters_per_study` raters, adding
  // assignments only, each to the rater with the fewest assignments in the
  // review so far (ties: lowest user id). Returns the new assignments.
  // INVALID_ARGUMENT if raters_per_study < 1, FAILED_PRECONDITION if the review
  // has fewer RATER members than that, NOT_FOUND for an unknown review.
  absl::StatusOr<std::vector<Assignment>> AutoAssign(int64_t review_id, int raters_per_study,
                                                     int64_t actor_id);
  // Returns the review's assignments ordered by study, then rater. If
  // `rater_id` is non-zero, only that rater's.
  absl::StatusOr<std::vector<Assignment>> ListAssignments(int64_t review_id, int64_t rater_id = 0);
  // Returns whether `rater_id` is assigned to `study_id`.
  absl::StatusOr<bool> IsAssigned(int64_t study_id, int64_t rater_id);

  // Assessments -------------------------------------------------------------

  // Creates or replaces the rater's draft for (study, round). Returns it.
  // NOT_FOUND for an unknown study or rater, FAILED_PRECONDITION if that
  // assessment is already submitted, INVALID_ARGUMENT for a repeated criterion
  // or other bad values.
  // With `rules`, the study is locked and rules->check runs first. Round 0
  // (rules->open_round required) writes to the study's open round.
  absl::StatusOr<Assessment> SaveDraft(const AssessmentInput& input, int64_t actor_id,
                                       const AssessmentRules* rules = nullptr);
  // Submits the rater's assessment for (study, round), replacing any draft.
  // Idempotent: if this rater already used `idempotency_key` for the same
  // study and round (for round 0: the same study), returns that first
  // result with replayed = true and stores nothing. ALREADY_EXISTS if the
  // key was used for another study or round; FAILED_PRECONDITION if the
  // assessment was already submitted under another key; otherwise as
  // SaveDraft.
  // With `rules`, the study is locked, rules->check runs before the write
  // and rules->on_round_complete after it when the panel has all submitted
  // the round (its write and events commit with the submission). Every
  // submission records a SUBMISSION_RECEIVED event.
  absl::StatusOr<SubmitResult> SubmitAssessment(const AssessmentInput& input, int64_t actor_id,
                                                const AssessmentRules* rules = nullptr);
  // Returns the assessment or NOT_FOUND.
  absl::StatusOr<Assessment> GetAssessment(int64_t assessment_id);
  // Returns the assessment of (study, rater, round) or NOT_FOUND.
  absl::StatusOr<Assessment> FindAssessment(int64_t study_id, int64_t rater_id, int round = 1);
  // Returns the review's assessments ordered by study, rater, round; only
  // those of `study_id` / `rater_id` / `status` when given. `detail` says how
  // much of each answer to read.
  absl::StatusOr<std::vector<Assessment>> ListAssessments(
      int64_t review_id, int64_t study_id = 0, int64_t rater_id = 0,
      std::optional<AssessmentStatus> status = std::nullopt,
      AnswerDetail detail = AnswerDetail::kFull);

  // Consensus ---------------------------------------------------------------

  // Returns the review's policy (NOT_FOUND: no review).
  absl::StatusOr<ReviewPolicy> GetReviewPolicy(int64_t review_id);
  // Replaces the policy. FAILED_PRECONDITION once round 1 has opened (any
  // assessment of the review exists), INVALID_ARGUMENT for values out of
  // range, NOT_FOUND for an unknown review. Serialised against the first
  // assessment, so a policy never changes after round 1 opened.
  absl::StatusOr<ReviewPolicy> SetReviewPolicy(int64_t review_id,
                                               const scoring::ConsensusPolicy& policy,
                                               int64_t actor_id);
  // Returns one study's consensus state (NOT_FOUND: no study).
  absl::StatusOr<StudyConsensusState> GetStudyConsensusState(int64_t study_id);
  // Returns the state of every study of the review, by study id, in one
  // snapshot (NOT_FOUND: no review). `detail` says how much of it to read.
  absl::StatusOr<std::vector<StudyConsensusState>> ListStudyConsensusStates(
      int64_t review_id, StateDetail detail = StateDetail::kFull);
  // Applies `transition` to each study in `study_ids` (all studies of the
  // review if empty), in one transaction, locking the studies in id order.
  // Writes what each returns, with its events; a study whose transition
  // returns an empty write is left alone. Returns the states after the
  // write, by study id. NOT_FOUND if the review or a study in it does not
  // exist; the transition's error rolls everything back. A write is refused
  // (and everything rolled back) with FAILED_PRECONDITION if its round is not
  // the next one or the study already ended, ALREADY_EXISTS for a criterion
  // already adjudicated or a study already finalised, INVALID_ARGUMENT for
  // criteria not strictly increasing or values the schema rejects. `action`
  // names the change in the audit log (e.g. "CloseRound", "Adjudicate").
  absl::StatusOr<std::vector<StudyConsensusState>> TransitionStudies(
      int64_t review_id, const std::vector<int64_t>& study_ids, const StudyTransition& transition,
      std::string_view action, int64_t actor_id);

  // Returns up to `limit` (1..10,000) events of the review with id >
  // `after_id`, by id, once every committed event has its id.
  // INVALID_ARGUMENT for a bad limit.
  absl::StatusOr<std::vector<ReviewEvent>> ListReviewEvents(int64_t review_id, int64_t after_id,
                                                            int limit = 1000);
  // Returns the id of the review's latest event, 0 if none.
  absl::StatusOr<int64_t> LatestReviewEventId(int64_t review_id);

  // Audit log ---------------------------------------------------------------

  // Returns matching entries ordered by id. INVALID_ARGUMENT for a bad limit.
  absl::StatusOr<std::vector<AuditEntry>> ListAuditLog(const AuditQuery& query);

 private:
  explicit Store(std::unique_ptr<internal::ConnectionPool> pool);

  std::unique_ptr<internal::ConnectionPool> pool_;
};

// Returns the names the schema stores for these enums: "OPEN"/"CLOSED",
// "COORDINATOR"/"RATER"/"OBSERVER", "DRAFT"/"SUBMITTED". Study types are stored
// as scoring::StudyTypeName gives them ("HCR"/"DLR"/"HYBRID").
std::string_view ReviewStatusName(ReviewStatus status);
std::string_view ReviewRoleName(ReviewRole role);
std::string_view AssessmentStatusName(AssessmentStatus status);
// "ALL_SUBMITTED"/"COORDINATOR"; "SUBMISSION_RECEIVED"/"ROUND_CLOSED"/
// "ADJUDICATION_REQUIRED"/"STUDY_FINALISED".
std::string_view RoundCloseReasonName(RoundCloseReason reason);
std::string_view ReviewEventKindName(ReviewEventKind kind);

// Listens for new review events across every server sharing the database
// (PostgreSQL LISTEN/NOTIFY on a dedicated connection and thread) and calls
// `on_event(review_id)` for each committed event, or on_event(0) after a
// reconnect (events may have been missed: recheck every review). The
// callback runs on the listener's thread and must not block. Reconnects with
// backoff when the database goes away.
class ReviewEventListener {
 public:
  static absl::StatusOr<std::unique_ptr<ReviewEventListener>> Start(
      std::string conninfo, std::function<void(int64_t review_id)> on_event);
  virtual ~ReviewEventListener() = default;  // Stops the thread.
};

}  // namespace rqs::db

#endif  // RQS_DB_STORE_H_
