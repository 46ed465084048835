// Store: create/read of every entity, token lookup, assignments, assessments
// with idempotent submission, and the mapping of database errors to codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "db/store.h"
#include "db/token.h"
#include "tests/unit/db/test_database.h"

namespace rqs::db {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

#define ASSERT_OK_AND_ASSIGN(lhs, expr)            \
  auto lhs##_or = (expr);                          \
  ASSERT_TRUE(lhs##_or.ok()) << lhs##_or.status(); \
  auto lhs = std::move(lhs##_or).value()

constexpr char kInjection[] = "'); DROP TABLE users; --";

class StoreTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
  }

  User MakeUser(const std::string& name, bool is_admin = false) {
    NewUser user;
    user.name = name;
    user.is_admin = is_admin;
    absl::StatusOr<User> created = store_->CreateUser(user, 0);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : User{};
  }

  Review MakeReview(int64_t coordinator_id) {
    NewReview review;
    review.name = "Lung CT radiomics";
    review.instrument_id = "rqs2";
    review.target_rrl = 4;
    review.coordinator_id = coordinator_id;
    absl::StatusOr<Review> created = store_->CreateReview(review, coordinator_id);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : Review{};
  }

  Study MakeStudy(int64_t review_id, const std::string& title,
                  const std::string& external_id = "") {
    NewStudy study;
    study.review_id = review_id;
    study.title = title;
    study.authors = "Lambin P, Leijenaar RTH";
    study.year = 2017;
    study.doi = "10.1038/nrclinonc.2017.141";
    study.study_type = scoring::StudyType::kHybrid;
    study.external_id = external_id;
    study.notes = "pilot";
    absl::StatusOr<Study> created = store_->CreateStudy(study, 0);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : Study{};
  }

  AssessmentInput Input(int64_t study_id, int64_t rater_id, const std::string& key = "") {
    AssessmentInput input;
    input.study_id = study_id;
    input.rater_id = rater_id;
    input.instrument_version = "rqs2-2024.1";
    input.server_version = "0.1.0";
    input.idempotency_key = key;
    Answer first;
    first.criterion = 1;
    first.option_ids = {"protocol_public", "protocol_reported"};
    first.points = 2;
    first.rationale = "Protocol in supplement S1.";
    first.evidence = {"4", "Methods 2.1", "Images were acquired..."};
    Answer second;
    second.criterion = 3;
    second.option_ids = {"level_2"};
    second.points = 1;
    input.answers = {first, second};
    return input;
  }

  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, UsersRoundTrip) {
  const absl::Time before = absl::Now() - absl::Seconds(5);
  User alice = MakeUser("alice", true);
  EXPECT_GT(alice.id, 0);
  EXPECT_TRUE(alice.is_admin);
  EXPECT_GT(alice.created_at, before);

  ASSERT_OK_AND_ASSIGN(by_id, store_->GetUser(alice.id));
  EXPECT_EQ(by_id.name, "alice");
  EXPECT_EQ(by_id.created_at, alice.created_at);
  ASSERT_OK_AND_ASSIGN(by_name, store_->GetUserByName("alice"));
  EXPECT_EQ(by_name.id, alice.id);

  ASSERT_OK_AND_ASSIGN(demoted, store_->SetUserAdmin(alice.id, false, alice.id));
  EXPECT_FALSE(demoted.is_admin);
  MakeUser("bob");
  ASSERT_OK_AND_ASSIGN(users, store_->ListUsers());
  ASSERT_THAT(users, SizeIs(2));
  EXPECT_EQ(users[1].name, "bob");

  EXPECT_EQ(store_->GetUser(9999).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetUserByName("carol").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->SetUserAdmin(9999, true, 0).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, DuplicateUserIsAlreadyExists) {
  MakeUser("alice");
  NewUser again;
  again.name = "alice";
  absl::StatusOr<User> duplicate = store_->CreateUser(again, 0);
  EXPECT_EQ(duplicate.status().code(), absl::StatusCode::kAlreadyExists) << duplicate.status();
}

TEST_F(StoreTest, CheckViolationIsInvalidArgument) {
  NewUser empty;
  absl::StatusOr<User> user = store_->CreateUser(empty, 0);
  EXPECT_EQ(user.status().code(), absl::StatusCode::kInvalidArgument) << user.status();

  User alice = MakeUser("alice");
  NewReview review;
  review.name = "r";
  review.instrument_id = "rqs2";
  review.target_rrl = 12;
  EXPECT_EQ(store_->CreateReview(review, alice.id).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, SqlLookingTextIsStoredVerbatim) {
  User user = MakeUser(kInjection);
  ASSERT_OK_AND_ASSIGN(found, store_->GetUserByName(kInjection));
  EXPECT_EQ(found.id, user.id);
  EXPECT_EQ(found.name, kInjection);

  Review review = MakeReview(user.id);
  NewStudy study;
  study.review_id = review.id;
  study.title = kInjection;
  study.authors = "O'Brien; \"Smith\" \\ $1 %s";
  study.notes = kInjection;
  ASSERT_OK_AND_ASSIGN(created, store_->CreateStudy(study, user.id));
  ASSERT_OK_AND_ASSIGN(read, store_->GetStudy(created.id));
  EXPECT_EQ(read.title, kInjection);
  EXPECT_EQ(read.authors, study.authors);
  EXPECT_EQ(read.notes, kInjection);

  AssessmentInput input = Input(created.id, user.id);
  input.answers[0].rationale = kInjection;
  input.answers[0].evidence.quote = kInjection;
  input.answers[0].option_ids = {kInjection, "{\"a\",\"b\"}"};
  ASSERT_OK_AND_ASSIGN(draft, store_->SaveDraft(input, user.id));
  ASSERT_OK_AND_ASSIGN(loaded, store_->GetAssessment(draft.id));
  EXPECT_EQ(loaded.answers[0].rationale, kInjection);
  EXPECT_EQ(loaded.answers[0].evidence.quote, kInjection);
  EXPECT_THAT(loaded.answers[0].option_ids, ElementsAre(kInjection, "{\"a\",\"b\"}"));

  EXPECT_EQ(Exec("SELECT count(*) FROM users"), "1");
}

TEST_F(StoreTest, TokenLookupRejectsUnknownRevokedAndExpired) {
  User alice = MakeUser("alice");
  ASSERT_OK_AND_ASSIGN(secret, NewTokenSecret());
  NewApiToken token;
  token.user_id = alice.id;
  token.token_hash = Sha256Hex(secret);
  token.label = "laptop";
  token.expires_at = absl::Now() + absl::Hours(1);
  ASSERT_OK_AND_ASSIGN(stored, store_->CreateApiToken(token, alice.id));
  EXPECT_EQ(stored.label, "laptop");
  EXPECT_FALSE(stored.revoked_at.has_value());
  ASSERT_TRUE(stored.expires_at.has_value());
  EXPECT_EQ(*stored.expires_at, absl::FromUnixMicros(absl::ToUnixMicros(*token.expires_at)));

  // The secret itself is nowhere in the database.
  EXPECT_EQ(Exec("SELECT count(*) FROM api_tokens WHERE token_hash = '" + token.token_hash + "'"),
            "1");
  EXPECT_EQ(
      Exec("SELECT count(*) FROM api_tokens t WHERE t::text LIKE '%" + secret.substr(4, 20) + "%'"),
      "0");

  ASSERT_OK_AND_ASSIGN(authenticated, store_->LookupApiToken(Sha256Hex(secret)));
  EXPECT_EQ(authenticated.user.id, alice.id);
  EXPECT_EQ(authenticated.user.name, "alice");
  EXPECT_EQ(authenticated.token_id, stored.id);

  absl::StatusOr<AuthenticatedUser> unknown = store_->LookupApiToken(Sha256Hex("wrong"));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(unknown.status().message(), HasSubstr("unknown"));

  NewApiToken expired = token;
  expired.token_hash = Sha256Hex("old secret");
  expired.expires_at = absl::Now() - absl::Minutes(1);
  ASSERT_TRUE(store_->CreateApiToken(expired, alice.id).ok());
  absl::StatusOr<AuthenticatedUser> expired_lookup = store_->LookupApiToken(expired.token_hash);
  EXPECT_EQ(expired_lookup.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(expired_lookup.status().message(), HasSubstr("expired"));

  NewApiToken forever = token;
  forever.token_hash = Sha256Hex("forever");
  forever.expires_at.reset();
  ASSERT_TRUE(store_->CreateApiToken(forever, alice.id).ok());
  EXPECT_TRUE(store_->LookupApiToken(forever.token_hash).ok());

  ASSERT_OK_AND_ASSIGN(revoked, store_->RevokeApiToken(stored.id, alice.id));
  ASSERT_TRUE(revoked.revoked_at.has_value());
  ASSERT_OK_AND_ASSIGN(revoked_again, store_->RevokeApiToken(stored.id, alice.id));
  EXPECT_EQ(revoked_again.revoked_at, revoked.revoked_at);
  absl::StatusOr<AuthenticatedUser> revoked_lookup = store_->LookupApiToken(Sha256Hex(secret));
  EXPECT_EQ(revoked_lookup.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(revoked_lookup.status().message(), HasSubstr("revoked"));

  ASSERT_OK_AND_ASSIGN(tokens, store_->ListApiTokens(alice.id));
  EXPECT_THAT(tokens, SizeIs(3));
  EXPECT_EQ(store_->RevokeApiToken(9999, 0).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, TokenRulesAreEnforced) {
  User alice = MakeUser("alice");
  NewApiToken token;
  token.user_id = alice.id;
  token.token_hash = "not-a-hash";
  EXPECT_EQ(store_->CreateApiToken(token, 0).status().code(), absl::StatusCode::kInvalidArgument);
  token.token_hash = Sha256Hex("x");
  ASSERT_TRUE(store_->CreateApiToken(token, 0).ok());
  EXPECT_EQ(store_->CreateApiToken(token, 0).status().code(), absl::StatusCode::kAlreadyExists);
  token.user_id = 9999;
  token.token_hash = Sha256Hex("y");
  EXPECT_EQ(store_->CreateApiToken(token, 0).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, ReviewsAndMembers) {
  User coordinator = MakeUser("coordinator");
  User rater = MakeUser("rater");
  User observer = MakeUser("observer");
  Review review = MakeReview(coordinator.id);
  EXPECT_EQ(review.status, ReviewStatus::kOpen);
  EXPECT_EQ(review.created_by, coordinator.id);
  ASSERT_OK_AND_ASSIGN(read, store_->GetReview(review.id));
  EXPECT_EQ(read.name, "Lung CT radiomics");
  EXPECT_EQ(read.instrument_id, "rqs2");
  EXPECT_EQ(read.target_rrl, 4);

  ASSERT_OK_AND_ASSIGN(
      added, store_->AddReviewMember(review.id, rater.id, ReviewRole::kRater, coordinator.id));
  EXPECT_EQ(added.role, ReviewRole::kRater);
  ASSERT_TRUE(
      store_->AddReviewMember(review.id, observer.id, ReviewRole::kObserver, coordinator.id).ok());
  EXPECT_EQ(store_->AddReviewMember(review.id, rater.id, ReviewRole::kObserver, 0).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->AddReviewMember(review.id, 9999, ReviewRole::kRater, 0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->AddReviewMember(9999, rater.id, ReviewRole::kRater, 0).status().code(),
            absl::StatusCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(role, store_->GetReviewRole(review.id, coordinator.id));
  EXPECT_EQ(role, ReviewRole::kCoordinator);
  ASSERT_OK_AND_ASSIGN(observer_role, store_->GetReviewRole(review.id, observer.id));
  EXPECT_EQ(observer_role, ReviewRole::kObserver);
  User stranger = MakeUser("stranger");
  EXPECT_EQ(store_->GetReviewRole(review.id, stranger.id).status().code(),
            absl::StatusCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(members, store_->ListReviewMembers(review.id));
  ASSERT_THAT(members, SizeIs(3));
  EXPECT_EQ(members[0].user_id, coordinator.id);
  EXPECT_EQ(store_->ListReviewMembers(9999).status().code(), absl::StatusCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(promoted,
                       store_->SetReviewMemberRole(review.id, observer.id, ReviewRole::kRater, 0));
  EXPECT_EQ(promoted.role, ReviewRole::kRater);
  EXPECT_EQ(
      store_->SetReviewMemberRole(review.id, stranger.id, ReviewRole::kRater, 0).status().code(),
      absl::StatusCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(closed, store_->SetReviewStatus(review.id, ReviewStatus::kClosed, 0));
  EXPECT_EQ(closed.status, ReviewStatus::kClosed);
  ASSERT_OK_AND_ASSIGN(all, store_->ListReviews());
  EXPECT_THAT(all, SizeIs(1));
  ASSERT_OK_AND_ASSIGN(mine, store_->ListReviewsForUser(rater.id));
  EXPECT_THAT(mine, SizeIs(1));
  ASSERT_OK_AND_ASSIGN(none, store_->ListReviewsForUser(stranger.id));
  EXPECT_THAT(none, SizeIs(0));
  EXPECT_EQ(store_->GetReview(9999).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, Studies) {
  User coordinator = MakeUser("coordinator");
  Review review = MakeReview(coordinator.id);
  Study study = MakeStudy(review.id, "CT texture predicts survival", "PMID:1");
  ASSERT_OK_AND_ASSIGN(read, store_->GetStudy(study.id));
  EXPECT_EQ(read.review_id, review.id);
  EXPECT_EQ(read.title, "CT texture predicts survival");
  EXPECT_EQ(read.authors, "Lambin P, Leijenaar RTH");
  EXPECT_EQ(read.year, 2017);
  EXPECT_EQ(read.doi, "10.1038/nrclinonc.2017.141");
  EXPECT_EQ(read.study_type, scoring::StudyType::kHybrid);
  EXPECT_EQ(read.external_id, "PMID:1");
  EXPECT_EQ(read.notes, "pilot");

  // External ids are unique per review; empty ones never clash.
  NewStudy duplicate;
  duplicate.review_id = review.id;
  duplicate.title = "Another";
  duplicate.external_id = "PMID:1";
  EXPECT_EQ(store_->CreateStudy(duplicate, 0).status().code(), absl::StatusCode::kAlreadyExists);
  MakeStudy(review.id, "No id 1");
  MakeStudy(review.id, "No id 2");
  NewStudy unknown_year;
  unknown_year.review_id = review.id;
  unknown_year.title = "Year unknown";
  unknown_year.study_type = scoring::StudyType::kDeepLearning;
  ASSERT_OK_AND_ASSIGN(no_year, store_->CreateStudy(unknown_year, 0));
  EXPECT_EQ(no_year.year, 0);
  EXPECT_EQ(no_year.study_type, scoring::StudyType::kDeepLearning);

  ASSERT_OK_AND_ASSIGN(studies, store_->ListStudies(review.id));
  EXPECT_THAT(studies, SizeIs(4));
  NewStudy orphan;
  orphan.review_id = 9999;
  orphan.title = "Orphan";
  EXPECT_EQ(store_->CreateStudy(orphan, 0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetStudy(9999).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, CreateUserWithTokenIsAllOrNothing) {
  NewUser admin;
  admin.name = "admin";
  admin.is_admin = true;
  NewApiToken token;
  token.token_hash = Sha256Hex("rqs_first_admin_token");
  token.label = "bootstrap";
  ASSERT_OK_AND_ASSIGN(created, store_->CreateUserWithToken(admin, token, 0));
  ASSERT_OK_AND_ASSIGN(found, store_->LookupApiToken(token.token_hash));
  EXPECT_EQ(found.user.id, created.id);
  // A token that cannot be stored (its hash is taken) leaves no user behind.
  NewUser second = admin;
  second.name = "second";
  EXPECT_FALSE(store_->CreateUserWithToken(second, token, 0).ok());
  EXPECT_EQ(store_->GetUserByName("second").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, CreateStudiesStoresAllOrNone) {
  User coordinator = MakeUser("coordinator");
  Review review = MakeReview(coordinator.id);
  NewStudy first;
  first.review_id = review.id;
  first.title = "First";
  first.external_id = "A";
  NewStudy clash = first;
  clash.title = "Clash";  // Same external id: the whole batch must fail.
  EXPECT_EQ(store_->CreateStudies({first, clash}, coordinator.id).status().code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(none, store_->ListStudies(review.id));
  EXPECT_THAT(none, SizeIs(0));

  NewStudy second = first;
  second.title = "Second";
  second.external_id = "B";
  ASSERT_OK_AND_ASSIGN(created, store_->CreateStudies({first, second}, coordinator.id));
  ASSERT_THAT(created, SizeIs(2));
  EXPECT_EQ(created[0].title, "First");
  EXPECT_EQ(created[1].title, "Second");
  ASSERT_OK_AND_ASSIGN(both, store_->ListStudies(review.id));
  EXPECT_THAT(both, SizeIs(2));
}

TEST_F(StoreTest, AssignStudiesIsOneTransactionAndIdempotent) {
  User coordinator = MakeUser("coordinator");
  User rater = MakeUser("rater");
  User observer = MakeUser("observer");
  Review review = MakeReview(coordinator.id);
  ASSERT_TRUE(store_->AddReviewMember(review.id, rater.id, ReviewRole::kRater, 0).ok());
  ASSERT_TRUE(store_->AddReviewMember(review.id, observer.id, ReviewRole::kObserver, 0).ok());
  Study s1 = MakeStudy(review.id, "S1");
  Study s2 = MakeStudy(review.id, "S2");

  // An observer in the batch rejects all of it.
  EXPECT_EQ(store_->AssignStudies({{s1.id, rater.id}, {s2.id, observer.id}}, 0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(none, store_->ListAssignments(review.id));
  EXPECT_THAT(none, SizeIs(0));

  ASSERT_OK_AND_ASSIGN(first, store_->AssignStudies({{s1.id, rater.id}}, 0));
  EXPECT_THAT(first, SizeIs(1));
  // Existing pairs are kept and not reported again.
  ASSERT_OK_AND_ASSIGN(second, store_->AssignStudies({{s1.id, rater.id}, {s2.id, rater.id}}, 0));
  ASSERT_THAT(second, SizeIs(1));
  EXPECT_EQ(second[0].study_id, s2.id);
  ASSERT_OK_AND_ASSIGN(all, store_->ListAssignments(review.id));
  EXPECT_THAT(all, SizeIs(2));
}

TEST_F(StoreTest, RemoveReviewMember) {
  User coordinator = MakeUser("coordinator");
  User rater = MakeUser("rater");
  User observer = MakeUser("observer");
  Review review = MakeReview(coordinator.id);
  ASSERT_TRUE(store_->AddReviewMember(review.id, rater.id, ReviewRole::kRater, 0).ok());
  ASSERT_TRUE(store_->AddReviewMember(review.id, observer.id, ReviewRole::kObserver, 0).ok());
  Study study = MakeStudy(review.id, "S1");
  ASSERT_TRUE(store_->AssignStudy(study.id, rater.id, 0).ok());

  EXPECT_EQ(store_->RemoveReviewMember(review.id, coordinator.id, 0).code(),
            absl::StatusCode::kFailedPrecondition);  // The only coordinator.
  EXPECT_EQ(store_->RemoveReviewMember(review.id, rater.id, 0).code(),
            absl::StatusCode::kFailedPrecondition);  // Has assignments.
  EXPECT_EQ(store_->RemoveReviewMember(review.id, 9999, 0).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->RemoveReviewMember(review.id, observer.id, coordinator.id).ok());
  EXPECT_EQ(store_->GetReviewRole(review.id, observer.id).status().code(),
            absl::StatusCode::kNotFound);
  // The removal is in the audit log, with the member as it was.
  EXPECT_EQ(Exec("SELECT count(*) FROM audit_log WHERE entity = 'review_members' "
                 "AND operation = 'DELETE'"),
            "1");
}

TEST_F(StoreTest, ExplicitAssignments) {
  User coordinator = MakeUser("coordinator");
  User rater = MakeUser("rater");
  User observer = MakeUser("observer");
  Review review = MakeReview(coordinator.id);
  ASSERT_TRUE(store_->AddReviewMember(review.id, rater.id, ReviewRole::kRater, 0).ok());
  ASSERT_TRUE(store_->AddReviewMember(review.id, observer.id, ReviewRole::kObserver, 0).ok());
  Study study = MakeStudy(review.id, "S1");

  ASSERT_OK_AND_ASSIGN(assignment, store_->AssignStudy(study.id, rater.id, coordinator.id));
  EXPECT_EQ(assignment.review_id, review.id);
  EXPECT_EQ(assignment.study_id, study.id);
  EXPECT_EQ(assignment.rater_id, rater.id);
  EXPECT_EQ(store_->AssignStudy(study.id, rater.id, 0).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->AssignStudy(study.id, observer.id, 0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->AssignStudy(9999, rater.id, 0).status().code(), absl::StatusCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(assigned, store_->IsAssigned(study.id, rater.id));
  EXPECT_TRUE(assigned);
  ASSERT_OK_AND_ASSIGN(not_assigned, store_->IsAssigned(study.id, observer.id));
  EXPECT_FALSE(not_assigned);
  ASSERT_OK_AND_ASSIGN(list, store_->ListAssignments(review.id));
  EXPECT_THAT(list, SizeIs(1));
  ASSERT_OK_AND_ASSIGN(for_observer, store_->ListAssignments(review.id, observer.id));
  EXPECT_THAT(for_observer, SizeIs(0));

  // A rater with assignments cannot be turned into an observer.
  EXPECT_EQ(
      store_->SetReviewMemberRole(review.id, rater.id, ReviewRole::kObserver, 0).status().code(),
      absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(role, store_->GetReviewRole(review.id, rater.id));
  EXPECT_EQ(role, ReviewRole::kRater);
}

TEST_F(StoreTest, AutoAssignBalancesRaters) {
  User coordinator = MakeUser("coordinator");
  Review review = MakeReview(coordinator.id);
  std::vector<User> raters;
  for (const char* name : {"r1", "r2", "r3"}) {
    raters.push_back(MakeUser(name));
    ASSERT_TRUE(store_->AddReviewMember(review.id, raters.back().id, ReviewRole::kRater, 0).ok());
  }
  std::vector<Study> studies;
  for (int i = 0; i < 6; ++i) studies.push_back(MakeStudy(review.id, "S" + std::to_string(i)));
  // One study already has a rater: it needs only one more.
  ASSERT_TRUE(store_->AssignStudy(studies[0].id, raters[2].id, 0).ok());

  EXPECT_EQ(store_->AutoAssign(review.id, 4, 0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->AutoAssign(review.id, 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->AutoAssign(9999, 2, 0).status().code(), absl::StatusCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(created, store_->AutoAssign(review.id, 2, coordinator.id));
  EXPECT_THAT(created, SizeIs(11));  // 6 studies x 2 raters - 1 existing.
  ASSERT_OK_AND_ASSIGN(all, store_->ListAssignments(review.id));
  ASSERT_THAT(all, SizeIs(12));
  std::map<int64_t, int> per_rater;
  std::map<int64_t, int> per_study;
  for (const Assignment& assignment : all) {
    ++per_rater[assignment.rater_id];
    ++per_study[assignment.study_id];
  }
  for (const User& rater : raters) EXPECT_EQ(per_rater[rater.id], 4) << rater.name;
  for (const Study& study : studies) EXPECT_EQ(per_study[study.id], 2) << study.title;

  // Running it again adds nothing.
  ASSERT_OK_AND_ASSIGN(again, store_->AutoAssign(review.id, 2, coordinator.id));
  EXPECT_THAT(again, SizeIs(0));
}

TEST_F(StoreTest, DraftsCanBeRewrittenUntilSubmitted) {
  User rater = MakeUser("rater");
  Review review = MakeReview(rater.id);
  Study study = MakeStudy(review.id, "S1");

  AssessmentInput input = Input(study.id, rater.id);
  ASSERT_OK_AND_ASSIGN(draft, store_->SaveDraft(input, rater.id));
  EXPECT_EQ(draft.status, AssessmentStatus::kDraft);
  EXPECT_EQ(draft.review_id, review.id);
  EXPECT_EQ(draft.round, 1);
  EXPECT_EQ(draft.instrument_id, "rqs2");
  EXPECT_EQ(draft.instrument_version, "rqs2-2024.1");
  EXPECT_EQ(draft.server_version, "0.1.0");
  EXPECT_FALSE(draft.submitted_at.has_value());
  ASSERT_THAT(draft.answers, SizeIs(2));
  EXPECT_EQ(draft.answers[0].criterion, 1);
  EXPECT_THAT(draft.answers[0].option_ids, ElementsAre("protocol_public", "protocol_reported"));
  EXPECT_EQ(draft.answers[0].points, 2);
  EXPECT_EQ(draft.answers[0].rationale, "Protocol in supplement S1.");
  EXPECT_EQ(draft.answers[0].evidence.page, "4");
  EXPECT_EQ(draft.answers[0].evidence.section, "Methods 2.1");
  EXPECT_EQ(draft.answers[0].evidence.quote, "Images were acquired...");
  EXPECT_EQ(draft.answers[1].criterion, 3);

  // A second save replaces the answers: criterion 1 changes, 3 goes, 5 comes.
  input.answers[0].points = 1;
  input.answers[0].option_ids = {"protocol_reported"};
  input.answers[1].criterion = 5;
  ASSERT_OK_AND_ASSIGN(rewritten, store_->SaveDraft(input, rater.id));
  EXPECT_EQ(rewritten.id, draft.id);
  ASSERT_THAT(rewritten.answers, SizeIs(2));
  EXPECT_EQ(rewritten.answers[0].points, 1);
  EXPECT_EQ(rewritten.answers[1].criterion, 5);
  // The one statement that writes a draft stored what it returned.
  ASSERT_OK_AND_ASSIGN(stored, store_->GetAssessment(draft.id));
  ASSERT_THAT(stored.answers, SizeIs(2));
  EXPECT_EQ(stored.answers[0].criterion, 1);
  EXPECT_EQ(stored.answers[0].points, 1);
  EXPECT_THAT(stored.answers[0].option_ids, ElementsAre("protocol_reported"));
  EXPECT_EQ(stored.answers[0].rationale, "Protocol in supplement S1.");
  EXPECT_EQ(stored.answers[1].criterion, 5);
  // Its audit rows name the rater and the call (set by the statement that
  // takes the locks): criterion 3 deleted, 1 updated, 5 inserted.
  EXPECT_EQ(Exec(absl::StrCat("SELECT string_agg(operation || ' ' || entity_id || ' ' || "
                              "actor_id || ' ' || action, ', ' ORDER BY operation) FROM audit_log "
                              "WHERE entity = 'assessment_answers' AND operation <> 'INSERT' "
                              "OR entity_id = '",
                              draft.id, "/5'")),
            absl::StrCat("DELETE ", draft.id, "/3 ", rater.id, " SaveDraft, INSERT ", draft.id,
                         "/5 ", rater.id, " SaveDraft, UPDATE ", draft.id, "/1 ", rater.id,
                         " SaveDraft"));

  AssessmentInput twice = input;
  twice.answers[1].criterion = 1;
  EXPECT_EQ(store_->SaveDraft(twice, rater.id).status().code(), absl::StatusCode::kInvalidArgument);
  AssessmentInput no_study = input;
  no_study.study_id = 9999;
  EXPECT_EQ(store_->SaveDraft(no_study, rater.id).status().code(), absl::StatusCode::kNotFound);
  AssessmentInput no_rater = input;
  no_rater.rater_id = 9999;
  EXPECT_EQ(store_->SaveDraft(no_rater, rater.id).status().code(), absl::StatusCode::kNotFound);

  input.idempotency_key = "submit-1";
  ASSERT_OK_AND_ASSIGN(submitted, store_->SubmitAssessment(input, rater.id));
  EXPECT_FALSE(submitted.replayed);
  EXPECT_EQ(submitted.assessment.id, draft.id);
  EXPECT_EQ(submitted.assessment.status, AssessmentStatus::kSubmitted);
  EXPECT_TRUE(submitted.assessment.submitted_at.has_value());
  EXPECT_EQ(submitted.assessment.idempotency_key, "submit-1");

  EXPECT_EQ(store_->SaveDraft(input, rater.id).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Not even SQL can change a submitted assessment.
  EXPECT_THAT(Exec("UPDATE assessments SET server_version = 'x'"), HasSubstr("cannot be changed"));
  EXPECT_THAT(Exec("DELETE FROM assessment_answers"), HasSubstr("cannot be changed"));

  // Round 2 is a new assessment.
  AssessmentInput round2 = input;
  round2.round = 2;
  round2.idempotency_key.clear();
  ASSERT_OK_AND_ASSIGN(second_round, store_->SaveDraft(round2, rater.id));
  EXPECT_NE(second_round.id, draft.id);
  EXPECT_EQ(second_round.round, 2);
  ASSERT_OK_AND_ASSIGN(found, store_->FindAssessment(study.id, rater.id, 2));
  EXPECT_EQ(found.id, second_round.id);
  EXPECT_EQ(store_->FindAssessment(study.id, rater.id, 3).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(listed, store_->ListAssessments(review.id));
  EXPECT_THAT(listed, SizeIs(2));
  ASSERT_OK_AND_ASSIGN(listed_submitted,
                       store_->ListAssessments(review.id, 0, 0, AssessmentStatus::kSubmitted));
  ASSERT_THAT(listed_submitted, SizeIs(1));
  EXPECT_THAT(listed_submitted[0].answers, SizeIs(2));
  ASSERT_OK_AND_ASSIGN(listed_study, store_->ListAssessments(review.id, study.id, rater.id));
  EXPECT_THAT(listed_study, SizeIs(2));
  EXPECT_EQ(store_->GetAssessment(9999).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, SubmissionIsIdempotent) {
  User rater = MakeUser("rater");
  Review review = MakeReview(rater.id);
  Study study = MakeStudy(review.id, "S1");
  Study other = MakeStudy(review.id, "S2");

  // No draft first: submission creates the assessment.
  AssessmentInput input = Input(study.id, rater.id, "key-1");
  ASSERT_OK_AND_ASSIGN(first, store_->SubmitAssessment(input, rater.id));
  EXPECT_FALSE(first.replayed);
  const std::string audit_rows = Exec("SELECT count(*) FROM audit_log");

  // The retry (even with different content) returns the first result.
  AssessmentInput retry = input;
  retry.answers[0].points = 0;
  ASSERT_OK_AND_ASSIGN(second, store_->SubmitAssessment(retry, rater.id));
  EXPECT_TRUE(second.replayed);
  EXPECT_EQ(second.assessment.id, first.assessment.id);
  EXPECT_EQ(second.assessment.answers[0].points, 2);
  EXPECT_EQ(second.assessment.submitted_at, first.assessment.submitted_at);
  EXPECT_EQ(Exec("SELECT count(*) FROM assessments"), "1");
  EXPECT_EQ(Exec("SELECT count(*) FROM assessment_answers"), "2");
  EXPECT_EQ(Exec("SELECT count(*) FROM audit_log"), audit_rows);

  // The same key for another study is a client bug.
  AssessmentInput reused = Input(other.id, rater.id, "key-1");
  EXPECT_EQ(store_->SubmitAssessment(reused, rater.id).status().code(),
            absl::StatusCode::kAlreadyExists);
  // A new key for an already submitted assessment is refused.
  AssessmentInput resubmit = Input(study.id, rater.id, "key-2");
  EXPECT_EQ(store_->SubmitAssessment(resubmit, rater.id).status().code(),
            absl::StatusCode::kFailedPrecondition);
  AssessmentInput no_key = Input(other.id, rater.id);
  EXPECT_EQ(store_->SubmitAssessment(no_key, rater.id).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Keys are per rater: another rater may use "key-1" too.
  User rater2 = MakeUser("rater2");
  ASSERT_OK_AND_ASSIGN(theirs,
                       store_->SubmitAssessment(Input(study.id, rater2.id, "key-1"), rater2.id));
  EXPECT_FALSE(theirs.replayed);
  EXPECT_NE(theirs.assessment.id, first.assessment.id);
}

TEST_F(StoreTest, ConcurrentRetriesStoreOnce) {
  User rater = MakeUser("rater");
  Review review = MakeReview(rater.id);
  for (int round = 1; round <= 5; ++round) {
    Study study = MakeStudy(review.id, "S" + std::to_string(round));
    if (round % 2 == 0) {
      ASSERT_TRUE(store_->SaveDraft(Input(study.id, rater.id), rater.id).ok());
    }
    const AssessmentInput input = Input(study.id, rater.id, "race-" + std::to_string(round));
    std::vector<std::future<absl::StatusOr<SubmitResult>>> runs;
    for (int i = 0; i < 4; ++i) {
      runs.push_back(std::async(std::launch::async,
                                [&] { return store_->SubmitAssessment(input, rater.id); }));
    }
    int64_t id = 0;
    int fresh = 0;
    for (auto& run : runs) {
      absl::StatusOr<SubmitResult> result = run.get();
      ASSERT_TRUE(result.ok()) << result.status();
      if (id == 0) id = result->assessment.id;
      EXPECT_EQ(result->assessment.id, id);
      if (!result->replayed) ++fresh;
    }
    EXPECT_EQ(fresh, 1);
  }
  EXPECT_EQ(Exec("SELECT count(*) FROM assessments WHERE status = 'SUBMITTED'"), "5");
}

}  // namespace
}  // namespace rqs::db
