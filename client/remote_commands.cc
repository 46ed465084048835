#include "client/remote_commands.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/answer_file.h"
#include "client/args.h"
#include "client/input_file.h"
#include "client/session.h"
#include "client/study_import.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "rqs/v1/assessment.grpc.pb.h"
#include "rqs/v1/instrument.grpc.pb.h"
#include "rqs/v1/review.grpc.pb.h"
#include "rqs/v1/user.grpc.pb.h"
#include "scoring/status_macros.h"

namespace rqs::client {
namespace {

namespace v1 = ::rqs::v1;

std::string RoleName(v1::Role role) {
  switch (role) {
    case v1::ROLE_COORDINATOR:
      return "coordinator";
    case v1::ROLE_RATER:
      return "rater";
    case v1::ROLE_OBSERVER:
      return "observer";
    default:
      return "-";
  }
}

absl::StatusOr<v1::Role> ParseRole(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "coordinator") return v1::ROLE_COORDINATOR;
  if (lower == "rater") return v1::ROLE_RATER;
  if (lower == "observer") return v1::ROLE_OBSERVER;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role '", text, "' (coordinator, rater or observer)"));
}

v1::StudyType ToProto(scoring::StudyType type) {
  switch (type) {
    case scoring::StudyType::kHandcrafted:
      return v1::STUDY_TYPE_HANDCRAFTED;
    case scoring::StudyType::kDeepLearning:
      return v1::STUDY_TYPE_DEEP_LEARNING;
    case scoring::StudyType::kHybrid:
      return v1::STUDY_TYPE_HYBRID;
  }
  return v1::STUDY_TYPE_UNSPECIFIED;
}

std::string StateName(v1::AssessmentState state) {
  switch (state) {
    case v1::ASSESSMENT_STATE_NOT_STARTED:
      return "not started";
    case v1::ASSESSMENT_STATE_DRAFT:
      return "draft";
    case v1::ASSESSMENT_STATE_SUBMITTED:
      return "submitted";
    default:
      return "-";
  }
}

// Splits "verb rest..." for the grouped commands (user, token, review, ...).
bool SplitVerb(const std::vector<std::string>& args, std::string& verb,
               std::vector<std::string>& rest) {
  if (args.empty()) return false;
  verb = args[0];
  rest.assign(args.begin() + 1, args.end());
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------
// user, token

int RunUserCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                   CommandIo& io) {
  Session session(options, io, "user");
  std::string verb;
  std::vector<std::string> rest;
  if (!SplitVerb(args, verb, rest)) return session.BadInput("usage: rqs user create|list|whoami");
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(rest, {{}, {"admin"}});
  if (!parsed.ok()) return session.BadInput(parsed.status().message());
  if (!session.Connect()) return session.exit_code();
  auto stub = session.Stub<v1::UserService>();
  auto print_users = [&](const auto& users) {
    Table table({"id", "name", "admin"});
    for (const v1::User& user : users) {
      table.Add({absl::StrCat(user.user_id()), user.name(), user.is_admin() ? "yes" : "no"});
    }
    table.Print(session.out());
  };
  if (verb == "create") {
    if (parsed->positional.size() != 1)
      return session.BadInput("usage: rqs user create NAME [--admin]");
    v1::CreateUserRequest request;
    request.set_name(parsed->positional[0]);
    request.set_is_admin(parsed->Has("admin"));
    v1::CreateUserResponse response;
    if (!session.Call(*stub, &v1::UserService::Stub::CreateUser, request, response)) {
      return session.exit_code();
    }
    if (session.json()) {
      session.PrintJson(response);
    } else {
      print_users(std::vector<v1::User>{response.user()});
    }
    return kExitOk;
  }
  if (verb == "list" || verb == "whoami") {
    if (!parsed->positional.empty())
      return session.BadInput(absl::StrCat("usage: rqs user ", verb));
    if (verb == "list") {
      v1::ListUsersResponse response;
      if (!session.Call(*stub, &v1::UserService::Stub::ListUsers, v1::ListUsersRequest(),
                        response)) {
        return session.exit_code();
      }
      if (session.json()) {
        session.PrintJson(response);
      } else {
        print_users(response.users());
      }
    } else {
      v1::GetCurrentUserResponse response;
      if (!session.Call(*stub, &v1::UserService::Stub::GetCurrentUser, v1::GetCurrentUserRequest(),
                        response)) {
        return session.exit_code();
      }
      if (session.json()) {
        session.PrintJson(response);
      } else {
        print_users(std::vector<v1::User>{response.user()});
      }
    }
    return kExitOk;
  }
  return session.BadInput(absl::StrCat("unknown verb '", verb, "' (create, list, whoami)"));
}

int RunTokenCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                    CommandIo& io) {
  Session session(options, io, "token");
  std::string verb;
  std::vector<std::string> rest;
  if (!SplitVerb(args, verb, rest)) return session.BadInput("usage: rqs token issue|list|revoke");
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(rest, {{"label", "expires-in-days"}, {}});
  if (!parsed.ok()) return session.BadInput(parsed.status().message());
  if (verb != "issue" && verb != "list" && verb != "revoke") {
    return session.BadInput(absl::StrCat("unknown verb '", verb, "' (issue, list, revoke)"));
  }
  if (parsed->positional.size() != 1 && !(verb == "list" && parsed->positional.empty())) {
    return session.BadInput(verb == "issue"    ? "usage: rqs token issue USER_ID [--label L] "
                                                 "[--expires-in-days N]"
                            : verb == "revoke" ? "usage: rqs token revoke TOKEN_ID"
                                               : "usage: rqs token list [USER_ID]");
  }
  int64_t id = 0;
  if (!parsed->positional.empty()) {
    absl::StatusOr<int64_t> parsed_id =
        ParseId(parsed->positional[0], verb == "revoke" ? "TOKEN_ID" : "USER_ID");
    if (!parsed_id.ok()) return session.BadInput(parsed_id.status().message());
    id = *parsed_id;
  }
  if (!session.Connect()) return session.exit_code();
  auto stub = session.Stub<v1::UserService>();
  if (verb == "issue") {
    v1::IssueTokenRequest request;
    request.set_user_id(id);
    request.set_label(parsed->Get("label").value_or(""));
    absl::StatusOr<std::optional<int64_t>> days = parsed->GetInt("expires-in-days");
    if (!days.ok()) return session.BadInput(days.status().message());
    request.set_expires_in_days(static_cast<int32_t>(days->value_or(0)));
    v1::IssueTokenResponse response;
    if (!session.Call(*stub, &v1::UserService::Stub::IssueToken, request, response)) {
      return session.exit_code();
    }
    if (session.json()) {
      session.PrintJson(response);
    } else {
      // The only time the token is shown: the server keeps just its hash.
      session.out() << response.token() << "\n";
      session.err() << "token " << response.token_id()
                    << " issued; store it now, it cannot be shown again\n";
    }
    return kExitOk;
  }
  if (verb == "revoke") {
    v1::RevokeTokenRequest request;
    request.set_token_id(id);
    v1::RevokeTokenResponse response;
    if (!session.Call(*stub, &v1::UserService::Stub::RevokeToken, request, response)) {
      return session.exit_code();
    }
    if (session.json()) {
      session.PrintJson(response);
    } else {
      session.out() << "token " << id << " revoked\n";
    }
    return kExitOk;
  }
  v1::ListTokensRequest request;
  request.set_user_id(id);
  v1::ListTokensResponse response;
  if (!session.Call(*stub, &v1::UserService::Stub::ListTokens, request, response)) {
    return session.exit_code();
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  Table table({"id", "user", "label", "revoked", "expires"});
  for (const v1::Token& token : response.tokens()) {
    table.Add(
        {absl::StrCat(token.token_id()), absl::StrCat(token.user_id()), token.label(),
         token.has_revoke_time() ? "yes" : "no",
         token.has_expire_time()
             ? absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(token.expire_time().seconds()),
                                absl::UTCTimeZone())
             : "never"});
  }
  table.Print(session.out());
  return kExitOk;
}

// ---------------------------------------------------------------------------
// review, member

namespace {

void PrintReviews(Session& session, const std::vector<const v1::Review*>& reviews) {
  Table table({"id", "name", "instrument", "target", "status", "your role"});
  for (const v1::Review* review : reviews) {
    table.Add({absl::StrCat(review->review_id()), review->name(), review->instrument_id(),
               review->target_level() > 0 ? absl::StrCat("RRL", review->target_level()) : "-",
               review->status() == v1::REVIEW_STATUS_CLOSED ? "closed" : "open",
               RoleName(review->caller_role())});
  }
  table.Print(session.out());
}

}  // namespace

int RunReviewCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                     CommandIo& io) {
  Session session(options, io, "review");
  std::string verb;
  std::vector<std::string> rest;
  if (!SplitVerb(args, verb, rest)) return session.BadInput("usage: rqs review create|list|show");
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(rest, {{"instrument", "target-rrl"}, {}});
  if (!parsed.ok()) return session.BadInput(parsed.status().message());
  if (verb == "create") {
    if (parsed->positional.size() != 1) {
      return session.BadInput("usage: rqs review create NAME [--instrument rqs2] [--target-rrl N]");
    }
    absl::StatusOr<std::optional<int64_t>> target = parsed->GetInt("target-rrl");
    if (!target.ok()) return session.BadInput(target.status().message());
    if (!session.Connect()) return session.exit_code();
    auto stub = session.Stub<v1::ReviewService>();
    v1::CreateReviewRequest request;
    request.set_name(parsed->positional[0]);
    request.set_instrument_id(parsed->Get("instrument").value_or("rqs2"));
    request.set_target_level(static_cast<int32_t>(target->value_or(0)));
    v1::CreateReviewResponse response;
    if (!session.Call(*stub, &v1::ReviewService::Stub::CreateReview, request, response)) {
      return session.exit_code();
    }
    if (session.json()) {
      session.PrintJson(response);
    } else {
      PrintReviews(session, {&response.review()});
    }
    return kExitOk;
  }
  if (verb == "list") {
    if (!session.Connect()) return session.exit_code();
    auto stub = session.Stub<v1::ReviewService>();
    v1::ListReviewsResponse response;
    if (!session.Call(*stub, &v1::ReviewService::Stub::ListReviews, v1::ListReviewsRequest(),
                      response)) {
      return session.exit_code();
    }
    if (session.json()) {
      session.PrintJson(response);
    } else {
      std::vector<const v1::Review*> reviews;
      for (const v1::Review& review : response.reviews()) reviews.push_back(&review);
      PrintReviews(session, reviews);
    }
    return kExitOk;
  }
  if (verb == "show") {
    if (parsed->positional.size() != 1) return session.BadInput("usage: rqs review show REVIEW");
    absl::StatusOr<int64_t> id = ParseId(parsed->positional[0], "REVIEW");
    if (!id.ok()) return session.BadInput(id.status().message());
    if (!session.Connect()) return session.exit_code();
    auto stub = session.Stub<v1::ReviewService>();
    v1::GetReviewRequest request;
    request.set_review_id(*id);
    v1::GetReviewResponse response;
    if (!session.Call(*stub, &v1::ReviewService::Stub::GetReview, request, response)) {
      return session.exit_code();
    }
    v1::GetReviewSummaryRequest summary_request;
    summary_request.set_review_id(*id);
    v1::GetReviewSummaryResponse summary;
    const bool has_summary =
        session.Call(*stub, &v1::ReviewService::Stub::GetReviewSummary, summary_request, summary);
    if (session.json()) {
      session.PrintJson(response);
      if (has_summary) session.PrintJson(summary);
      return session.exit_code();
    }
    PrintReviews(session, {&response.review()});
    if (has_summary) {
      session.out() << "\n"
                    << summary.submitted_count() << " of " << summary.assigned_count()
                    << " assigned assessments submitted\n";
      Table table({"study", "title", "submitted", "mean total", "min", "max"});
      for (const v1::StudySummary& study : summary.studies()) {
        const bool any = study.submitted_count() > 0;
        table.Add({absl::StrCat(study.study_id()), study.title().substr(0, 60),
                   absl::StrCat(study.submitted_count(), "/", study.assigned_count()),
                   any ? absl::StrFormat("%.1f", study.mean_total()) : "-",
                   any ? absl::StrCat(study.min_total()) : "-",
                   any ? absl::StrCat(study.max_total()) : "-"});
      }
      table.Print(session.out());
    }
    return session.exit_code();
  }
  return session.BadInput(absl::StrCat("unknown verb '", verb, "' (create, list, show)"));
}

int RunMemberCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                     CommandIo& io) {
  Session session(options, io, "member");
  std::string verb;
  std::vector<std::string> rest;
  if (!SplitVerb(args, verb, rest)) return session.BadInput("usage: rqs member add|remove|list");
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(rest, {{"review"}, {}});
  if (!parsed.ok()) return session.BadInput(parsed.status().message());
  const size_t expected = verb == "add" ? 3 : verb == "remove" ? 2 : verb == "list" ? 1 : 0;
  if (expected == 0)
    return session.BadInput(absl::StrCat("unknown verb '", verb, "' (add, remove, list)"));
  if (parsed->positional.size() != expected) {
    return session.BadInput(verb == "add"      ? "usage: rqs member add REVIEW USER_ID ROLE"
                            : verb == "remove" ? "usage: rqs member remove REVIEW USER_ID"
                                               : "usage: rqs member list REVIEW");
  }
  absl::StatusOr<int64_t> review = ParseId(parsed->positional[0], "REVIEW");
  if (!review.ok()) return session.BadInput(review.status().message());
  int64_t user = 0;
  if (expected >= 2) {
    absl::StatusOr<int64_t> parsed_user = ParseId(parsed->positional[1], "USER_ID");
    if (!parsed_user.ok()) return session.BadInput(parsed_user.status().message());
    user = *parsed_user;
  }
  v1::Role role = v1::ROLE_UNSPECIFIED;
  if (expected == 3) {
    absl::StatusOr<v1::Role> parsed_role = ParseRole(parsed->positional[2]);
    if (!parsed_role.ok()) return session.BadInput(parsed_role.status().message());
    role = *parsed_role;
  }
  if (!session.Connect()) return session.exit_code();
  auto stub = session.Stub<v1::ReviewService>();
  if (verb == "add") {
    v1::AddMemberRequest request;
    request.set_review_id(*review);
    request.set_user_id(user);
    request.set_role(role);
    v1::AddMemberResponse response;
    if (!session.Call(*stub, &v1::ReviewService::Stub::AddMember, request, response)) {
      return session.exit_code();
    }
    if (session.json()) {
      session.PrintJson(response);
    } else {
      session.out() << "user " << user << " (" << response.member().user_name() << ") is now "
                    << RoleName(response.member().role()) << " of review " << *review << "\n";
    }
    return kExitOk;
  }
  if (verb == "remove") {
    v1::RemoveMemberRequest request;
    request.set_review_id(*review);
    request.set_user_id(user);
    v1::RemoveMemberResponse response;
    if (!session.Call(*stub, &v1::ReviewService::Stub::RemoveMember, request, response)) {
      return session.exit_code();
    }
    if (session.json()) {
      session.PrintJson(response);
    } else {
      session.out() << "user " << user << " removed from review " << *review << "\n";
    }
    return kExitOk;
  }
  v1::ListMembersRequest request;
  request.set_review_id(*review);
  v1::ListMembersResponse response;
  if (!session.Call(*stub, &v1::ReviewService::Stub::ListMembers, request, response)) {
    return session.exit_code();
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  Table table({"user", "name", "role"});
  for (const v1::Member& member : response.members()) {
    table.Add({absl::StrCat(member.user_id()), member.user_name(), RoleName(member.role())});
  }
  table.Print(session.out());
  return kExitOk;
}

// ---------------------------------------------------------------------------
// study, assign, assignments

namespace {

void PrintStudies(Session& session, const google::protobuf::RepeatedPtrField<v1::Study>& studies) {
  Table table({"id", "type", "year", "title", "doi", "external id"});
  for (const v1::Study& study : studies) {
    table.Add({absl::StrCat(study.study_id()), StudyTypeName(study.study_type()),
               study.year() > 0 ? absl::StrCat(study.year()) : "-", study.title().substr(0, 70),
               study.doi(), study.external_id()});
  }
  table.Print(session.out());
}

v1::StudyInput ToStudyInput(const StudyRecord& record, scoring::StudyType default_type) {
  v1::StudyInput input;
  input.set_title(record.title);
  input.set_authors(absl::StrJoin(record.authors, "; "));
  input.set_year(record.year.value_or(0));
  input.set_doi(record.doi);
  input.set_study_type(ToProto(record.study_type.value_or(default_type)));
  input.set_external_id(record.external_id);
  input.set_notes(record.notes);
  return input;
}

}  // namespace

int RunStudyCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                    CommandIo& io) {
  Session session(options, io, "study");
  std::string verb;
  std::vector<std::string> rest;
  if (!SplitVerb(args, verb, rest)) return session.BadInput("usage: rqs study add|import|list");
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(rest, {{"title", "authors", "year", "doi", "type",
                                                        "external-id", "notes", "format", "review"},
                                                       {}});
  if (!parsed.ok()) return session.BadInput(parsed.status().message());
  if (verb != "add" && verb != "import" && verb != "list") {
    return session.BadInput(absl::StrCat("unknown verb '", verb, "' (add, import, list)"));
  }
  absl::StatusOr<int64_t> review = ReviewFrom(*parsed, 0);
  if (!review.ok()) return session.BadInput(review.status().message());
  scoring::StudyType default_type = scoring::StudyType::kHandcrafted;
  if (const std::optional<std::string> type = parsed->Get("type"); type.has_value()) {
    absl::StatusOr<scoring::StudyType> parsed_type =
        scoring::ParseStudyType(absl::AsciiStrToUpper(*type));
    if (!parsed_type.ok())
      return session.BadInput(absl::StrCat("--type: ", parsed_type.status().message()));
    default_type = *parsed_type;
  }

  std::vector<StudyRecord> records;
  if (verb == "add") {
    if (!parsed->Get("title").has_value()) {
      return session.BadInput(
          "usage: rqs study add REVIEW --title T [--authors A] [--year Y] [--doi D] "
          "[--type HCR|DLR|HYBRID] [--external-id X] [--notes N]");
    }
    StudyRecord record;
    record.title = *parsed->Get("title");
    for (absl::string_view author :
         absl::StrSplit(parsed->Get("authors").value_or(""), ';', absl::SkipWhitespace())) {
      record.authors.emplace_back(absl::StripAsciiWhitespace(author));
    }
    absl::StatusOr<std::optional<int>> year = ParseStudyYear(parsed->Get("year").value_or(""));
    if (!year.ok()) return session.BadInput(absl::StrCat("--year: ", year.status().message()));
    record.year = *year;
    record.doi = parsed->Get("doi").value_or("");
    record.external_id = parsed->Get("external-id").value_or("");
    record.notes = parsed->Get("notes").value_or("");
    records.push_back(std::move(record));
    if (absl::Status valid = ValidateStudies(records); !valid.ok()) {
      return session.BadInput(valid.message());
    }
  } else if (verb == "import") {
    if (parsed->positional.size() != 2) {
      return session.BadInput(
          "usage: rqs study import REVIEW FILE [--type HCR|DLR|HYBRID] "
          "[--format csv|ris]");
    }
    const std::string& path = parsed->positional[1];
    absl::StatusOr<std::string> text = ReadInputFile(path, std::cin);
    if (!text.ok()) return session.BadInput(text.status().message());
    StudyFileFormat format = DetectStudyFileFormat(path, *text);
    if (const std::optional<std::string> name = parsed->Get("format"); name.has_value()) {
      if (*name == "csv") {
        format = StudyFileFormat::kCsv;
      } else if (*name == "ris") {
        format = StudyFileFormat::kRis;
      } else {
        return session.BadInput(absl::StrCat("--format: unknown format '", *name, "' (csv, ris)"));
      }
    }
    absl::StatusOr<std::vector<StudyRecord>> parsed_records = ParseStudies(format, *text);
    if (!parsed_records.ok()) {
      return session.BadInput(absl::StrCat(path, ": ", parsed_records.status().message()));
    }
    records = std::move(*parsed_records);
  }

  if (!session.Connect()) return session.exit_code();
  auto stub = session.Stub<v1::ReviewService>();
  if (verb == "list") {
    v1::ListStudiesResponse all;
    if (!ListAllStudies(session, *stub, *review, all)) return session.exit_code();
    if (session.json()) {
      session.PrintJson(all);
    } else {
      PrintStudies(session, all.studies());
    }
    return kExitOk;
  }
  // The server takes at most 1,000 studies per call; each call is atomic.
  constexpr size_t kBatch = 1000;
  v1::AddStudiesResponse added;
  for (size_t start = 0; start < records.size(); start += kBatch) {
    v1::AddStudiesRequest request;
    request.set_review_id(*review);
    for (size_t i = start; i < std::min(records.size(), start + kBatch); ++i) {
      *request.add_studies() = ToStudyInput(records[i], default_type);
    }
    v1::AddStudiesResponse response;
    if (!session.Call(*stub, &v1::ReviewService::Stub::AddStudies, request, response)) {
      if (start > 0) {
        session.err() << "rqs study: the first " << start << " studies were added; "
                      << "the batch from record " << start + 1 << " on was not\n";
      }
      return session.exit_code();
    }
    for (v1::Study& study : *response.mutable_studies()) *added.add_studies() = std::move(study);
  }
  if (session.json()) {
    session.PrintJson(added);
  } else {
    PrintStudies(session, added.studies());
    session.err() << added.studies_size() << " studies added to review " << *review << "\n";
  }
  return kExitOk;
}

int RunAssignCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                     CommandIo& io) {
  Session session(options, io, "assign");
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, {{"per-study", "review"}, {}});
  if (!parsed.ok()) return session.BadInput(parsed.status().message());
  constexpr char kUsage[] =
      "usage: rqs assign REVIEW --per-study K   (each study to K raters, balanced)\n"
      "       rqs assign REVIEW STUDY:RATER...  (explicit study and rater user ids)";
  absl::StatusOr<int64_t> review = ReviewFrom(*parsed, 0);
  if (!review.ok()) return session.BadInput(absl::StrCat(review.status().message(), "\n", kUsage));
  v1::AssignRatersRequest request;
  request.set_review_id(*review);
  absl::StatusOr<std::optional<int64_t>> per_study = parsed->GetInt("per-study");
  if (!per_study.ok()) return session.BadInput(per_study.status().message());
  if (per_study->has_value()) {
    if (parsed->positional.size() > 1) return session.BadInput(kUsage);
    request.mutable_automatic()->set_raters_per_study(static_cast<int32_t>(**per_study));
  } else {
    if (parsed->positional.size() < 2) return session.BadInput(kUsage);
    for (size_t i = 1; i < parsed->positional.size(); ++i) {
      const std::vector<std::string> pair = absl::StrSplit(parsed->positional[i], ':');
      if (pair.size() != 2) {
        return session.BadInput(
            absl::StrCat("'", parsed->positional[i], "' is not STUDY:RATER\n", kUsage));
      }
      absl::StatusOr<int64_t> study = ParseId(pair[0], "STUDY");
      absl::StatusOr<int64_t> rater = ParseId(pair[1], "RATER");
      if (!study.ok()) return session.BadInput(study.status().message());
      if (!rater.ok()) return session.BadInput(rater.status().message());
      v1::Assignment* assignment = request.mutable_explicit_assignments()->add_assignments();
      assignment->set_study_id(*study);
      assignment->set_rater_id(*rater);
    }
  }
  if (!session.Connect()) return session.exit_code();
  auto stub = session.Stub<v1::ReviewService>();
  v1::AssignRatersResponse response;
  if (!session.Call(*stub, &v1::ReviewService::Stub::AssignRaters, request, response)) {
    return session.exit_code();
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  Table table({"study", "rater"});
  for (const v1::Assignment& assignment : response.created()) {
    table.Add({absl::StrCat(assignment.study_id()), absl::StrCat(assignment.rater_id())});
  }
  table.Print(session.out());
  session.err() << response.created_size() << " assignments created\n";
  return kExitOk;
}

int RunAssignmentsCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                          CommandIo& io) {
  Session session(options, io, "assignments");
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, {{"review"}, {"all"}});
  if (!parsed.ok()) return session.BadInput(parsed.status().message());
  absl::StatusOr<int64_t> review = ReviewFrom(*parsed, 0);
  if (!review.ok()) return session.BadInput(review.status().message());
  if (!session.Connect()) return session.exit_code();
  if (parsed->Has("all")) {
    // Coordinators: every rater's assignments and their state.
    auto stub = session.Stub<v1::ReviewService>();
    v1::ListAssignmentsRequest request;
    request.set_review_id(*review);
    v1::ListAssignmentsResponse response;
    if (!session.Call(*stub, &v1::ReviewService::Stub::ListAssignments, request, response)) {
      return session.exit_code();
    }
    if (session.json()) {
      session.PrintJson(response);
      return kExitOk;
    }
    Table table({"study", "rater", "name", "state"});
    for (const v1::AssignmentStatus& status : response.assignments()) {
      table.Add({absl::StrCat(status.assignment().study_id()),
                 absl::StrCat(status.assignment().rater_id()), status.rater_name(),
                 StateName(status.state())});
    }
    table.Print(session.out());
    return kExitOk;
  }
  auto stub = session.Stub<v1::AssessmentService>();
  v1::ListMyAssignmentsRequest request;
  request.set_review_id(*review);
  v1::ListMyAssignmentsResponse response;
  if (!session.Call(*stub, &v1::AssessmentService::Stub::ListMyAssignments, request, response)) {
    return session.exit_code();
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  Table table({"study", "type", "round", "state", "total", "action", "title"});
  int action_needed = 0;
  for (const v1::MyAssignment& assignment : response.assignments()) {
    const bool scored = assignment.state() != v1::ASSESSMENT_STATE_NOT_STARTED;
    // In a later Delphi round only the disputed criteria are asked again.
    std::string action = "-";
    if (assignment.action_needed()) {
      ++action_needed;
      action = assignment.current_round() > 1
                   ? absl::StrCat("answer ", assignment.open_criteria_size(), " criteria")
                   : "assess";
    }
    table.Add({absl::StrCat(assignment.study().study_id()),
               StudyTypeName(assignment.study().study_type()),
               assignment.current_round() > 0 ? absl::StrCat(assignment.current_round()) : "-",
               StateName(assignment.state()), scored ? absl::StrCat(assignment.total()) : "-",
               action, assignment.study().title().substr(0, 60)});
  }
  table.Print(session.out());
  session.out() << response.submitted_count() << " submitted, " << response.draft_count()
                << " draft, " << response.not_started_count() << " not started; " << action_needed
                << " need your answers\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------
// instruments, template, submit, show

int RunInstrumentsCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                          CommandIo& io) {
  Session session(options, io, "instruments");
  if (args.size() > 1) return session.BadInput("usage: rqs instruments [ID]");
  if (!session.Connect()) return session.exit_code();
  auto stub = session.Stub<v1::InstrumentService>();
  if (args.size() == 1) {
    v1::GetInstrumentRequest request;
    request.set_instrument_id(args[0]);
    v1::GetInstrumentResponse response;
    if (!session.Call(*stub, &v1::InstrumentService::Stub::GetInstrument, request, response)) {
      return session.exit_code();
    }
    session.PrintJson(response);  // A rubric is only useful whole.
    return kExitOk;
  }
  v1::ListInstrumentsResponse response;
  if (!session.Call(*stub, &v1::InstrumentService::Stub::ListInstruments,
                    v1::ListInstrumentsRequest(), response)) {
    return session.exit_code();
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  Table table({"id", "version", "criteria", "levels", "name"});
  for (const v1::InstrumentSummary& instrument : response.instruments()) {
    table.Add({instrument.id(), instrument.version(), absl::StrCat(instrument.criterion_count()),
               absl::StrCat(instrument.level_count()), instrument.name()});
  }
  table.Print(session.out());
  return kExitOk;
}

namespace {

// Parses "STUDY [REVIEW]" (the review also from --review / RQS_REVIEW).
// Prints `usage` and returns false on bad input.
bool ParseStudyAndReview(Session& session, const ParsedArgs& parsed, absl::string_view usage,
                         int64_t& study_id, int64_t& review_id) {
  if (parsed.positional.empty() || parsed.positional.size() > 2) {
    session.BadInput(usage);
    return false;
  }
  absl::StatusOr<int64_t> study = ParseId(parsed.positional[0], "STUDY");
  if (!study.ok()) {
    session.BadInput(study.status().message());
    return false;
  }
  absl::StatusOr<int64_t> review = ReviewFrom(parsed, 1);
  if (!review.ok()) {
    session.BadInput(review.status().message());
    return false;
  }
  study_id = *study;
  review_id = *review;
  return true;
}

}  // namespace

int RunTemplateCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                       CommandIo& io) {
  Session session(options, io, "template");
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, {{"review", "output"}, {}});
  if (!parsed.ok()) return session.BadInput(parsed.status().message());
  int64_t study_id = 0, review_id = 0;
  if (!ParseStudyAndReview(session, *parsed,
                           "usage: rqs template STUDY --review REVIEW [--output FILE]", study_id,
                           review_id)) {
    return kExitBadInput;
  }
  if (!session.Connect()) return session.exit_code();

  auto reviews = session.Stub<v1::ReviewService>();
  v1::GetReviewRequest review_request;
  review_request.set_review_id(review_id);
  v1::GetReviewResponse review;
  if (!session.Call(*reviews, &v1::ReviewService::Stub::GetReview, review_request, review)) {
    return session.exit_code();
  }
  v1::Study study;
  if (!FindStudy(session, review_id, study_id, study)) return session.exit_code();
  auto instruments = session.Stub<v1::InstrumentService>();
  v1::GetInstrumentRequest instrument_request;
  instrument_request.set_instrument_id(review.review().instrument_id());
  v1::GetInstrumentResponse instrument;
  if (!session.Call(*instruments, &v1::InstrumentService::Stub::GetInstrument, instrument_request,
                    instrument)) {
    return session.exit_code();
  }

  // The form is rendered from the server's rubric: only the criteria that
  // apply to this study's type, up to the review's target level.
  const int target = review.review().target_level();
  const v1::StudyType type = study.study_type();
  nlohmann::ordered_json file;
  file["instrument"] = review.review().instrument_id();
  file["study_type"] = StudyTypeName(type);
  if (instrument.instrument().summary().level_count() > 0 && target > 0) {
    file["target_rrl"] = target;
  }
  file["review_id"] = review_id;
  file["study_id"] = study_id;
  file["study"] = study.title();
  file["comment"] =
      "Set \"option\" (or \"options\") for each criterion; leave null if not met. Then run: "
      "rqs submit " +
      absl::StrCat(study_id) + " FILE";
  nlohmann::ordered_json answers = nlohmann::ordered_json::array();
  for (const v1::Criterion& criterion : instrument.instrument().criteria()) {
    if (!CriterionApplies(criterion, type) || (target > 0 && criterion.level() > target)) continue;
    nlohmann::ordered_json answer;
    answer["criterion"] = criterion.number();
    answer["name"] = criterion.name();
    if (criterion.level() > 0) answer["rrl"] = criterion.level();
    answer["hint"] = OptionHint(criterion);
    answer[criterion.kind() == v1::OPTION_KIND_ADDITIVE ? "options" : "option"] = nullptr;
    answer["rationale"] = "";
    answer["evidence"] = {{"page", ""}, {"section", ""}, {"quote", ""}};
    answers.push_back(std::move(answer));
  }
  file["answers"] = std::move(answers);
  const std::string text = file.dump(2) + "\n";
  if (const std::optional<std::string> output = parsed->Get("output"); output.has_value()) {
    std::ofstream stream(*output, std::ios::binary | std::ios::trunc);
    stream << text;
    if (!stream) {
      session.Fail(absl::StrCat("cannot write ", *output));
      return session.exit_code();
    }
    session.err() << "wrote " << *output << "\n";
  } else {
    session.out() << text;
  }
  return kExitOk;
}

namespace {

// A random idempotency key: 128 bits from the OS, hex-encoded.
std::string NewIdempotencyKey() {
  std::random_device device;
  std::string key;
  for (int i = 0; i < 4; ++i) absl::StrAppend(&key, absl::Hex(device(), absl::kZeroPad8));
  return key;
}

}  // namespace

int RunSubmitCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                     CommandIo& io) {
  Session session(options, io, "submit");
  absl::StatusOr<ParsedArgs> parsed =
      ParseArgs(args, {{"review", "idempotency-key", "round"}, {"draft"}});
  if (!parsed.ok()) return session.BadInput(parsed.status().message());
  if (parsed->positional.size() != 2) {
    return session.BadInput(
        "usage: rqs submit STUDY FILE [--review REVIEW] [--round R] [--draft] "
        "[--idempotency-key KEY]");
  }
  absl::StatusOr<std::optional<int64_t>> round_flag = parsed->GetInt("round");
  if (!round_flag.ok()) return session.BadInput(round_flag.status().message());
  if (round_flag->has_value() && (**round_flag < 0 || **round_flag > INT32_MAX)) {
    return session.BadInput("--round: expected a round number (0: the open round)");
  }
  absl::StatusOr<int64_t> study_id = ParseId(parsed->positional[0], "STUDY");
  if (!study_id.ok()) return session.BadInput(study_id.status().message());
  const std::string& path = parsed->positional[1];
  absl::StatusOr<std::string> text = ReadInputFile(path, std::cin);
  if (!text.ok()) return session.BadInput(text.status().message());
  absl::StatusOr<AnswerFile> file = ParseAnswerFile(*text);
  if (!file.ok()) return session.BadInput(absl::StrCat(path, ": ", file.status().message()));
  if (file->study_id.has_value() && *file->study_id != *study_id) {
    return session.BadInput(
        absl::StrCat(path, " was made for study ", *file->study_id, ", not study ", *study_id));
  }
  int64_t review_id = 0;
  if (parsed->Get("review").has_value() || !file->review_id.has_value()) {
    absl::StatusOr<int64_t> review = ReviewFrom(*parsed, 2);
    if (!review.ok()) return session.BadInput(review.status().message());
    review_id = *review;
    if (file->review_id.has_value() && *file->review_id != review_id) {
      return session.BadInput(absl::StrCat(path, " was made for review ", *file->review_id,
                                           ", not review ", review_id));
    }
  } else {
    review_id = *file->review_id;
  }
  // The round: --round, else the one the file was made for, else the open one.
  int32_t round = static_cast<int32_t>(round_flag->value_or(0));
  if (file->round.has_value()) {
    if (round_flag->has_value() && round != 0 && round != *file->round) {
      return session.BadInput(
          absl::StrCat(path, " was made for round ", *file->round, ", not round ", round));
    }
    if (round == 0) round = *file->round;
  }
  std::vector<v1::Answer> answers;
  for (size_t i = 0; i < file->request.answers.size(); ++i) {
    const scoring::Answer& answer = file->request.answers[i];
    const AnswerNote& note = file->notes[i];
    const bool empty_note = note.rationale.empty() && note.evidence.page.empty() &&
                            note.evidence.section.empty() && note.evidence.quote.empty();
    // An unanswered criterion without notes is the template's placeholder.
    if (!answer.option_ids.has_value() && !answer.points.has_value() && empty_note) continue;
    v1::Answer proto;
    proto.set_criterion(answer.criterion);
    if (answer.option_ids.has_value()) {
      for (const std::string& id : *answer.option_ids) proto.add_option_ids(id);
    }
    if (answer.points.has_value()) proto.set_points(*answer.points);
    proto.set_rationale(note.rationale);
    proto.mutable_evidence()->set_page(note.evidence.page);
    proto.mutable_evidence()->set_section(note.evidence.section);
    proto.mutable_evidence()->set_quote(note.evidence.quote);
    answers.push_back(std::move(proto));
  }

  if (!session.Connect()) return session.exit_code();
  auto stub = session.Stub<v1::AssessmentService>();
  v1::Assessment assessment;
  bool replayed = false;
  if (parsed->Has("draft")) {
    v1::SaveDraftRequest request;
    request.set_review_id(review_id);
    request.set_study_id(*study_id);
    request.set_round(round);
    for (const v1::Answer& answer : answers) *request.add_answers() = answer;
    v1::SaveDraftResponse response;
    if (!session.Call(*stub, &v1::AssessmentService::Stub::SaveDraft, request, response)) {
      return session.exit_code();
    }
    assessment = response.assessment();
  } else {
    v1::SubmitAssessmentRequest request;
    request.set_review_id(review_id);
    request.set_study_id(*study_id);
    request.set_round(round);
    for (const v1::Answer& answer : answers) *request.add_answers() = answer;
    request.set_idempotency_key(parsed->Get("idempotency-key").value_or(NewIdempotencyKey()));
    // Retry while the server is unreachable: the idempotency key makes a
    // retry of a submission that did land return the first result.
    constexpr int kAttempts = 4;
    for (int attempt = 1;; ++attempt) {
      v1::SubmitAssessmentResponse response;
      std::unique_ptr<grpc::ClientContext> context = session.NewContext();
      const grpc::Status status = stub->SubmitAssessment(context.get(), request, &response);
      if (status.ok()) {
        assessment = response.assessment();
        replayed = response.replayed();
        break;
      }
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE || attempt == kAttempts) {
        session.Fail(DescribeRpcError(status, options));
        return session.exit_code();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250 << attempt));
    }
  }
  if (session.json()) {
    session.PrintJson(assessment);
    return kExitOk;
  }
  session.out() << (parsed->Has("draft") ? "Draft saved"
                    : replayed           ? "Already submitted (retry)"
                                         : "Submitted")
                << ": study " << *study_id << ", review " << review_id << ", round "
                << assessment.round() << "\n";
  PrintReport(session, assessment.report());
  return kExitOk;
}

int RunShowCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                   CommandIo& io) {
  Session session(options, io, "show");
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, {{"review", "round"}, {}});
  if (!parsed.ok()) return session.BadInput(parsed.status().message());
  int64_t study_id = 0, review_id = 0;
  if (!ParseStudyAndReview(session, *parsed, "usage: rqs show STUDY --review REVIEW [--round R]",
                           study_id, review_id)) {
    return kExitBadInput;
  }
  absl::StatusOr<std::optional<int64_t>> round = parsed->GetInt("round");
  if (!round.ok()) return session.BadInput(round.status().message());
  if (round->has_value() && (**round < 0 || **round > INT32_MAX)) {
    return session.BadInput("--round: expected a round number (0: your latest round)");
  }
  if (!session.Connect()) return session.exit_code();
  auto stub = session.Stub<v1::AssessmentService>();
  v1::GetMyAssessmentRequest request;
  request.set_review_id(review_id);
  request.set_study_id(study_id);
  request.set_round(static_cast<int32_t>(round->value_or(0)));
  v1::GetMyAssessmentResponse response;
  if (!session.Call(*stub, &v1::AssessmentService::Stub::GetMyAssessment, request, response)) {
    return session.exit_code();
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  const v1::Assessment& assessment = response.assessment();
  session.out() << "Study " << study_id << ", round " << assessment.round() << ", "
                << StateName(assessment.state()) << "\n";
  PrintReport(session, assessment.report());
  Table table({"criterion", "answer", "points", "rationale"});
  std::map<int, const v1::Answer*> by_criterion;
  for (const v1::Answer& answer : assessment.answers()) by_criterion[answer.criterion()] = &answer;
  for (const v1::CriterionScore& score : assessment.report().criteria()) {
    const auto answer = by_criterion.find(score.criterion());
    const std::string chosen = score.option_ids_size() > 0 ? absl::StrJoin(score.option_ids(), "+")
                               : score.answered()          ? "(points)"
                                                           : "-";
    table.Add({absl::StrCat(score.criterion()), chosen,
               absl::StrCat(score.points(), "/", score.max_points()),
               answer == by_criterion.end() ? "" : answer->second->rationale().substr(0, 60)});
  }
  table.Print(session.out());
  return kExitOk;
}

}  // namespace rqs::client
