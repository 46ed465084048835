#include "server/auth.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "db/token.h"
#include "scoring/status_macros.h"

namespace rqs::server {
namespace {

// Longer values are rejected before hashing; real tokens are 47 characters.
constexpr std::size_t kMaxTokenChars = 512;
// A token file shorter than this is more likely a mistake than a secret.
constexpr std::size_t kMinAdminTokenChars = 20;
constexpr absl::string_view kBootstrapAdminName = "admin";

absl::Status Unauthenticated() {
  return absl::UnauthenticatedError(
      "missing or invalid credentials: send 'authorization: Bearer <token>' with a valid, "
      "unrevoked token");
}

}  // namespace

absl::StatusOr<Caller> Authenticate(db::Store& store, absl::string_view authorization) {
  constexpr absl::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size() || authorization.size() > kMaxTokenChars ||
      !absl::StartsWithIgnoreCase(authorization, kScheme)) {
    return Unauthenticated();
  }
  const absl::string_view token = absl::StripAsciiWhitespace(authorization.substr(kScheme.size()));
  if (token.empty()) return Unauthenticated();
  absl::StatusOr<db::AuthenticatedUser> found =
      store.LookupApiToken(db::Sha256Hex(std::string(token)));
  if (!found.ok()) {
    // The store says why (unknown, revoked, expired); the client must not learn it.
    if (found.status().code() == absl::StatusCode::kUnauthenticated) return Unauthenticated();
    return found.status();
  }
  return Caller{std::move(found->user), found->token_id};
}

absl::Status RequireAdmin(const Caller& caller) {
  if (!caller.user.is_admin) {
    return absl::PermissionDeniedError("this call is for server administrators only");
  }
  return absl::OkStatus();
}

absl::Status ReviewNotFound(int64_t review_id) {
  return absl::NotFoundError(absl::StrCat("review ", review_id, " not found"));
}

absl::Status StudyNotFound(int64_t review_id, int64_t study_id) {
  return absl::NotFoundError(absl::StrCat("study ", study_id, " not found in review ", review_id));
}

namespace {

// PERMISSION_DENIED unless `role` is one of `allowed`.
absl::Status CheckRole(int64_t review_id, db::ReviewRole role,
                       std::initializer_list<db::ReviewRole> allowed) {
  if (std::find(allowed.begin(), allowed.end(), role) != allowed.end()) {
    return absl::OkStatus();
  }
  std::string names;
  for (db::ReviewRole name : allowed) {
    absl::StrAppend(&names, names.empty() ? "" : " or ", std::string(db::ReviewRoleName(name)));
  }
  return absl::PermissionDeniedError(absl::StrCat("this call needs role ", names, " in review ",
                                                  review_id, "; you are ",
                                                  std::string(db::ReviewRoleName(role))));
}

}  // namespace

absl::StatusOr<ReviewAccess> AuthorizeReview(db::Store& store, const Caller& caller,
                                             int64_t review_id,
                                             std::initializer_list<db::ReviewRole> allowed) {
  absl::StatusOr<db::ReviewRole> role = store.GetReviewRole(review_id, caller.user.id);
  if (!role.ok()) {
    if (role.status().code() == absl::StatusCode::kNotFound) return ReviewNotFound(review_id);
    return role.status();
  }
  RQS_RETURN_IF_ERROR(CheckRole(review_id, *role, allowed));
  absl::StatusOr<db::Review> review = store.GetReview(review_id);
  if (!review.ok()) {
    if (review.status().code() == absl::StatusCode::kNotFound) return ReviewNotFound(review_id);
    return review.status();
  }
  return ReviewAccess{*std::move(review), *role};
}

absl::StatusOr<db::Study> FindVisibleStudy(db::Store& store, const Caller& caller,
                                           const ReviewAccess& access, int64_t study_id) {
  absl::StatusOr<db::Study> study = store.GetStudy(study_id);
  if (!study.ok()) {
    if (study.status().code() == absl::StatusCode::kNotFound) {
      return StudyNotFound(access.review.id, study_id);
    }
    return study.status();
  }
  if (study->review_id != access.review.id) return StudyNotFound(access.review.id, study_id);
  if (access.role == db::ReviewRole::kRater) {
    RQS_ASSIGN_OR_RETURN(const bool assigned, store.IsAssigned(study_id, caller.user.id));
    if (!assigned) return StudyNotFound(access.review.id, study_id);
  }
  return study;
}

absl::StatusOr<StudyGrant> AuthorizeStudy(db::Store& store, const Caller& caller, int64_t review_id,
                                          int64_t study_id,
                                          std::initializer_list<db::ReviewRole> allowed) {
  absl::StatusOr<db::StudyAccess> found = store.GetStudyAccess(review_id, study_id, caller.user.id);
  if (!found.ok()) {
    if (found.status().code() == absl::StatusCode::kNotFound) return ReviewNotFound(review_id);
    return found.status();
  }
  if (!found->role.has_value()) return ReviewNotFound(review_id);
  RQS_RETURN_IF_ERROR(CheckRole(review_id, *found->role, allowed));
  if (!found->study.has_value() || (*found->role == db::ReviewRole::kRater && !found->assigned)) {
    return StudyNotFound(review_id, study_id);
  }
  return StudyGrant{ReviewAccess{std::move(found->review), *found->role}, *std::move(found->study)};
}

absl::Status BootstrapAdmin(db::Store& store, const std::string& admin_token_file,
                            std::ostream& out) {
  RQS_ASSIGN_OR_RETURN(const std::vector<db::User> users, store.ListUsers());
  if (!users.empty()) {
    if (!admin_token_file.empty()) {
      out << "rqs-server: users exist; ignoring the admin token file\n";
    }
    return absl::OkStatus();
  }
  std::string secret;
  if (!admin_token_file.empty()) {
    std::ifstream file(admin_token_file);
    if (!file || !std::getline(file, secret)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read an admin token from '", admin_token_file, "'"));
    }
    secret = std::string(absl::StripAsciiWhitespace(secret));
    if (secret.size() < kMinAdminTokenChars || secret.size() > kMaxTokenChars) {
      return absl::InvalidArgumentError(absl::StrCat("the admin token in '", admin_token_file,
                                                     "' must have ", kMinAdminTokenChars, "..",
                                                     kMaxTokenChars, " characters"));
    }
  } else {
    RQS_ASSIGN_OR_RETURN(secret, db::NewTokenSecret());
  }
  db::NewUser admin;
  admin.name = std::string(kBootstrapAdminName);
  admin.is_admin = true;
  db::NewApiToken token;
  token.token_hash = db::Sha256Hex(secret);
  token.label = "bootstrap";
  // One transaction: a crash can never leave an admin without a token.
  absl::StatusOr<db::User> user = store.CreateUserWithToken(admin, token, /*actor_id=*/0);
  if (absl::IsAlreadyExists(user.status())) {
    // Another replica bootstrapped at the same moment; its admin stands.
    return absl::OkStatus();
  }
  RQS_RETURN_IF_ERROR(user.status());
  if (admin_token_file.empty()) {
    out << "rqs-server: first start: created user 'admin' with this API token (shown once, "
           "store it now):\n"
        << secret << "\n";
  } else {
    out << "rqs-server: first start: created user 'admin' with the token from '" << admin_token_file
        << "'\n";
  }
  out.flush();
  return absl::OkStatus();
}

}  // namespace rqs::server
