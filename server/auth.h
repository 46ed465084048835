// Authentication and per-review authorisation of rqs-server calls.
//
// Every RPC except health checking carries "authorization: Bearer <token>".
// The server hashes the token (SHA-256, db/token.h) and looks the hash up;
// clear tokens are never stored. Roles are per review and are read from the
// database on every call, so a role change or a revoked token takes effect
// at once.
//
// Error policy, shared by every service:
//   - missing, malformed, unknown, revoked or expired token: UNAUTHENTICATED,
//     one message for all (a client learns nothing about other tokens);
//   - a review the caller is not a member of: NOT_FOUND, with exactly the
//     message a review that does not exist gets;
//   - a study outside the review, or (for raters) not assigned to the caller:
//     NOT_FOUND, with exactly the message a study that does not exist gets;
//   - a member whose role does not allow the call, or a non-admin calling an
//     admin RPC: PERMISSION_DENIED.
#ifndef RQS_SERVER_AUTH_H_
#define RQS_SERVER_AUTH_H_

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "db/store.h"

namespace rqs::server {

// The authenticated caller of an RPC.
struct Caller {
  db::User user;
  int64_t token_id = 0;
};

// A caller's membership in a review, once authorised.
struct ReviewAccess {
  db::Review review;
  db::ReviewRole role = db::ReviewRole::kObserver;
};

// Authenticates the value of the "authorization" metadata (empty if absent).
// Returns the caller. Errors: UNAUTHENTICATED (see above); UNAVAILABLE if
// the database cannot be reached.
absl::StatusOr<Caller> Authenticate(db::Store& store, absl::string_view authorization);

// Returns OK if the caller administers the server, else PERMISSION_DENIED.
absl::Status RequireAdmin(const Caller& caller);

// Returns the review and the caller's role if the caller is a member whose
// role is one of `allowed`. Errors: NOT_FOUND if the review does not exist
// or the caller is not a member (same message); PERMISSION_DENIED if the
// role is not allowed.
absl::StatusOr<ReviewAccess> AuthorizeReview(db::Store& store, const Caller& caller,
                                             int64_t review_id,
                                             std::initializer_list<db::ReviewRole> allowed);

// Returns the study if it belongs to the review and the caller may see it:
// raters only the studies assigned to them. Errors: NOT_FOUND otherwise (one
// message whether or not the study exists).
absl::StatusOr<db::Study> FindVisibleStudy(db::Store& store, const Caller& caller,
                                           const ReviewAccess& access, int64_t study_id);

// A study the caller may work on, and their access to its review.
struct StudyGrant {
  ReviewAccess access;
  db::Study study;
};

// AuthorizeReview and FindVisibleStudy in one: the checks and errors of
// both, from a single database read. For the per-study calls of raters,
// which every submission makes.
absl::StatusOr<StudyGrant> AuthorizeStudy(db::Store& store, const Caller& caller, int64_t review_id,
                                          int64_t study_id,
                                          std::initializer_list<db::ReviewRole> allowed);

// The NOT_FOUND error for a review the caller may not see.
absl::Status ReviewNotFound(int64_t review_id);
// The NOT_FOUND error for a study the caller may not see.
absl::Status StudyNotFound(int64_t review_id, int64_t study_id);

// On first start (no user exists), creates the user "admin" with an API
// token: the one in `admin_token_file` if set (its first line, trimmed), else
// a new one printed once to `out`. Does nothing if users exist. Errors:
// INVALID_ARGUMENT for an unreadable or too short token file; any store error.
absl::Status BootstrapAdmin(db::Store& store, const std::string& admin_token_file,
                            std::ostream& out);

}  // namespace rqs::server

#endif  // RQS_SERVER_AUTH_H_
