// End-to-end tests of ConsensusService: a Delphi review of ten studies by
// three raters on the real server (port 0) over a private PostgreSQL
// database, with every number asserted against values derived by hand from
// the RQS 2.0 rubric and the textbook formulas.
//
// The scenario (RQS 2.0, target level 0 = all nine levels, HCR studies,
// default policy: agreement threshold 0.75, 3 rounds, stop when stable).
// Level maxima: RRL1 7, RRL2 5, RRL3 5, RRL4 9, RRL5 8, RRL6 5, RRL7 7,
// RRL8 6, RRL9 4; total 56. A level is attained when it and every level below
// hold >= 50 % of their own points. Building blocks of the consensus:
//   A = c1 multicentre, c2, c4, c5 yes          4/7 points of RRL1
//   B = c7, c8, c10 yes                         3/5 of RRL2
//   C = c13 yes (1), c14 yes (2)                3/5 of RRL3
//   D = c15, c16, c18, c19 yes, c17 [statistic] 5/9 of RRL4
//   E = c21 one_external (1), c22 (2), c23 (1)  4/8 of RRL5
// Every other criterion is answered explicitly with its lowest option.
// Studies 1..10 take the blocks up to levels [1,2,3,4,5,0,1,2,3,4]; the
// round-1 disagreements and how they resolve are listed at Round1Answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "tests/integration/server_fixture.h"

namespace rqs::server::testing {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr int kStudies = 10;
constexpr int kRaters = 3;
constexpr int kCriteria = 42;
constexpr int kMaxTotal = 56;
constexpr double kTolerance = 1e-9;

// Attained level each study's consensus is built to (study 8 ends lower: its
// raters agree on c8 "no" in round 3).
constexpr std::array<int, kStudies> kBuiltLevels = {1, 2, 3, 4, 5, 0, 1, 2, 3, 4};

// criterion -> chosen option ids.
using AnswerMap = std::map<int, std::vector<std::string>>;

std::vector<std::string> LowestOptions(int criterion) {
  switch (criterion) {
    case 1:
      return {"not_defined"};
    case 3:
      return {"level0"};
    case 21:
      return {"none"};
    case 17:
    case 20:
    case 28:
      return {};  // Additive: no sub-item met.
    default:
      return {"no"};
  }
}

// Points of one option, from `rqs rubric`.
int OptionPoints(int criterion, const std::string& option) {
  if (option == "no" || option == "not_defined" || option == "level0" || option == "none") {
    return 0;
  }
  if (criterion == 1) return option == "multicentre" ? 1 : 2;
  if (criterion == 3) return option == "level1" || option == "level2" ? 1 : 2;
  if (criterion == 21) {
    if (option == "one_external") return 1;
    return option == "two_or_more_external" ? 2 : 3;
  }
  if (criterion == 17 || criterion == 20 || criterion == 28) return 1;  // Each sub-item.
  if (criterion == 32) return 3;
  if (criterion == 14 || criterion == 22 || criterion == 24 || criterion == 36) return 2;
  return 1;  // "yes".
}

int AnswerPoints(int criterion, const std::vector<std::string>& options) {
  int points = 0;
  for (const std::string& option : options) points += OptionPoints(criterion, option);
  return points;
}

// The consensus block of `level` (1..5).
AnswerMap Block(int level) {
  switch (level) {
    case 1:
      return {{1, {"multicentre"}}, {2, {"yes"}}, {4, {"yes"}}, {5, {"yes"}}};
    case 2:
      return {{7, {"yes"}}, {8, {"yes"}}, {10, {"yes"}}};
    case 3:
      return {{13, {"yes"}}, {14, {"yes"}}};
    case 4:
      return {{15, {"yes"}}, {16, {"yes"}}, {17, {"statistic"}}, {18, {"yes"}}, {19, {"yes"}}};
    default:
      return {{21, {"one_external"}}, {22, {"yes"}}, {23, {"yes"}}};
  }
}

// All 42 criteria: the lowest option, overlaid with blocks 1..level.
AnswerMap BaseAnswers(int level) {
  AnswerMap answers;
  for (int criterion = 1; criterion <= kCriteria; ++criterion) {
    answers[criterion] = LowestOptions(criterion);
  }
  for (int block = 1; block <= level; ++block) {
    for (auto& [criterion, options] : Block(block)) answers[criterion] = options;
  }
  return answers;
}

std::size_t Index(int i) { return static_cast<std::size_t>(i); }

// Round 1 of study s (0-based) by rater k (0-based). Everything is unanimous
// except:
//   study 2: k3 c7 no                       -> round 2 all yes, finalised
//   study 3: k2 c14 no, k3 c13 no           -> round 2 both yes, finalised
//   study 4: k1 c17 [statistic, resampling] -> round 2 unchanged: stable,
//                                              adjudicated [statistic]
//   study 5: c21 k1 one_external, k2 two_or_more_external, k3 none
//                                           -> round 2 all one_external
//   study 6: k2 c2 yes                      -> round 2 no, finalised (0 points)
//   study 7: k1 c1 consensus_method         -> round 2 unchanged: stable,
//                                              adjudicated multicentre
//   study 8: k3 c8 no                       -> round 2 k1 no, k2 yes, k3 no
//                                              (changed, still 2:1); round 3
//                                              all no
//   study 9: k3 never submits; the coordinator closes round 1.
AnswerMap Round1Answers(int s, int k) {
  AnswerMap answers = BaseAnswers(kBuiltLevels[Index(s)]);
  const int study = s + 1;
  const int rater = k + 1;
  if (study == 2 && rater == 3) answers[7] = {"no"};
  if (study == 3 && rater == 2) answers[14] = {"no"};
  if (study == 3 && rater == 3) answers[13] = {"no"};
  if (study == 4 && rater == 1) answers[17] = {"statistic", "resampling"};
  if (study == 5) {
    answers[21] = {rater == 1 ? "one_external" : rater == 2 ? "two_or_more_external" : "none"};
  }
  if (study == 6 && rater == 2) answers[2] = {"yes"};
  if (study == 7 && rater == 1) answers[1] = {"consensus_method"};
  if (study == 8 && rater == 3) answers[8] = {"no"};
  return answers;
}

// Round 2: exactly the criteria disputed in round 1.
AnswerMap Round2Answers(int s, int k) {
  const int study = s + 1;
  const int rater = k + 1;
  switch (study) {
    case 2:
      return {{7, {"yes"}}};
    case 3:
      return {{13, {"yes"}}, {14, {"yes"}}};
    case 4:
      return {{17, rater == 1 ? std::vector<std::string>{"statistic", "resampling"}
                              : std::vector<std::string>{"statistic"}}};
    case 5:
      return {{21, {"one_external"}}};
    case 6:
      return {{2, {"no"}}};
    case 7:
      return {{1, {rater == 1 ? "consensus_method" : "multicentre"}}};
    case 8:
      return {{8, {rater == 2 ? "yes" : "no"}}};
    default:
      return {};
  }
}

// Studies (1-based) that run round 2, and the one that runs round 3.
const std::vector<int>& Round2Studies() {
  static const std::vector<int> studies = {2, 3, 4, 5, 6, 7, 8};
  return studies;
}
constexpr int kRound3Study = 8;
constexpr int kMissingStudy = 9;  // Rater 3 never submits round 1.

// The final consensus of study s (0-based).
AnswerMap ExpectedConsensus(int s) {
  AnswerMap answers = BaseAnswers(kBuiltLevels[Index(s)]);
  if (s + 1 == 8) answers[8] = {"no"};
  return answers;
}

// The round criterion c of study s (0-based) was agreed in; 0 if adjudicated.
int ExpectedRound(int s, int c) {
  const int study = s + 1;
  if ((study == 4 && c == 17) || (study == 7 && c == 1)) return 0;
  if ((study == 2 && c == 7) || (study == 3 && (c == 13 || c == 14)) || (study == 5 && c == 21) ||
      (study == 6 && c == 2)) {
    return 2;
  }
  if (study == 8 && c == 8) return 3;
  return 1;
}

std::string Rationale(int k, int s, int criterion, int round) {
  return absl::StrCat("why-k", k + 1, "-s", s + 1, "-c", criterion, "-r", round);
}

// Share of the 420 (study, criterion) items agreed by the end of rounds 1, 2
// and 3: 412 (8 disputed in round 1), 417 (+ study 2 c7, study 3 c13 and
// c14, study 5 c21, study 6 c2), 418 (+ study 8 c8); the two adjudicated
// items never count.
auto FinalConvergence() {
  return ElementsAre(DoubleNear(412.0 / 420.0, kTolerance), DoubleNear(417.0 / 420.0, kTolerance),
                     DoubleNear(418.0 / 420.0, kTolerance));
}

const v1::AgreementStatistic* FindStatistic(const v1::CriterionAgreement& agreement,
                                            const std::string& key) {
  for (const v1::AgreementStatistic& statistic : agreement.statistics()) {
    if (statistic.key() == key) return &statistic;
  }
  return nullptr;
}

const v1::CriterionAgreement* FindCriterion(
    const google::protobuf::RepeatedPtrField<v1::CriterionAgreement>& rows, int criterion) {
  for (const v1::CriterionAgreement& row : rows) {
    if (row.criterion() == criterion) return &row;
  }
  return nullptr;
}

// Expects statistic `key` of `agreement` to be `value`.
void ExpectStatistic(const v1::CriterionAgreement* agreement, const std::string& key,
                     double value) {
  ASSERT_NE(agreement, nullptr);
  const v1::AgreementStatistic* statistic = FindStatistic(*agreement, key);
  ASSERT_NE(statistic, nullptr) << key;
  ASSERT_TRUE(statistic->has_value()) << "criterion " << agreement->criterion() << " " << key;
  EXPECT_NEAR(statistic->value(), value, kTolerance)
      << "criterion " << agreement->criterion() << " " << key;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// The cells of one CSV line without quoted fields (the scenario's texts have
// no commas or quotes).
std::vector<std::string> Cells(const std::string& line) { return absl::StrSplit(line, ','); }

class ConsensusTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    // Distinctive user ids, so that an id leaking into feedback text can be
    // told apart from counts and rounds.
    ASSERT_EQ(Exec("ALTER TABLE users ALTER COLUMN id RESTART WITH 770001"), "");
    coordinator_ = MakeUser("cora.coordinator");
    raters_ = {MakeUser("ann.rater"), MakeUser("bob.rater"), MakeUser("cyd.rater")};
    observer_ = MakeUser("otto.observer");
    outsider_ = MakeUser("nina.outsider");
    ASSERT_GT(raters_[0].id, 770000);
    review_ = MakeReview(coordinator_, "Delphi review");
    for (const TestUser& rater : raters_) AddMember(coordinator_, review_, rater, v1::ROLE_RATER);
    AddMember(coordinator_, review_, observer_, v1::ROLE_OBSERVER);
    std::vector<std::string> titles;
    for (int s = 1; s <= kStudies; ++s) titles.push_back(absl::StrCat("Study ", s));
    studies_ = AddStudies(coordinator_, review_, titles);
    ASSERT_EQ(studies_.size(), Index(kStudies));
    for (int64_t study : studies_) {
      for (const TestUser& rater : raters_) Assign(coordinator_, review_, study, rater);
    }
  }

  int64_t StudyId(int study) const { return studies_[Index(study - 1)]; }
  const TestUser& Rater(int rater) const { return raters_[Index(rater - 1)]; }

  v1::SubmitAssessmentRequest SubmitRequest(int k, int s, int round, const AnswerMap& answers,
                                            int explicit_round = 0) const {
    v1::SubmitAssessmentRequest request;
    request.set_review_id(review_);
    request.set_study_id(studies_[Index(s)]);
    for (const auto& [criterion, options] : answers) {
      v1::Answer* answer = request.add_answers();
      answer->set_criterion(criterion);
      for (const std::string& option : options) answer->add_option_ids(option);
      answer->set_rationale(Rationale(k, s, criterion, round));
      answer->mutable_evidence()->set_section(absl::StrCat("sec-k", k + 1));
      answer->mutable_evidence()->set_page("4");
    }
    request.set_idempotency_key(absl::StrCat("key-s", s + 1, "-k", k + 1, "-r", round));
    request.set_round(explicit_round);
    return request;
  }

  grpc::Status Submit(int k, int s, int round, const AnswerMap& answers,
                      v1::SubmitAssessmentResponse* response = nullptr, int explicit_round = 0) {
    v1::SubmitAssessmentResponse ignored;
    return assessments_->SubmitAssessment(Ctx(raters_[Index(k)].token).get(),
                                          SubmitRequest(k, s, round, answers, explicit_round),
                                          response != nullptr ? response : &ignored);
  }

  // Round 1 of every study; study 9 without rater 3. Closes study 9's round
  // with CloseRound unless `close_missing` is false.
  // `skip` holds further (study, rater) pairs, 1-based, that do not submit.
  void RunRound1(bool close_missing = true, const std::set<std::pair<int, int>>& skip = {}) {
    for (int s = 0; s < kStudies; ++s) {
      for (int k = 0; k < kRaters; ++k) {
        if (s + 1 == kMissingStudy && k == 2) continue;
        if (skip.count({s + 1, k + 1}) > 0) continue;
        v1::SubmitAssessmentResponse response;
        grpc::Status status = Submit(k, s, 1, Round1Answers(s, k), &response);
        ASSERT_TRUE(status.ok()) << "study " << s + 1 << " rater " << k + 1 << ": "
                                 << Describe(status);
        EXPECT_EQ(response.assessment().round(), 1);
        EXPECT_FALSE(response.replayed());
      }
    }
    if (!close_missing) return;
    v1::CloseRoundResponse closed;
    grpc::Status status = CloseRound(coordinator_, StudyId(kMissingStudy), 1, &closed);
    ASSERT_TRUE(status.ok()) << Describe(status);
    ASSERT_EQ(closed.outcomes_size(), 1);
    const v1::RoundOutcome& outcome = closed.outcomes(0);
    EXPECT_EQ(outcome.study_id(), StudyId(kMissingStudy));
    EXPECT_EQ(outcome.round(), 1);
    // Raters 1 and 2 (the 2 who submitted; 0.75 of 2 needs both) agree on
    // every criterion.
    std::vector<int> all;
    for (int criterion = 1; criterion <= kCriteria; ++criterion) all.push_back(criterion);
    EXPECT_THAT(outcome.agreed(), ElementsAreArray(all));
    EXPECT_THAT(outcome.disputed(), IsEmpty());
    EXPECT_THAT(outcome.missing_rater_ids(), ElementsAre(Rater(3).id));
    EXPECT_EQ(outcome.state(), v1::STUDY_STATE_FINALISED);
    EXPECT_EQ(outcome.end_reason(), v1::END_REASON_ALL_AGREED);
    EXPECT_EQ(outcome.next_round(), 0);
  }

  void RunRound2() {
    for (int study : Round2Studies()) {
      for (int k = 0; k < kRaters; ++k) {
        grpc::Status status = Submit(k, study - 1, 2, Round2Answers(study - 1, k));
        ASSERT_TRUE(status.ok()) << "study " << study << " rater " << k + 1 << ": "
                                 << Describe(status);
      }
    }
  }

  void RunRound3() {
    for (int k = 0; k < kRaters; ++k) {
      grpc::Status status = Submit(k, kRound3Study - 1, 3, {{8, {"no"}}});
      ASSERT_TRUE(status.ok()) << "rater " << k + 1 << ": " << Describe(status);
    }
  }

  grpc::Status AdjudicateOne(int study, int criterion, std::vector<std::string> options,
                             const std::string& reason, v1::AdjudicateResponse* response) {
    v1::AdjudicateRequest request;
    request.set_review_id(review_);
    request.set_study_id(StudyId(study));
    v1::AdjudicationInput* decision = request.add_decisions();
    decision->set_criterion(criterion);
    for (std::string& option : options) decision->add_option_ids(std::move(option));
    decision->set_reason(reason);
    return consensus_->Adjudicate(Ctx(coordinator_.token).get(), request, response);
  }

  void AdjudicateAll() {
    v1::AdjudicateResponse response;
    grpc::Status status = AdjudicateOne(4, 17, {"statistic"}, kReason4, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_EQ(response.state(), v1::STUDY_STATE_FINALISED);
    EXPECT_THAT(response.awaiting_adjudication(), IsEmpty());
    status = AdjudicateOne(7, 1, {"multicentre"}, kReason7, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_EQ(response.state(), v1::STUDY_STATE_FINALISED);
  }

  void RunScenario() {
    ASSERT_NO_FATAL_FAILURE(RunRound1());
    ASSERT_NO_FATAL_FAILURE(RunRound2());
    ASSERT_NO_FATAL_FAILURE(RunRound3());
    ASSERT_NO_FATAL_FAILURE(AdjudicateAll());
  }

  grpc::Status CloseRound(const TestUser& user, int64_t study_id, int round,
                          v1::CloseRoundResponse* response) {
    v1::CloseRoundRequest request;
    request.set_review_id(review_);
    request.set_study_id(study_id);
    request.set_round(round);
    return consensus_->CloseRound(Ctx(user.token).get(), request, response);
  }

  grpc::Status Progress(const TestUser& user, v1::GetProgressResponse* response) {
    v1::GetProgressRequest request;
    request.set_review_id(review_);
    return consensus_->GetProgress(Ctx(user.token).get(), request, response);
  }

  grpc::Status Consensus(const TestUser& user, int64_t study_id,
                         v1::GetConsensusResponse* response) {
    v1::GetConsensusRequest request;
    request.set_review_id(review_);
    request.set_study_id(study_id);
    return consensus_->GetConsensus(Ctx(user.token).get(), request, response);
  }

  grpc::Status Feedback(const TestUser& user, int64_t study_id, v1::GetFeedbackResponse* response) {
    v1::GetFeedbackRequest request;
    request.set_review_id(review_);
    request.set_study_id(study_id);
    return consensus_->GetFeedback(Ctx(user.token).get(), request, response);
  }

  grpc::Status Summary(const TestUser& user, v1::GetSummaryResponse* response) {
    v1::GetSummaryRequest request;
    request.set_review_id(review_);
    return consensus_->GetSummary(Ctx(user.token).get(), request, response);
  }

  grpc::Status Agreement(const TestUser& user, v1::GetAgreementResponse* response) {
    v1::GetAgreementRequest request;
    request.set_review_id(review_);
    return consensus_->GetAgreement(Ctx(user.token).get(), request, response);
  }

  grpc::Status Export(const TestUser& user, v1::ExportFormat format, std::string* content) {
    v1::ExportRequest request;
    request.set_review_id(review_);
    request.set_format(format);
    v1::ExportResponse response;
    grpc::Status status = consensus_->Export(Ctx(user.token).get(), request, &response);
    *content = response.content();
    return status;
  }

  grpc::Status GetPolicy(const TestUser& user, v1::GetPolicyResponse* response) {
    v1::GetPolicyRequest request;
    request.set_review_id(review_);
    return consensus_->GetPolicy(Ctx(user.token).get(), request, response);
  }

  grpc::Status SetPolicy(const TestUser& user, const v1::Policy& policy, int64_t review = 0) {
    v1::SetPolicyRequest request;
    request.set_review_id(review != 0 ? review : review_);
    *request.mutable_policy() = policy;
    v1::SetPolicyResponse response;
    return consensus_->SetPolicy(Ctx(user.token).get(), request, &response);
  }

  // Reads `count` events of the review after `after` as `user`; stops early
  // if the stream ends (then `*ended` holds its status).
  std::vector<v1::ReviewEvent> ReadEvents(const TestUser& user, int64_t after, std::size_t count,
                                          grpc::Status* ended = nullptr) {
    auto context = Ctx(user.token);
    v1::WatchReviewRequest request;
    request.set_review_id(review_);
    request.set_after_event_id(after);
    std::unique_ptr<grpc::ClientReader<v1::ReviewEvent>> reader =
        consensus_->WatchReview(context.get(), request);
    std::vector<v1::ReviewEvent> events;
    v1::ReviewEvent event;
    while (events.size() < count && reader->Read(&event)) events.push_back(event);
    if (events.size() < count) {
      grpc::Status status = reader->Finish();
      if (ended != nullptr) *ended = status;
      return events;
    }
    context->TryCancel();
    reader->Finish();
    return events;
  }

  static constexpr char kReason4[] = "Resampling is not reported in the main text";
  static constexpr char kReason7[] = "Two centres defined the need without a formal method";

  TestUser coordinator_, observer_, outsider_;
  std::array<TestUser, kRaters> raters_;
  int64_t review_ = 0;
  std::vector<int64_t> studies_;
};

// --- 1. The scenario, asserted exactly ---------------------------------------

TEST_F(ConsensusTest, ScenarioReachesTheExpectedConsensusProgressAndSummary) {
  v1::GetPolicyResponse policy;
  grpc::Status status = GetPolicy(Rater(1), &policy);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_DOUBLE_EQ(policy.policy().agreement_threshold(), 0.75);
  EXPECT_EQ(policy.policy().max_rounds(), 3);
  EXPECT_TRUE(policy.policy().stop_when_stable());
  EXPECT_DOUBLE_EQ(policy.policy().level_threshold_percent(), 50.0);
  EXPECT_TRUE(policy.policy().share_rationales());
  EXPECT_FALSE(policy.locked());

  ASSERT_NO_FATAL_FAILURE(RunRound1());

  // After round 1: studies 1, 9 and 10 are final; the others are in round 2
  // on exactly their disputed criteria.
  v1::GetProgressResponse progress;
  status = Progress(coordinator_, &progress);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(progress.studies_size(), kStudies);
  const std::map<int, std::vector<int>> open_after_round1 = {
      {2, {7}}, {3, {13, 14}}, {4, {17}}, {5, {21}}, {6, {2}}, {7, {1}}, {8, {8}}};
  for (int study = 1; study <= kStudies; ++study) {
    SCOPED_TRACE(absl::StrCat("study ", study));
    const v1::StudyProgress& row = progress.studies(study - 1);
    EXPECT_EQ(row.study_id(), StudyId(study));
    EXPECT_EQ(row.title(), absl::StrCat("Study ", study));
    EXPECT_EQ(row.panel_size(), 3);
    EXPECT_EQ(row.criteria_count(), kCriteria);
    EXPECT_EQ(row.submitted_in_round(), 0);
    auto open = open_after_round1.find(study);
    if (open == open_after_round1.end()) {
      EXPECT_EQ(row.state(), v1::STUDY_STATE_FINALISED);
      EXPECT_EQ(row.current_round(), 1);
      EXPECT_THAT(row.open_criteria(), IsEmpty());
      EXPECT_THAT(row.agreed_after_round(), ElementsAre(kCriteria));
      EXPECT_EQ(row.end_reason(), v1::END_REASON_ALL_AGREED);
    } else {
      EXPECT_EQ(row.state(), v1::STUDY_STATE_IN_ROUND);
      EXPECT_EQ(row.current_round(), 2);
      EXPECT_THAT(row.open_criteria(), ElementsAreArray(open->second));
      EXPECT_THAT(row.agreed_after_round(),
                  ElementsAre(kCriteria - static_cast<int>(open->second.size())));
      EXPECT_EQ(row.end_reason(), v1::END_REASON_UNSPECIFIED);
    }
  }
  // 8 of the 420 (study, criterion) items are disputed: 412/420.
  EXPECT_THAT(progress.consensus_share_by_round(),
              ElementsAre(DoubleNear(412.0 / 420.0, kTolerance)));

  ASSERT_NO_FATAL_FAILURE(RunRound2());
  status = Progress(coordinator_, &progress);
  ASSERT_TRUE(status.ok()) << Describe(status);
  for (int study : {4, 7}) {
    const v1::StudyProgress& row = progress.studies(study - 1);
    EXPECT_EQ(row.state(), v1::STUDY_STATE_AWAITING_ADJUDICATION) << study;
    EXPECT_EQ(row.end_reason(), v1::END_REASON_STABLE) << study;
    EXPECT_EQ(row.current_round(), 2) << study;
    EXPECT_THAT(row.awaiting_adjudication(), ElementsAre(study == 4 ? 17 : 1)) << study;
  }
  EXPECT_EQ(progress.studies(7).state(), v1::STUDY_STATE_IN_ROUND);
  EXPECT_EQ(progress.studies(7).current_round(), 3);
  EXPECT_THAT(progress.studies(7).open_criteria(), ElementsAre(8));

  // A consensus cannot be adjudicated while the study is still in a round.
  v1::AdjudicateResponse adjudicated;
  status = AdjudicateOne(8, 8, {"no"}, "too early", &adjudicated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  // A blank reason is refused.
  status = AdjudicateOne(4, 17, {"statistic"}, "  ", &adjudicated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  // A criterion that is not disputed is refused.
  status = AdjudicateOne(4, 2, {"no"}, "not disputed", &adjudicated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);

  ASSERT_NO_FATAL_FAILURE(RunRound3());
  ASSERT_NO_FATAL_FAILURE(AdjudicateAll());
  status = AdjudicateOne(4, 17, {"statistic"}, "again", &adjudicated);
  EXPECT_TRUE(status.error_code() == grpc::StatusCode::ALREADY_EXISTS ||
              status.error_code() == grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(status);

  // --- Progress at the end.
  status = Progress(coordinator_, &progress);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(progress.studies_size(), kStudies);
  const std::vector<std::vector<int>> agreed_after_round = {
      {42}, {41, 42}, {40, 42}, {41, 41}, {41, 42}, {41, 42}, {41, 41}, {41, 41, 42}, {42}, {42}};
  const std::vector<int> rounds = {1, 2, 2, 2, 2, 2, 2, 3, 1, 1};
  for (int study = 1; study <= kStudies; ++study) {
    SCOPED_TRACE(absl::StrCat("study ", study));
    const v1::StudyProgress& row = progress.studies(study - 1);
    EXPECT_EQ(row.state(), v1::STUDY_STATE_FINALISED);
    EXPECT_EQ(row.current_round(), rounds[Index(study - 1)]);
    EXPECT_THAT(row.open_criteria(), IsEmpty());
    EXPECT_EQ(row.submitted_in_round(), 0);
    EXPECT_THAT(row.agreed_after_round(), ElementsAreArray(agreed_after_round[Index(study - 1)]));
    const bool adjudicated_study = study == 4 || study == 7;
    EXPECT_EQ(row.adjudicated_count(), adjudicated_study ? 1 : 0);
    EXPECT_THAT(row.awaiting_adjudication(), IsEmpty());
    EXPECT_EQ(row.end_reason(),
              adjudicated_study ? v1::END_REASON_STABLE : v1::END_REASON_ALL_AGREED);
  }
  // Items agreed by round: 412 after round 1; + study 2 c7, study 3 c13 and
  // c14, study 5 c21, study 6 c2 = 417 after round 2; + study 8 c8 = 418
  // after round 3 (the two adjudicated items never count).
  EXPECT_THAT(progress.consensus_share_by_round(), FinalConvergence());

  // --- Consensus per study.
  v1::GetConsensusResponse consensus;
  status = Consensus(coordinator_, 0, &consensus);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(consensus.studies_size(), kStudies);
  const std::vector<int> totals = {4, 7, 10, 15, 19, 0, 4, 6, 10, 15};
  const std::vector<int> attained = {1, 2, 3, 4, 5, 0, 1, 1, 3, 4};
  for (int s = 0; s < kStudies; ++s) {
    SCOPED_TRACE(absl::StrCat("study ", s + 1));
    const v1::StudyConsensus& study = consensus.studies(s);
    EXPECT_EQ(study.study_id(), studies_[Index(s)]);
    EXPECT_EQ(study.state(), v1::STUDY_STATE_FINALISED);
    EXPECT_EQ(study.study_type(), v1::STUDY_TYPE_HANDCRAFTED);
    EXPECT_EQ(study.rounds(), rounds[Index(s)]);
    EXPECT_TRUE(study.has_finalise_time());
    const AnswerMap expected = ExpectedConsensus(s);
    ASSERT_EQ(study.answers_size(), kCriteria);
    int total = 0;
    for (const v1::ConsensusAnswer& answer : study.answers()) {
      SCOPED_TRACE(absl::StrCat("criterion ", answer.criterion()));
      std::vector<std::string> options = expected.at(answer.criterion());
      std::sort(options.begin(), options.end());
      EXPECT_THAT(answer.option_ids(), ElementsAreArray(options));
      const int points = AnswerPoints(answer.criterion(), options);
      EXPECT_EQ(answer.points(), points);
      total += points;
      const int round = ExpectedRound(s, answer.criterion());
      EXPECT_EQ(answer.round(), round);
      if (round == 0) {
        EXPECT_EQ(answer.source(), v1::ANSWER_SOURCE_ADJUDICATED);
        EXPECT_EQ(answer.reason(), s + 1 == 4 ? kReason4 : kReason7);
        EXPECT_EQ(answer.adjudicated_by(), coordinator_.id);
      } else {
        EXPECT_EQ(answer.source(), v1::ANSWER_SOURCE_AGREED);
        EXPECT_EQ(answer.reason(), "");
        EXPECT_EQ(answer.adjudicated_by(), 0);
      }
    }
    EXPECT_EQ(total, totals[Index(s)]);
    const v1::ScoreReport& report = study.report();
    EXPECT_EQ(report.total(), totals[Index(s)]);
    EXPECT_EQ(report.max_total(), kMaxTotal);
    EXPECT_NEAR(report.percent(), 100.0 * totals[Index(s)] / kMaxTotal, kTolerance);
    EXPECT_EQ(report.attained_level(), attained[Index(s)]);
    EXPECT_DOUBLE_EQ(report.level_threshold_percent(), 50.0);
    ASSERT_EQ(report.levels_size(), 9);
    const std::vector<int> level_max = {7, 5, 5, 9, 8, 5, 7, 6, 4};
    for (int level = 1; level <= 9; ++level) {
      EXPECT_EQ(report.levels(level - 1).max_points(), level_max[Index(level - 1)]);
      EXPECT_EQ(report.levels(level - 1).attained(), level <= attained[Index(s)]) << level;
    }
  }
  // Study 8: B without c8 is 2/5 = 40 % < 50 %, so RRL2 is not attained.
  EXPECT_EQ(consensus.studies(7).report().levels(1).points(), 2);

  // --- Summary (coordinator).
  v1::GetSummaryResponse summary;
  status = Summary(coordinator_, &summary);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(summary.review_name(), "Delphi review");
  EXPECT_EQ(summary.studies(), kStudies);
  EXPECT_EQ(summary.finalised(), kStudies);
  // Totals 4, 7, 10, 15, 19, 0, 4, 6, 10, 15: sum 90, mean 9.0. Deviations
  // -5, -2, 1, 6, 10, -9, -5, -3, 1, 6; squares sum 25+4+1+36+100+81+25+9+1+36
  // = 318; SD = sqrt(318 / 9) = 5.94418483337567. Sorted 0 4 4 6 7 10 10 15 15
  // 19: median (7 + 10) / 2 = 8.5.
  const double sd = std::sqrt(318.0 / 9.0);
  EXPECT_NEAR(summary.points().mean(), 9.0, kTolerance);
  EXPECT_NEAR(summary.points().sd(), sd, kTolerance);
  EXPECT_NEAR(summary.points().median(), 8.5, kTolerance);
  EXPECT_NEAR(summary.points().min(), 0.0, kTolerance);
  EXPECT_NEAR(summary.points().max(), 19.0, kTolerance);
  // Every study's maximum is 56, so the percentages are points * 100 / 56:
  // mean 16.0714..., SD 10.6146..., median 15.1785..., max 33.9285...
  EXPECT_NEAR(summary.percent().mean(), 900.0 / 56.0, kTolerance);
  EXPECT_NEAR(summary.percent().sd(), sd * 100.0 / 56.0, kTolerance);
  EXPECT_NEAR(summary.percent().median(), 850.0 / 56.0, kTolerance);
  EXPECT_NEAR(summary.percent().min(), 0.0, kTolerance);
  EXPECT_NEAR(summary.percent().max(), 1900.0 / 56.0, kTolerance);
  // Attained levels 1 2 3 4 5 0 1 1 3 4.
  ASSERT_EQ(summary.attained_levels_size(), 10);
  const std::vector<int> level_counts = {1, 3, 1, 2, 2, 1, 0, 0, 0, 0};
  for (int level = 0; level <= 9; ++level) {
    EXPECT_EQ(summary.attained_levels(level).level(), level);
    EXPECT_EQ(summary.attained_levels(level).studies(), level_counts[Index(level)]) << level;
  }
  // Fulfilment: c1 and c2 in every study but 6 (9/10); c7 in studies with
  // B (2, 3, 4, 5, 8, 9, 10: 7/10); c8 likewise but not study 8 (6/10); c17
  // in studies 4, 5, 10 (3/10, 1 point each); c21 in study 5 only; c6 never.
  ASSERT_EQ(summary.criteria_size(), kCriteria);
  struct Fulfilment {
    int criterion, level, max_points, fulfilled;
    double mean_points;
  };
  for (const Fulfilment& expected :
       {Fulfilment{1, 1, 2, 9, 0.9}, Fulfilment{2, 1, 1, 9, 0.9}, Fulfilment{6, 2, 1, 0, 0.0},
        Fulfilment{7, 2, 1, 7, 0.7}, Fulfilment{8, 2, 1, 6, 0.6}, Fulfilment{14, 3, 2, 5, 1.0},
        Fulfilment{17, 4, 2, 3, 0.3}, Fulfilment{21, 5, 3, 1, 0.1}, Fulfilment{22, 5, 2, 1, 0.2}}) {
    const v1::CriterionFulfilment& row = summary.criteria(expected.criterion - 1);
    SCOPED_TRACE(absl::StrCat("criterion ", expected.criterion));
    EXPECT_EQ(row.criterion(), expected.criterion);
    EXPECT_EQ(row.level(), expected.level);
    EXPECT_EQ(row.max_points(), expected.max_points);
    EXPECT_EQ(row.fulfilled(), expected.fulfilled);
    EXPECT_NEAR(row.fulfilled_percent(), 10.0 * expected.fulfilled, kTolerance);
    EXPECT_NEAR(row.mean_points(), expected.mean_points, kTolerance);
  }
  // Mean compliance: RRL1 4/7 in 9 studies: 9 * 400/7 / 10 = 360/7 %;
  // RRL2 3/5 in 6 studies, 2/5 in study 8: (6 * 60 + 40) / 10 = 40 %;
  // RRL3 3/5 in 5 studies: 30 %; RRL4 5/9 in 3 studies: 3 * 500/9 / 10 =
  // 50/3 %; RRL5 4/8 in study 5: 5 %. Attained: 9, 6, 5, 3, 1.
  ASSERT_EQ(summary.levels_size(), 9);
  const std::vector<double> compliance = {360.0 / 7.0, 40.0, 30.0, 50.0 / 3.0, 5.0};
  const std::vector<int> attained_counts = {9, 6, 5, 3, 1, 0, 0, 0, 0};
  for (int level = 1; level <= 9; ++level) {
    const v1::LevelCompliance& row = summary.levels(level - 1);
    EXPECT_EQ(row.level(), level);
    EXPECT_NEAR(row.mean_percent(), level <= 5 ? compliance[Index(level - 1)] : 0.0, kTolerance)
        << level;
    EXPECT_EQ(row.attained(), attained_counts[Index(level - 1)]) << level;
  }
  EXPECT_EQ(summary.agreement_size(), kCriteria + 1);  // Every criterion and the total.
  EXPECT_THAT(summary.consensus_share_by_round(), FinalConvergence());

  // --- Exports (coordinator).
  std::string wide;
  status = Export(coordinator_, v1::EXPORT_FORMAT_WIDE_CSV, &wide);
  ASSERT_TRUE(status.ok()) << Describe(status);
  {
    const std::vector<std::string> lines = Lines(wide);
    ASSERT_EQ(lines.size(), 1u + kStudies);
    const std::vector<std::string> header = Cells(lines[0]);
    ASSERT_EQ(header.size(), 6u + kCriteria + 4u);
    EXPECT_EQ(header[6], "c1");
    EXPECT_EQ(header[6 + kCriteria], "total");
    EXPECT_EQ(header.back(), "attained_rrl");
    for (int s = 0; s < kStudies; ++s) {
      SCOPED_TRACE(absl::StrCat("study ", s + 1));
      const std::vector<std::string> cells = Cells(lines[Index(s + 1)]);
      ASSERT_EQ(cells.size(), header.size());
      EXPECT_EQ(cells[0], absl::StrCat(studies_[Index(s)]));
      EXPECT_EQ(cells[4], "FINALISED");
      EXPECT_EQ(cells[5], absl::StrCat(rounds[Index(s)]));
      const AnswerMap expected = ExpectedConsensus(s);
      for (int criterion = 1; criterion <= kCriteria; ++criterion) {
        EXPECT_EQ(cells[Index(5 + criterion)],
                  absl::StrCat(AnswerPoints(criterion, expected.at(criterion))))
            << "c" << criterion;
      }
      EXPECT_EQ(cells[6 + kCriteria], absl::StrCat(totals[Index(s)]));
      EXPECT_EQ(cells[7 + kCriteria], "56");
      EXPECT_EQ(cells[9 + kCriteria], absl::StrCat(attained[Index(s)]));
    }
  }
  std::string long_csv;
  status = Export(coordinator_, v1::EXPORT_FORMAT_LONG_CSV, &long_csv);
  ASSERT_TRUE(status.ok()) << Describe(status);
  {
    // Rater rows: 29 round-1 submissions x 42; round 2: (1 + 2 + 1 + 1 + 1 +
    // 1 + 1) x 3 = 24; round 3: 3. Consensus rows: 10 x 42, two adjudicated.
    int rater_rows = 0, agreed_rows = 0;
    std::vector<std::string> adjudicated_rows;
    const std::vector<std::string> lines = Lines(long_csv);
    for (std::size_t i = 1; i < lines.size(); ++i) {
      const std::vector<std::string> cells = Cells(lines[i]);
      ASSERT_GE(cells.size(), 10u) << lines[i];
      if (cells[8] == "rater") ++rater_rows;
      if (cells[8] == "agreed") ++agreed_rows;
      if (cells[8] == "adjudicated") {
        adjudicated_rows.push_back(
            absl::StrJoin({cells[0], cells[5], cells[6], cells[7], cells[9]}, "|"));
      }
    }
    EXPECT_EQ(rater_rows, 29 * kCriteria + 24 + 3);
    EXPECT_EQ(agreed_rows, 10 * kCriteria - 2);
    EXPECT_THAT(adjudicated_rows,
                UnorderedElementsAre(absl::StrCat(StudyId(4), "|17|statistic|1|", kReason4),
                                     absl::StrCat(StudyId(7), "|1|multicentre|1|", kReason7)));
  }
}

TEST_F(ConsensusTest, AgreementOnRoundOneRatingsMatchesTheTextbookFormulas) {
  ASSERT_NO_FATAL_FAILURE(RunScenario());
  v1::GetAgreementResponse agreement;
  grpc::Status status = Agreement(coordinator_, &agreement);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(agreement.studies(), kStudies);
  ASSERT_EQ(agreement.criteria_size(), kCriteria);
  for (const v1::CriterionAgreement& row : agreement.criteria()) {
    // Study 9 lacks rater 3: 10 subjects, 9 complete.
    EXPECT_EQ(row.subjects(), kStudies) << row.criterion();
    EXPECT_EQ(row.subjects_used(), 9) << row.criterion();
    EXPECT_EQ(row.raters(), kRaters) << row.criterion();
  }
  // Ratings are the points of each round-1 answer. Fleiss (1971) over the 9
  // complete subjects (n = 3 ratings each): P_i = (sum_j n_ij^2 - 3) / 6,
  // P-bar = mean P_i, P_e = sum_j p_j^2, kappa = (P-bar - P_e) / (1 - P_e).
  // Percent agreement is P-bar.
  //
  // c1: eight subjects unanimous (P_i = 1), study 7 rated (2, 1, 1): P_i =
  // (1 + 4 - 3) / 6 = 1/3. P-bar = (8 + 1/3) / 9 = 25/27. 27 ratings: 3 zeros
  // (study 6), 23 ones, 1 two: P_e = (9 + 529 + 1) / 729 = 539/729.
  // kappa = (675 - 539) / (729 - 539) = 136/190.
  const v1::CriterionAgreement* c1 = FindCriterion(agreement.criteria(), 1);
  ExpectStatistic(c1, "percent_agreement", 25.0 / 27.0);
  ExpectStatistic(c1, "fleiss_kappa", 136.0 / 190.0);
  // c2: study 6 rated (0, 1, 0): P-bar = 25/27; 2 zeros, 25 ones: P_e =
  // (4 + 625) / 729; kappa = (675 - 629) / (729 - 629) = 46/100.
  const v1::CriterionAgreement* c2 = FindCriterion(agreement.criteria(), 2);
  ExpectStatistic(c2, "percent_agreement", 25.0 / 27.0);
  ExpectStatistic(c2, "fleiss_kappa", 0.46);
  // c7: study 2 rated (1, 1, 0); zeros in studies 1, 6, 7 (9) and study 2
  // (1): 10 zeros, 17 ones: P_e = (100 + 289) / 729; kappa = (675 - 389) /
  // 340 = 286/340.
  const v1::CriterionAgreement* c7 = FindCriterion(agreement.criteria(), 7);
  ExpectStatistic(c7, "percent_agreement", 25.0 / 27.0);
  ExpectStatistic(c7, "fleiss_kappa", 286.0 / 340.0);
  // c17: study 4 rated (2, 1, 1); studies 1, 2, 3, 6, 7, 8 give 18 zeros,
  // studies 5 and 10 six ones: 18 zeros, 8 ones, 1 two. P-bar = 25/27;
  // P_e = (324 + 64 + 1) / 729 = 389/729; kappa = 286/340.
  const v1::CriterionAgreement* c17 = FindCriterion(agreement.criteria(), 17);
  ExpectStatistic(c17, "percent_agreement", 25.0 / 27.0);
  ExpectStatistic(c17, "fleiss_kappa", 286.0 / 340.0);
  // c21: study 5 rated (1, 2, 0): P_i = (1 + 1 + 1 - 3) / 6 = 0; P-bar = 8/9
  // = 648/729. 25 zeros, 1 one, 1 two: P_e = (625 + 1 + 1) / 729 = 627/729;
  // kappa = (648 - 627) / (729 - 627) = 21/102.
  const v1::CriterionAgreement* c21 = FindCriterion(agreement.criteria(), 21);
  ExpectStatistic(c21, "percent_agreement", 8.0 / 9.0);
  ExpectStatistic(c21, "fleiss_kappa", 21.0 / 102.0);
  // Krippendorff's alpha uses every pairable rating, so study 9's two ratings
  // count too (n = 29 values). Nominal: alpha = 1 - (n - 1) * sum_{c!=k} o_ck
  // / sum_{c!=k} n_c n_k. c2: study 6's ordered pairs (0,1), (1,0), (0,1),
  // (1,0) weigh 1/(3-1) each, so sum o_ck = 2; n_0 = 2, n_1 = 27: alpha =
  // 1 - 28 * 2 / (2 * 2 * 27) = 52/108.
  ExpectStatistic(c2, "krippendorff_alpha_nominal", 52.0 / 108.0);
  // c21: study 5's six ordered pairs all differ: sum o_ck = 3; n_0 = 27,
  // n_1 = n_2 = 1: sum n_c n_k = 2 * (27 + 27 + 1) = 110; alpha = 1 - 84/110.
  ExpectStatistic(c21, "krippendorff_alpha_nominal", 26.0 / 110.0);
  // c6 is "no" everywhere: observed agreement 1, kappa undefined (P_e = 1).
  const v1::CriterionAgreement* c6 = FindCriterion(agreement.criteria(), 6);
  ExpectStatistic(c6, "percent_agreement", 1.0);
  ASSERT_NE(c6, nullptr);
  const v1::AgreementStatistic* c6_kappa = FindStatistic(*c6, "fleiss_kappa");
  ASSERT_NE(c6_kappa, nullptr);
  EXPECT_FALSE(c6_kappa->has_value());

  // Total score, ICC2 and ICC2k (Shrout & Fleiss 1979) over the 9 complete
  // subjects; round-1 totals per rater (k1, k2, k3):
  //   s1 4 4 4, s2 7 7 6, s3 10 8 9, s4 16 15 15, s5 19 20 18, s6 0 1 0,
  //   s7 5 4 4, s8 7 7 6, s10 15 15 15.
  // Grand mean 260/27. SSR = 3 * sum (row mean - grand)^2 = 926.5185...,
  // SSC = 9 * sum (column mean - grand)^2 = 2.0741, SSE = SST - SSR - SSC =
  // 5.2593; MSR = SSR / 8, MSC = SSC / 2, MSE = SSE / 16.
  // ICC2 = (MSR - MSE) / (MSR + 2 MSE + 3 (MSC - MSE) / 9) = 0.98952754968...
  // ICC2k = (MSR - MSE) / (MSR + (MSC - MSE) / 9) = 0.99648464027...
  // (computed with exact sums below).
  const std::vector<std::array<double, 3>> totals = {{4, 4, 4},    {7, 7, 6},    {10, 8, 9},
                                                     {16, 15, 15}, {19, 20, 18}, {0, 1, 0},
                                                     {5, 4, 4},    {7, 7, 6},    {15, 15, 15}};
  double grand = 0;
  for (const auto& row : totals) grand += row[0] + row[1] + row[2];
  const double n = static_cast<double>(totals.size());
  grand /= 3 * n;
  double ssr = 0, ssc = 0, sst = 0;
  for (const auto& row : totals) {
    const double mean = (row[0] + row[1] + row[2]) / 3;
    ssr += 3 * (mean - grand) * (mean - grand);
    for (double value : row) sst += (value - grand) * (value - grand);
  }
  for (std::size_t j = 0; j < 3; ++j) {
    double mean = 0;
    for (const auto& row : totals) mean += row[j];
    mean /= n;
    ssc += n * (mean - grand) * (mean - grand);
  }
  const double msr = ssr / (n - 1), msc = ssc / 2, mse = (sst - ssr - ssc) / (2 * (n - 1));
  const double icc2 = (msr - mse) / (msr + 2 * mse + 3 * (msc - mse) / n);
  const double icc2k = (msr - mse) / (msr + (msc - mse) / n);
  EXPECT_NEAR(icc2, 0.9895275496846363, 1e-12);
  EXPECT_NEAR(icc2k, 0.9964846402748371, 1e-12);
  EXPECT_EQ(agreement.total_score().criterion(), 0);
  EXPECT_EQ(agreement.total_score().subjects_used(), 9);
  ExpectStatistic(&agreement.total_score(), "icc2", icc2);
  ExpectStatistic(&agreement.total_score(), "icc2k", icc2k);

  EXPECT_THAT(agreement.consensus_share_by_round(), FinalConvergence());

  // Each rater's round-1 answers against the consensus (coordinator view).
  // k1 answered 10 x 42 = 420, missing study 4 c17, study 7 c1 and study 8
  // c8 (yes in round 1, no in the consensus): 417. k2: 420, missing study 3
  // c14, study 5 c21, study 6 c2, study 8 c8: 416. k3 skipped study 9: 9 x
  // 42 = 378, missing study 2 c7, study 3 c13, study 5 c21 (its round-1 c8
  // "no" in study 8 matches): 375.
  ASSERT_EQ(agreement.raters_size(), kRaters);
  const std::array<int, kRaters> matching = {417, 416, 375};
  const std::array<int, kRaters> compared = {420, 420, 378};
  for (int k = 0; k < kRaters; ++k) {
    const v1::RaterAgreement& row = agreement.raters(k);
    SCOPED_TRACE(raters_[Index(k)].name);
    EXPECT_EQ(row.rater_id(), raters_[Index(k)].id);
    EXPECT_EQ(row.rater_name(), raters_[Index(k)].name);
    EXPECT_EQ(row.matching(), matching[Index(k)]);
    EXPECT_EQ(row.compared(), compared[Index(k)]);
    EXPECT_NEAR(row.share(), static_cast<double>(matching[Index(k)]) / compared[Index(k)],
                kTolerance);
  }

  // Observers get the figures but no per-rater rows.
  v1::GetAgreementResponse observed;
  status = Agreement(observer_, &observed);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(observed.criteria_size(), kCriteria);
  EXPECT_THAT(observed.raters(), IsEmpty());
  EXPECT_THAT(observed.DebugString(), ::testing::Not(HasSubstr("ann.rater")));

  // Bootstrap intervals on request: the same seed gives the same intervals.
  std::array<v1::GetAgreementResponse, 2> bootstrapped;
  for (v1::GetAgreementResponse& response : bootstrapped) {
    v1::GetAgreementRequest request;
    request.set_review_id(review_);
    request.set_bootstrap_replicates(200);
    request.set_seed(7);
    status = consensus_->GetAgreement(Ctx(coordinator_.token).get(), request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
  }
  const v1::AgreementStatistic* first = FindStatistic(bootstrapped[0].total_score(), "icc2");
  const v1::AgreementStatistic* second = FindStatistic(bootstrapped[1].total_score(), "icc2");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->has_bootstrap_ci_lower());
  ASSERT_TRUE(first->has_bootstrap_ci_upper());
  EXPECT_LE(first->bootstrap_ci_lower(), first->bootstrap_ci_upper());
  EXPECT_EQ(first->bootstrap_ci_lower(), second->bootstrap_ci_lower());
  EXPECT_EQ(first->bootstrap_ci_upper(), second->bootstrap_ci_upper());
  EXPECT_FALSE(FindStatistic(agreement.total_score(), "icc2")->has_bootstrap_ci_lower());
  v1::GetAgreementRequest too_many;
  too_many.set_review_id(review_);
  too_many.set_bootstrap_replicates(10001);
  status = consensus_->GetAgreement(Ctx(coordinator_.token).get(), too_many, &observed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
}

// --- 2. Feedback is anonymised ---------------------------------------------

// Checks that nothing in `text` names or identifies a user of the review.
void ExpectNoIdentity(const std::string& text, const std::vector<TestUser>& users) {
  for (const TestUser& user : users) {
    EXPECT_THAT(text, ::testing::Not(HasSubstr(user.name)));
    EXPECT_THAT(text, ::testing::Not(HasSubstr(absl::StrCat(user.id))));
  }
}

TEST_F(ConsensusTest, FeedbackIsAnonymisedWithStableLabels) {
  ASSERT_NO_FATAL_FAILURE(RunRound1());
  const std::vector<TestUser> everyone = {raters_[0],   raters_[1], raters_[2],
                                          coordinator_, observer_,  outsider_};
  const std::set<std::string> all_labels = {"Rater A", "Rater B", "Rater C"};
  // Study 5, c21: k1 one_external, k2 two_or_more_external, k3 none.
  const std::array<std::string, kRaters> keys = {"option:one_external",
                                                 "option:two_or_more_external", "option:none"};
  std::map<std::string, int> rater_of_label;  // Built from each viewer's own label.
  std::array<std::string, kRaters> label_of_rater;
  std::array<v1::GetFeedbackResponse, kRaters> feedback;
  for (int k = 0; k < kRaters; ++k) {
    grpc::Status status = Feedback(raters_[Index(k)], StudyId(5), &feedback[Index(k)]);
    ASSERT_TRUE(status.ok()) << Describe(status);
    const v1::GetFeedbackResponse& response = feedback[Index(k)];
    EXPECT_EQ(response.round(), 2);
    ASSERT_EQ(response.criteria_size(), 1);
    const v1::CriterionFeedback& c21 = response.criteria(0);
    EXPECT_EQ(c21.criterion(), 21);
    EXPECT_EQ(c21.previous_round(), 1);
    EXPECT_EQ(c21.raters_answered(), 3);
    EXPECT_THAT(c21.distribution(),
                UnorderedElementsAre(::testing::Pair("option:one_external", 1),
                                     ::testing::Pair("option:two_or_more_external", 1),
                                     ::testing::Pair("option:none", 1)));
    EXPECT_EQ(all_labels.count(c21.own_label()), 1u) << c21.own_label();
    EXPECT_EQ(c21.own_answer_key(), keys[Index(k)]);
    EXPECT_EQ(c21.own_answer().criterion(), 21);
    EXPECT_THAT(c21.own_answer().option_ids(), ElementsAre(Round1Answers(4, k).at(21).front()));
    EXPECT_EQ(c21.own_answer().rationale(), Rationale(k, 4, 21, 1));
    EXPECT_TRUE(rater_of_label.emplace(c21.own_label(), k).second)
        << "label given twice: " << c21.own_label();
    label_of_rater[Index(k)] = c21.own_label();
    ExpectNoIdentity(response.DebugString(), everyone);
  }
  // The others, as each viewer sees them: the two other labels, each with
  // that rater's answer and round-1 rationale and evidence.
  for (int k = 0; k < kRaters; ++k) {
    const v1::CriterionFeedback& c21 = feedback[Index(k)].criteria(0);
    ASSERT_EQ(c21.others_size(), 2);
    std::set<std::string> seen;
    for (const v1::LabelledAnswer& other : c21.others()) {
      EXPECT_NE(other.label(), c21.own_label());
      ASSERT_EQ(rater_of_label.count(other.label()), 1u) << other.label();
      const int j = rater_of_label.at(other.label());
      EXPECT_NE(j, k);
      EXPECT_EQ(other.answer_key(), keys[Index(j)]);
      EXPECT_EQ(other.rationale(), Rationale(j, 4, 21, 1));
      EXPECT_THAT(other.evidence(), HasSubstr(absl::StrCat("sec-k", j + 1)));
      seen.insert(other.label());
    }
    EXPECT_EQ(seen.size(), 2u);
  }

  // Labels are consistent across criteria: study 3 has c13 and c14 disputed.
  for (int k = 0; k < kRaters; ++k) {
    v1::GetFeedbackResponse response;
    grpc::Status status = Feedback(raters_[Index(k)], StudyId(3), &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    ASSERT_EQ(response.criteria_size(), 2);
    EXPECT_EQ(response.criteria(0).criterion(), 13);
    EXPECT_EQ(response.criteria(1).criterion(), 14);
    EXPECT_EQ(response.criteria(0).own_label(), response.criteria(1).own_label());
    std::map<std::string, std::string> rationale_by_label[2];
    for (int i = 0; i < 2; ++i) {
      for (const v1::LabelledAnswer& other : response.criteria(i).others()) {
        rationale_by_label[i][other.label()] = other.rationale();
      }
    }
    ASSERT_EQ(rationale_by_label[0].size(), 2u);
    for (const auto& [label, rationale] : rationale_by_label[0]) {
      // The same label belongs to the same rater on both criteria.
      ASSERT_EQ(rationale_by_label[1].count(label), 1u);
      const std::string other_on_14 = rationale_by_label[1][label];
      EXPECT_EQ(absl::StrReplaceAll(rationale, {{"-c13-", "-c14-"}}), other_on_14);
    }
    ExpectNoIdentity(response.DebugString(), everyone);
  }

  // Study 8: labels stay the same from round 2 to round 3.
  std::array<std::string, kRaters> round2_labels;
  std::array<std::map<std::string, std::string>, kRaters> round2_others;
  for (int k = 0; k < kRaters; ++k) {
    v1::GetFeedbackResponse response;
    grpc::Status status = Feedback(raters_[Index(k)], StudyId(8), &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    ASSERT_EQ(response.criteria_size(), 1);
    round2_labels[Index(k)] = response.criteria(0).own_label();
    for (const v1::LabelledAnswer& other : response.criteria(0).others()) {
      round2_others[Index(k)][other.label()] = other.rationale();
    }
  }
  EXPECT_EQ(std::set<std::string>(round2_labels.begin(), round2_labels.end()), all_labels);
  ASSERT_NO_FATAL_FAILURE(RunRound2());
  for (int k = 0; k < kRaters; ++k) {
    v1::GetFeedbackResponse response;
    grpc::Status status = Feedback(raters_[Index(k)], StudyId(8), &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_EQ(response.round(), 3);
    ASSERT_EQ(response.criteria_size(), 1);
    const v1::CriterionFeedback& c8 = response.criteria(0);
    EXPECT_EQ(c8.previous_round(), 2);
    EXPECT_EQ(c8.own_label(), round2_labels[Index(k)]);
    // Round 2: k1 no, k2 yes, k3 no.
    EXPECT_THAT(c8.distribution(), UnorderedElementsAre(::testing::Pair("option:no", 2),
                                                        ::testing::Pair("option:yes", 1)));
    EXPECT_EQ(c8.own_answer_key(), k == 1 ? "option:yes" : "option:no");
    EXPECT_EQ(c8.own_answer().rationale(), Rationale(k, 7, 8, 2));
    ASSERT_EQ(c8.others_size(), 2);
    for (const v1::LabelledAnswer& other : c8.others()) {
      // Same label set as in round 2, now with the round-2 rationales.
      ASSERT_EQ(round2_others[Index(k)].count(other.label()), 1u) << other.label();
      EXPECT_EQ(absl::StrReplaceAll(round2_others[Index(k)][other.label()], {{"-r1", "-r2"}}),
                other.rationale());
    }
    ExpectNoIdentity(response.DebugString(), everyone);
  }

  // Feedback exists only for an open round 2 or later.
  v1::GetFeedbackResponse none;
  grpc::Status status = Feedback(Rater(1), StudyId(1), &none);  // Finalised in round 1.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);

  // A second review that hides rationales: the labels and answers remain,
  // the rationales and evidence are empty.
  const int64_t hidden = MakeReview(coordinator_, "Hidden rationales");
  AddMember(coordinator_, hidden, Rater(1), v1::ROLE_RATER);
  AddMember(coordinator_, hidden, Rater(2), v1::ROLE_RATER);
  v1::Policy policy;
  policy.set_agreement_threshold(0.75);
  policy.set_max_rounds(3);
  policy.set_stop_when_stable(true);
  policy.set_level_threshold_percent(50);
  policy.set_share_rationales(false);
  status = SetPolicy(coordinator_, policy, hidden);
  ASSERT_TRUE(status.ok()) << Describe(status);
  const std::vector<int64_t> hidden_studies = AddStudies(coordinator_, hidden, {"Hidden study"});
  ASSERT_EQ(hidden_studies.size(), 1u);
  Assign(coordinator_, hidden, hidden_studies[0], Rater(1));
  Assign(coordinator_, hidden, hidden_studies[0], Rater(2));
  for (int k = 0; k < 2; ++k) {
    v1::SubmitAssessmentRequest request = SubmitRequest(k, 0, 1, {{2, {k == 0 ? "yes" : "no"}}});
    request.set_review_id(hidden);
    request.set_study_id(hidden_studies[0]);
    request.set_idempotency_key(absl::StrCat("hidden-k", k + 1));
    v1::SubmitAssessmentResponse response;
    status = assessments_->SubmitAssessment(Ctx(raters_[Index(k)].token).get(), request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
  }
  v1::GetFeedbackRequest request;
  request.set_review_id(hidden);
  request.set_study_id(hidden_studies[0]);
  v1::GetFeedbackResponse hidden_feedback;
  status = consensus_->GetFeedback(Ctx(Rater(1).token).get(), request, &hidden_feedback);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(hidden_feedback.criteria_size(), 1);
  const v1::CriterionFeedback& c2 = hidden_feedback.criteria(0);
  EXPECT_EQ(c2.criterion(), 2);
  ASSERT_EQ(c2.others_size(), 1);
  EXPECT_EQ(c2.others(0).answer_key(), "option:no");
  EXPECT_EQ(c2.others(0).rationale(), "");
  EXPECT_EQ(c2.others(0).evidence(), "");
  EXPECT_NE(c2.others(0).label(), c2.own_label());
  EXPECT_THAT(hidden_feedback.DebugString(), ::testing::Not(HasSubstr("why-k2")));
  ExpectNoIdentity(hidden_feedback.DebugString(), everyone);
}

// --- 3. Blinding in every read path ----------------------------------------

// Replaces `id` in a message so that two NOT_FOUND messages can be compared.
std::string WithoutId(const std::string& message, int64_t id) {
  return absl::StrReplaceAll(message, {{absl::StrCat(id), "<id>"}});
}

TEST_F(ConsensusTest, BlindingHoldsInEveryReadPath) {
  // An extra study assigned to rater 1 only, never submitted (round 1 open).
  const std::vector<int64_t> extra = AddStudies(coordinator_, review_, {"Secret extra study"});
  ASSERT_EQ(extra.size(), 1u);
  const int64_t extra_id = extra[0];
  Assign(coordinator_, review_, extra_id, Rater(1));
  const int64_t nonexistent = extra_id + 1000;

  ASSERT_NO_FATAL_FAILURE(RunRound1());
  // Mid-way: study 4 is in round 2, so its consensus is not yet shown to raters.
  v1::GetConsensusResponse consensus;
  grpc::Status status = Consensus(Rater(1), StudyId(4), &consensus);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  ASSERT_NO_FATAL_FAILURE(RunRound2());
  ASSERT_NO_FATAL_FAILURE(RunRound3());
  ASSERT_NO_FATAL_FAILURE(AdjudicateAll());

  // GetMyAssessment returns only the caller's own work.
  for (int k = 0; k < kRaters; ++k) {
    v1::GetMyAssessmentRequest request;
    request.set_review_id(review_);
    request.set_study_id(StudyId(5));
    request.set_round(1);
    v1::GetMyAssessmentResponse mine;
    status = assessments_->GetMyAssessment(Ctx(raters_[Index(k)].token).get(), request, &mine);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_EQ(mine.assessment().rater_id(), raters_[Index(k)].id);
    for (const v1::Answer& answer : mine.assessment().answers()) {
      EXPECT_EQ(answer.rationale(), Rationale(k, 4, answer.criterion(), 1));
    }
  }
  {
    // Rater 3 never submitted study 9, although the others did.
    v1::GetMyAssessmentRequest request;
    request.set_review_id(review_);
    request.set_study_id(StudyId(kMissingStudy));
    v1::GetMyAssessmentResponse mine;
    status = assessments_->GetMyAssessment(Ctx(Rater(3).token).get(), request, &mine);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
    // Rater 2 is not assigned the extra study: NOT_FOUND, as for no study.
    request.set_study_id(extra_id);
    status = assessments_->GetMyAssessment(Ctx(Rater(2).token).get(), request, &mine);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
  }

  // An unassigned study is NOT_FOUND exactly like one that does not exist.
  const TestUser& unassigned = Rater(2);
  auto expect_hidden = [&](const std::string& what,
                           const std::function<grpc::Status(int64_t)>& call) {
    SCOPED_TRACE(what);
    const grpc::Status hidden = call(extra_id);
    const grpc::Status missing = call(nonexistent);
    EXPECT_EQ(hidden.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(hidden);
    EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(missing);
    EXPECT_EQ(WithoutId(hidden.error_message(), extra_id),
              WithoutId(missing.error_message(), nonexistent));
  };
  expect_hidden("GetConsensus", [&](int64_t id) {
    v1::GetConsensusResponse out;
    return Consensus(unassigned, id, &out);
  });
  expect_hidden("GetFeedback", [&](int64_t id) {
    v1::GetFeedbackResponse out;
    return Feedback(unassigned, id, &out);
  });
  // The assigned rater may not see a consensus that is not final.
  status = Consensus(Rater(1), extra_id, &consensus);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);

  // Progress: raters see their assigned studies, no convergence figures.
  v1::GetProgressResponse progress;
  status = Progress(unassigned, &progress);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(progress.studies_size(), kStudies);
  for (const v1::StudyProgress& row : progress.studies()) EXPECT_NE(row.study_id(), extra_id);
  EXPECT_THAT(progress.consensus_share_by_round(), IsEmpty());
  status = Progress(Rater(1), &progress);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(progress.studies_size(), kStudies + 1);

  // Consensus of every study: only finalised assigned ones, no adjudicator.
  status = Consensus(Rater(1), 0, &consensus);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(consensus.studies_size(), kStudies);
  for (const v1::StudyConsensus& study : consensus.studies()) {
    EXPECT_EQ(study.state(), v1::STUDY_STATE_FINALISED);
    for (const v1::ConsensusAnswer& answer : study.answers()) {
      EXPECT_EQ(answer.adjudicated_by(), 0);
    }
  }
  status = Consensus(observer_, 0, &consensus);
  ASSERT_TRUE(status.ok()) << Describe(status);
  for (const v1::StudyConsensus& study : consensus.studies()) {
    for (const v1::ConsensusAnswer& answer : study.answers()) {
      EXPECT_EQ(answer.adjudicated_by(), 0);
    }
  }

  // Coordinator-only calls.
  for (const TestUser& rater : raters_) {
    SCOPED_TRACE(rater.name);
    v1::GetAgreementResponse agreement;
    status = Agreement(rater, &agreement);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(status);
    v1::CloseRoundResponse closed;
    status = CloseRound(rater, extra_id, 1, &closed);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(status);
    v1::AdjudicateRequest adjudicate;
    adjudicate.set_review_id(review_);
    adjudicate.set_study_id(StudyId(4));
    v1::AdjudicationInput* decision = adjudicate.add_decisions();
    decision->set_criterion(17);
    decision->add_option_ids("statistic");
    decision->set_reason("a rater may not");
    v1::AdjudicateResponse adjudicated;
    status = consensus_->Adjudicate(Ctx(rater.token).get(), adjudicate, &adjudicated);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(status);
    v1::Policy policy;
    policy.set_agreement_threshold(0.75);
    policy.set_max_rounds(3);
    policy.set_level_threshold_percent(50);
    status = SetPolicy(rater, policy);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(status);
    grpc::Status watch = grpc::Status::OK;
    EXPECT_THAT(ReadEvents(rater, 0, 1, &watch), IsEmpty());
    EXPECT_EQ(watch.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(watch);
  }
  {
    grpc::Status watch = grpc::Status::OK;
    EXPECT_THAT(ReadEvents(observer_, 0, 1, &watch), IsEmpty());
    EXPECT_EQ(watch.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(watch);
  }

  // Exports. Rater 1: own answers only, plus the consensus rows of the
  // finalised studies; no other rater's rationale or name.
  const std::vector<std::string> other_names = {Rater(2).name, Rater(3).name, coordinator_.name,
                                                observer_.name, outsider_.name};
  std::string long_csv;
  status = Export(Rater(1), v1::EXPORT_FORMAT_LONG_CSV, &long_csv);
  ASSERT_TRUE(status.ok()) << Describe(status);
  {
    const std::vector<std::string> lines = Lines(long_csv);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(Cells(lines[0])[3], "rater");
    int own = 0, consensus_rows = 0;
    for (std::size_t i = 1; i < lines.size(); ++i) {
      const std::vector<std::string> cells = Cells(lines[i]);
      ASSERT_GE(cells.size(), 10u) << lines[i];
      if (cells[3] == Rater(1).name) {
        ++own;
        EXPECT_THAT(cells[9], ::testing::StartsWith("why-k1-")) << lines[i];
      } else {
        EXPECT_EQ(cells[3], "consensus") << lines[i];
        ++consensus_rows;
      }
      EXPECT_NE(cells[0], absl::StrCat(extra_id)) << "unfinalised study without own answers";
    }
    // Own: 10 x 42 in round 1, 8 disputed criteria in round 2 (studies 2,
    // 4, 5, 6, 7, 8 one each, study 3 two), 1 in round 3. Consensus: 10 x 42.
    EXPECT_EQ(own, 420 + 8 + 1);
    EXPECT_EQ(consensus_rows, 420);
  }
  EXPECT_THAT(long_csv, ::testing::Not(HasSubstr("why-k2")));
  EXPECT_THAT(long_csv, ::testing::Not(HasSubstr("why-k3")));
  EXPECT_THAT(long_csv, ::testing::Not(HasSubstr("sec-k2")));
  for (const std::string& name : other_names) {
    EXPECT_THAT(long_csv, ::testing::Not(HasSubstr(name)));
  }
  std::string json_text;
  status = Export(Rater(1), v1::EXPORT_FORMAT_JSON, &json_text);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_THAT(json_text, ::testing::Not(HasSubstr("why-k2")));
  EXPECT_THAT(json_text, ::testing::Not(HasSubstr("why-k3")));
  for (const std::string& name : other_names) {
    EXPECT_THAT(json_text, ::testing::Not(HasSubstr(name)));
  }
  {
    const nlohmann::json document = nlohmann::json::parse(json_text, nullptr, false);
    ASSERT_FALSE(document.is_discarded());
    ASSERT_TRUE(document.contains("studies"));
    int finalised = 0;
    for (const nlohmann::json& study : document.at("studies")) {
      for (const nlohmann::json& assessment : study.at("assessments")) {
        EXPECT_EQ(assessment.at("rater").get<std::string>(), Rater(1).name);
      }
      if (!study.at("consensus").is_null()) ++finalised;
    }
    EXPECT_EQ(finalised, kStudies);
  }
  // Rater 2 does not even learn the extra study's title.
  std::string other_json;
  status = Export(unassigned, v1::EXPORT_FORMAT_JSON, &other_json);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_THAT(other_json, ::testing::Not(HasSubstr("Secret extra study")));
  EXPECT_THAT(other_json, ::testing::Not(HasSubstr("why-k1")));
  std::string other_csv;
  status = Export(unassigned, v1::EXPORT_FORMAT_LONG_CSV, &other_csv);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_THAT(other_csv, ::testing::Not(HasSubstr("Secret extra study")));
  status = Export(unassigned, v1::EXPORT_FORMAT_WIDE_CSV, &other_csv);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_THAT(other_csv, ::testing::Not(HasSubstr("Secret extra study")));

  // Observer: consensus rows only, no individual rater's answers.
  std::string observed;
  status = Export(observer_, v1::EXPORT_FORMAT_LONG_CSV, &observed);
  ASSERT_TRUE(status.ok()) << Describe(status);
  {
    const std::vector<std::string> lines = Lines(observed);
    ASSERT_EQ(lines.size(), 1u + 420u);
    for (std::size_t i = 1; i < lines.size(); ++i) {
      EXPECT_EQ(Cells(lines[i])[3], "consensus") << lines[i];
    }
  }
  EXPECT_THAT(observed, ::testing::Not(HasSubstr("why-k")));
  status = Export(observer_, v1::EXPORT_FORMAT_JSON, &observed);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_THAT(observed, ::testing::Not(HasSubstr("why-k")));
  for (const TestUser& rater : raters_) {
    EXPECT_THAT(observed, ::testing::Not(HasSubstr(rater.name)));
  }
  status = Export(observer_, v1::EXPORT_FORMAT_WIDE_CSV, &observed);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(Lines(observed).size(), 1u + kStudies + 1u);  // The extra study, without figures.

  // Summary for a rater: their finalised studies, no agreement figures.
  v1::GetSummaryResponse summary;
  status = Summary(Rater(1), &summary);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(summary.studies(), kStudies + 1);
  EXPECT_EQ(summary.finalised(), kStudies);
  EXPECT_THAT(summary.agreement(), IsEmpty());
  EXPECT_THAT(summary.consensus_share_by_round(), IsEmpty());
  status = Summary(unassigned, &summary);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(summary.studies(), kStudies);

  // Non-members: everything NOT_FOUND, as for a review that does not exist.
  for (int64_t review : {review_, review_ + 1000}) {
    SCOPED_TRACE(absl::StrCat("review ", review));
    const int64_t saved = review_;
    review_ = review;
    v1::GetPolicyResponse policy;
    EXPECT_EQ(GetPolicy(outsider_, &policy).error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(Progress(outsider_, &progress).error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(Consensus(outsider_, 0, &consensus).error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(Summary(outsider_, &summary).error_code(), grpc::StatusCode::NOT_FOUND);
    v1::GetAgreementResponse agreement;
    EXPECT_EQ(Agreement(outsider_, &agreement).error_code(), grpc::StatusCode::NOT_FOUND);
    std::string content;
    EXPECT_EQ(Export(outsider_, v1::EXPORT_FORMAT_JSON, &content).error_code(),
              grpc::StatusCode::NOT_FOUND);
    v1::GetFeedbackResponse feedback;
    EXPECT_EQ(Feedback(outsider_, StudyId(2), &feedback).error_code(), grpc::StatusCode::NOT_FOUND);
    grpc::Status watch = grpc::Status::OK;
    EXPECT_THAT(ReadEvents(outsider_, 0, 1, &watch), IsEmpty());
    EXPECT_EQ(watch.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(watch);
    review_ = saved;
  }
}

// --- 4. Concurrency ----------------------------------------------------------

TEST_F(ConsensusTest, ConcurrentCloseRoundAndAdjudicateMakeOneTransition) {
  // Study 9: raters 1 and 2 submitted round 1, rater 3 did not. Study 10:
  // nobody yet.
  ASSERT_NO_FATAL_FAILURE(RunRound1(/*close_missing=*/false, {{10, 1}, {10, 2}, {10, 3}}));
  constexpr int kThreads = 8;

  // The three raters of study 10 submit at once: whichever commits last
  // closes the round, exactly once.
  {
    std::atomic<bool> go{false};
    std::array<grpc::Status, kRaters> submitted;
    std::vector<std::thread> threads;
    for (int k = 0; k < kRaters; ++k) {
      threads.emplace_back([&, k] {
        while (!go.load()) std::this_thread::yield();
        submitted[Index(k)] = Submit(k, 9, 1, Round1Answers(9, k));
      });
    }
    go.store(true);
    for (std::thread& thread : threads) thread.join();
    for (const grpc::Status& status : submitted) EXPECT_TRUE(status.ok()) << Describe(status);
    EXPECT_EQ(
        Exec(absl::StrCat("SELECT count(*) FROM study_rounds WHERE study_id = ", StudyId(10))),
        "1");
    v1::GetConsensusResponse consensus;
    grpc::Status status = Consensus(coordinator_, StudyId(10), &consensus);
    ASSERT_TRUE(status.ok()) << Describe(status);
    ASSERT_EQ(consensus.studies_size(), 1);
    EXPECT_EQ(consensus.studies(0).state(), v1::STUDY_STATE_FINALISED);
    EXPECT_EQ(consensus.studies(0).report().total(), 15);
  }

  std::array<grpc::Status, kThreads> results;
  std::array<v1::CloseRoundResponse, kThreads> responses;
  {
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        results[Index(t)] =
            CloseRound(coordinator_, StudyId(kMissingStudy), 1, &responses[Index(t)]);
      });
    }
    go.store(true);
    for (std::thread& thread : threads) thread.join();
  }
  int ok = 0;
  for (int t = 0; t < kThreads; ++t) {
    const grpc::Status& status = results[Index(t)];
    if (status.ok()) {
      ++ok;
      ASSERT_EQ(responses[Index(t)].outcomes_size(), 1);
      EXPECT_THAT(responses[Index(t)].outcomes(0).missing_rater_ids(), ElementsAre(Rater(3).id));
      EXPECT_EQ(responses[Index(t)].outcomes(0).state(), v1::STUDY_STATE_FINALISED);
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
    }
  }
  EXPECT_EQ(ok, 1);

  // Exactly one ROUND_CLOSED event: read up to a later marker event (rater 1
  // submitting round 2 of study 2, committed after every close returned).
  ASSERT_TRUE(Submit(0, 1, 2, Round2Answers(1, 0)).ok());
  // Round 1: 29 submissions, 10 rounds closed, studies 1, 9, 10 finalised;
  // then the marker: 43 events.
  const std::vector<v1::ReviewEvent> all = ReadEvents(coordinator_, 0, 43);
  ASSERT_EQ(all.size(), 43u);
  std::map<int64_t, int> closed_events, finalised_events;
  for (const v1::ReviewEvent& event : all) {
    if (event.kind() == v1::EVENT_KIND_ROUND_CLOSED) ++closed_events[event.study_id()];
    if (event.kind() == v1::EVENT_KIND_STUDY_FINALISED) ++finalised_events[event.study_id()];
  }
  for (int study = 1; study <= kStudies; ++study) {
    EXPECT_EQ(closed_events[StudyId(study)], 1) << study;
  }
  EXPECT_EQ(finalised_events[StudyId(kMissingStudy)], 1);
  EXPECT_EQ(finalised_events[StudyId(10)], 1);
  EXPECT_EQ(all.back().kind(), v1::EVENT_KIND_SUBMISSION_RECEIVED);
  EXPECT_EQ(all.back().study_id(), StudyId(2));
  EXPECT_EQ(all.back().round(), 2);
  EXPECT_EQ(Exec(absl::StrCat("SELECT count(*) FROM study_rounds WHERE study_id = ",
                              StudyId(kMissingStudy))),
            "1");

  // Concurrent adjudication of study 4's c17: one decision wins.
  for (int k = 1; k < kRaters; ++k) ASSERT_TRUE(Submit(k, 1, 2, Round2Answers(1, k)).ok());
  for (int k = 0; k < kRaters; ++k) ASSERT_TRUE(Submit(k, 3, 2, Round2Answers(3, k)).ok());
  std::array<grpc::Status, kThreads> adjudications;
  {
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        v1::AdjudicateResponse response;
        std::vector<std::string> options = {"statistic"};
        if (t % 2 == 1) options.push_back("resampling");
        adjudications[Index(t)] =
            AdjudicateOne(4, 17, options, absl::StrCat("decision ", t), &response);
      });
    }
    go.store(true);
    for (std::thread& thread : threads) thread.join();
  }
  int winner = -1;
  for (int t = 0; t < kThreads; ++t) {
    const grpc::Status& status = adjudications[Index(t)];
    if (status.ok()) {
      EXPECT_EQ(winner, -1) << "two adjudications succeeded";
      winner = t;
    } else {
      EXPECT_TRUE(status.error_code() == grpc::StatusCode::ALREADY_EXISTS ||
                  status.error_code() == grpc::StatusCode::FAILED_PRECONDITION)
          << Describe(status);
    }
  }
  ASSERT_NE(winner, -1);
  v1::GetConsensusResponse consensus;
  grpc::Status status = Consensus(coordinator_, StudyId(4), &consensus);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(consensus.studies_size(), 1);
  EXPECT_EQ(consensus.studies(0).state(), v1::STUDY_STATE_FINALISED);
  int adjudicated = 0;
  for (const v1::ConsensusAnswer& answer : consensus.studies(0).answers()) {
    if (answer.source() != v1::ANSWER_SOURCE_ADJUDICATED) continue;
    ++adjudicated;
    EXPECT_EQ(answer.criterion(), 17);
    EXPECT_EQ(answer.reason(), absl::StrCat("decision ", winner));
    EXPECT_EQ(answer.points(), winner % 2 == 1 ? 2 : 1);
  }
  EXPECT_EQ(adjudicated, 1);
  EXPECT_EQ(consensus.studies(0).report().total(), winner % 2 == 1 ? 16 : 15);
  EXPECT_EQ(Exec(absl::StrCat("SELECT count(*) FROM adjudications WHERE study_id = ", StudyId(4))),
            "1");
  EXPECT_EQ(
      Exec(absl::StrCat("SELECT count(*) FROM study_consensus WHERE study_id = ", StudyId(4))),
      "1");
}

TEST_F(ConsensusTest, CloseRoundOfEveryStudyClosesThoseWithSubmissionsOnce) {
  // Rater 3 skips studies 3, 9 and 10: those stay in round 1 with two
  // submissions each; every other study closed its round 1 by itself.
  ASSERT_NO_FATAL_FAILURE(RunRound1(/*close_missing=*/false, {{3, 3}, {10, 3}}));
  constexpr int kThreads = 8;
  std::array<grpc::Status, kThreads> results;
  std::array<v1::CloseRoundResponse, kThreads> responses;
  {
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        results[Index(t)] = CloseRound(coordinator_, 0, 1, &responses[Index(t)]);
      });
    }
    go.store(true);
    for (std::thread& thread : threads) thread.join();
  }
  int winner = -1;
  for (int t = 0; t < kThreads; ++t) {
    if (results[Index(t)].ok()) {
      EXPECT_EQ(winner, -1) << "two calls closed round 1";
      winner = t;
    } else {
      EXPECT_EQ(results[Index(t)].error_code(), grpc::StatusCode::FAILED_PRECONDITION)
          << Describe(results[Index(t)]);
    }
  }
  ASSERT_NE(winner, -1);
  const v1::CloseRoundResponse& closed = responses[Index(winner)];
  ASSERT_EQ(closed.outcomes_size(), 3);
  // Study 3 without rater 3: rater 2's c14 "no" against rater 1's "yes" is
  // disputed (0.75 of 2 needs both); c13 (both yes) is agreed.
  const v1::RoundOutcome& study3 = closed.outcomes(0);
  EXPECT_EQ(study3.study_id(), StudyId(3));
  EXPECT_EQ(study3.round(), 1);
  EXPECT_EQ(study3.agreed_size(), kCriteria - 1);
  EXPECT_THAT(study3.disputed(), ElementsAre(14));
  EXPECT_THAT(study3.missing_rater_ids(), ElementsAre(Rater(3).id));
  EXPECT_EQ(study3.state(), v1::STUDY_STATE_IN_ROUND);
  EXPECT_EQ(study3.end_reason(), v1::END_REASON_UNSPECIFIED);
  EXPECT_EQ(study3.next_round(), 2);
  for (int i : {1, 2}) {
    const v1::RoundOutcome& outcome = closed.outcomes(i);
    EXPECT_EQ(outcome.study_id(), StudyId(i == 1 ? 9 : 10));
    EXPECT_EQ(outcome.agreed_size(), kCriteria);
    EXPECT_THAT(outcome.disputed(), IsEmpty());
    EXPECT_THAT(outcome.missing_rater_ids(), ElementsAre(Rater(3).id));
    EXPECT_EQ(outcome.state(), v1::STUDY_STATE_FINALISED);
    EXPECT_EQ(outcome.end_reason(), v1::END_REASON_ALL_AGREED);
    EXPECT_EQ(outcome.next_round(), 0);
  }
  for (int study = 1; study <= kStudies; ++study) {
    EXPECT_EQ(
        Exec(absl::StrCat("SELECT count(*) FROM study_rounds WHERE study_id = ", StudyId(study))),
        "1")
        << study;
  }

  // Rater 3 missed round 1 of study 3: feedback without an own answer.
  v1::GetFeedbackResponse feedback;
  grpc::Status status = Feedback(Rater(3), StudyId(3), &feedback);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(feedback.round(), 2);
  ASSERT_EQ(feedback.criteria_size(), 1);
  const v1::CriterionFeedback& c14 = feedback.criteria(0);
  EXPECT_EQ(c14.criterion(), 14);
  EXPECT_EQ(c14.raters_answered(), 2);
  EXPECT_THAT(c14.distribution(), UnorderedElementsAre(::testing::Pair("option:yes", 1),
                                                       ::testing::Pair("option:no", 1)));
  EXPECT_FALSE(c14.has_own_answer());
  EXPECT_EQ(c14.own_answer_key(), "");
  EXPECT_EQ(c14.others_size(), 2);
  EXPECT_FALSE(c14.own_label().empty());

  // Nobody has submitted round 2 anywhere: nothing to close.
  v1::CloseRoundResponse none;
  status = CloseRound(coordinator_, 0, 2, &none);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);

  // Only rater 1 answers round 2 of study 2. Closing it: one answering rater
  // is no consensus (at least 2 must answer), and rater 1 kept c7 "yes"
  // while the others stopped, which changes nothing: the study ends stable.
  ASSERT_TRUE(Submit(0, 1, 2, Round2Answers(1, 0)).ok());
  v1::CloseRoundResponse round2;
  status = CloseRound(coordinator_, 0, 2, &round2);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(round2.outcomes_size(), 1);
  const v1::RoundOutcome& study2 = round2.outcomes(0);
  EXPECT_EQ(study2.study_id(), StudyId(2));
  EXPECT_EQ(study2.round(), 2);
  EXPECT_THAT(study2.agreed(), IsEmpty());
  EXPECT_THAT(study2.disputed(), ElementsAre(7));
  EXPECT_THAT(study2.missing_rater_ids(), ElementsAre(Rater(2).id, Rater(3).id));
  EXPECT_EQ(study2.state(), v1::STUDY_STATE_AWAITING_ADJUDICATION);
  EXPECT_EQ(study2.end_reason(), v1::END_REASON_STABLE);
  EXPECT_EQ(study2.next_round(), 0);
  // Closing round 1 again finds nothing.
  status = CloseRound(coordinator_, 0, 1, &none);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  status = CloseRound(coordinator_, StudyId(2), 2, &none);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  status = CloseRound(coordinator_, StudyId(2), 0, &none);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
}

TEST_F(ConsensusTest, CloseRoundRacingTheLastSubmissionMakesOneTransition) {
  // Rater 3 has not submitted round 1 anywhere; for every study, rater 3's
  // submission races the coordinator's CloseRound. Whichever commits first
  // wins: the submission completes the panel and closes the round itself,
  // or the close records rater 3 as missing and refuses the submission.
  std::set<std::pair<int, int>> skip;
  for (int study = 1; study <= kStudies; ++study) skip.insert({study, 3});
  ASSERT_NO_FATAL_FAILURE(RunRound1(/*close_missing=*/false, skip));
  int submissions_won = 0;
  for (int s = 0; s < kStudies; ++s) {
    SCOPED_TRACE(absl::StrCat("study ", s + 1));
    std::atomic<bool> go{false};
    grpc::Status submitted, closed;
    v1::CloseRoundResponse response;
    std::thread submit([&] {
      while (!go.load()) std::this_thread::yield();
      // Round 1 named: with round 0 (the open round, chosen with the study
      // locked) a submission that loses the race is judged against round 2.
      submitted = Submit(2, s, 1, Round1Answers(s, 2), nullptr, /*explicit_round=*/1);
    });
    std::thread close([&] {
      while (!go.load()) std::this_thread::yield();
      closed = CloseRound(coordinator_, studies_[Index(s)], 1, &response);
    });
    go.store(true);
    submit.join();
    close.join();
    EXPECT_NE(submitted.ok(), closed.ok())
        << "submit: " << Describe(submitted) << "; close: " << Describe(closed);
    if (!submitted.ok()) {
      EXPECT_EQ(submitted.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
          << Describe(submitted);
    }
    if (!closed.ok()) {
      EXPECT_EQ(closed.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(closed);
    }
    EXPECT_EQ(Exec(absl::StrCat("SELECT count(*) FROM study_rounds WHERE study_id = ",
                                studies_[Index(s)], " AND round = 1")),
              "1");
    const std::string missing = Exec(absl::StrCat(
        "SELECT missing_rater_ids::text FROM study_rounds WHERE study_id = ", studies_[Index(s)],
        " AND round = 1"));
    if (submitted.ok()) {
      ++submissions_won;
      EXPECT_EQ(missing, "{}");
    } else {
      EXPECT_EQ(missing, absl::StrCat("{", Rater(3).id, "}"));
      ASSERT_EQ(response.outcomes_size(), 1);
      EXPECT_THAT(response.outcomes(0).missing_rater_ids(), ElementsAre(Rater(3).id));
    }
  }
  // Either outcome is fine; print the split for the record.
  std::cout << "submissions won " << submissions_won << " of " << kStudies << " races\n";
}

TEST_F(ConsensusTest, AdjudicationIsValidatedAndStoredAllOrNothing) {
  ASSERT_NO_FATAL_FAILURE(RunRound1());
  // Study 3, round 2: every rater repeats their round-1 answers to c13 and
  // c14, so the study ends stable with both awaiting adjudication.
  for (int k = 0; k < kRaters; ++k) {
    const AnswerMap first = Round1Answers(2, k);
    ASSERT_TRUE(Submit(k, 2, 2, {{13, first.at(13)}, {14, first.at(14)}}).ok());
  }
  v1::GetProgressResponse progress;
  grpc::Status status = Progress(coordinator_, &progress);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(progress.studies(2).state(), v1::STUDY_STATE_AWAITING_ADJUDICATION);
  EXPECT_EQ(progress.studies(2).end_reason(), v1::END_REASON_STABLE);
  EXPECT_THAT(progress.studies(2).awaiting_adjudication(), ElementsAre(13, 14));

  auto adjudicate = [&](const std::vector<v1::AdjudicationInput>& decisions,
                        v1::AdjudicateResponse* response) {
    v1::AdjudicateRequest request;
    request.set_review_id(review_);
    request.set_study_id(StudyId(3));
    for (const v1::AdjudicationInput& decision : decisions) *request.add_decisions() = decision;
    return consensus_->Adjudicate(Ctx(coordinator_.token).get(), request, response);
  };
  auto decide = [](int criterion, std::vector<std::string> options, std::optional<int> points,
                   const std::string& reason) {
    v1::AdjudicationInput input;
    input.set_criterion(criterion);
    for (const std::string& option : options) input.add_option_ids(option);
    if (points.has_value()) input.set_points(*points);
    input.set_reason(reason);
    return input;
  };
  const std::string before = DatabaseFingerprint();
  const std::string adjudications_before =
      Exec(absl::StrCat("SELECT count(*) FROM adjudications WHERE study_id = ", StudyId(3)));
  EXPECT_EQ(adjudications_before, "0");
  v1::AdjudicateResponse response;
  struct Bad {
    std::string what;
    std::vector<v1::AdjudicationInput> decisions;
    grpc::StatusCode code;
  };
  const std::vector<Bad> bad = {
      {"an unknown option in the second decision",
       {decide(13, {"yes"}, std::nullopt, "ok"), decide(14, {"maybe"}, std::nullopt, "ok")},
       grpc::StatusCode::INVALID_ARGUMENT},
      {"points the criterion cannot award",
       {decide(13, {}, 5, "ok")},
       grpc::StatusCode::INVALID_ARGUMENT},
      {"options and points", {decide(13, {"yes"}, 1, "ok")}, grpc::StatusCode::INVALID_ARGUMENT},
      {"a criterion twice",
       {decide(13, {"yes"}, std::nullopt, "ok"), decide(13, {"no"}, std::nullopt, "ok")},
       grpc::StatusCode::INVALID_ARGUMENT},
      {"no reason", {decide(13, {"yes"}, std::nullopt, "")}, grpc::StatusCode::INVALID_ARGUMENT},
      {"a reason over 10,000 characters",
       {decide(13, {"yes"}, std::nullopt, std::string(10001, 'x'))},
       grpc::StatusCode::INVALID_ARGUMENT},
      {"no decisions", {}, grpc::StatusCode::INVALID_ARGUMENT},
      {"an agreed criterion with a valid one",
       {decide(13, {"yes"}, std::nullopt, "ok"), decide(2, {"yes"}, std::nullopt, "ok")},
       grpc::StatusCode::FAILED_PRECONDITION},
  };
  for (const Bad& one : bad) {
    SCOPED_TRACE(one.what);
    status = adjudicate(one.decisions, &response);
    EXPECT_EQ(status.error_code(), one.code) << Describe(status);
  }
  EXPECT_EQ(DatabaseFingerprint(), before);
  EXPECT_EQ(Exec(absl::StrCat("SELECT count(*) FROM adjudications WHERE study_id = ", StudyId(3))),
            "0");

  // One criterion at a time: the study waits for the other.
  status = adjudicate({decide(13, {"yes"}, std::nullopt, "Combined model in table 3")}, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.state(), v1::STUDY_STATE_AWAITING_ADJUDICATION);
  EXPECT_THAT(response.awaiting_adjudication(), ElementsAre(14));
  status = adjudicate({decide(13, {"no"}, std::nullopt, "changed my mind")}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << Describe(status);
  // Points that identify one option (2 is only "yes") are that option.
  status = adjudicate({decide(14, {}, 2, "Multivariable model reported")}, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.state(), v1::STUDY_STATE_FINALISED);
  EXPECT_THAT(response.awaiting_adjudication(), IsEmpty());

  v1::GetConsensusResponse consensus;
  status = Consensus(coordinator_, StudyId(3), &consensus);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(consensus.studies_size(), 1);
  const v1::StudyConsensus& study = consensus.studies(0);
  EXPECT_EQ(study.report().total(), 10);
  EXPECT_EQ(study.report().attained_level(), 3);
  for (const v1::ConsensusAnswer& answer : study.answers()) {
    if (answer.criterion() == 13 || answer.criterion() == 14) {
      SCOPED_TRACE(absl::StrCat("criterion ", answer.criterion()));
      EXPECT_EQ(answer.source(), v1::ANSWER_SOURCE_ADJUDICATED);
      EXPECT_EQ(answer.round(), 0);
      EXPECT_EQ(answer.points(), answer.criterion() == 13 ? 1 : 2);
      EXPECT_THAT(answer.option_ids(), ElementsAre("yes"));
    }
  }
  status = Progress(coordinator_, &progress);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(progress.studies(2).adjudicated_count(), 2);
  EXPECT_EQ(progress.studies(2).state(), v1::STUDY_STATE_FINALISED);
}

TEST_F(ConsensusTest, ConsensusUsesTheTargetLevelAndThePolicyLevelThreshold) {
  // A review scoring RRL1..2 only (c1..c10, 7 + 5 = 12 points) whose policy
  // needs 60 % of a level's points to attain it.
  v1::CreateReviewRequest create;
  create.set_name("Two levels");
  create.set_instrument_id("rqs2");
  create.set_target_level(2);
  v1::CreateReviewResponse created;
  grpc::Status status = reviews_->CreateReview(Ctx(coordinator_.token).get(), create, &created);
  ASSERT_TRUE(status.ok()) << Describe(status);
  const int64_t saved = review_;
  review_ = created.review().review_id();
  AddMember(coordinator_, review_, Rater(1), v1::ROLE_RATER);
  AddMember(coordinator_, review_, Rater(2), v1::ROLE_RATER);
  v1::Policy policy;
  policy.set_agreement_threshold(0.75);
  policy.set_max_rounds(3);
  policy.set_stop_when_stable(true);
  policy.set_level_threshold_percent(60);
  policy.set_share_rationales(true);
  status = SetPolicy(coordinator_, policy);
  ASSERT_TRUE(status.ok()) << Describe(status);
  const std::vector<int64_t> ids = AddStudies(coordinator_, review_, {"Two-level study"});
  ASSERT_EQ(ids.size(), 1u);
  studies_ = {ids[0]};
  Assign(coordinator_, review_, ids[0], Rater(1));
  Assign(coordinator_, review_, ids[0], Rater(2));

  // A criterion above the target level is refused.
  AnswerMap answers;
  for (const auto& [criterion, options] : BaseAnswers(2)) {
    if (criterion <= 10) answers[criterion] = options;
  }
  AnswerMap too_high = answers;
  too_high[13] = {"yes"};
  status = Submit(0, 0, 1, too_high);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  for (int k = 0; k < 2; ++k) ASSERT_TRUE(Submit(k, 0, 1, answers).ok());

  v1::GetProgressResponse progress;
  status = Progress(coordinator_, &progress);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(progress.studies_size(), 1);
  EXPECT_EQ(progress.studies(0).criteria_count(), 10);
  EXPECT_THAT(progress.studies(0).agreed_after_round(), ElementsAre(10));
  EXPECT_EQ(progress.studies(0).state(), v1::STUDY_STATE_FINALISED);

  // A + B = 4 + 3 = 7 of 12 points; RRL1 holds 4/7 = 57 % < 60 %: RRL0.
  v1::GetConsensusResponse consensus;
  status = Consensus(Rater(2), ids[0], &consensus);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(consensus.studies_size(), 1);
  const v1::ScoreReport& report = consensus.studies(0).report();
  EXPECT_EQ(consensus.studies(0).answers_size(), 10);
  EXPECT_EQ(report.target_level(), 2);
  EXPECT_DOUBLE_EQ(report.level_threshold_percent(), 60.0);
  EXPECT_EQ(report.total(), 7);
  EXPECT_EQ(report.max_total(), 12);
  EXPECT_NEAR(report.percent(), 700.0 / 12.0, kTolerance);
  EXPECT_EQ(report.attained_level(), 0);
  ASSERT_EQ(report.levels_size(), 2);
  EXPECT_FALSE(report.levels(0).attained());

  v1::GetSummaryResponse summary;
  status = Summary(coordinator_, &summary);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(summary.finalised(), 1);
  EXPECT_NEAR(summary.percent().mean(), 700.0 / 12.0, kTolerance);
  ASSERT_GE(summary.attained_levels_size(), 1);
  EXPECT_EQ(summary.attained_levels(0).studies(), 1);
  review_ = saved;
}

// --- 5. Policy ---------------------------------------------------------------

TEST_F(ConsensusTest, PolicyIsValidatedAndLockedOnceRoundOneOpens) {
  v1::Policy valid;
  valid.set_agreement_threshold(1.0);
  valid.set_max_rounds(5);
  valid.set_stop_when_stable(false);
  valid.set_level_threshold_percent(60);
  valid.set_share_rationales(false);

  struct Invalid {
    std::string field;
    v1::Policy policy;
  };
  std::vector<Invalid> invalid;
  auto with = [&](const std::string& field, auto change) {
    v1::Policy policy = valid;
    change(policy);
    invalid.push_back({field, policy});
  };
  with("policy.agreement_threshold", [](v1::Policy& p) { p.set_agreement_threshold(0.5); });
  with("policy.agreement_threshold", [](v1::Policy& p) { p.set_agreement_threshold(1.01); });
  with("policy.agreement_threshold", [](v1::Policy& p) { p.set_agreement_threshold(0); });
  with("policy.agreement_threshold",
       [](v1::Policy& p) { p.set_agreement_threshold(std::nan("")); });
  with("policy.max_rounds", [](v1::Policy& p) { p.set_max_rounds(0); });
  with("policy.max_rounds", [](v1::Policy& p) { p.set_max_rounds(11); });
  with("policy.level_threshold_percent", [](v1::Policy& p) { p.set_level_threshold_percent(-1); });
  with("policy.level_threshold_percent",
       [](v1::Policy& p) { p.set_level_threshold_percent(100.5); });
  const std::string before = DatabaseFingerprint();
  for (const Invalid& bad : invalid) {
    SCOPED_TRACE(bad.policy.ShortDebugString());
    grpc::Status status = SetPolicy(coordinator_, bad.policy);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
    EXPECT_THAT(status.error_message(), HasSubstr(bad.field));
  }
  {
    v1::SetPolicyRequest request;
    request.set_review_id(review_);
    v1::SetPolicyResponse response;
    grpc::Status status = consensus_->SetPolicy(Ctx(coordinator_.token).get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  }
  EXPECT_EQ(DatabaseFingerprint(), before);
  v1::GetPolicyResponse policy;
  grpc::Status status = GetPolicy(observer_, &policy);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_DOUBLE_EQ(policy.policy().agreement_threshold(), 0.75);  // Still the default.
  EXPECT_EQ(policy.policy().max_rounds(), 3);

  // Only the coordinator sets it.
  status = SetPolicy(observer_, valid);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(status);
  status = SetPolicy(outsider_, valid);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);

  v1::SetPolicyRequest request;
  request.set_review_id(review_);
  *request.mutable_policy() = valid;
  v1::SetPolicyResponse stored;
  status = consensus_->SetPolicy(Ctx(coordinator_.token).get(), request, &stored);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_DOUBLE_EQ(stored.policy().agreement_threshold(), 1.0);
  status = GetPolicy(Rater(2), &policy);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_DOUBLE_EQ(policy.policy().agreement_threshold(), 1.0);
  EXPECT_EQ(policy.policy().max_rounds(), 5);
  EXPECT_FALSE(policy.policy().stop_when_stable());
  EXPECT_DOUBLE_EQ(policy.policy().level_threshold_percent(), 60.0);
  EXPECT_FALSE(policy.policy().share_rationales());
  EXPECT_FALSE(policy.locked());

  // The review's first saved assessment (a draft) opens round 1.
  v1::SaveDraftRequest draft;
  draft.set_review_id(review_);
  draft.set_study_id(StudyId(1));
  v1::Answer* answer = draft.add_answers();
  answer->set_criterion(2);
  answer->add_option_ids("yes");
  v1::SaveDraftResponse saved;
  status = assessments_->SaveDraft(Ctx(Rater(1).token).get(), draft, &saved);
  ASSERT_TRUE(status.ok()) << Describe(status);

  v1::Policy later = valid;
  later.set_agreement_threshold(0.8);
  status = SetPolicy(coordinator_, later);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  status = GetPolicy(Rater(1), &policy);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_TRUE(policy.locked());
  EXPECT_DOUBLE_EQ(policy.policy().agreement_threshold(), 1.0);
  EXPECT_EQ(policy.policy().max_rounds(), 5);
  EXPECT_FALSE(policy.policy().stop_when_stable());
  EXPECT_DOUBLE_EQ(policy.policy().level_threshold_percent(), 60.0);
  EXPECT_FALSE(policy.policy().share_rationales());
}

// --- 6. Rounds ---------------------------------------------------------------

TEST_F(ConsensusTest, LaterRoundsTakeExactlyTheDisputedCriteria) {
  ASSERT_NO_FATAL_FAILURE(RunRound1());
  const std::string before = DatabaseFingerprint();

  // Study 2, round 2 disputes c7 only: adding the agreed c2 is refused.
  v1::SubmitAssessmentResponse response;
  grpc::Status status = Submit(0, 1, 2, {{7, {"yes"}}, {2, {"yes"}}}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("2"));
  // Study 3 disputes c13 and c14: leaving c14 out is refused.
  status = Submit(0, 2, 2, {{13, {"yes"}}}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("14"));
  // Round 1 of study 2 is closed.
  status = Submit(0, 1, 2, {{7, {"yes"}}}, &response, /*explicit_round=*/1);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  // So is any round of study 1, which ended.
  status = Submit(0, 0, 2, {{7, {"yes"}}}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  // A round that is not open yet.
  status = Submit(0, 1, 3, {{7, {"yes"}}}, &response, /*explicit_round=*/3);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  EXPECT_EQ(DatabaseFingerprint(), before);

  // Retrying a round-1 submission with its key after the round closed
  // replays it and stores nothing: study 1 (finalised) and study 2 (now in
  // round 2).
  for (int s : {0, 1}) {
    v1::SubmitAssessmentResponse replay;
    status = Submit(0, s, 1, Round1Answers(s, 0), &replay);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_TRUE(replay.replayed());
    EXPECT_EQ(replay.assessment().round(), 1);
    EXPECT_EQ(replay.assessment().idempotency_key(), absl::StrCat("key-s", s + 1, "-k1-r1"));
    EXPECT_EQ(replay.assessment().answers_size(), kCriteria);
  }
  EXPECT_EQ(DatabaseFingerprint(), before);

  // The valid round-2 submission goes through and is for round 2.
  status = Submit(0, 1, 2, {{7, {"yes"}}}, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_FALSE(response.replayed());
  EXPECT_EQ(response.assessment().round(), 2);
  ASSERT_EQ(response.assessment().answers_size(), 1);
  // The report scores the rater's current answers: round 1 with c7 now yes.
  EXPECT_EQ(response.assessment().report().total(), 7);
  // Rater 3 said c7 "no" in round 1 (6 points) and now "yes": 7.
  status = Submit(2, 1, 2, {{7, {"yes"}}}, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.assessment().report().total(), 7);
  v1::GetMyAssessmentRequest mine_request;
  mine_request.set_review_id(review_);
  mine_request.set_study_id(StudyId(2));
  mine_request.set_round(1);
  v1::GetMyAssessmentResponse mine;
  status = assessments_->GetMyAssessment(Ctx(Rater(3).token).get(), mine_request, &mine);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(mine.assessment().round(), 1);
  EXPECT_EQ(mine.assessment().report().total(), 6);

  // Rater 2's assignments: study 2 waits for them in round 2 on c7; study 1
  // has ended.
  v1::ListMyAssignmentsRequest list;
  list.set_review_id(review_);
  v1::ListMyAssignmentsResponse assignments;
  status = assessments_->ListMyAssignments(Ctx(Rater(2).token).get(), list, &assignments);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(assignments.assignments_size(), kStudies);
  const v1::MyAssignment& first = assignments.assignments(0);
  EXPECT_EQ(first.study().study_id(), StudyId(1));
  EXPECT_EQ(first.current_round(), 1);
  EXPECT_THAT(first.open_criteria(), IsEmpty());
  EXPECT_FALSE(first.action_needed());
  const v1::MyAssignment& second = assignments.assignments(1);
  EXPECT_EQ(second.study().study_id(), StudyId(2));
  EXPECT_EQ(second.current_round(), 2);
  EXPECT_THAT(second.open_criteria(), ElementsAre(7));
  EXPECT_TRUE(second.action_needed());
  EXPECT_EQ(second.state(), v1::ASSESSMENT_STATE_NOT_STARTED);

  // Rater 2 answers c7 as points: 1 point is only "yes", the same answer as
  // the others' option, so c7 is agreed and study 2 is final with 7 points.
  v1::SubmitAssessmentRequest by_points = SubmitRequest(1, 1, 2, {});
  v1::Answer* c7 = by_points.add_answers();
  c7->set_criterion(7);
  c7->set_points(1);
  status = assessments_->SubmitAssessment(Ctx(Rater(2).token).get(), by_points, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  v1::GetConsensusResponse consensus;
  status = Consensus(coordinator_, StudyId(2), &consensus);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(consensus.studies_size(), 1);
  EXPECT_EQ(consensus.studies(0).state(), v1::STUDY_STATE_FINALISED);
  EXPECT_EQ(consensus.studies(0).report().total(), 7);
  for (const v1::ConsensusAnswer& answer : consensus.studies(0).answers()) {
    if (answer.criterion() != 7) continue;
    EXPECT_THAT(answer.option_ids(), ElementsAre("yes"));
    EXPECT_EQ(answer.round(), 2);
  }
}

// --- 7. WatchReview ----------------------------------------------------------

TEST_F(ConsensusTest, WatchReviewReplaysTheScenarioInOrderAndResumes) {
  ASSERT_NO_FATAL_FAILURE(RunScenario());
  // 53 submissions (29 + 21 + 3), 18 closed rounds (10 + 7 + 1), 2
  // adjudications required (studies 4, 7), 10 studies finalised: 83 events.
  constexpr std::size_t kEvents = 83;
  const std::vector<v1::ReviewEvent> events = ReadEvents(coordinator_, 0, kEvents);
  ASSERT_EQ(events.size(), kEvents);
  std::map<v1::EventKind, int> kinds;
  std::map<int64_t, std::vector<std::string>> by_study;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const v1::ReviewEvent& event = events[i];
    if (i > 0) {
      EXPECT_GT(event.event_id(), events[i - 1].event_id());
    }
    EXPECT_EQ(event.review_id(), review_);
    EXPECT_TRUE(event.has_event_time());
    ++kinds[event.kind()];
    std::string entry;
    switch (event.kind()) {
      case v1::EVENT_KIND_SUBMISSION_RECEIVED: {
        int rater = 0;
        for (int k = 0; k < kRaters; ++k) {
          if (raters_[Index(k)].id == event.rater_id()) rater = k + 1;
        }
        entry = absl::StrCat("S", event.round(), "k", rater);
        break;
      }
      case v1::EVENT_KIND_ROUND_CLOSED:
        entry = absl::StrCat("C", event.round());
        break;
      case v1::EVENT_KIND_ADJUDICATION_REQUIRED:
        entry = absl::StrCat("A", event.round());
        break;
      case v1::EVENT_KIND_STUDY_FINALISED:
        entry = absl::StrCat("F", event.round());
        break;
      default:
        entry = "?";
    }
    by_study[event.study_id()].push_back(entry);
  }
  EXPECT_EQ(kinds[v1::EVENT_KIND_SUBMISSION_RECEIVED], 53);
  EXPECT_EQ(kinds[v1::EVENT_KIND_ROUND_CLOSED], 18);
  EXPECT_EQ(kinds[v1::EVENT_KIND_ADJUDICATION_REQUIRED], 2);
  EXPECT_EQ(kinds[v1::EVENT_KIND_STUDY_FINALISED], 10);
  const std::vector<std::string> round1 = {"S1k1", "S1k2", "S1k3", "C1"};
  const std::vector<std::string> round2 = {"S2k1", "S2k2", "S2k3", "C2"};
  auto join = [](std::vector<std::vector<std::string>> parts) {
    std::vector<std::string> out;
    for (auto& part : parts) out.insert(out.end(), part.begin(), part.end());
    return out;
  };
  for (int study = 1; study <= kStudies; ++study) {
    SCOPED_TRACE(absl::StrCat("study ", study));
    std::vector<std::string> expected;
    if (study == 1 || study == 10) {
      expected = join({round1, {"F1"}});
    } else if (study == kMissingStudy) {
      expected = {"S1k1", "S1k2", "C1", "F1"};
    } else if (study == 4 || study == 7) {
      expected = join({round1, round2, {"A2", "F2"}});
    } else if (study == kRound3Study) {
      expected = join({round1, round2, {"S3k1", "S3k2", "S3k3", "C3", "F3"}});
    } else {
      expected = join({round1, round2, {"F2"}});
    }
    EXPECT_THAT(by_study[StudyId(study)], ElementsAreArray(expected));
  }

  // Resuming after an event replays only the newer ones.
  const int64_t cursor = events[39].event_id();
  const std::vector<v1::ReviewEvent> resumed = ReadEvents(coordinator_, cursor, kEvents - 40);
  ASSERT_EQ(resumed.size(), kEvents - 40);
  for (std::size_t i = 0; i < resumed.size(); ++i) {
    EXPECT_EQ(resumed[i].event_id(), events[40 + i].event_id());
  }
  // After the last one, only what happens next: a submission to a new study.
  const std::vector<int64_t> extra = AddStudies(coordinator_, review_, {"Late study"});
  ASSERT_EQ(extra.size(), 1u);
  Assign(coordinator_, review_, extra[0], Rater(1));
  Assign(coordinator_, review_, extra[0], Rater(2));
  v1::SubmitAssessmentRequest late = SubmitRequest(0, 0, 1, BaseAnswers(1));
  late.set_study_id(extra[0]);
  late.set_idempotency_key("late-submission");
  v1::SubmitAssessmentResponse late_response;
  grpc::Status status =
      assessments_->SubmitAssessment(Ctx(Rater(1).token).get(), late, &late_response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  const std::vector<v1::ReviewEvent> next = ReadEvents(coordinator_, events.back().event_id(), 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_GT(next[0].event_id(), events.back().event_id());
  EXPECT_EQ(next[0].kind(), v1::EVENT_KIND_SUBMISSION_RECEIVED);
  EXPECT_EQ(next[0].study_id(), extra[0]);
  EXPECT_EQ(next[0].rater_id(), Rater(1).id);

  // A rater may not watch.
  grpc::Status watch = grpc::Status::OK;
  EXPECT_THAT(ReadEvents(Rater(1), 0, 1, &watch), IsEmpty());
  EXPECT_EQ(watch.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(watch);
}

TEST_F(ConsensusTest, WatchReviewFollowsEventsMadeThroughAnotherReplica) {
  // A second server on the same database, as another replica.
  ServerConfig config;
  config.database_url = conninfo_;
  config.listen = "127.0.0.1:0";
  config.admin_token_file = admin_token_file_;
  config.pool_size = 2;
  std::ostringstream log;
  absl::StatusOr<std::unique_ptr<Server>> started = Server::Start(config, log);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<Server> replica = std::move(*started);
  std::unique_ptr<v1::ConsensusService::Stub> replica_stub = v1::ConsensusService::NewStub(
      grpc::CreateChannel(replica->address(), grpc::InsecureChannelCredentials()));

  auto read = [&](int64_t after, std::size_t count, bool submit_first_of_study2) {
    auto context = Ctx(coordinator_.token);
    v1::WatchReviewRequest request;
    request.set_review_id(review_);
    request.set_after_event_id(after);
    std::unique_ptr<grpc::ClientReader<v1::ReviewEvent>> reader =
        replica_stub->WatchReview(context.get(), request);
    if (submit_first_of_study2) {
      // "-1" means only new events: give the stream a moment to start (a
      // precondition, not a timing assertion), then make one through the
      // first server.
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      EXPECT_TRUE(Submit(0, 1, 1, Round1Answers(1, 0)).ok());
    }
    std::vector<v1::ReviewEvent> events;
    v1::ReviewEvent event;
    while (events.size() < count && reader->Read(&event)) events.push_back(event);
    context->TryCancel();
    reader->Finish();
    return events;
  };

  // Made through the first server, replayed by the replica.
  ASSERT_TRUE(Submit(0, 0, 1, Round1Answers(0, 0)).ok());
  std::vector<v1::ReviewEvent> events = read(0, 1, false);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::EVENT_KIND_SUBMISSION_RECEIVED);
  EXPECT_EQ(events[0].study_id(), StudyId(1));
  // Live: the replica's stream sees a submission made through the first
  // server after the stream started, and nothing older.
  events = read(-1, 1, true);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::EVENT_KIND_SUBMISSION_RECEIVED);
  EXPECT_EQ(events[0].study_id(), StudyId(2));
  EXPECT_EQ(events[0].rater_id(), Rater(1).id);
  replica_stub.reset();
  replica->Shutdown();
}

}  // namespace
}  // namespace rqs::server::testing
