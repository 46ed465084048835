// The audit log records every change with actor, action, before and after, and
// the database refuses to alter or remove its rows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "db/store.h"
#include "db/token.h"
#include "tests/unit/db/test_database.h"

namespace rqs::db {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

class AuditTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
    NewUser admin;
    admin.name = "admin";
    admin.is_admin = true;
    absl::StatusOr<User> created = store_->CreateUser(admin, 0);
    ASSERT_TRUE(created.ok()) << created.status();
    admin_ = *created;
  }

  std::vector<AuditEntry> Entries(const std::string& entity = "") {
    AuditQuery query;
    query.entity = entity;
    absl::StatusOr<std::vector<AuditEntry>> entries = store_->ListAuditLog(query);
    EXPECT_TRUE(entries.ok()) << entries.status();
    return entries.ok() ? *entries : std::vector<AuditEntry>{};
  }

  std::unique_ptr<Store> store_;
  User admin_;
};

TEST_F(AuditTest, RecordsActorActionBeforeAndAfter) {
  NewUser user;
  user.name = "rater";
  absl::StatusOr<User> rater = store_->CreateUser(user, admin_.id);
  ASSERT_TRUE(rater.ok()) << rater.status();
  ASSERT_TRUE(store_->SetUserAdmin(rater->id, true, admin_.id).ok());

  std::vector<AuditEntry> entries = Entries("users");
  ASSERT_THAT(entries, SizeIs(3));
  EXPECT_EQ(entries[0].actor_id, 0);  // Bootstrap by the system.
  EXPECT_EQ(entries[0].action, "CreateUser");
  EXPECT_EQ(entries[1].actor_id, admin_.id);
  EXPECT_EQ(entries[1].operation, "INSERT");
  EXPECT_EQ(entries[1].entity_id, std::to_string(rater->id));
  EXPECT_TRUE(entries[1].before_json.empty());
  EXPECT_THAT(entries[1].after_json, HasSubstr("\"name\": \"rater\""));
  EXPECT_EQ(entries[2].action, "SetUserAdmin");
  EXPECT_EQ(entries[2].operation, "UPDATE");
  EXPECT_THAT(entries[2].before_json, HasSubstr("\"is_admin\": false"));
  EXPECT_THAT(entries[2].after_json, HasSubstr("\"is_admin\": true"));
  EXPECT_LT(entries[1].id, entries[2].id);

  // Paging and filtering by entity id.
  AuditQuery page;
  page.entity = "users";
  page.entity_id = std::to_string(rater->id);
  page.after_id = entries[1].id;
  absl::StatusOr<std::vector<AuditEntry>> rest = store_->ListAuditLog(page);
  ASSERT_TRUE(rest.ok()) << rest.status();
  ASSERT_THAT(*rest, SizeIs(1));
  EXPECT_EQ((*rest)[0].id, entries[2].id);
  page.limit = 0;
  EXPECT_EQ(store_->ListAuditLog(page).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditTest, CoversEveryEntityButNeverTokenHashes) {
  NewApiToken token;
  token.user_id = admin_.id;
  token.token_hash = Sha256Hex("secret");
  ASSERT_TRUE(store_->CreateApiToken(token, admin_.id).ok());
  NewReview review;
  review.name = "R";
  review.instrument_id = "rqs2";
  review.coordinator_id = admin_.id;
  absl::StatusOr<Review> created = store_->CreateReview(review, admin_.id);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(
      store_->SetReviewMemberRole(created->id, admin_.id, ReviewRole::kRater, admin_.id).ok());
  NewStudy study;
  study.review_id = created->id;
  study.title = "S";
  absl::StatusOr<Study> s = store_->CreateStudy(study, admin_.id);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(store_->AssignStudy(s->id, admin_.id, admin_.id).ok());
  AssessmentInput input;
  input.study_id = s->id;
  input.rater_id = admin_.id;
  input.instrument_version = "v";
  input.server_version = "v";
  input.idempotency_key = "k";
  input.answers.push_back(Answer{1, {"yes"}, 1, "", {}});
  ASSERT_TRUE(store_->SubmitAssessment(input, admin_.id).ok());

  for (const char* entity : {"api_tokens", "reviews", "review_members", "studies", "assignments",
                             "assessments", "assessment_answers"}) {
    EXPECT_THAT(Entries(entity), Not(IsEmpty())) << entity;
  }
  EXPECT_EQ(Entries("review_members")[0].entity_id,
            std::to_string(created->id) + "/" + std::to_string(admin_.id));
  for (const AuditEntry& entry : Entries()) {
    EXPECT_THAT(entry.after_json, Not(HasSubstr(token.token_hash)));
    EXPECT_THAT(entry.after_json, Not(HasSubstr("token_hash")));
  }
}

TEST_F(AuditTest, DatabaseRefusesToChangeTheLog) {
  ASSERT_EQ(Exec("SELECT count(*) > 0 FROM audit_log"), "t");
  // Even as the table's owner and a superuser, as the tests connect.
  EXPECT_THAT(Exec("UPDATE audit_log SET action = 'forged'"), HasSubstr("append-only"));
  EXPECT_THAT(Exec("DELETE FROM audit_log"), HasSubstr("append-only"));
  EXPECT_THAT(Exec("TRUNCATE audit_log"), HasSubstr("append-only"));
  EXPECT_EQ(Exec("SELECT count(*) FROM audit_log WHERE action = 'forged'"), "0");

  // The privileges say so too: nobody holds UPDATE, DELETE or TRUNCATE.
  EXPECT_EQ(Exec("SELECT count(*) FROM information_schema.role_table_grants "
                 "WHERE table_name = 'audit_log' "
                 "AND privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')"),
            "0");
  EXPECT_EQ(Exec("SELECT count(*) FROM information_schema.role_table_grants "
                 "WHERE table_name = 'audit_log' AND privilege_type = 'INSERT'"),
            "1");
}

TEST_F(AuditTest, AnOrdinaryRoleCannotChangeTheLogEither) {
  // Roles are cluster-wide: name it after this test's database.
  const std::string role = database_ + "_probe";
  Exec("CREATE ROLE " + role);
  Exec("GRANT SELECT, INSERT ON audit_log TO " + role);
  EXPECT_THAT(Exec("SET ROLE " + role + "; UPDATE audit_log SET action = 'forged'"),
              HasSubstr("permission denied"));
  EXPECT_THAT(Exec("SET ROLE " + role + "; DELETE FROM audit_log"), HasSubstr("permission denied"));
  Exec("REVOKE ALL ON audit_log FROM " + role);
  Exec("DROP ROLE " + role);
}

}  // namespace
}  // namespace rqs::db
