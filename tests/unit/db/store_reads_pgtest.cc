// Store: the lean review-wide reads (AnswerDetail::kScores,
// StateDetail::kStatistics) against a real PostgreSQL. Each must return
// exactly what the full read returns, less what its detail leaves out,
// whether it reads the compact copies of migration 0004 or, where a copy is
// missing, the rows themselves.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "db/migrate.h"
#include "db/store.h"
#include "tests/unit/db/test_database.h"

namespace rqs::db {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

#define ASSERT_OK_AND_ASSIGN(lhs, expr)            \
  auto lhs##_or = (expr);                          \
  ASSERT_TRUE(lhs##_or.ok()) << lhs##_or.status(); \
  auto lhs = std::move(lhs##_or).value()

// Every field, one per line, so that a difference shows where it is.
std::string Dump(const Answer& answer) {
  return absl::StrCat("answer ", answer.criterion, " [", absl::StrJoin(answer.option_ids, "|"),
                      "] ", answer.points, " '", answer.rationale, "' '", answer.evidence.page,
                      "' '", answer.evidence.section, "' '", answer.evidence.quote, "'\n");
}

std::string Dump(const Assessment& assessment) {
  std::string out = absl::StrCat(
      "assessment ", assessment.id, " review ", assessment.review_id, " study ",
      assessment.study_id, " rater ", assessment.rater_id, " round ", assessment.round, " ",
      std::string(AssessmentStatusName(assessment.status)), " ", assessment.instrument_id, " ",
      assessment.instrument_version, " ", assessment.server_version, " ",
      assessment.idempotency_key, " ", absl::FormatTime(assessment.created_at), " ",
      absl::FormatTime(assessment.updated_at), " ",
      assessment.submitted_at ? absl::FormatTime(*assessment.submitted_at) : "-", "\n");
  for (const Answer& answer : assessment.answers) out += Dump(answer);
  return out;
}

std::string Dump(const std::vector<Assessment>& assessments) {
  std::string out;
  for (const Assessment& assessment : assessments) out += Dump(assessment);
  return out;
}

std::string Dump(const StudyConsensusState& state) {
  const Study& study = state.study;
  std::string out =
      absl::StrCat("study ", study.id, " ", study.review_id, " '", study.title, "' ",
                   scoring::StudyTypeName(study.study_type), " ",
                   absl::FormatTime(study.created_at), "\n panel ", absl::StrJoin(state.panel, ","),
                   "\n drafting ", absl::StrJoin(state.drafting, ","), "\n");
  for (const Assessment& assessment : state.submissions) out += Dump(assessment);
  for (const ClosedRound& round : state.rounds) {
    absl::StrAppend(&out, "round ", round.round, " ",
                    std::string(RoundCloseReasonName(round.reason)), " ", round.closed_by, " ",
                    absl::FormatTime(round.closed_at), " missing ",
                    absl::StrJoin(round.missing_rater_ids, ","),
                    round.changed_answers ? " changed " : " unchanged ",
                    scoring::StudyDecisionName(round.decision), " ",
                    scoring::EndReasonName(round.end_reason), "\n");
    for (const RoundCriterionRecord& criterion : round.criteria) {
      absl::StrAppend(&out, " criterion ", criterion.criterion,
                      criterion.agreed ? " agreed" : " disputed", " '", criterion.agreed_key, "' [",
                      absl::StrJoin(criterion.agreed_option_ids, "|"), "] ",
                      criterion.agreed_points, " {");
      for (const auto& [key, count] : criterion.distribution) {
        absl::StrAppend(&out, key, ":", count, ";");
      }
      absl::StrAppend(&out, "} ", criterion.raters_answered, "/", criterion.required, "\n");
    }
  }
  for (const AdjudicationRecord& adjudication : state.adjudications) {
    absl::StrAppend(&out, "adjudication ", adjudication.criterion, " [",
                    absl::StrJoin(adjudication.option_ids, "|"), "] ",
                    adjudication.points ? absl::StrCat(*adjudication.points) : "-", " ",
                    adjudication.awarded_points, " '", adjudication.reason, "' ",
                    adjudication.adjudicated_by, " ", absl::FormatTime(adjudication.adjudicated_at),
                    "\n");
  }
  if (state.consensus.has_value()) {
    const StudyConsensusRecord& consensus = *state.consensus;
    absl::StrAppend(&out, "consensus ", consensus.total, "/", consensus.max_total, " ",
                    consensus.percent, " level ", consensus.attained_level, " ",
                    absl::FormatTime(consensus.finalised_at), "\n");
    for (const Answer& answer : consensus.answers) out += Dump(answer);
  }
  return out;
}

std::string Dump(const std::vector<StudyConsensusState>& states) {
  std::string out;
  for (const StudyConsensusState& state : states) out += Dump(state);
  return out;
}

void ClearTexts(std::vector<Answer>& answers) {
  for (Answer& answer : answers) {
    answer.rationale.clear();
    answer.evidence = EvidenceLocation{};
  }
}

// What AnswerDetail::kScores leaves of whole assessments.
std::vector<Assessment> ScoresOf(std::vector<Assessment> assessments) {
  for (Assessment& assessment : assessments) ClearTexts(assessment.answers);
  return assessments;
}

// What StateDetail::kStatistics leaves of whole states.
std::vector<StudyConsensusState> StatisticsOf(std::vector<StudyConsensusState> states) {
  for (StudyConsensusState& state : states) {
    for (Assessment& assessment : state.submissions) ClearTexts(assessment.answers);
    for (ClosedRound& round : state.rounds) {
      for (RoundCriterionRecord& criterion : round.criteria) {
        RoundCriterionRecord kept;
        kept.criterion = criterion.criterion;
        kept.agreed = criterion.agreed;
        criterion = kept;
      }
    }
    if (state.consensus.has_value()) ClearTexts(state.consensus->answers);
  }
  return states;
}

class StoreReadsTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
    coordinator_ = MakeUser("coordinator");
    NewReview review;
    review.name = "Lean reads";
    review.instrument_id = "rqs2";
    review.target_rrl = 9;
    review.coordinator_id = coordinator_.id;
    absl::StatusOr<Review> created = store_->CreateReview(review, coordinator_.id);
    ASSERT_TRUE(created.ok()) << created.status();
    review_ = *created;
    for (const char* name : {"r1", "r2", "r3"}) {
      raters_.push_back(MakeUser(name));
      ASSERT_TRUE(
          store_->AddReviewMember(review_.id, raters_.back().id, ReviewRole::kRater, 0).ok());
    }
  }

  User MakeUser(const std::string& name) {
    NewUser user;
    user.name = name;
    absl::StatusOr<User> created = store_->CreateUser(user, 0);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : User{};
  }

  Study MakeStudy(const std::string& title) {
    NewStudy study;
    study.review_id = review_.id;
    study.title = title;
    absl::StatusOr<Study> created = store_->CreateStudy(study, 0);
    EXPECT_TRUE(created.ok()) << created.status();
    if (!created.ok()) return Study{};
    for (const User& rater : raters_) {
      EXPECT_TRUE(store_->AssignStudy(created->id, rater.id, 0).ok());
    }
    return *created;
  }

  // Answers with texts, and option ids that PostgreSQL must quote: the
  // store takes option ids as given (the server checks them).
  static std::vector<Answer> Answers(int variant) {
    Answer first;
    first.criterion = 1;
    first.option_ids = {variant == 0 ? "consensus_method" : "multicentre"};
    first.points = variant == 0 ? 2 : 1;
    first.rationale = "Stated in the introduction";
    first.evidence = {"2", "Introduction", "\"an unmet need\""};
    Answer additive;
    additive.criterion = 17;
    additive.option_ids = {"statistic", "resampling"};
    additive.points = 2;
    additive.evidence.page = "7";
    Answer odd;
    odd.criterion = 20;
    odd.option_ids = {"with space", "{brace}", "quote \" and \\ backslash", "", "NULL"};
    odd.points = 3;
    odd.rationale = "Odd ids, stored verbatim";
    Answer by_points;
    by_points.criterion = 14;
    by_points.points = 2;
    return {first, additive, odd, by_points};
  }

  AssessmentInput Input(int64_t study_id, int64_t rater_id, int round, int variant) {
    AssessmentInput input;
    input.study_id = study_id;
    input.rater_id = rater_id;
    input.round = round;
    input.instrument_version = "rqs2-2024.1";
    input.server_version = "0.1.0";
    input.idempotency_key = absl::StrCat("k", study_id, "-", rater_id, "-", round);
    input.answers = Answers(variant);
    if (round > 1) input.answers.resize(1);
    return input;
  }

  void Submit(int64_t study_id, const User& rater, int round, int variant) {
    absl::StatusOr<SubmitResult> result =
        store_->SubmitAssessment(Input(study_id, rater.id, round, variant), rater.id);
    ASSERT_TRUE(result.ok()) << result.status();
  }

  void Draft(int64_t study_id, const User& rater, int round) {
    absl::StatusOr<Assessment> result =
        store_->SaveDraft(Input(study_id, rater.id, round, 1), rater.id);
    ASSERT_TRUE(result.ok()) << result.status();
  }

  // Round `round`: criterion 1 disputed, 14 and 17 agreed.
  static ClosedRound Round(int round, scoring::StudyDecision decision, scoring::EndReason reason) {
    ClosedRound closed;
    closed.round = round;
    closed.reason = RoundCloseReason::kCoordinator;
    closed.decision = decision;
    closed.end_reason = reason;
    RoundCriterionRecord disputed;
    disputed.criterion = 1;
    disputed.distribution = {{"option:consensus_method", 2}, {"option:multicentre", 1}};
    disputed.raters_answered = 3;
    disputed.required = 3;
    RoundCriterionRecord agreed;
    agreed.criterion = 14;
    agreed.agreed = true;
    agreed.agreed_key = "option:yes";
    agreed.agreed_option_ids = {"yes"};
    agreed.agreed_points = 2;
    agreed.distribution = {{"option:yes", 3}};
    agreed.raters_answered = 3;
    agreed.required = 3;
    RoundCriterionRecord additive = agreed;
    additive.criterion = 17;
    additive.agreed_key = "options:resampling,statistic";
    additive.agreed_option_ids = {"resampling", "statistic"};
    additive.distribution = {{"options:resampling,statistic", 3}};
    closed.criteria = {disputed, agreed, additive};
    return closed;
  }

  absl::Status Transition(int64_t study_id, StudyTransitionWrite write) {
    return store_
        ->TransitionStudies(
            review_.id, {study_id},
            [&write](const ReviewPolicy&, const StudyConsensusState&)
                -> absl::StatusOr<StudyTransitionWrite> { return write; },
            "Test", coordinator_.id)
        .status();
  }

  // A review with a study in round 2 (a submission and a draft), a
  // finalised study (adjudicated, with a consensus) and a study with one
  // round-1 draft.
  void MakeReviewInEveryState() {
    const Study in_round_two = MakeStudy("In round 2");
    for (const User& rater : raters_) Submit(in_round_two.id, rater, 1, 0);
    StudyTransitionWrite close;
    close.closed_round = Round(1, scoring::StudyDecision::kContinue, scoring::EndReason::kNone);
    ASSERT_TRUE(Transition(in_round_two.id, close).ok());
    Submit(in_round_two.id, raters_[0], 2, 1);
    Draft(in_round_two.id, raters_[1], 2);

    const Study finalised = MakeStudy("Finalised");
    Submit(finalised.id, raters_[0], 1, 0);
    Submit(finalised.id, raters_[2], 1, 1);
    StudyTransitionWrite end;
    end.closed_round = Round(1, scoring::StudyDecision::kAdjudicate, scoring::EndReason::kStable);
    end.closed_round->missing_rater_ids = {raters_[1].id};
    end.closed_round->changed_answers = false;
    ASSERT_TRUE(Transition(finalised.id, end).ok());
    StudyTransitionWrite adjudicate;
    AdjudicationRecord decision;
    decision.criterion = 1;
    decision.option_ids = {"multicentre"};
    decision.awarded_points = 1;
    decision.reason = "The cohort spans two centres";
    adjudicate.adjudications = {decision};
    StudyConsensusRecord consensus;
    consensus.answers = Answers(1);
    consensus.total = 8;
    consensus.max_total = 56;
    consensus.percent = 100.0 * 8 / 56;
    consensus.attained_level = 1;
    adjudicate.consensus = consensus;
    ASSERT_TRUE(Transition(finalised.id, adjudicate).ok());

    const Study drafted = MakeStudy("Drafted");
    Draft(drafted.id, raters_[2], 1);
  }

  // Asserts that the lean reads equal the full ones, less what they leave out.
  void ExpectLeanReadsEqualFullOnes() {
    ASSERT_OK_AND_ASSIGN(full_states, store_->ListStudyConsensusStates(review_.id));
    ASSERT_OK_AND_ASSIGN(lean_states,
                         store_->ListStudyConsensusStates(review_.id, StateDetail::kStatistics));
    EXPECT_EQ(Dump(lean_states), Dump(StatisticsOf(full_states)));
    // What the comparison rests on: the full read does hold texts and rounds.
    EXPECT_THAT(Dump(full_states), HasSubstr("Stated in the introduction"));
    EXPECT_THAT(Dump(full_states), HasSubstr("option:consensus_method:2"));

    ASSERT_OK_AND_ASSIGN(full, store_->ListAssessments(review_.id));
    ASSERT_OK_AND_ASSIGN(
        lean, store_->ListAssessments(review_.id, 0, 0, std::nullopt, AnswerDetail::kScores));
    EXPECT_EQ(Dump(lean), Dump(ScoresOf(full)));
    ASSERT_OK_AND_ASSIGN(full_submitted, store_->ListAssessments(review_.id, 0, raters_[0].id,
                                                                 AssessmentStatus::kSubmitted));
    ASSERT_OK_AND_ASSIGN(lean_submitted, store_->ListAssessments(review_.id, 0, raters_[0].id,
                                                                 AssessmentStatus::kSubmitted,
                                                                 AnswerDetail::kScores));
    EXPECT_EQ(Dump(lean_submitted), Dump(ScoresOf(full_submitted)));
  }

  std::unique_ptr<Store> store_;
  User coordinator_;
  Review review_;
  std::vector<User> raters_;
};

TEST_F(StoreReadsTest, LeanReadsEqualFullReadsLessTextsAndRoundDetails) {
  MakeReviewInEveryState();
  if (HasFatalFailure()) return;
  // Every submission, closed round and consensus has its copy.
  EXPECT_EQ(Exec("SELECT count(*) FROM assessment_scores"), "6");
  EXPECT_EQ(Exec("SELECT count(*) FROM round_outcomes"), "2");
  EXPECT_EQ(Exec("SELECT count(*) FROM study_consensus WHERE answer_scores <> ''"), "1");
  ExpectLeanReadsEqualFullOnes();
  ASSERT_OK_AND_ASSIGN(states,
                       store_->ListStudyConsensusStates(review_.id, StateDetail::kStatistics));
  ASSERT_THAT(states, SizeIs(3));
  EXPECT_THAT(states[1].consensus->answers, SizeIs(4));
  ASSERT_OK_AND_ASSIGN(
      assessments, store_->ListAssessments(review_.id, 0, 0, std::nullopt, AnswerDetail::kScores));
  EXPECT_THAT(assessments, SizeIs(8));  // 6 submitted, 2 drafts.
}

TEST_F(StoreReadsTest, RowsWithoutCopiesAreReadThemselves) {
  MakeReviewInEveryState();
  if (HasFatalFailure()) return;
  // A bulk load with triggers off (a superuser session, as the tests run)
  // leaves no copy of its submissions and rounds.
  const Study loaded = MakeStudy("Bulk loaded");
  ASSERT_EQ(Exec(absl::StrCat(
                "SET session_replication_role = replica;"
                "INSERT INTO assessments (review_id, study_id, rater_id, round, status, "
                "  instrument_id, instrument_version, server_version, idempotency_key, "
                "  submitted_at) VALUES (",
                review_.id, ", ", loaded.id, ", ", raters_[0].id,
                ", 1, 'SUBMITTED', 'rqs2', 'v', 'v', 'bulk', now());"
                "INSERT INTO assessment_answers (assessment_id, criterion, option_ids, points, "
                "  rationale) SELECT id, 5, '{yes,\"a, b\"}', 1, 'loaded' FROM assessments "
                "  WHERE idempotency_key = 'bulk';"
                "INSERT INTO study_rounds (study_id, review_id, round, close_reason, "
                "  changed_answers, decision, end_reason) VALUES (",
                loaded.id, ", ", review_.id,
                ", 1, 'COORDINATOR', true, 'CONTINUE', 'NONE');"
                "INSERT INTO round_criteria (study_id, round, criterion, agreed, agreed_key, "
                "  raters_answered, required) VALUES (",
                loaded.id,
                ", 1, 9, true, 'option:no', "
                "  1, 1), (",
                loaded.id, ", 1, 5, false, NULL, 1, 1)")),
            "");
  EXPECT_EQ(Exec("SELECT count(*) FROM assessment_scores"), "6");
  EXPECT_EQ(Exec("SELECT count(*) FROM round_outcomes"), "2");
  ExpectLeanReadsEqualFullOnes();
  ASSERT_OK_AND_ASSIGN(lean,
                       store_->ListStudyConsensusStates(review_.id, StateDetail::kStatistics));
  ASSERT_THAT(lean, SizeIs(4));
  EXPECT_THAT(Dump(lean.back()), HasSubstr("answer 5 [yes|a, b] 1 ''"));
  EXPECT_THAT(Dump(lean.back()), HasSubstr("criterion 5 disputed"));
}

TEST_F(StoreReadsTest, CopiesAreAppendOnly) {
  MakeReviewInEveryState();
  if (HasFatalFailure()) return;
  for (const char* table : {"assessment_scores", "round_outcomes"}) {
    EXPECT_THAT(Exec(absl::StrCat("DELETE FROM ", table)), HasSubstr("append-only")) << table;
    EXPECT_THAT(Exec(absl::StrCat("TRUNCATE ", table)), HasSubstr("append-only")) << table;
  }
  EXPECT_THAT(Exec("UPDATE assessment_scores SET answers = ''"), HasSubstr("append-only"));
  EXPECT_THAT(Exec("UPDATE round_outcomes SET agreed = agreed"), HasSubstr("append-only"));
  EXPECT_EQ(Exec("SELECT count(*) FROM audit_log WHERE entity = 'assessment_scores'"), "6");
}

TEST_F(StoreReadsTest, MigrationCopiesWhatWasStoredBefore) {
  // The review written at schema version 2, then the database migrated.
  const std::string old_database = database_ + "_v2";
  Exec("CREATE DATABASE " + old_database);
  absl::StatusOr<std::string> old_conninfo = testing::WithDatabase(conninfo_, old_database);
  ASSERT_TRUE(old_conninfo.ok());
  ASSERT_TRUE(
      ApplyMigrations(*old_conninfo, {EmbeddedMigrations().at(0), EmbeddedMigrations().at(1)})
          .ok());
  // A store refuses a schema older than it knows, so the review is written
  // in SQL.
  {
    pqxx::connection connection(*old_conninfo);
    pqxx::work txn(connection);
    txn.exec(
        "INSERT INTO users (name) VALUES ('old rater');"
        "INSERT INTO reviews (name, instrument_id, target_rrl) VALUES ('old', 'rqs2', 9);"
        "INSERT INTO review_policies (review_id) SELECT id FROM reviews;"
        "INSERT INTO studies (review_id, title, study_type) SELECT id, 'old study', 'HCR' "
        "  FROM reviews;"
        "INSERT INTO review_members (review_id, user_id, role) SELECT r.id, u.id, 'RATER' "
        "  FROM reviews r, users u;"
        "INSERT INTO assignments (review_id, study_id, rater_id) SELECT s.review_id, s.id, u.id "
        "  FROM studies s, users u;"
        "INSERT INTO assessments (review_id, study_id, rater_id, round, status, instrument_id, "
        "  instrument_version, server_version) SELECT s.review_id, s.id, u.id, 1, 'DRAFT', "
        "  'rqs2', 'v', 'v' FROM studies s, users u;"
        "INSERT INTO assessment_answers (assessment_id, criterion, option_ids, points, rationale) "
        "  SELECT id, c, ARRAY['o' || c, 'p q'], c % 3, 'why' FROM assessments, "
        "  generate_series(1, 3) c;"
        "UPDATE assessments SET status = 'SUBMITTED', idempotency_key = 'old', "
        "  submitted_at = now();"
        "INSERT INTO study_rounds (study_id, review_id, round, close_reason, changed_answers, "
        "  decision, end_reason) SELECT id, review_id, 1, 'COORDINATOR', true, 'CONSENSUS', "
        "  'ALL_AGREED' FROM studies;"
        "INSERT INTO round_criteria (study_id, round, criterion, agreed, agreed_key, "
        "  agreed_option_ids, agreed_points, distribution, raters_answered, required) "
        "  SELECT id, 1, c, true, 'option:o' || c, ARRAY['o' || c], c % 3, "
        "  jsonb_build_object('option:o' || c, 1), 1, 1 FROM studies, generate_series(1, 3) c;"
        "INSERT INTO study_consensus (study_id, review_id, answers, total, max_total, percent, "
        "  attained_level) SELECT id, review_id, '[{\"criterion\": 2, \"option_ids\": [\"o2\"], "
        "  \"points\": 2, \"rationale\": \"r\", \"evidence_page\": \"\", "
        "  \"evidence_section\": \"\", \"evidence_quote\": \"\"}]', 2, 56, 3.5, 0 FROM studies");
    txn.commit();
  }
  StoreOptions options;
  options.conninfo = *old_conninfo;
  {
    ASSERT_OK_AND_ASSIGN(migrated, Store::Open(options));
    ASSERT_OK_AND_ASSIGN(reviews, migrated->ListReviews());
    ASSERT_THAT(reviews, SizeIs(1));
    ASSERT_OK_AND_ASSIGN(full, migrated->ListStudyConsensusStates(reviews[0].id));
    ASSERT_OK_AND_ASSIGN(
        lean, migrated->ListStudyConsensusStates(reviews[0].id, StateDetail::kStatistics));
    EXPECT_EQ(Dump(lean), Dump(StatisticsOf(full)));
    EXPECT_THAT(Dump(lean), HasSubstr("answer 2 [o2|p q] 2 ''"));
    EXPECT_THAT(Dump(lean), HasSubstr("consensus 2/56"));
  }
  {
    pqxx::connection connection(*old_conninfo);
    pqxx::nontransaction txn(connection);
    EXPECT_EQ(txn.exec("SELECT answers FROM assessment_scores")[0][0].as<std::string>(),
              "1 1 {o1,\"p q\"} 2 2 {o2,\"p q\"} 3 0 {o3,\"p q\"}");
    EXPECT_EQ(txn.exec("SELECT criteria::text || agreed::text FROM round_outcomes")[0][0]
                  .as<std::string>(),
              "{1,2,3}{t,t,t}");
    EXPECT_EQ(txn.exec("SELECT answer_scores FROM study_consensus")[0][0].as<std::string>(),
              "2 2 {o2}");
  }
  pqxx::connection admin(admin_conninfo_);
  pqxx::nontransaction(admin).exec("DROP DATABASE " + old_database + " WITH (FORCE)");
}

}  // namespace
}  // namespace rqs::db
