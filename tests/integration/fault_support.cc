#include "tests/integration/fault_support.h"

#include <algorithm>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rqs/v1/instrument.grpc.pb.h"
#include "rqs/v1/review.grpc.pb.h"
#include "rqs/v1/user.grpc.pb.h"

namespace rqs::testing {

std::shared_ptr<grpc::Channel> FaultChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<grpc::ClientContext> CallContext(const std::string& token,
                                                 std::chrono::milliseconds timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

std::string DescribeStatus(const grpc::Status& status) {
  if (status.ok()) return "";
  return absl::StrCat("code ", status.error_code(), ": ", status.error_message());
}

std::string PortOf(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  return colon == std::string::npos ? "" : address.substr(colon + 1);
}

FaultReview SetUpFaultReview(const std::shared_ptr<grpc::Channel>& channel,
                             const std::string& admin_token, int raters, int studies_per_rater,
                             std::string* error) {
  FaultReview review;
  auto users = v1::UserService::NewStub(channel);
  auto reviews = v1::ReviewService::NewStub(channel);
  auto instruments = v1::InstrumentService::NewStub(channel);
  auto failed = [&](const std::string& what, const grpc::Status& status) {
    if (status.ok()) return false;
    *error = absl::StrCat(what, ": ", DescribeStatus(status));
    return true;
  };
  error->clear();

  v1::GetInstrumentRequest get_instrument;
  get_instrument.set_instrument_id("rqs2");
  v1::GetInstrumentResponse instrument;
  if (failed("GetInstrument", instruments->GetInstrument(CallContext(admin_token).get(),
                                                         get_instrument, &instrument))) {
    return review;
  }
  for (const v1::Criterion& criterion : instrument.instrument().criteria()) {
    if (criterion.applies_to() == v1::APPLICABILITY_DEEP_LEARNING_ONLY) continue;
    v1::Answer answer;
    answer.set_criterion(criterion.number());
    // The last option: the most points for exclusive criteria; one sub-item
    // of additive ones.
    answer.add_option_ids(criterion.options(criterion.options_size() - 1).id());
    answer.set_rationale(absl::StrCat("Stated in the methods (criterion ", criterion.number(), ")"));
    answer.mutable_evidence()->set_page("4");
    review.full_answers.push_back(std::move(answer));
  }

  v1::CreateReviewRequest create_review;
  create_review.set_name("Fault test");
  create_review.set_instrument_id("rqs2");
  v1::CreateReviewResponse created_review;
  if (failed("CreateReview", reviews->CreateReview(CallContext(admin_token).get(), create_review,
                                                   &created_review))) {
    return review;
  }
  review.review_id = created_review.review().review_id();

  v1::AddStudiesRequest add_studies;
  add_studies.set_review_id(review.review_id);
  for (int i = 0; i < raters * studies_per_rater; ++i) {
    v1::StudyInput* study = add_studies.add_studies();
    study->set_title(absl::StrCat("Fault study ", i));
    study->set_study_type(v1::STUDY_TYPE_HANDCRAFTED);
  }
  v1::AddStudiesResponse added;
  if (failed("AddStudies",
             reviews->AddStudies(CallContext(admin_token).get(), add_studies, &added))) {
    return review;
  }

  v1::AssignRatersRequest assign;
  assign.set_review_id(review.review_id);
  for (int r = 0; r < raters; ++r) {
    FaultRater rater;
    v1::CreateUserRequest create_user;
    create_user.set_name(absl::StrCat("fault-rater-", r));
    v1::CreateUserResponse user;
    if (failed("CreateUser",
               users->CreateUser(CallContext(admin_token).get(), create_user, &user))) {
      return review;
    }
    rater.id = user.user().user_id();
    v1::IssueTokenRequest issue;
    issue.set_user_id(rater.id);
    v1::IssueTokenResponse token;
    if (failed("IssueToken", users->IssueToken(CallContext(admin_token).get(), issue, &token))) {
      return review;
    }
    rater.token = token.token();
    v1::AddMemberRequest member;
    member.set_review_id(review.review_id);
    member.set_user_id(rater.id);
    member.set_role(v1::ROLE_RATER);
    v1::AddMemberResponse added_member;
    if (failed("AddMember",
               reviews->AddMember(CallContext(admin_token).get(), member, &added_member))) {
      return review;
    }
    for (int i = 0; i < studies_per_rater; ++i) {
      const int64_t study = added.studies(r * studies_per_rater + i).study_id();
      rater.studies.push_back(study);
      v1::Assignment* pair = assign.mutable_explicit_assignments()->add_assignments();
      pair->set_study_id(study);
      pair->set_rater_id(rater.id);
    }
    review.raters.push_back(std::move(rater));
  }
  v1::AssignRatersResponse assigned;
  failed("AssignRaters", reviews->AssignRaters(CallContext(admin_token).get(), assign, &assigned));
  return review;
}

SubmissionLoad::SubmissionLoad(std::string address, const FaultReview& review,
                               std::string key_prefix,
                               std::chrono::steady_clock::time_point give_up)
    : address_(std::move(address)),
      key_prefix_(std::move(key_prefix)),
      review_(review),
      give_up_(give_up) {
  for (const FaultRater& rater : review_.raters) {
    total_ += static_cast<int>(rater.studies.size());
  }
  for (std::size_t i = 0; i < review_.raters.size(); ++i) {
    threads_.emplace_back(
        [this, i] { Run(review_.raters[i], static_cast<int>(i)); });
  }
}

SubmissionLoad::~SubmissionLoad() { Join(); }

void SubmissionLoad::Join() {
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void SubmissionLoad::Run(const FaultRater& rater, int index) {
  const std::shared_ptr<grpc::Channel> channel = FaultChannel(address_);
  auto stub = v1::AssessmentService::NewStub(channel);
  for (std::size_t i = 0; i < rater.studies.size(); ++i) {
    v1::SubmitAssessmentRequest request;
    request.set_review_id(review_.review_id);
    request.set_study_id(rater.studies[i]);
    request.set_idempotency_key(absl::StrCat(key_prefix_, "-", index, "-", i));
    request.mutable_answers()->Assign(review_.full_answers.begin(), review_.full_answers.end());
    while (true) {
      if (std::chrono::steady_clock::now() >= give_up_) {
        absl::MutexLock lock(&mu_);
        unexpected_.push_back(absl::StrCat(request.idempotency_key(), ": gave up retrying"));
        finished_threads_++;
        return;
      }
      v1::SubmitAssessmentResponse response;
      const grpc::Status status = stub->SubmitAssessment(
          CallContext(rater.token, std::chrono::seconds(15)).get(), request, &response);
      if (status.ok()) {
        absl::MutexLock lock(&mu_);
        acknowledgements_[request.idempotency_key()] = {response.assessment().assessment_id(),
                                                        response.replayed()};
        acknowledged_count_++;
        break;
      }
      const grpc::StatusCode code = status.error_code();
      const bool retry = code == grpc::StatusCode::UNAVAILABLE ||
                         code == grpc::StatusCode::DEADLINE_EXCEEDED ||
                         code == grpc::StatusCode::ABORTED;
      {
        absl::MutexLock lock(&mu_);
        failure_codes_[code]++;
        if (!retry) {
          unexpected_.push_back(
              absl::StrCat(request.idempotency_key(), ": ", DescribeStatus(status)));
        }
      }
      if (!retry) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  finished_threads_++;
}

std::map<std::string, Acknowledgement> SubmissionLoad::Acknowledgements() const {
  absl::MutexLock lock(&mu_);
  return acknowledgements_;
}

std::map<int, int> SubmissionLoad::FailureCodes() const {
  absl::MutexLock lock(&mu_);
  return failure_codes_;
}

std::vector<std::string> SubmissionLoad::Unexpected() const {
  absl::MutexLock lock(&mu_);
  return unexpected_;
}

std::string QueryValue(const std::string& conninfo, const std::string& sql) {
  try {
    pqxx::connection connection(conninfo);
    pqxx::nontransaction txn(connection);
    const pqxx::result result = txn.exec(sql);
    if (result.empty() || result.columns() == 0 || result[0][0].is_null()) return "";
    return result[0][0].as<std::string>();
  } catch (const std::exception& e) {
    return absl::StrCat("ERROR: ", e.what());
  }
}

std::string CheckStoredExactlyOnce(const std::string& conninfo, const std::string& key_prefix,
                                   const std::map<std::string, Acknowledgement>& acknowledged,
                                   int answers) {
  const std::string like = absl::StrCat("'", key_prefix, "-%'");
  // Every submitted assessment under this prefix, as "key=id:answers",
  // ordered by key (C collation, as std::map orders).
  const std::string stored = QueryValue(
      conninfo,
      absl::StrCat("SELECT string_agg(a.idempotency_key || '=' || a.id || ':' || "
                   "(SELECT count(*) FROM assessment_answers x WHERE x.assessment_id = a.id), "
                   "',' ORDER BY a.idempotency_key COLLATE \"C\") "
                   "FROM assessments a WHERE a.status = 'SUBMITTED' AND a.idempotency_key LIKE ",
                   like));
  std::vector<std::string> expected;
  for (const auto& [key, ack] : acknowledged) {
    expected.push_back(absl::StrCat(key, "=", ack.assessment_id, ":", answers));
  }
  if (stored != absl::StrJoin(expected, ",")) {
    return absl::StrCat("stored submissions differ from the acknowledged ones:\n  stored:   ",
                        stored, "\n  expected: ", absl::StrJoin(expected, ","));
  }
  const std::string duplicates = QueryValue(
      conninfo,
      "SELECT count(*) FROM (SELECT rater_id, idempotency_key FROM assessments "
      "WHERE idempotency_key IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) d");
  if (duplicates != "0") return absl::StrCat("keys stored more than once: ", duplicates);
  const std::string half_done = QueryValue(
      conninfo, "SELECT count(*) FROM assessments WHERE status <> 'SUBMITTED'");
  if (half_done != "0") return absl::StrCat("assessments left as drafts: ", half_done);
  return "";
}

}  // namespace rqs::testing
