// Store: consensus policy, Delphi rounds, adjudications, consensus, review
// events and their notifications, against a real PostgreSQL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <future>
#include <iostream>
#include <memory>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "db/migrate.h"
#include "db/store.h"
#include "tests/unit/db/test_database.h"

namespace rqs::db {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Pair;
using ::testing::SizeIs;

#define ASSERT_OK_AND_ASSIGN(lhs, expr)            \
  auto lhs##_or = (expr);                          \
  ASSERT_TRUE(lhs##_or.ok()) << lhs##_or.status(); \
  auto lhs = std::move(lhs##_or).value()

class ConsensusTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = OpenStore(/*pool_size=*/10);
    ASSERT_NE(store_, nullptr);
    coordinator_ = MakeUser("coordinator");
    review_ = MakeReview(coordinator_.id);
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

  Review MakeReview(int64_t coordinator_id, const std::string& name = "Delphi review") {
    NewReview review;
    review.name = name;
    review.instrument_id = "rqs2";
    review.target_rrl = 4;
    review.coordinator_id = coordinator_id;
    absl::StatusOr<Review> created = store_->CreateReview(review, coordinator_id);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : Review{};
  }

  // A study of the fixture's review with all three raters assigned.
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

  AssessmentInput Input(int64_t study_id, int64_t rater_id, int round = 1,
                        const std::string& key = "") {
    AssessmentInput input;
    input.study_id = study_id;
    input.rater_id = rater_id;
    input.round = round;
    input.instrument_version = "rqs2-2024.1";
    input.server_version = "0.1.0";
    input.idempotency_key =
        key.empty() ? absl::StrCat("k", study_id, "-", rater_id, "-", round) : key;
    Answer first;
    first.criterion = 1;
    first.option_ids = {"protocol_public"};
    first.points = 2;
    first.rationale = "See supplement";
    Answer third;
    third.criterion = 3;
    third.option_ids = {"level_2"};
    third.points = 1;
    input.answers = {first, third};
    return input;
  }

  void SubmitAll(int64_t study_id, int round = 1) {
    for (const User& rater : raters_) {
      absl::StatusOr<SubmitResult> result =
          store_->SubmitAssessment(Input(study_id, rater.id, round), rater.id);
      ASSERT_TRUE(result.ok()) << result.status();
    }
  }

  std::vector<ReviewEvent> Events(int64_t review_id) {
    absl::StatusOr<std::vector<ReviewEvent>> events = store_->ListReviewEvents(review_id, 0);
    EXPECT_TRUE(events.ok()) << events.status();
    return events.ok() ? *events : std::vector<ReviewEvent>{};
  }

  // Round `round` of a study: criterion 1 agreed, criterion 3 disputed.
  static ClosedRound Round(int round, scoring::StudyDecision decision, scoring::EndReason reason) {
    ClosedRound closed;
    closed.round = round;
    closed.reason = RoundCloseReason::kAllSubmitted;
    closed.changed_answers = true;
    closed.decision = decision;
    closed.end_reason = reason;
    RoundCriterionRecord agreed;
    agreed.criterion = 1;
    agreed.agreed = true;
    agreed.agreed_key = "option:protocol_public";
    agreed.agreed_option_ids = {"protocol_public"};
    agreed.agreed_points = 2;
    agreed.distribution = {{"option:protocol_public", 3}};
    agreed.raters_answered = 3;
    agreed.required = 3;
    RoundCriterionRecord disputed;
    disputed.criterion = 3;
    disputed.distribution = {{"option:level_1", 1}, {"option:level_2", 2}};
    disputed.raters_answered = 3;
    disputed.required = 3;
    closed.criteria = {agreed, disputed};
    return closed;
  }

  static StudyTransition CloseFirstRound() {
    return [](const ReviewPolicy&,
              const StudyConsensusState& state) -> absl::StatusOr<StudyTransitionWrite> {
      if (!state.rounds.empty()) return absl::FailedPreconditionError("round 1 already closed");
      StudyTransitionWrite write;
      write.closed_round = Round(1, scoring::StudyDecision::kContinue, scoring::EndReason::kNone);
      return write;
    };
  }

  std::unique_ptr<Store> store_;
  User coordinator_;
  Review review_;
  std::vector<User> raters_;
};

// --- Policy ---

TEST_F(ConsensusTest, NewReviewsGetTheDefaultPolicyAndTheirOwnSalt) {
  ASSERT_OK_AND_ASSIGN(policy, store_->GetReviewPolicy(review_.id));
  const scoring::ConsensusPolicy defaults;
  EXPECT_EQ(policy.review_id, review_.id);
  EXPECT_EQ(policy.policy.agreement_threshold, defaults.agreement_threshold);
  EXPECT_EQ(policy.policy.max_rounds, defaults.max_rounds);
  EXPECT_EQ(policy.policy.stop_when_stable, defaults.stop_when_stable);
  EXPECT_EQ(policy.policy.level_threshold_percent, defaults.level_threshold_percent);
  EXPECT_EQ(policy.policy.share_rationales, defaults.share_rationales);
  EXPECT_FALSE(policy.locked);
  EXPECT_THAT(policy.label_salt, MatchesRegex("[0-9a-f]{64}"));
  EXPECT_GT(policy.updated_at, absl::Now() - absl::Minutes(5));

  Review other = MakeReview(coordinator_.id, "Other");
  ASSERT_OK_AND_ASSIGN(other_policy, store_->GetReviewPolicy(other.id));
  EXPECT_NE(other_policy.label_salt, policy.label_salt);
  EXPECT_EQ(store_->GetReviewPolicy(9999).status().code(), absl::StatusCode::kNotFound);

  // The policy is audited, its salt is not.
  EXPECT_EQ(Exec("SELECT count(*) FROM audit_log WHERE entity = 'review_policies' AND "
                 "action = 'CreateReview'"),
            "2");
  EXPECT_EQ(Exec("SELECT count(*) FROM audit_log WHERE after::text LIKE '%" + policy.label_salt +
                 "%' OR after ? 'label_salt'"),
            "0");
}

TEST_F(ConsensusTest, MigrationBackfillsPoliciesOfExistingReviews) {
  // A second database at schema version 1, with reviews made before 0002.
  const std::string old_database = database_ + "_v1";
  Exec("CREATE DATABASE " + old_database);
  absl::StatusOr<std::string> old_conninfo = testing::WithDatabase(conninfo_, old_database);
  ASSERT_TRUE(old_conninfo.ok());
  ASSERT_TRUE(ApplyMigrations(*old_conninfo, {EmbeddedMigrations().at(0)}).ok());
  {
    pqxx::connection connection(*old_conninfo);
    pqxx::work txn(connection);
    txn.exec(
        "INSERT INTO reviews (name, instrument_id, target_rrl) "
        "VALUES ('old 1', 'rqs2', 3), ('old 2', 'rqs1', 5)");
    txn.commit();
  }
  StoreOptions options;
  options.conninfo = *old_conninfo;
  {
    ASSERT_OK_AND_ASSIGN(store, Store::Open(options));
    ASSERT_OK_AND_ASSIGN(reviews, store->ListReviews());
    ASSERT_THAT(reviews, SizeIs(2));
    ASSERT_OK_AND_ASSIGN(first, store->GetReviewPolicy(reviews[0].id));
    ASSERT_OK_AND_ASSIGN(second, store->GetReviewPolicy(reviews[1].id));
    EXPECT_EQ(first.policy.agreement_threshold, 0.75);
    EXPECT_EQ(first.policy.max_rounds, 3);
    EXPECT_TRUE(first.policy.stop_when_stable);
    EXPECT_EQ(first.policy.level_threshold_percent, 50.0);
    EXPECT_TRUE(first.policy.share_rationales);
    EXPECT_THAT(first.label_salt, MatchesRegex("[0-9a-f]{64}"));
    EXPECT_NE(first.label_salt, second.label_salt);
  }
  pqxx::connection admin(admin_conninfo_);
  pqxx::nontransaction(admin).exec("DROP DATABASE " + old_database + " WITH (FORCE)");
}

TEST_F(ConsensusTest, SetReviewPolicyValidatesAndLocksOnceRoundOneOpens) {
  ASSERT_OK_AND_ASSIGN(before, store_->GetReviewPolicy(review_.id));
  scoring::ConsensusPolicy policy;
  policy.agreement_threshold = 0.8;
  policy.max_rounds = 5;
  policy.stop_when_stable = false;
  policy.level_threshold_percent = 62.5;
  policy.share_rationales = false;
  ASSERT_OK_AND_ASSIGN(set, store_->SetReviewPolicy(review_.id, policy, coordinator_.id));
  ASSERT_OK_AND_ASSIGN(read, store_->GetReviewPolicy(review_.id));
  for (const ReviewPolicy* stored : {&set, &read}) {
    EXPECT_EQ(stored->policy.agreement_threshold, 0.8);
    EXPECT_EQ(stored->policy.max_rounds, 5);
    EXPECT_FALSE(stored->policy.stop_when_stable);
    EXPECT_EQ(stored->policy.level_threshold_percent, 62.5);
    EXPECT_FALSE(stored->policy.share_rationales);
    EXPECT_EQ(stored->label_salt, before.label_salt);
    EXPECT_GE(stored->updated_at, before.updated_at);
    EXPECT_FALSE(stored->locked);
  }
  EXPECT_EQ(Exec("SELECT action || '/' || actor_id FROM audit_log "
                 "WHERE entity = 'review_policies' AND operation = 'UPDATE'"),
            absl::StrCat("SetReviewPolicy/", coordinator_.id));

  scoring::ConsensusPolicy bad = policy;
  bad.agreement_threshold = 0.5;
  EXPECT_EQ(store_->SetReviewPolicy(review_.id, bad, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = policy;
  bad.max_rounds = 11;
  EXPECT_EQ(store_->SetReviewPolicy(review_.id, bad, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = policy;
  bad.level_threshold_percent = 101;
  EXPECT_EQ(store_->SetReviewPolicy(review_.id, bad, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->SetReviewPolicy(9999, policy, 0).status().code(), absl::StatusCode::kNotFound);

  // A draft opens round 1 and fixes the policy.
  Study study = MakeStudy("S1");
  AssessmentInput draft = Input(study.id, raters_[0].id);
  draft.idempotency_key.clear();
  ASSERT_TRUE(store_->SaveDraft(draft, raters_[0].id).ok());
  ASSERT_OK_AND_ASSIGN(locked, store_->GetReviewPolicy(review_.id));
  EXPECT_TRUE(locked.locked);
  absl::StatusOr<ReviewPolicy> refused =
      store_->SetReviewPolicy(review_.id, scoring::ConsensusPolicy(), coordinator_.id);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(),
              HasSubstr(absl::StrCat("the consensus policy of review ", review_.id,
                                     " is fixed: round 1 has opened")));
  ASSERT_OK_AND_ASSIGN(unchanged, store_->GetReviewPolicy(review_.id));
  EXPECT_EQ(unchanged.policy.max_rounds, 5);
}

TEST_F(ConsensusTest, PolicyChangeAndFirstAssessmentAreSerialised) {
  // Whichever commits first, the policy never changes after an assessment
  // exists: either the change lands before round 1, or it is refused.
  for (int i = 0; i < 5; ++i) {
    Review review = MakeReview(coordinator_.id, "race " + std::to_string(i));
    ASSERT_TRUE(store_->AddReviewMember(review.id, raters_[0].id, ReviewRole::kRater, 0).ok());
    NewStudy new_study;
    new_study.review_id = review.id;
    new_study.title = "S";
    ASSERT_OK_AND_ASSIGN(study, store_->CreateStudy(new_study, 0));
    scoring::ConsensusPolicy policy;
    policy.max_rounds = 7;
    AssessmentInput draft = Input(study.id, raters_[0].id);
    auto set = std::async(std::launch::async,
                          [&] { return store_->SetReviewPolicy(review.id, policy, 0); });
    auto save =
        std::async(std::launch::async, [&] { return store_->SaveDraft(draft, raters_[0].id); });
    ASSERT_TRUE(save.get().ok());
    absl::StatusOr<ReviewPolicy> set_result = set.get();
    if (!set_result.ok()) {
      EXPECT_EQ(set_result.status().code(), absl::StatusCode::kFailedPrecondition);
    }
    // The audit log orders the two: a policy update must precede the draft.
    EXPECT_EQ(Exec(absl::StrCat("SELECT count(*) FROM audit_log p, audit_log a WHERE p.entity = "
                                "'review_policies' AND p.operation = 'UPDATE' AND p.entity_id = '",
                                review.id,
                                "' AND a.entity = 'assessments' AND a.after ->> 'review_id' = '",
                                review.id, "' AND p.id > a.id")),
              "0");
  }
}

// --- Transitions ---

TEST_F(ConsensusTest, TransitionStudiesWritesEverythingAndReadsItBack) {
  Study study = MakeStudy("S1");
  Study untouched = MakeStudy("S2");
  SubmitAll(study.id);
  // A draft in the open round shows as drafting.
  AssessmentInput draft = Input(untouched.id, raters_[1].id);
  ASSERT_TRUE(store_->SaveDraft(draft, raters_[1].id).ok());

  ASSERT_OK_AND_ASSIGN(initial, store_->GetStudyConsensusState(untouched.id));
  EXPECT_THAT(initial.drafting, ElementsAre(raters_[1].id));
  EXPECT_THAT(initial.submissions, IsEmpty());
  EXPECT_THAT(initial.rounds, IsEmpty());

  const absl::Time before = absl::Now() - absl::Seconds(5);
  ClosedRound round = Round(1, scoring::StudyDecision::kAdjudicate, scoring::EndReason::kMaxRounds);
  round.reason = RoundCloseReason::kCoordinator;
  round.closed_by = coordinator_.id;
  round.missing_rater_ids = {raters_[2].id};
  AdjudicationRecord adjudication;
  adjudication.criterion = 3;
  adjudication.points = 1;
  adjudication.awarded_points = 1;
  adjudication.reason = "Validation was internal only.";
  StudyConsensusRecord consensus;
  Answer agreed;
  agreed.criterion = 1;
  agreed.option_ids = {"protocol_public"};
  agreed.points = 2;
  Answer adjudicated;
  adjudicated.criterion = 3;
  adjudicated.points = 1;
  consensus.answers = {agreed, adjudicated};
  consensus.total = 3;
  consensus.max_total = 36;
  consensus.percent = 100.0 / 12.0;
  consensus.attained_level = 2;

  int calls = 0;
  const StudyTransition transition =
      [&](const ReviewPolicy& policy,
          const StudyConsensusState& state) -> absl::StatusOr<StudyTransitionWrite> {
    ++calls;
    EXPECT_EQ(policy.review_id, review_.id);
    StudyTransitionWrite write;
    if (state.study.id != study.id) return write;
    EXPECT_THAT(state.panel, ElementsAre(raters_[0].id, raters_[1].id, raters_[2].id));
    EXPECT_THAT(state.submissions, SizeIs(3));
    write.closed_round = round;
    write.adjudications = {adjudication};
    write.consensus = consensus;
    return write;
  };
  ASSERT_OK_AND_ASSIGN(
      states, store_->TransitionStudies(review_.id, {}, transition, "Finalise", coordinator_.id));
  EXPECT_EQ(calls, 2);
  ASSERT_THAT(states, SizeIs(2));
  EXPECT_EQ(states[1].study.id, untouched.id);
  EXPECT_THAT(states[1].rounds, IsEmpty());
  EXPECT_FALSE(states[1].consensus.has_value());

  ASSERT_OK_AND_ASSIGN(read, store_->GetStudyConsensusState(study.id));
  ASSERT_OK_AND_ASSIGN(listed, store_->ListStudyConsensusStates(review_.id));
  ASSERT_THAT(listed, SizeIs(2));
  for (const StudyConsensusState* state : {&states[0], &read, &listed[0]}) {
    EXPECT_EQ(state->study.id, study.id);
    EXPECT_EQ(state->study.title, "S1");
    EXPECT_THAT(state->panel, ElementsAre(raters_[0].id, raters_[1].id, raters_[2].id));
    ASSERT_THAT(state->submissions, SizeIs(3));
    EXPECT_EQ(state->submissions[0].rater_id, raters_[0].id);
    EXPECT_EQ(state->submissions[2].rater_id, raters_[2].id);
    EXPECT_EQ(state->submissions[0].status, AssessmentStatus::kSubmitted);
    ASSERT_THAT(state->submissions[0].answers, SizeIs(2));
    EXPECT_EQ(state->submissions[0].answers[0].rationale, "See supplement");
    EXPECT_THAT(state->drafting, IsEmpty());  // The study ended: no open round.

    ASSERT_THAT(state->rounds, SizeIs(1));
    const ClosedRound& closed = state->rounds[0];
    EXPECT_EQ(closed.round, 1);
    EXPECT_EQ(closed.reason, RoundCloseReason::kCoordinator);
    EXPECT_EQ(closed.closed_by, coordinator_.id);
    EXPECT_GT(closed.closed_at, before);
    EXPECT_THAT(closed.missing_rater_ids, ElementsAre(raters_[2].id));
    EXPECT_TRUE(closed.changed_answers);
    EXPECT_EQ(closed.decision, scoring::StudyDecision::kAdjudicate);
    EXPECT_EQ(closed.end_reason, scoring::EndReason::kMaxRounds);
    ASSERT_THAT(closed.criteria, SizeIs(2));
    EXPECT_EQ(closed.criteria[0].criterion, 1);
    EXPECT_TRUE(closed.criteria[0].agreed);
    EXPECT_EQ(closed.criteria[0].agreed_key, "option:protocol_public");
    EXPECT_THAT(closed.criteria[0].agreed_option_ids, ElementsAre("protocol_public"));
    EXPECT_EQ(closed.criteria[0].agreed_points, 2);
    EXPECT_THAT(closed.criteria[0].distribution, ElementsAre(Pair("option:protocol_public", 3)));
    EXPECT_EQ(closed.criteria[0].raters_answered, 3);
    EXPECT_EQ(closed.criteria[0].required, 3);
    EXPECT_EQ(closed.criteria[1].criterion, 3);
    EXPECT_FALSE(closed.criteria[1].agreed);
    EXPECT_EQ(closed.criteria[1].agreed_key, "");
    EXPECT_THAT(closed.criteria[1].agreed_option_ids, IsEmpty());
    EXPECT_THAT(closed.criteria[1].distribution,
                ElementsAre(Pair("option:level_1", 1), Pair("option:level_2", 2)));

    ASSERT_THAT(state->adjudications, SizeIs(1));
    const AdjudicationRecord& adjudged = state->adjudications[0];
    EXPECT_EQ(adjudged.criterion, 3);
    EXPECT_THAT(adjudged.option_ids, IsEmpty());
    EXPECT_EQ(adjudged.points, std::optional<int>(1));
    EXPECT_EQ(adjudged.awarded_points, 1);
    EXPECT_EQ(adjudged.reason, "Validation was internal only.");
    EXPECT_EQ(adjudged.adjudicated_by, coordinator_.id);  // 0 in the write: the actor.
    EXPECT_GT(adjudged.adjudicated_at, before);

    ASSERT_TRUE(state->consensus.has_value());
    const StudyConsensusRecord& final_record = *state->consensus;
    ASSERT_THAT(final_record.answers, SizeIs(2));
    EXPECT_EQ(final_record.answers[0].criterion, 1);
    EXPECT_THAT(final_record.answers[0].option_ids, ElementsAre("protocol_public"));
    EXPECT_EQ(final_record.answers[0].points, 2);
    EXPECT_EQ(final_record.answers[1].criterion, 3);
    EXPECT_THAT(final_record.answers[1].option_ids, IsEmpty());
    EXPECT_EQ(final_record.answers[1].points, 1);
    EXPECT_EQ(final_record.total, 3);
    EXPECT_EQ(final_record.max_total, 36);
    EXPECT_EQ(final_record.percent, 100.0 / 12.0);
    EXPECT_EQ(final_record.attained_level, 2);
    EXPECT_GT(final_record.finalised_at, before);
  }
  EXPECT_THAT(listed[1].drafting, ElementsAre(raters_[1].id));

  // Events: three submissions, then the round with its outcome, in order.
  std::vector<ReviewEvent> events = Events(review_.id);
  ASSERT_THAT(events, SizeIs(6));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(events[static_cast<size_t>(i)].kind, ReviewEventKind::kSubmissionReceived);
    EXPECT_EQ(events[static_cast<size_t>(i)].rater_id, raters_[static_cast<size_t>(i)].id);
    EXPECT_EQ(events[static_cast<size_t>(i)].round, 1);
  }
  EXPECT_EQ(events[3].kind, ReviewEventKind::kRoundClosed);
  EXPECT_EQ(events[4].kind, ReviewEventKind::kAdjudicationRequired);
  EXPECT_EQ(events[5].kind, ReviewEventKind::kStudyFinalised);
  for (size_t i = 3; i < 6; ++i) {
    EXPECT_EQ(events[i].study_id, study.id);
    EXPECT_EQ(events[i].review_id, review_.id);
    EXPECT_EQ(events[i].round, 1);
    EXPECT_EQ(events[i].rater_id, 0);
    EXPECT_GT(events[i].id, events[i - 1].id);
  }

  // Audited under the caller's action and actor.
  for (const char* entity :
       {"study_rounds", "round_criteria", "adjudications", "study_consensus"}) {
    EXPECT_EQ(Exec(absl::StrCat("SELECT string_agg(DISTINCT action || '/' || actor_id, ',') "
                                "FROM audit_log WHERE entity = '",
                                entity, "'")),
              absl::StrCat("Finalise/", coordinator_.id))
        << entity;
  }
}

TEST_F(ConsensusTest, RoundsMustCloseInOrderWithSortedCriteria) {
  Study study = MakeStudy("S1");
  const auto close = [&](ClosedRound round) {
    return store_
        ->TransitionStudies(
            review_.id, {study.id},
            [&](const ReviewPolicy&, const StudyConsensusState&) {
              StudyTransitionWrite write;
              write.closed_round = round;
              return absl::StatusOr<StudyTransitionWrite>(write);
            },
            "CloseRound", coordinator_.id)
        .status();
  };
  absl::Status skipped =
      close(Round(2, scoring::StudyDecision::kContinue, scoring::EndReason::kNone));
  EXPECT_EQ(skipped.code(), absl::StatusCode::kFailedPrecondition) << skipped;
  ClosedRound unsorted = Round(1, scoring::StudyDecision::kContinue, scoring::EndReason::kNone);
  std::swap(unsorted.criteria[0], unsorted.criteria[1]);
  EXPECT_EQ(close(unsorted).code(), absl::StatusCode::kInvalidArgument);
  ClosedRound repeated = Round(1, scoring::StudyDecision::kContinue, scoring::EndReason::kNone);
  repeated.criteria[1].criterion = 1;
  EXPECT_EQ(close(repeated).code(), absl::StatusCode::kInvalidArgument);
  ClosedRound mismatched = Round(1, scoring::StudyDecision::kContinue, scoring::EndReason::kStable);
  EXPECT_EQ(close(mismatched).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Exec("SELECT count(*) FROM study_rounds"), "0");

  ASSERT_TRUE(close(Round(1, scoring::StudyDecision::kContinue, scoring::EndReason::kNone)).ok());
  EXPECT_EQ(close(Round(1, scoring::StudyDecision::kContinue, scoring::EndReason::kNone)).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(
      close(Round(2, scoring::StudyDecision::kConsensus, scoring::EndReason::kAllAgreed)).ok());
  // The study ended: no round 3.
  EXPECT_EQ(close(Round(3, scoring::StudyDecision::kContinue, scoring::EndReason::kNone)).code(),
            absl::StatusCode::kFailedPrecondition);

  ASSERT_OK_AND_ASSIGN(state, store_->GetStudyConsensusState(study.id));
  ASSERT_THAT(state.rounds, SizeIs(2));
  EXPECT_EQ(state.rounds[1].round, 2);
  EXPECT_EQ(state.rounds[1].decision, scoring::StudyDecision::kConsensus);
  EXPECT_THAT(state.rounds[1].criteria, SizeIs(2));
}

TEST_F(ConsensusTest, AdjudicationsAndConsensusAreWrittenOnce) {
  Study study = MakeStudy("S1");
  AdjudicationRecord adjudication;
  adjudication.criterion = 3;
  adjudication.option_ids = {"level_1"};
  adjudication.awarded_points = 0;
  adjudication.reason = "Only internal validation.";
  adjudication.adjudicated_by = raters_[0].id;
  const auto adjudicate = [&](std::vector<AdjudicationRecord> adjudications) {
    return store_
        ->TransitionStudies(
            review_.id, {study.id},
            [&](const ReviewPolicy&, const StudyConsensusState&) {
              StudyTransitionWrite write;
              write.adjudications = adjudications;
              return absl::StatusOr<StudyTransitionWrite>(write);
            },
            "Adjudicate", coordinator_.id)
        .status();
  };
  AdjudicationRecord blank = adjudication;
  blank.reason = " \t\n";
  EXPECT_EQ(adjudicate({blank}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(adjudicate({adjudication, adjudication}).code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(adjudicate({adjudication}).ok());
  absl::Status again = adjudicate({adjudication});
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_THAT(std::string(again.message()), HasSubstr("criterion 3"));
  ASSERT_OK_AND_ASSIGN(state, store_->GetStudyConsensusState(study.id));
  ASSERT_THAT(state.adjudications, SizeIs(1));
  EXPECT_EQ(state.adjudications[0].adjudicated_by, raters_[0].id);
  EXPECT_THAT(state.adjudications[0].option_ids, ElementsAre("level_1"));
  EXPECT_FALSE(state.adjudications[0].points.has_value());

  // The primary key refuses a duplicate even past the store's own check.
  EXPECT_THAT(Exec(absl::StrCat("INSERT INTO adjudications (study_id, review_id, criterion, "
                                "awarded_points, reason, adjudicated_by) VALUES (",
                                study.id, ", ", review_.id, ", 3, 0, 'x', ", coordinator_.id, ")")),
              HasSubstr("duplicate key"));

  const auto finalise = [&] {
    return store_
        ->TransitionStudies(
            review_.id, {study.id},
            [&](const ReviewPolicy&, const StudyConsensusState&) {
              StudyTransitionWrite write;
              write.consensus = StudyConsensusRecord();
              return absl::StatusOr<StudyTransitionWrite>(write);
            },
            "Finalise", coordinator_.id)
        .status();
  };
  ASSERT_TRUE(finalise().ok());
  EXPECT_EQ(finalise().code(), absl::StatusCode::kAlreadyExists);
  // No round closed yet: the finalisation event carries round 0.
  std::vector<ReviewEvent> events = Events(review_.id);
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].kind, ReviewEventKind::kStudyFinalised);
  EXPECT_EQ(events[0].round, 0);
}

TEST_F(ConsensusTest, AFailedTransitionRollsBackTheWholeBatch) {
  Study first = MakeStudy("S1");
  Study second = MakeStudy("S2");
  const std::string audit_rows = Exec("SELECT count(*) FROM audit_log");
  absl::StatusOr<std::vector<StudyConsensusState>> refused = store_->TransitionStudies(
      review_.id, {first.id, second.id},
      [&](const ReviewPolicy&,
          const StudyConsensusState& state) -> absl::StatusOr<StudyTransitionWrite> {
        if (state.study.id == second.id) return absl::AbortedError("rules refused S2");
        StudyTransitionWrite write;
        write.closed_round =
            Round(1, scoring::StudyDecision::kConsensus, scoring::EndReason::kAllAgreed);
        write.consensus = StudyConsensusRecord();
        return write;
      },
      "CloseRound", coordinator_.id);
  EXPECT_EQ(refused.status(), absl::AbortedError("rules refused S2"));

  // A write the database refuses rolls back the studies before it too.
  absl::StatusOr<std::vector<StudyConsensusState>> invalid = store_->TransitionStudies(
      review_.id, {},
      [&](const ReviewPolicy&,
          const StudyConsensusState& state) -> absl::StatusOr<StudyTransitionWrite> {
        StudyTransitionWrite write;
        write.closed_round = Round(1, scoring::StudyDecision::kContinue, scoring::EndReason::kNone);
        if (state.study.id == second.id) write.closed_round->criteria[0].agreed_key.clear();
        return write;
      },
      "CloseRound", coordinator_.id);
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument) << invalid.status();

  for (const char* table : {"study_rounds", "round_criteria", "study_consensus", "review_events",
                            "review_event_outbox"}) {
    EXPECT_EQ(Exec(absl::StrCat("SELECT count(*) FROM ", table)), "0") << table;
  }
  EXPECT_EQ(Exec("SELECT count(*) FROM audit_log"), audit_rows);
}

TEST_F(ConsensusTest, StudiesOutsideTheReviewAreNotFound) {
  Study study = MakeStudy("S1");
  Review other = MakeReview(coordinator_.id, "Other");
  NewStudy foreign;
  foreign.review_id = other.id;
  foreign.title = "Foreign";
  ASSERT_OK_AND_ASSIGN(foreign_study, store_->CreateStudy(foreign, 0));
  int calls = 0;
  const StudyTransition count = [&](const ReviewPolicy&, const StudyConsensusState&) {
    ++calls;
    return absl::StatusOr<StudyTransitionWrite>(StudyTransitionWrite());
  };
  absl::StatusOr<std::vector<StudyConsensusState>> result =
      store_->TransitionStudies(review_.id, {study.id, foreign_study.id}, count, "CloseRound", 0);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr(absl::StrCat("study ", foreign_study.id)));
  EXPECT_EQ(store_->TransitionStudies(9999, {}, count, "CloseRound", 0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(store_->GetStudyConsensusState(9999).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->ListStudyConsensusStates(9999).status().code(), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(empty, store_->ListStudyConsensusStates(other.id));
  ASSERT_THAT(empty, SizeIs(1));
  EXPECT_THAT(empty[0].panel, IsEmpty());
}

TEST_F(ConsensusTest, HistoryTablesRefuseUpdateDeleteAndTruncate) {
  Study study = MakeStudy("S1");
  SubmitAll(study.id);
  ASSERT_TRUE(store_
                  ->TransitionStudies(
                      review_.id, {study.id},
                      [&](const ReviewPolicy&, const StudyConsensusState&) {
                        StudyTransitionWrite write;
                        write.closed_round = Round(1, scoring::StudyDecision::kAdjudicate,
                                                   scoring::EndReason::kMaxRounds);
                        AdjudicationRecord adjudication;
                        adjudication.criterion = 3;
                        adjudication.points = 0;
                        adjudication.reason = "r";
                        write.adjudications = {adjudication};
                        write.consensus = StudyConsensusRecord();
                        return absl::StatusOr<StudyTransitionWrite>(write);
                      },
                      "Finalise", coordinator_.id)
                  .ok());
  Exec(absl::StrCat("SELECT rqs_sequence_review_events(", review_.id, ")"));
  const std::pair<const char*, const char*> tables[] = {{"study_rounds", "changed_answers = false"},
                                                        {"round_criteria", "required = 0"},
                                                        {"adjudications", "reason = 'forged'"},
                                                        {"study_consensus", "total = 99"},
                                                        {"review_events", "round = 9"}};
  for (const auto& [table, assignment] : tables) {
    ASSERT_EQ(Exec(absl::StrCat("SELECT count(*) > 0 FROM ", table)), "t") << table;
    EXPECT_THAT(Exec(absl::StrCat("UPDATE ", table, " SET ", assignment)), HasSubstr("append-only"))
        << table;
    EXPECT_THAT(Exec(absl::StrCat("DELETE FROM ", table)), HasSubstr("append-only")) << table;
    EXPECT_THAT(Exec(absl::StrCat("TRUNCATE ", table, " CASCADE")), HasSubstr("append-only"))
        << table;
  }
  ASSERT_OK_AND_ASSIGN(state, store_->GetStudyConsensusState(study.id));
  EXPECT_THAT(state.rounds, SizeIs(1));
  EXPECT_EQ(state.adjudications.at(0).reason, "r");
}

TEST_F(ConsensusTest, ANonSuperuserOwnerWritesHistoryButCannotRewriteIt) {
  // Servers need not run as a superuser: migrate and write as a plain role
  // owning its database. Roles are cluster-wide: name it after this test.
  const std::string role = database_ + "_owner";
  const std::string owned = database_ + "_owned";
  {
    pqxx::connection admin(admin_conninfo_);
    pqxx::nontransaction txn(admin);
    txn.exec("CREATE ROLE " + role + " LOGIN");
    txn.exec("CREATE DATABASE " + owned + " OWNER " + role);
  }
  absl::StatusOr<std::string> conninfo = testing::WithDatabase(admin_conninfo_, owned);
  ASSERT_TRUE(conninfo.ok());
  StoreOptions options;
  options.conninfo = *conninfo + " user=" + role;
  {
    ASSERT_OK_AND_ASSIGN(store, Store::Open(options));
    NewUser new_user;
    new_user.name = "coordinator";
    ASSERT_OK_AND_ASSIGN(user, store->CreateUser(new_user, 0));
    NewReview new_review;
    new_review.name = "R";
    new_review.instrument_id = "rqs2";
    ASSERT_OK_AND_ASSIGN(review, store->CreateReview(new_review, user.id));
    NewStudy new_study;
    new_study.review_id = review.id;
    new_study.title = "S";
    ASSERT_OK_AND_ASSIGN(study, store->CreateStudy(new_study, user.id));
    absl::StatusOr<std::vector<StudyConsensusState>> written = store->TransitionStudies(
        review.id, {study.id},
        [&](const ReviewPolicy&, const StudyConsensusState&) {
          StudyTransitionWrite write;
          write.closed_round =
              Round(1, scoring::StudyDecision::kAdjudicate, scoring::EndReason::kMaxRounds);
          AdjudicationRecord adjudication;
          adjudication.criterion = 3;
          adjudication.points = 1;
          adjudication.reason = "r";
          write.adjudications = {adjudication};
          write.consensus = StudyConsensusRecord();
          return absl::StatusOr<StudyTransitionWrite>(write);
        },
        "Finalise", user.id);
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_THAT(written->at(0).rounds.at(0).criteria, SizeIs(2));

    pqxx::connection as_owner(options.conninfo);
    for (const char* sql :
         {"UPDATE study_rounds SET changed_answers = false", "DELETE FROM study_rounds",
          "UPDATE round_criteria SET required = 0", "DELETE FROM adjudications",
          "TRUNCATE study_consensus", "DELETE FROM review_events"}) {
      pqxx::nontransaction txn(as_owner);
      EXPECT_THROW(txn.exec(sql), pqxx::sql_error) << sql;
    }
  }
  pqxx::connection admin(admin_conninfo_);
  pqxx::nontransaction txn(admin);
  txn.exec("DROP DATABASE " + owned + " WITH (FORCE)");
  txn.exec("DROP ROLE " + role);
}

// --- Assessment rules ---

TEST_F(ConsensusTest, ARefusingCheckWritesNothing) {
  Study study = MakeStudy("S1");
  const std::string audit_rows = Exec("SELECT count(*) FROM audit_log");
  int checks = 0;
  AssessmentRules rules;
  rules.check = [&](const ReviewPolicy& policy, const StudyConsensusState& state,
                    const AssessmentInput& input) {
    ++checks;
    EXPECT_EQ(policy.review_id, review_.id);
    EXPECT_EQ(state.study.id, input.study_id);
    EXPECT_THAT(state.panel, SizeIs(3));
    return absl::FailedPreconditionError("criterion 1 is not open in round 2");
  };
  rules.on_round_complete = [&](const ReviewPolicy&, const StudyConsensusState&) {
    ADD_FAILURE() << "on_round_complete must not run";
    return absl::StatusOr<StudyTransitionWrite>(StudyTransitionWrite());
  };
  EXPECT_EQ(
      store_->SubmitAssessment(Input(study.id, raters_[0].id), raters_[0].id, &rules).status(),
      absl::FailedPreconditionError("criterion 1 is not open in round 2"));
  AssessmentInput draft = Input(study.id, raters_[0].id);
  draft.idempotency_key.clear();
  EXPECT_EQ(store_->SaveDraft(draft, raters_[0].id, &rules).status(),
            absl::FailedPreconditionError("criterion 1 is not open in round 2"));
  EXPECT_EQ(checks, 2);
  EXPECT_EQ(Exec("SELECT count(*) FROM assessments"), "0");
  EXPECT_EQ(Exec("SELECT count(*) FROM review_events"), "0");
  EXPECT_EQ(Exec("SELECT count(*) FROM review_event_outbox"), "0");
  EXPECT_EQ(Exec("SELECT count(*) FROM audit_log"), audit_rows);

  // Accepted, then replayed: the replay runs no rule and stores nothing.
  rules.check = [&](const ReviewPolicy&, const StudyConsensusState&, const AssessmentInput&) {
    ++checks;
    return absl::OkStatus();
  };
  ASSERT_OK_AND_ASSIGN(
      first, store_->SubmitAssessment(Input(study.id, raters_[0].id), raters_[0].id, &rules));
  EXPECT_FALSE(first.replayed);
  rules.check = [&](const ReviewPolicy&, const StudyConsensusState&, const AssessmentInput&) {
    ++checks;
    return absl::FailedPreconditionError("round closed");
  };
  ASSERT_OK_AND_ASSIGN(
      replay, store_->SubmitAssessment(Input(study.id, raters_[0].id), raters_[0].id, &rules));
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.assessment.id, first.assessment.id);
  EXPECT_EQ(checks, 3);
  EXPECT_THAT(Events(review_.id), SizeIs(1));
}

TEST_F(ConsensusTest, TheLastSubmissionOfThePanelClosesTheRoundOnce) {
  Study study = MakeStudy("S1");
  std::atomic<int> completions{0};
  AssessmentRules rules;
  rules.on_round_complete =
      [&](const ReviewPolicy& policy,
          const StudyConsensusState& state) -> absl::StatusOr<StudyTransitionWrite> {
    ++completions;
    EXPECT_EQ(policy.review_id, review_.id);
    EXPECT_THAT(state.submissions, SizeIs(3));
    EXPECT_THAT(state.rounds, IsEmpty());
    StudyTransitionWrite write;
    write.closed_round = Round(1, scoring::StudyDecision::kContinue, scoring::EndReason::kNone);
    return write;
  };
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(
        store_->SubmitAssessment(Input(study.id, raters_[i].id), raters_[i].id, &rules).ok());
  }
  EXPECT_EQ(completions.load(), 0);
  EXPECT_EQ(Exec("SELECT count(*) FROM study_rounds"), "0");
  ASSERT_OK_AND_ASSIGN(
      last, store_->SubmitAssessment(Input(study.id, raters_[2].id), raters_[2].id, &rules));
  EXPECT_FALSE(last.replayed);
  EXPECT_EQ(completions.load(), 1);
  // A replay of the last submission completes nothing again.
  ASSERT_OK_AND_ASSIGN(
      replay, store_->SubmitAssessment(Input(study.id, raters_[2].id), raters_[2].id, &rules));
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(completions.load(), 1);

  // The round, its events and the submission committed together, in order;
  // the round closed as the system (actor of the audit: the submitter).
  ASSERT_OK_AND_ASSIGN(state, store_->GetStudyConsensusState(study.id));
  ASSERT_THAT(state.rounds, SizeIs(1));
  EXPECT_EQ(state.rounds[0].closed_by, 0);
  EXPECT_EQ(state.rounds[0].reason, RoundCloseReason::kAllSubmitted);
  EXPECT_EQ(Exec(absl::StrCat("SELECT count(DISTINCT at) FROM audit_log WHERE actor_id = ",
                              raters_[2].id)),
            "1");
  std::vector<ReviewEvent> events = Events(review_.id);
  ASSERT_THAT(events, SizeIs(4));
  EXPECT_EQ(events[2].kind, ReviewEventKind::kSubmissionReceived);
  EXPECT_EQ(events[2].rater_id, raters_[2].id);
  EXPECT_EQ(events[3].kind, ReviewEventKind::kRoundClosed);
  EXPECT_EQ(events[3].round, 1);
  EXPECT_EQ(events[2].at, events[3].at);  // One transaction.
  // Round 2 is open now: a draft in it counts as drafting.
  AssessmentInput draft = Input(study.id, raters_[0].id, 2);
  draft.idempotency_key.clear();
  ASSERT_TRUE(store_->SaveDraft(draft, raters_[0].id, &rules).ok());
  ASSERT_OK_AND_ASSIGN(round2, store_->GetStudyConsensusState(study.id));
  EXPECT_THAT(round2.drafting, ElementsAre(raters_[0].id));
}

TEST_F(ConsensusTest, AFailingRoundCompletionRefusesTheSubmission) {
  Study study = MakeStudy("S1");
  AssessmentRules rules;
  rules.on_round_complete = [&](const ReviewPolicy&, const StudyConsensusState&) {
    StudyTransitionWrite write;
    write.closed_round = Round(2, scoring::StudyDecision::kContinue, scoring::EndReason::kNone);
    return absl::StatusOr<StudyTransitionWrite>(write);
  };
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(
        store_->SubmitAssessment(Input(study.id, raters_[i].id), raters_[i].id, &rules).ok());
  }
  // Its write names the wrong round: the last submission is refused whole.
  EXPECT_EQ(store_->SubmitAssessment(Input(study.id, raters_[2].id), raters_[2].id, &rules)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Exec("SELECT count(*) FROM assessments"), "2");
  EXPECT_THAT(Events(review_.id), SizeIs(2));
}

// --- Events ---

TEST_F(ConsensusTest, ListReviewEventsPagesById) {
  Study study = MakeStudy("S1");
  Study other = MakeStudy("S2");
  SubmitAll(study.id);
  SubmitAll(other.id);
  Review foreign = MakeReview(coordinator_.id, "Other");
  ASSERT_OK_AND_ASSIGN(none, store_->LatestReviewEventId(foreign.id));
  EXPECT_EQ(none, 0);

  std::vector<ReviewEvent> all = Events(review_.id);
  ASSERT_THAT(all, SizeIs(6));
  std::vector<int64_t> paged;
  int64_t after = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(page, store_->ListReviewEvents(review_.id, after, 4));
    if (page.empty()) break;
    EXPECT_LE(page.size(), 4u);
    for (const ReviewEvent& event : page) paged.push_back(event.id);
    after = page.back().id;
  }
  ASSERT_THAT(paged, SizeIs(6));
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(paged[i], all[i].id);
  EXPECT_EQ(all[3].study_id, other.id);
  ASSERT_OK_AND_ASSIGN(latest, store_->LatestReviewEventId(review_.id));
  EXPECT_EQ(latest, all.back().id);
  ASSERT_OK_AND_ASSIGN(foreign_events, store_->ListReviewEvents(foreign.id, 0));
  EXPECT_THAT(foreign_events, IsEmpty());
  EXPECT_EQ(store_->ListReviewEvents(review_.id, 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListReviewEvents(review_.id, 0, 10001).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ConsensusTest, EventsWaitInTheOutboxUntilAReaderNumbersThemInCommitOrder) {
  Study study = MakeStudy("S1");
  SubmitAll(study.id);
  // Recorded by the submissions, numbered by nobody yet.
  EXPECT_EQ(Exec("SELECT count(*) FROM review_event_outbox"), "3");
  EXPECT_EQ(Exec("SELECT count(*) FROM review_events"), "0");
  ASSERT_OK_AND_ASSIGN(events, store_->ListReviewEvents(review_.id, 0));
  ASSERT_THAT(events, SizeIs(3));
  EXPECT_EQ(Exec("SELECT count(*) FROM review_event_outbox"), "0");
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].rater_id, raters_[i].id);
    if (i > 0) {
      EXPECT_GT(events[i].id, events[i - 1].id);
    }
  }
  // An uncommitted event is not moved, and a mover waits for the one before.
  pqxx::connection writer(conninfo_);
  pqxx::work pending(writer);
  pending.exec_params(
      "INSERT INTO review_event_outbox (review_id, study_id, round, kind) "
      "VALUES ($1, $2, 1, 'ROUND_CLOSED')",
      review_.id, study.id);
  pending.exec_params("SELECT rqs_sequence_review_events($1)", review_.id);
  auto blocked =
      std::async(std::launch::async, [&] { return store_->ListReviewEvents(review_.id, 0); });
  // The reader waits for the pending mover's lock (seen in pg_locks, not
  // timed).
  bool waiting = false;
  for (int attempt = 0; attempt < 3000 && !waiting; ++attempt) {
    waiting =
        Exec("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") == "1";
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(waiting);
  pending.commit();
  absl::StatusOr<std::vector<ReviewEvent>> after = blocked.get();
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_THAT(*after, SizeIs(4));
  EXPECT_EQ(after->back().kind, ReviewEventKind::kRoundClosed);
  EXPECT_GT(after->back().id, events.back().id);
}

TEST_F(ConsensusTest, RoundZeroIsTheOpenRoundChosenWithTheStudyLocked) {
  Study study = MakeStudy("S1");
  AssessmentRules rules;
  int chosen = 0;
  rules.open_round = [&](const ReviewPolicy&, const StudyConsensusState& state) {
    chosen = static_cast<int>(state.rounds.size()) + 1;
    return chosen;
  };
  AssessmentInput input = Input(study.id, raters_[0].id, /*round=*/0, "round-zero");
  // Without rules the store cannot choose a round.
  EXPECT_EQ(store_->SubmitAssessment(input, raters_[0].id).status(),
            absl::InvalidArgumentError("round must be >= 1"));
  ASSERT_OK_AND_ASSIGN(first, store_->SubmitAssessment(input, raters_[0].id, &rules));
  EXPECT_EQ(chosen, 1);
  EXPECT_EQ(first.assessment.round, 1);
  EXPECT_FALSE(first.replayed);
  // The written assessment is returned as stored.
  ASSERT_OK_AND_ASSIGN(stored, store_->GetAssessment(first.assessment.id));
  EXPECT_EQ(stored.answers.size(), first.assessment.answers.size());
  for (size_t i = 0; i < stored.answers.size(); ++i) {
    EXPECT_EQ(stored.answers[i].criterion, first.assessment.answers[i].criterion);
    EXPECT_EQ(stored.answers[i].option_ids, first.assessment.answers[i].option_ids);
    EXPECT_EQ(stored.answers[i].rationale, first.assessment.answers[i].rationale);
  }
  EXPECT_EQ(stored.submitted_at, first.assessment.submitted_at);
  EXPECT_EQ(stored.updated_at, first.assessment.updated_at);

  // Round 1 closes; a retry of the same key still replays round 1, while a
  // new key goes to round 2.
  ASSERT_TRUE(store_
                  ->TransitionStudies(review_.id, {study.id}, CloseFirstRound(), "CloseRound",
                                      coordinator_.id)
                  .ok());
  chosen = 0;
  ASSERT_OK_AND_ASSIGN(retry, store_->SubmitAssessment(input, raters_[0].id, &rules));
  EXPECT_TRUE(retry.replayed);
  EXPECT_EQ(retry.assessment.id, first.assessment.id);
  EXPECT_EQ(chosen, 0);
  AssessmentInput next = Input(study.id, raters_[0].id, /*round=*/0, "round-zero-next");
  next.answers.resize(1);
  ASSERT_OK_AND_ASSIGN(second, store_->SubmitAssessment(next, raters_[0].id, &rules));
  EXPECT_EQ(second.assessment.round, 2);
  // The same key for another study is refused.
  Study other = MakeStudy("S2");
  AssessmentInput elsewhere = Input(other.id, raters_[0].id, /*round=*/0, "round-zero");
  EXPECT_EQ(store_->SubmitAssessment(elsewhere, raters_[0].id, &rules).status().code(),
            absl::StatusCode::kAlreadyExists);
  // A draft for round 0 too.
  AssessmentInput draft = Input(other.id, raters_[1].id, /*round=*/0);
  draft.idempotency_key.clear();
  ASSERT_OK_AND_ASSIGN(saved, store_->SaveDraft(draft, raters_[1].id, &rules));
  EXPECT_EQ(saved.round, 1);
  EXPECT_EQ(saved.status, AssessmentStatus::kDraft);
  EXPECT_EQ(saved.answers.size(), draft.answers.size());
}

TEST_F(ConsensusTest, StudyAccessReadsMembershipStudyAndAssignmentAtOnce) {
  Study study = MakeStudy("S1");
  User outsider = MakeUser("outsider");
  ASSERT_OK_AND_ASSIGN(rater, store_->GetStudyAccess(review_.id, study.id, raters_[0].id));
  EXPECT_EQ(rater.review.id, review_.id);
  EXPECT_EQ(rater.role, ReviewRole::kRater);
  ASSERT_TRUE(rater.study.has_value());
  EXPECT_EQ(rater.study->title, "S1");
  EXPECT_TRUE(rater.assigned);

  ASSERT_OK_AND_ASSIGN(coordinator, store_->GetStudyAccess(review_.id, study.id, coordinator_.id));
  EXPECT_EQ(coordinator.role, ReviewRole::kCoordinator);
  EXPECT_FALSE(coordinator.assigned);

  ASSERT_OK_AND_ASSIGN(stranger, store_->GetStudyAccess(review_.id, study.id, outsider.id));
  EXPECT_FALSE(stranger.role.has_value());

  Review foreign = MakeReview(coordinator_.id, "Other");
  ASSERT_OK_AND_ASSIGN(elsewhere, store_->GetStudyAccess(foreign.id, study.id, coordinator_.id));
  EXPECT_FALSE(elsewhere.study.has_value());
  ASSERT_OK_AND_ASSIGN(missing, store_->GetStudyAccess(review_.id, 999999, raters_[0].id));
  EXPECT_FALSE(missing.study.has_value());
  EXPECT_FALSE(missing.assigned);
  EXPECT_EQ(store_->GetStudyAccess(999999, study.id, raters_[0].id).status().code(),
            absl::StatusCode::kNotFound);
}

// --- Concurrency ---

TEST_F(ConsensusTest, ConcurrentTransitionsCloseARoundOnce) {
  Study study = MakeStudy("S1");
  SubmitAll(study.id);
  std::vector<std::future<absl::StatusOr<std::vector<StudyConsensusState>>>> runs;
  const StudyTransition close = CloseFirstRound();
  for (int i = 0; i < 8; ++i) {
    runs.push_back(std::async(std::launch::async, [&] {
      return store_->TransitionStudies(review_.id, {study.id}, close, "CloseRound",
                                       coordinator_.id);
    }));
  }
  int succeeded = 0;
  for (auto& run : runs) {
    absl::StatusOr<std::vector<StudyConsensusState>> result = run.get();
    if (result.ok()) {
      ++succeeded;
    } else {
      EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition) << result.status();
    }
  }
  EXPECT_EQ(succeeded, 1);
  EXPECT_EQ(Exec("SELECT count(*) FROM study_rounds"), "1");
  Exec(absl::StrCat("SELECT rqs_sequence_review_events(", review_.id, ")"));
  EXPECT_EQ(Exec("SELECT count(*) FROM review_events WHERE kind = 'ROUND_CLOSED'"), "1");
}

TEST_F(ConsensusTest, ConcurrentLastSubmissionsCompleteTheRoundOnce) {
  std::atomic<int> completions{0};
  AssessmentRules rules;
  rules.check = [](const ReviewPolicy&, const StudyConsensusState& state, const AssessmentInput&) {
    return state.rounds.empty() ? absl::OkStatus() : absl::FailedPreconditionError("closed");
  };
  rules.on_round_complete = [&](const ReviewPolicy& policy, const StudyConsensusState& state) {
    ++completions;
    return CloseFirstRound()(policy, state);
  };
  constexpr int kStudies = 6;
  for (int s = 0; s < kStudies; ++s) {
    Study study = MakeStudy("S" + std::to_string(s));
    ASSERT_TRUE(
        store_->SubmitAssessment(Input(study.id, raters_[0].id), raters_[0].id, &rules).ok());
    auto second = std::async(std::launch::async, [&] {
      return store_->SubmitAssessment(Input(study.id, raters_[1].id), raters_[1].id, &rules);
    });
    auto third = std::async(std::launch::async, [&] {
      return store_->SubmitAssessment(Input(study.id, raters_[2].id), raters_[2].id, &rules);
    });
    absl::StatusOr<SubmitResult> second_result = second.get();
    absl::StatusOr<SubmitResult> third_result = third.get();
    ASSERT_TRUE(second_result.ok()) << second_result.status();
    ASSERT_TRUE(third_result.ok()) << third_result.status();
  }
  EXPECT_EQ(completions.load(), kStudies);
  EXPECT_EQ(Exec("SELECT count(*) FROM study_rounds"), std::to_string(kStudies));
  // Ids of the review's events follow commit order: every study's
  // ROUND_CLOSED comes after its three submissions.
  Exec(absl::StrCat("SELECT rqs_sequence_review_events(", review_.id, ")"));
  EXPECT_EQ(Exec("SELECT count(*) FROM review_events c JOIN review_events s "
                 "ON s.study_id = c.study_id AND s.kind = 'SUBMISSION_RECEIVED' "
                 "WHERE c.kind = 'ROUND_CLOSED' AND s.id > c.id"),
            "0");
}

// --- Listener ---

// Collects what a listener reports, for waiting on it.
class Notifications {
 public:
  void Add(int64_t review_id) {
    absl::MutexLock lock(&mu_);
    received_.push_back(review_id);
  }

  // Waits up to a generous timeout for `review_id` to have arrived `count`
  // times; returns whether it did.
  bool WaitFor(int64_t review_id, int count = 1) {
    absl::MutexLock lock(&mu_);
    const auto arrived = [&] {
      return std::count(received_.begin(), received_.end(), review_id) >= count;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&arrived), absl::Seconds(10));
  }

  int Count(int64_t review_id) {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(std::count(received_.begin(), received_.end(), review_id));
  }

 private:
  absl::Mutex mu_;
  std::vector<int64_t> received_ ABSL_GUARDED_BY(mu_);
};

TEST_F(ConsensusTest, ListenerHearsCommittedEventsOnly) {
  Notifications notifications;
  ASSERT_OK_AND_ASSIGN(listener, ReviewEventListener::Start(conninfo_, [&](int64_t review_id) {
                         notifications.Add(review_id);
                       }));
  Study study = MakeStudy("S1");
  Review other = MakeReview(coordinator_.id, "Other");
  ASSERT_TRUE(store_->AddReviewMember(other.id, raters_[0].id, ReviewRole::kRater, 0).ok());
  NewStudy new_study;
  new_study.review_id = other.id;
  new_study.title = "O1";
  ASSERT_OK_AND_ASSIGN(other_study, store_->CreateStudy(new_study, 0));

  // An event of the first review that rolls back...
  {
    pqxx::connection connection(conninfo_);
    pqxx::work txn(connection);
    txn.exec_params(
        "INSERT INTO review_event_outbox (review_id, study_id, round, kind) "
        "VALUES ($1, $2, 1, 'ROUND_CLOSED')",
        review_.id, study.id);
    txn.abort();
  }
  // ...then one of the other review that commits. Notifications arrive in
  // commit order, so once the second is here the first would have been.
  ASSERT_TRUE(store_->SubmitAssessment(Input(other_study.id, raters_[0].id), raters_[0].id).ok());
  ASSERT_TRUE(notifications.WaitFor(other.id));
  EXPECT_EQ(notifications.Count(review_.id), 0);
  EXPECT_EQ(notifications.Count(0), 0);

  ASSERT_TRUE(store_->SubmitAssessment(Input(study.id, raters_[0].id), raters_[0].id).ok());
  EXPECT_TRUE(notifications.WaitFor(review_.id));
}

TEST_F(ConsensusTest, ListenerReconnectsAfterItsBackendIsTerminated) {
  Notifications notifications;
  const std::string application = database_ + "_listener";
  ASSERT_OK_AND_ASSIGN(listener, ReviewEventListener::Start(
                                     conninfo_ + " application_name=" + application,
                                     [&](int64_t review_id) { notifications.Add(review_id); }));
  Study study = MakeStudy("S1");
  ASSERT_TRUE(store_->SubmitAssessment(Input(study.id, raters_[0].id), raters_[0].id).ok());
  ASSERT_TRUE(notifications.WaitFor(review_.id));

  EXPECT_EQ(Exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                 "WHERE application_name = '" +
                 application + "'"),
            "1");
  ASSERT_TRUE(notifications.WaitFor(0));  // Reconnected: recheck everything.
  ASSERT_TRUE(store_->SubmitAssessment(Input(study.id, raters_[1].id), raters_[1].id).ok());
  EXPECT_TRUE(notifications.WaitFor(review_.id, 2));
}

TEST_F(ConsensusTest, ListenerStartFailsWhenTheDatabaseIsUnreachable) {
  absl::StatusOr<std::unique_ptr<ReviewEventListener>> listener = ReviewEventListener::Start(
      "host=/nonexistent-rqs-dir port=1 dbname=none connect_timeout=2", [](int64_t) {});
  EXPECT_EQ(listener.status().code(), absl::StatusCode::kUnavailable) << listener.status();
}

// --- Scale ---

TEST_F(ConsensusTest, ListsTheStatesOfALargeReviewQuickly) {
  constexpr int kStudies = 2000;
  constexpr int kCriteria = 42;
  // Bulk load with triggers off (a session of the superuser the tests run
  // as): the audit log is not what is measured here.
  const std::string raters =
      absl::StrCat("ARRAY[", raters_[0].id, ",", raters_[1].id, ",", raters_[2].id, "]::bigint[]");
  const std::string load = absl::StrCat(
      "SET session_replication_role = replica;"
      "INSERT INTO studies (review_id, title, study_type) "
      "  SELECT ",
      review_.id, ", 'Study ' || n, 'HCR' FROM generate_series(1, ", kStudies,
      ") n;"
      "INSERT INTO assignments (review_id, study_id, rater_id) "
      "  SELECT s.review_id, s.id, r FROM studies s, unnest(",
      raters, ") r WHERE s.review_id = ", review_.id,
      ";"
      "INSERT INTO assessments (review_id, study_id, rater_id, round, status, instrument_id, "
      "  instrument_version, server_version, idempotency_key, submitted_at) "
      "  SELECT g.review_id, g.study_id, g.rater_id, 1, 'SUBMITTED', 'rqs2', 'v', 'v', "
      "    'k' || g.study_id, now() FROM assignments g WHERE g.review_id = ",
      review_.id,
      ";"
      "INSERT INTO assessment_answers (assessment_id, criterion, option_ids, points, rationale) "
      "  SELECT a.id, c, ARRAY['option_' || (c % 3)], c % 3, 'Because of the methods section' "
      "  FROM assessments a, generate_series(1, ",
      kCriteria,
      ") c;"
      "INSERT INTO study_rounds (study_id, review_id, round, close_reason, changed_answers, "
      "  decision, end_reason) SELECT id, review_id, 1, 'ALL_SUBMITTED', true, 'CONTINUE', "
      "  'NONE' FROM studies WHERE review_id = ",
      review_.id,
      ";"
      "INSERT INTO round_criteria (study_id, round, criterion, agreed, agreed_key, "
      "  agreed_option_ids, agreed_points, distribution, raters_answered, required) "
      "  SELECT r.study_id, 1, c, c % 2 = 0, CASE WHEN c % 2 = 0 THEN 'option:a' END, "
      "    '{a}', 1, '{\"option:a\": 2, \"option:b\": 1}', 3, 3 "
      "  FROM study_rounds r, generate_series(1, ",
      kCriteria,
      ") c;"
      "ANALYZE;");
  ASSERT_EQ(Exec(load), "");

  // Warm up once (connection, plans, caches), then measure.
  ASSERT_TRUE(store_->ListStudyConsensusStates(review_.id).ok());
  // Wall time depends on the machine's load; this process's CPU time shows
  // the client's share (decoding) apart from the server's.
  const absl::Time start = absl::Now();
  const std::clock_t cpu_start = std::clock();
  ASSERT_OK_AND_ASSIGN(states, store_->ListStudyConsensusStates(review_.id));
  const absl::Duration elapsed = absl::Now() - start;
  const double cpu_ms =
      1000.0 * static_cast<double>(std::clock() - cpu_start) / static_cast<double>(CLOCKS_PER_SEC);
  std::cout << "ListStudyConsensusStates: " << kStudies << " studies x 3 raters x " << kCriteria
            << " answers (+ a closed round of " << kCriteria << " criteria each) in "
            << absl::FormatDuration(elapsed) << " (client CPU " << cpu_ms << " ms)" << std::endl;
  RecordProperty("list_states_ms", static_cast<int>(absl::ToInt64Milliseconds(elapsed)));

  ASSERT_THAT(states, SizeIs(kStudies));
  for (const StudyConsensusState& state : states) {
    ASSERT_THAT(state.panel, SizeIs(3));
    ASSERT_THAT(state.submissions, SizeIs(3));
    ASSERT_THAT(state.submissions[2].answers, SizeIs(kCriteria));
    ASSERT_THAT(state.rounds, SizeIs(1));
    ASSERT_THAT(state.rounds[0].criteria, SizeIs(kCriteria));
  }
  EXPECT_EQ(states[0].submissions[0].answers[4].option_ids, std::vector<std::string>{"option_2"});
  EXPECT_THAT(states[0].rounds[0].criteria[1].distribution,
              ElementsAre(Pair("option:a", 2), Pair("option:b", 1)));
}

}  // namespace
}  // namespace rqs::db
