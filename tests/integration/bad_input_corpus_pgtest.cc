// A corpus of malformed requests, sent as raw bytes (a generic stub) to a live
// rqs-server process: every kind of field the API accepts (ids zero, negative
// or unknown; empty, oversized, invalid UTF-8 and NUL-carrying strings;
// unknown enum values; too many repeated elements; bad option ids and points;
// bad pagination; rounds that are not open), missing and bad credentials,
// wrong roles, and bytes that are not the message at all. Each gets the
// status code its .proto comment documents, the server keeps serving and
// exits cleanly afterwards, and the database (every table's row count and an
// md5 of its contents) is unchanged.
//
// The in-process tests (server_pgtest.cc) check the messages of the common
// cases; this corpus is about breadth, the codes and the process boundary.
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rqs/v1/assessment.grpc.pb.h"
#include "rqs/v1/instrument.grpc.pb.h"
#include "rqs/v1/review.grpc.pb.h"
#include "rqs/v1/user.grpc.pb.h"
#include "tests/integration/fault_support.h"
#include "tests/integration/server_process.h"
#include "tests/unit/db/test_database.h"
#include "wire/health.grpc.pb.h"

namespace rqs::testing {
namespace {

using grpc::StatusCode;

// --- Hand-made protobuf wire format, for bytes protoc would not produce ---

std::string Varint(uint64_t value) {
  std::string out;
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
  return out;
}
std::string IntField(uint32_t field, int64_t value) {
  return Varint(field << 3) + Varint(static_cast<uint64_t>(value));
}
std::string BytesField(uint32_t field, const std::string& bytes) {
  return Varint((field << 3) | 2) + Varint(bytes.size()) + bytes;
}

std::string Bytes(const google::protobuf::Message& message) { return message.SerializeAsString(); }

// One malformed call.
struct BadCall {
  std::string name;
  std::string method;  // "Service/Method" under rqs.v1.
  std::string request;
  std::string token;
  StatusCode code;
};

class BadInputCorpusTest : public db::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    admin_token_ = absl::StrCat("rqs_bad_input_admin_", database_);
    token_file_ = absl::StrCat(::testing::TempDir(), "/", database_, ".token");
    std::ofstream(token_file_) << admin_token_ << "\n";
  }
  void TearDown() override {
    std::remove(token_file_.c_str());
    PgTest::TearDown();
  }

  // Every table of the schema: its row count and the md5 of its rows.
  std::string Fingerprint() {
    const std::string tables = Exec(
        "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables "
        "WHERE schemaname = 'public'");
    std::string fingerprint;
    for (const absl::string_view table : absl::StrSplit(tables, ',')) {
      absl::StrAppend(&fingerprint, table, "=",
                      Exec(absl::StrCat("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, "
                                        "'|' ORDER BY t::text)), '') FROM ",
                                        table, " t")),
                      " ");
    }
    return fingerprint;
  }

  std::string admin_token_;
  std::string token_file_;
};

grpc::Status RawCall(grpc::GenericStub& stub, const std::string& method, const std::string& bytes,
                     const std::string& token) {
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  auto context = CallContext(token, std::chrono::seconds(30));
  std::promise<grpc::Status> done;
  stub.UnaryCall(context.get(), "/rqs.v1." + method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

TEST_F(BadInputCorpusTest, MalformedRequestsGetTheirDocumentedCodesAndChangeNothing) {
  ServerProcess server(RQS_SERVER_BINARY,
                       {"--listen", "127.0.0.1:0", "--pool-size", "2", "--database-url",
                        conninfo_, "--admin-token-file", token_file_},
                       {{"RQS_DATABASE_URL", ""}, {"RQS_LISTEN", ""}});
  const std::string address = server.WaitForAddress();
  ASSERT_FALSE(address.empty()) << server.Stdout() << server.Stderr();
  const auto channel = FaultChannel(address);

  // A review (the admin coordinates) with one rater on two handcrafted
  // studies, an observer, an outsider, and a deep-learning study; the rater
  // has submitted one study under the key "used".
  std::string error;
  const FaultReview review = SetUpFaultReview(channel, admin_token_, 1, 2, &error);
  ASSERT_EQ(error, "");
  const FaultRater& rater = review.raters[0];
  const int64_t review_id = review.review_id;
  const int64_t study = rater.studies[0];
  const int64_t submitted_study = rater.studies[1];
  auto users = v1::UserService::NewStub(channel);
  auto reviews = v1::ReviewService::NewStub(channel);
  auto assessments = v1::AssessmentService::NewStub(channel);
  auto make_user = [&](const std::string& name, v1::Role role, int64_t* id) {
    v1::CreateUserRequest create;
    create.set_name(name);
    v1::CreateUserResponse created;
    EXPECT_TRUE(users->CreateUser(CallContext(admin_token_).get(), create, &created).ok());
    *id = created.user().user_id();
    v1::IssueTokenRequest issue;
    issue.set_user_id(*id);
    v1::IssueTokenResponse issued;
    EXPECT_TRUE(users->IssueToken(CallContext(admin_token_).get(), issue, &issued).ok());
    if (role != v1::ROLE_UNSPECIFIED) {
      v1::AddMemberRequest member;
      member.set_review_id(review_id);
      member.set_user_id(*id);
      member.set_role(role);
      v1::AddMemberResponse added;
      EXPECT_TRUE(reviews->AddMember(CallContext(admin_token_).get(), member, &added).ok());
    }
    return issued;
  };
  int64_t observer_id = 0;
  int64_t outsider_id = 0;
  const std::string observer = make_user("observer", v1::ROLE_OBSERVER, &observer_id).token();
  const v1::IssueTokenResponse outsider_token =
      make_user("outsider", v1::ROLE_UNSPECIFIED, &outsider_id);
  const std::string outsider = outsider_token.token();
  // A second token of the outsider, revoked.
  v1::IssueTokenRequest issue;
  issue.set_user_id(outsider_id);
  v1::IssueTokenResponse revoked;
  ASSERT_TRUE(users->IssueToken(CallContext(admin_token_).get(), issue, &revoked).ok());
  v1::RevokeTokenRequest revoke;
  revoke.set_token_id(revoked.token_id());
  v1::RevokeTokenResponse revoke_response;
  ASSERT_TRUE(
      users->RevokeToken(CallContext(admin_token_).get(), revoke, &revoke_response).ok());
  v1::AddStudiesRequest dlr;
  dlr.set_review_id(review_id);
  dlr.add_studies()->set_title("Deep-learning study");
  dlr.mutable_studies(0)->set_study_type(v1::STUDY_TYPE_DEEP_LEARNING);
  v1::AddStudiesResponse dlr_added;
  ASSERT_TRUE(reviews->AddStudies(CallContext(admin_token_).get(), dlr, &dlr_added).ok());
  const int64_t dlr_study = dlr_added.studies(0).study_id();
  v1::AssignRatersRequest assign_dlr;
  assign_dlr.set_review_id(review_id);
  auto* dlr_pair = assign_dlr.mutable_explicit_assignments()->add_assignments();
  dlr_pair->set_study_id(dlr_study);
  dlr_pair->set_rater_id(rater.id);
  v1::AssignRatersResponse assigned;
  ASSERT_TRUE(reviews->AssignRaters(CallContext(admin_token_).get(), assign_dlr, &assigned).ok());
  v1::SubmitAssessmentRequest first;
  first.set_review_id(review_id);
  first.set_study_id(submitted_study);
  first.set_idempotency_key("used");
  *first.add_answers() = review.full_answers[1];
  v1::SubmitAssessmentResponse first_response;
  ASSERT_TRUE(
      assessments->SubmitAssessment(CallContext(rater.token).get(), first, &first_response).ok());

  // --- Request builders: a valid request, then one thing wrong ---
  auto submit = [&](int64_t study_id) {
    v1::SubmitAssessmentRequest request;
    request.set_review_id(review_id);
    request.set_study_id(study_id);
    request.set_idempotency_key("fresh-key");
    request.mutable_answers()->Assign(review.full_answers.begin(), review.full_answers.end());
    return request;
  };
  auto one_answer = [&](v1::Answer answer) {
    v1::SubmitAssessmentRequest request = submit(study);
    request.clear_answers();
    *request.add_answers() = std::move(answer);
    return request;
  };
  auto choose = [](int criterion, const std::string& option) {
    v1::Answer answer;
    answer.set_criterion(criterion);
    answer.add_option_ids(option);
    return answer;
  };
  auto points = [](int criterion, int value) {
    v1::Answer answer;
    answer.set_criterion(criterion);
    answer.set_points(value);
    return answer;
  };
  auto study_input = [&](auto mutate) {
    v1::AddStudiesRequest request;
    request.set_review_id(review_id);
    v1::StudyInput* input = request.add_studies();
    input->set_title("A study");
    input->set_study_type(v1::STUDY_TYPE_HANDCRAFTED);
    mutate(input);
    return request;
  };
  auto create_review = [](const std::string& name, const std::string& instrument, int level) {
    v1::CreateReviewRequest request;
    request.set_name(name);
    request.set_instrument_id(instrument);
    request.set_target_level(level);
    return request;
  };
  auto create_user = [](const std::string& name) {
    v1::CreateUserRequest request;
    request.set_name(name);
    return request;
  };
  auto review_only = [](auto request, int64_t id) {
    request.set_review_id(id);
    return request;
  };
  auto in_round = [](auto request, int round) {
    request.set_round(round);
    return request;
  };
  auto member = [&](int64_t user_id, int role) {
    v1::AddMemberRequest request;
    request.set_review_id(review_id);
    request.set_user_id(user_id);
    request.set_role(static_cast<v1::Role>(role));
    return request;
  };
  auto explicit_pairs = [&](int count, int64_t study_id, int64_t rater_id) {
    v1::AssignRatersRequest request;
    request.set_review_id(review_id);
    auto* pairs = request.mutable_explicit_assignments();
    for (int i = 0; i < count; ++i) {
      v1::Assignment* pair = pairs->add_assignments();
      pair->set_study_id(study_id);
      pair->set_rater_id(rater_id);
    }
    return request;
  };
  auto automatic = [&](int per_study) {
    v1::AssignRatersRequest request;
    request.set_review_id(review_id);
    request.mutable_automatic()->set_raters_per_study(per_study);
    return request;
  };
  auto list_studies = [&](int page_size, const std::string& token) {
    v1::ListStudiesRequest request;
    request.set_review_id(review_id);
    request.set_page_size(page_size);
    request.set_page_token(token);
    return request;
  };
  auto issue_token = [](int64_t user_id, const std::string& label, int days) {
    v1::IssueTokenRequest request;
    request.set_user_id(user_id);
    request.set_label(label);
    request.set_expires_in_days(days);
    return request;
  };
  const std::string long_title(1001, 't');
  const std::string long_text(10001, 'x');
  const std::string long_label(201, 'l');
  const std::string nul = std::string("with\0nul", 8);
  const std::string bad_utf8 = "caf\xc3";
  const std::string overlong_utf8 = "\xc0\xaf";
  const std::string surrogate_utf8 = "\xed\xa0\x80";
  v1::SubmitAssessmentRequest too_many_answers = submit(study);
  for (int i = 0; i < 201; ++i) *too_many_answers.add_answers() = choose(2, "yes");
  v1::Answer too_many_options = choose(20, "data");
  for (int i = 0; i < 32; ++i) too_many_options.add_option_ids("code");
  v1::Answer long_page = choose(2, "yes");
  long_page.mutable_evidence()->set_page(long_label);
  v1::Answer long_section = choose(2, "yes");
  long_section.mutable_evidence()->set_section(long_label);
  v1::Answer long_quote = choose(2, "yes");
  long_quote.mutable_evidence()->set_quote(long_text);
  v1::Answer nul_rationale = choose(2, "yes");
  nul_rationale.set_rationale(nul);
  v1::AddStudiesRequest too_many_studies;
  too_many_studies.set_review_id(review_id);
  for (int i = 0; i < 1001; ++i) {
    v1::StudyInput* input = too_many_studies.add_studies();
    input->set_title(absl::StrCat("Study ", i));
    input->set_study_type(v1::STUDY_TYPE_HANDCRAFTED);
  }
  v1::AddStudiesRequest no_studies;
  no_studies.set_review_id(review_id);
  v1::AssignRatersRequest no_mode;
  no_mode.set_review_id(review_id);
  v1::SubmitAssessmentRequest no_key = submit(study);
  no_key.clear_idempotency_key();
  v1::SubmitAssessmentRequest long_key = submit(study);
  long_key.set_idempotency_key(std::string(129, 'k'));
  v1::SubmitAssessmentRequest reused_key = submit(study);
  reused_key.set_idempotency_key("used");
  v1::SubmitAssessmentRequest resubmit = submit(submitted_study);
  v1::SaveDraftRequest draft_after_submit;
  draft_after_submit.set_review_id(review_id);
  draft_after_submit.set_study_id(submitted_study);
  *draft_after_submit.add_answers() = choose(2, "no");
  v1::SaveDraftRequest draft_bad_points;
  draft_bad_points.set_review_id(review_id);
  draft_bad_points.set_study_id(study);
  *draft_bad_points.add_answers() = points(14, 1);
  v1::SaveDraftRequest draft;
  draft.set_review_id(review_id);
  draft.set_study_id(study);
  *draft.add_answers() = choose(2, "yes");
  v1::GetMyAssessmentRequest no_assessment;
  no_assessment.set_review_id(review_id);
  no_assessment.set_study_id(study);
  v1::GetInstrumentRequest unknown_instrument;
  unknown_instrument.set_instrument_id("rqs9");
  v1::GetInstrumentRequest long_instrument;
  long_instrument.set_instrument_id(std::string(65, 'i'));
  v1::RemoveMemberRequest remove_outsider;
  remove_outsider.set_review_id(review_id);
  remove_outsider.set_user_id(outsider_id);
  v1::ListTokensRequest tokens_of_nobody;
  tokens_of_nobody.set_user_id(987654);
  v1::RevokeTokenRequest revoke_nothing;
  revoke_nothing.set_token_id(987654);
  v1::RevokeTokenRequest revoke_negative;
  revoke_negative.set_token_id(-1);
  const std::string admin = admin_token_;
  const std::string rater_token = rater.token;

  const std::vector<BadCall> corpus = {
      // Authentication.
      {"no token", "UserService/GetCurrentUser", "", "", StatusCode::UNAUTHENTICATED},
      {"unknown token", "UserService/GetCurrentUser", "", "rqs_not_a_token",
       StatusCode::UNAUTHENTICATED},
      {"revoked token", "UserService/GetCurrentUser", "", revoked.token(),
       StatusCode::UNAUTHENTICATED},
      {"token of the wrong case", "ReviewService/ListReviews", "",
       absl::AsciiStrToUpper(rater_token), StatusCode::UNAUTHENTICATED},
      {"no token on a write", "AssessmentService/SubmitAssessment", Bytes(submit(study)), "",
       StatusCode::UNAUTHENTICATED},
      // Roles.
      {"non-admin creates a user", "UserService/CreateUser", Bytes(create_user("eve")),
       rater_token, StatusCode::PERMISSION_DENIED},
      {"non-admin issues a token", "UserService/IssueToken", Bytes(issue_token(rater.id, "", 0)),
       rater_token, StatusCode::PERMISSION_DENIED},
      {"observer adds studies", "ReviewService/AddStudies",
       Bytes(study_input([](v1::StudyInput*) {})), observer, StatusCode::PERMISSION_DENIED},
      {"rater reads the summary", "ReviewService/GetReviewSummary",
       Bytes(review_only(v1::GetReviewSummaryRequest(), review_id)), rater_token,
       StatusCode::PERMISSION_DENIED},
      {"coordinator submits", "AssessmentService/SubmitAssessment", Bytes(submit(study)), admin,
       StatusCode::PERMISSION_DENIED},
      {"outsider reads the review", "ReviewService/GetReview",
       Bytes(review_only(v1::GetReviewRequest(), review_id)), outsider, StatusCode::NOT_FOUND},
      // Ids: zero, negative, unknown.
      {"review id 0", "ReviewService/GetReview", Bytes(review_only(v1::GetReviewRequest(), 0)),
       admin, StatusCode::NOT_FOUND},
      {"review id -1", "ReviewService/ListMembers",
       Bytes(review_only(v1::ListMembersRequest(), -1)), admin, StatusCode::NOT_FOUND},
      {"unknown review", "ReviewService/ListAssignments",
       Bytes(review_only(v1::ListAssignmentsRequest(), 987654)), admin, StatusCode::NOT_FOUND},
      {"unknown review for a rater", "AssessmentService/ListMyAssignments",
       Bytes(review_only(v1::ListMyAssignmentsRequest(), 987654)), rater_token,
       StatusCode::NOT_FOUND},
      {"study id 0", "AssessmentService/SubmitAssessment", Bytes(submit(0)), rater_token,
       StatusCode::NOT_FOUND},
      {"study id -5", "AssessmentService/SubmitAssessment", Bytes(submit(-5)), rater_token,
       StatusCode::NOT_FOUND},
      {"unknown study", "AssessmentService/SubmitAssessment", Bytes(submit(987654)), rater_token,
       StatusCode::NOT_FOUND},
      {"unknown user as member", "ReviewService/AddMember", Bytes(member(987654, 2)), admin,
       StatusCode::NOT_FOUND},
      {"user id 0 as member", "ReviewService/AddMember", Bytes(member(0, 2)), admin,
       StatusCode::NOT_FOUND},
      {"token for unknown user", "UserService/IssueToken", Bytes(issue_token(987654, "", 0)),
       admin, StatusCode::NOT_FOUND},
      {"tokens of unknown user", "UserService/ListTokens", Bytes(tokens_of_nobody), admin,
       StatusCode::NOT_FOUND},
      {"revoke unknown token", "UserService/RevokeToken", Bytes(revoke_nothing), admin,
       StatusCode::NOT_FOUND},
      {"revoke token -1", "UserService/RevokeToken", Bytes(revoke_negative), admin,
       StatusCode::NOT_FOUND},
      {"remove a non-member", "ReviewService/RemoveMember", Bytes(remove_outsider), admin,
       StatusCode::NOT_FOUND},
      {"assign unknown study", "ReviewService/AssignRaters",
       Bytes(explicit_pairs(1, 987654, rater.id)), admin, StatusCode::NOT_FOUND},
      {"assign a non-rater", "ReviewService/AssignRaters",
       Bytes(explicit_pairs(1, study, observer_id)), admin, StatusCode::FAILED_PRECONDITION},
      {"no assessment yet", "AssessmentService/GetMyAssessment", Bytes(no_assessment),
       rater_token, StatusCode::NOT_FOUND},
      {"unknown instrument", "InstrumentService/GetInstrument", Bytes(unknown_instrument), admin,
       StatusCode::NOT_FOUND},
      // Strings: empty, oversized, NUL, invalid UTF-8.
      {"empty user name", "UserService/CreateUser", Bytes(create_user("")), admin,
       StatusCode::INVALID_ARGUMENT},
      {"user name with a space", "UserService/CreateUser", Bytes(create_user("a b")), admin,
       StatusCode::INVALID_ARGUMENT},
      {"user name too long", "UserService/CreateUser", Bytes(create_user(std::string(101, 'u'))),
       admin, StatusCode::INVALID_ARGUMENT},
      {"user name with NUL", "UserService/CreateUser", Bytes(create_user(nul)), admin,
       StatusCode::INVALID_ARGUMENT},
      {"user name overlong UTF-8 (raw)", "UserService/CreateUser",
       BytesField(1, overlong_utf8), admin, StatusCode::INVALID_ARGUMENT},
      {"token label too long", "UserService/IssueToken",
       Bytes(issue_token(rater.id, long_label, 0)), admin, StatusCode::INVALID_ARGUMENT},
      {"token label surrogate UTF-8 (raw)", "UserService/IssueToken",
       IntField(1, rater.id) + BytesField(2, surrogate_utf8), admin,
       StatusCode::INVALID_ARGUMENT},
      {"token lifetime 3651 days", "UserService/IssueToken",
       Bytes(issue_token(rater.id, "", 3651)), admin, StatusCode::INVALID_ARGUMENT},
      {"empty review name", "ReviewService/CreateReview", Bytes(create_review("", "rqs2", 0)),
       admin, StatusCode::INVALID_ARGUMENT},
      {"review name too long", "ReviewService/CreateReview",
       Bytes(create_review(long_title, "rqs2", 0)), admin, StatusCode::INVALID_ARGUMENT},
      {"review name with NUL", "ReviewService/CreateReview",
       Bytes(create_review(nul, "rqs2", 0)), admin, StatusCode::INVALID_ARGUMENT},
      {"review name truncated UTF-8 (raw)", "ReviewService/CreateReview",
       BytesField(1, bad_utf8) + BytesField(2, "rqs2"), admin, StatusCode::INVALID_ARGUMENT},
      {"unknown instrument for a review", "ReviewService/CreateReview",
       Bytes(create_review("R", "rqs9", 0)), admin, StatusCode::INVALID_ARGUMENT},
      {"target level 10", "ReviewService/CreateReview", Bytes(create_review("R", "rqs2", 10)),
       admin, StatusCode::INVALID_ARGUMENT},
      {"target level -1", "ReviewService/CreateReview", Bytes(create_review("R", "rqs2", -1)),
       admin, StatusCode::INVALID_ARGUMENT},
      {"target level on rqs1", "ReviewService/CreateReview",
       Bytes(create_review("R", "rqs1", 3)), admin, StatusCode::INVALID_ARGUMENT},
      {"instrument id too long", "InstrumentService/GetInstrument", Bytes(long_instrument), admin,
       StatusCode::INVALID_ARGUMENT},
      {"instrument id invalid UTF-8 (raw)", "InstrumentService/GetInstrument",
       BytesField(1, bad_utf8), admin, StatusCode::INVALID_ARGUMENT},
      {"empty study title", "ReviewService/AddStudies",
       Bytes(study_input([](v1::StudyInput* s) { s->set_title(""); })), admin,
       StatusCode::INVALID_ARGUMENT},
      {"study title too long", "ReviewService/AddStudies",
       Bytes(study_input([&](v1::StudyInput* s) { s->set_title(long_title); })), admin,
       StatusCode::INVALID_ARGUMENT},
      {"authors too long", "ReviewService/AddStudies",
       Bytes(study_input([&](v1::StudyInput* s) { s->set_authors(long_text); })), admin,
       StatusCode::INVALID_ARGUMENT},
      {"DOI too long", "ReviewService/AddStudies",
       Bytes(study_input([&](v1::StudyInput* s) { s->set_doi(long_label); })), admin,
       StatusCode::INVALID_ARGUMENT},
      {"external id too long", "ReviewService/AddStudies",
       Bytes(study_input([&](v1::StudyInput* s) { s->set_external_id(long_label); })), admin,
       StatusCode::INVALID_ARGUMENT},
      {"notes with NUL", "ReviewService/AddStudies",
       Bytes(study_input([&](v1::StudyInput* s) { s->set_notes(nul); })), admin,
       StatusCode::INVALID_ARGUMENT},
      {"study title invalid UTF-8 (raw)", "ReviewService/AddStudies",
       IntField(1, review_id) + BytesField(2, BytesField(1, "\xff\xfe") + IntField(5, 1)), admin,
       StatusCode::INVALID_ARGUMENT},
      {"year 1799", "ReviewService/AddStudies",
       Bytes(study_input([](v1::StudyInput* s) { s->set_year(1799); })), admin,
       StatusCode::INVALID_ARGUMENT},
      {"year -2020", "ReviewService/AddStudies",
       Bytes(study_input([](v1::StudyInput* s) { s->set_year(-2020); })), admin,
       StatusCode::INVALID_ARGUMENT},
      // Enums: unset and unknown values.
      {"study type unspecified", "ReviewService/AddStudies",
       Bytes(study_input([](v1::StudyInput* s) { s->set_study_type(v1::STUDY_TYPE_UNSPECIFIED); })),
       admin, StatusCode::INVALID_ARGUMENT},
      {"study type 99", "ReviewService/AddStudies",
       Bytes(study_input([](v1::StudyInput* s) { s->set_study_type(static_cast<v1::StudyType>(99)); })),
       admin, StatusCode::INVALID_ARGUMENT},
      {"role unspecified", "ReviewService/AddMember", Bytes(member(outsider_id, 0)), admin,
       StatusCode::INVALID_ARGUMENT},
      {"role 42", "ReviewService/AddMember", Bytes(member(outsider_id, 42)), admin,
       StatusCode::INVALID_ARGUMENT},
      {"role -1", "ReviewService/AddMember", Bytes(member(outsider_id, -1)), admin,
       StatusCode::INVALID_ARGUMENT},
      // Repeated fields: none, too many.
      {"no studies", "ReviewService/AddStudies", Bytes(no_studies), admin,
       StatusCode::INVALID_ARGUMENT},
      {"1,001 studies", "ReviewService/AddStudies", Bytes(too_many_studies), admin,
       StatusCode::INVALID_ARGUMENT},
      {"no assignments", "ReviewService/AssignRaters", Bytes(explicit_pairs(0, study, rater.id)),
       admin, StatusCode::INVALID_ARGUMENT},
      {"10,001 assignments", "ReviewService/AssignRaters",
       Bytes(explicit_pairs(10001, study, rater.id)), admin, StatusCode::INVALID_ARGUMENT},
      {"no assignment mode", "ReviewService/AssignRaters", Bytes(no_mode), admin,
       StatusCode::INVALID_ARGUMENT},
      {"0 raters per study", "ReviewService/AssignRaters", Bytes(automatic(0)), admin,
       StatusCode::INVALID_ARGUMENT},
      {"101 raters per study", "ReviewService/AssignRaters", Bytes(automatic(101)), admin,
       StatusCode::INVALID_ARGUMENT},
      {"201 answers", "AssessmentService/SubmitAssessment", Bytes(too_many_answers), rater_token,
       StatusCode::INVALID_ARGUMENT},
      {"33 options", "AssessmentService/SubmitAssessment", Bytes(one_answer(too_many_options)),
       rater_token, StatusCode::INVALID_ARGUMENT},
      // Pagination.
      {"page size -1", "ReviewService/ListStudies", Bytes(list_studies(-1, "")), admin,
       StatusCode::INVALID_ARGUMENT},
      {"page size 1,001", "ReviewService/ListStudies", Bytes(list_studies(1001, "")), admin,
       StatusCode::INVALID_ARGUMENT},
      {"garbage page token", "ReviewService/ListStudies", Bytes(list_studies(10, "%%garbage%%")),
       admin, StatusCode::INVALID_ARGUMENT},
      // Answers: criteria, options, points, texts.
      {"criterion 0", "AssessmentService/SubmitAssessment", Bytes(one_answer(choose(0, "yes"))),
       rater_token, StatusCode::INVALID_ARGUMENT},
      {"criterion -3", "AssessmentService/SubmitAssessment", Bytes(one_answer(choose(-3, "yes"))),
       rater_token, StatusCode::INVALID_ARGUMENT},
      {"criterion 43", "AssessmentService/SubmitAssessment", Bytes(one_answer(choose(43, "yes"))),
       rater_token, StatusCode::INVALID_ARGUMENT},
      {"unknown option", "AssessmentService/SubmitAssessment",
       Bytes(one_answer(choose(1, "multicenter"))), rater_token, StatusCode::INVALID_ARGUMENT},
      {"empty option id", "AssessmentService/SubmitAssessment", Bytes(one_answer(choose(2, ""))),
       rater_token, StatusCode::INVALID_ARGUMENT},
      {"option id too long", "AssessmentService/SubmitAssessment",
       Bytes(one_answer(choose(2, std::string(65, 'o')))), rater_token,
       StatusCode::INVALID_ARGUMENT},
      {"two options on an exclusive criterion", "AssessmentService/SubmitAssessment",
       Bytes(one_answer([&] {
         v1::Answer answer = choose(2, "yes");
         answer.add_option_ids("no");
         return answer;
       }())),
       rater_token, StatusCode::INVALID_ARGUMENT},
      {"option id invalid UTF-8 (raw)", "AssessmentService/SubmitAssessment",
       IntField(1, review_id) + IntField(2, study) +
           BytesField(3, IntField(1, 2) + BytesField(2, "y\xe9s")) + BytesField(4, "raw-key"),
       rater_token, StatusCode::INVALID_ARGUMENT},
      {"points 5 on criterion 14", "AssessmentService/SubmitAssessment",
       Bytes(one_answer(points(14, 5))), rater_token, StatusCode::INVALID_ARGUMENT},
      {"points -1", "AssessmentService/SubmitAssessment", Bytes(one_answer(points(2, -1))),
       rater_token, StatusCode::INVALID_ARGUMENT},
      {"points 1 on a draft", "AssessmentService/SaveDraft", Bytes(draft_bad_points), rater_token,
       StatusCode::INVALID_ARGUMENT},
      {"HCR-only criterion on a DLR study", "AssessmentService/SubmitAssessment",
       Bytes([&] {
         v1::SubmitAssessmentRequest request = one_answer(choose(6, "yes"));
         request.set_study_id(dlr_study);
         return request;
       }()),
       rater_token, StatusCode::INVALID_ARGUMENT},
      {"same criterion twice", "AssessmentService/SubmitAssessment",
       Bytes([&] {
         v1::SubmitAssessmentRequest request = one_answer(choose(2, "yes"));
         *request.add_answers() = choose(2, "no");
         return request;
       }()),
       rater_token, StatusCode::INVALID_ARGUMENT},
      {"rationale with NUL", "AssessmentService/SubmitAssessment",
       Bytes(one_answer(nul_rationale)), rater_token, StatusCode::INVALID_ARGUMENT},
      {"rationale invalid UTF-8 (raw)", "AssessmentService/SaveDraft",
       IntField(1, review_id) + IntField(2, study) +
           BytesField(3, IntField(1, 2) + BytesField(2, "yes") + BytesField(4, overlong_utf8)),
       rater_token, StatusCode::INVALID_ARGUMENT},
      {"evidence page too long", "AssessmentService/SubmitAssessment",
       Bytes(one_answer(long_page)), rater_token, StatusCode::INVALID_ARGUMENT},
      {"evidence section too long", "AssessmentService/SubmitAssessment",
       Bytes(one_answer(long_section)), rater_token, StatusCode::INVALID_ARGUMENT},
      {"evidence quote too long", "AssessmentService/SubmitAssessment",
       Bytes(one_answer(long_quote)), rater_token, StatusCode::INVALID_ARGUMENT},
      // Idempotency keys and finality.
      {"no idempotency key", "AssessmentService/SubmitAssessment", Bytes(no_key), rater_token,
       StatusCode::INVALID_ARGUMENT},
      {"idempotency key too long", "AssessmentService/SubmitAssessment", Bytes(long_key),
       rater_token, StatusCode::INVALID_ARGUMENT},
      {"idempotency key used for another study", "AssessmentService/SubmitAssessment",
       Bytes(reused_key), rater_token, StatusCode::ALREADY_EXISTS},
      {"study already submitted", "AssessmentService/SubmitAssessment", Bytes(resubmit),
       rater_token, StatusCode::FAILED_PRECONDITION},
      {"draft after submission", "AssessmentService/SaveDraft", Bytes(draft_after_submit),
       rater_token, StatusCode::FAILED_PRECONDITION},
      // Rounds: only the study's open round, round 1 here, takes answers.
      {"submission to round 2 while round 1 is open", "AssessmentService/SubmitAssessment",
       Bytes(in_round(submit(study), 2)), rater_token, StatusCode::FAILED_PRECONDITION},
      {"submission to round 5, beyond the policy's 3", "AssessmentService/SubmitAssessment",
       Bytes(in_round(submit(study), 5)), rater_token, StatusCode::FAILED_PRECONDITION},
      {"submission to round 2147483647", "AssessmentService/SubmitAssessment",
       Bytes(in_round(submit(study), 2147483647)), rater_token, StatusCode::FAILED_PRECONDITION},
      {"draft for round 2 while round 1 is open", "AssessmentService/SaveDraft",
       Bytes(in_round(draft, 2)), rater_token, StatusCode::FAILED_PRECONDITION},
      {"submission to round -1", "AssessmentService/SubmitAssessment",
       Bytes(in_round(submit(study), -1)), rater_token, StatusCode::INVALID_ARGUMENT},
      // Bytes that are not the message.
      {"garbage bytes", "AssessmentService/SubmitAssessment", "\xff\xff\xff\xff\xff\xff",
       rater_token, StatusCode::INVALID_ARGUMENT},
      {"truncated varint", "ReviewService/GetReview", "\x08\x80", admin,
       StatusCode::INVALID_ARGUMENT},
      {"length beyond the end", "ReviewService/AddStudies",
       IntField(1, review_id) + std::string("\x12\x7f", 2) + "short", admin,
       StatusCode::INVALID_ARGUMENT},
      {"wrong wire type", "UserService/CreateUser", IntField(1, 12345), admin,
       StatusCode::INVALID_ARGUMENT},
      {"field number 0", "InstrumentService/GetInstrument", std::string("\x02\x01x", 3), admin,
       StatusCode::INVALID_ARGUMENT},
  };
  ASSERT_GE(corpus.size(), 50u);

  const std::string before = Fingerprint();
  ASSERT_EQ(before.find("ERROR"), std::string::npos) << before;
  ASSERT_NE(before.find("assessment_answers=1:"), std::string::npos) << before;
  grpc::GenericStub generic(channel);
  for (const BadCall& call : corpus) {
    const grpc::Status status = RawCall(generic, call.method, call.request, call.token);
    EXPECT_EQ(status.error_code(), call.code) << call.name << ": " << DescribeStatus(status);
  }
  // Still serving: health, and a real call that reads the database.
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckResponse serving;
  const grpc::Status health_status =
      health->Check(CallContext("").get(), grpc::health::v1::HealthCheckRequest(), &serving);
  EXPECT_TRUE(health_status.ok()) << DescribeStatus(health_status);
  EXPECT_EQ(serving.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  v1::GetCurrentUserResponse me;
  const grpc::Status me_status =
      users->GetCurrentUser(CallContext(rater_token).get(), v1::GetCurrentUserRequest(), &me);
  EXPECT_TRUE(me_status.ok()) << DescribeStatus(me_status);
  EXPECT_EQ(Fingerprint(), before);
  std::printf("%zu malformed requests sent\n", corpus.size());
  // No crash along the way: a clean exit on SIGTERM.
  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.Stderr();
}

}  // namespace
}  // namespace rqs::testing
