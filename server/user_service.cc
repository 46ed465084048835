// rqs.v1.UserService: users and API tokens. Only the SHA-256 hash of a token
// is stored (db/token.h); the clear token leaves the server once, in
// IssueTokenResponse.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "db/token.h"
#include "scoring/status_macros.h"
#include "server/convert.h"
#include "server/limits.h"
#include "server/services.h"

namespace rqs::server {
namespace {

// Login names are typed on command lines and shown in listings, so they stay
// a small, unambiguous ASCII set.
absl::Status CheckUserName(absl::string_view name) {
  RQS_RETURN_IF_ERROR(CheckRequiredText("name", name, kMaxUserNameChars));
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != '-' && c != '@') {
      return absl::InvalidArgumentError(
          "name may contain only ASCII letters, digits, '.', '_', '-' and '@'");
    }
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* UserServiceImpl::GetCurrentUser(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary(env_, context, request, response,
                    [](const Caller& caller, const v1::GetCurrentUserRequest&,
                       v1::GetCurrentUserResponse* out) {
                      ToProto(caller.user, out->mutable_user());
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* UserServiceImpl::CreateUser(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(env_, context, request, response,
                    [store](const Caller& caller, const v1::CreateUserRequest& in,
                            v1::CreateUserResponse* out) -> absl::Status {
                      RQS_RETURN_IF_ERROR(RequireAdmin(caller));
                      RQS_RETURN_IF_ERROR(CheckUserName(in.name()));
                      db::NewUser user;
                      user.name = in.name();
                      user.is_admin = in.is_admin();
                      RQS_ASSIGN_OR_RETURN(db::User created,
                                           store->CreateUser(user, caller.user.id));
                      ToProto(created, out->mutable_user());
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* UserServiceImpl::ListUsers(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(env_, context, request, response,
                    [store](const Caller& caller, const v1::ListUsersRequest&,
                            v1::ListUsersResponse* out) -> absl::Status {
                      RQS_RETURN_IF_ERROR(RequireAdmin(caller));
                      RQS_ASSIGN_OR_RETURN(std::vector<db::User> users, store->ListUsers());
                      for (const db::User& user : users) ToProto(user, out->add_users());
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* UserServiceImpl::IssueToken(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(env_, context, request, response,
                    [store](const Caller& caller, const v1::IssueTokenRequest& in,
                            v1::IssueTokenResponse* out) -> absl::Status {
                      RQS_RETURN_IF_ERROR(RequireAdmin(caller));
                      RQS_RETURN_IF_ERROR(CheckText("label", in.label(), kMaxLabelChars));
                      if (in.expires_in_days() < 0 || in.expires_in_days() > kMaxTokenDays) {
                        return absl::InvalidArgumentError(
                            absl::StrCat("expires_in_days must be 0 (never) or 1..",
                                         kMaxTokenDays, ", got ", in.expires_in_days()));
                      }
                      RQS_ASSIGN_OR_RETURN(std::string secret, db::NewTokenSecret());
                      db::NewApiToken token;
                      token.user_id = in.user_id();
                      token.token_hash = db::Sha256Hex(secret);
                      token.label = in.label();
                      if (in.expires_in_days() > 0) {
                        token.expires_at = absl::Now() + absl::Hours(24) * in.expires_in_days();
                      }
                      absl::StatusOr<db::ApiToken> stored =
                          store->CreateApiToken(token, caller.user.id);
                      if (absl::IsNotFound(stored.status())) {
                        return absl::NotFoundError(
                            absl::StrCat("user ", in.user_id(), " not found"));
                      }
                      RQS_RETURN_IF_ERROR(stored.status());
                      out->set_token_id(stored->id);
                      out->set_token(secret);
                      if (stored->expires_at.has_value()) {
                        ToProto(*stored->expires_at, out->mutable_expire_time());
                      }
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* UserServiceImpl::ListTokens(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(env_, context, request, response,
                    [store](const Caller& caller, const v1::ListTokensRequest& in,
                            v1::ListTokensResponse* out) -> absl::Status {
                      RQS_RETURN_IF_ERROR(RequireAdmin(caller));
                      RQS_RETURN_IF_ERROR(store->GetUser(in.user_id()).status());
                      RQS_ASSIGN_OR_RETURN(std::vector<db::ApiToken> tokens,
                                           store->ListApiTokens(in.user_id()));
                      for (const db::ApiToken& token : tokens) ToProto(token, out->add_tokens());
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* UserServiceImpl::RevokeToken(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(env_, context, request, response,
                    [store](const Caller& caller, const v1::RevokeTokenRequest& in,
                            v1::RevokeTokenResponse*) -> absl::Status {
                      RQS_RETURN_IF_ERROR(RequireAdmin(caller));
                      return store->RevokeApiToken(in.token_id(), caller.user.id).status();
                    });
}

}  // namespace rqs::server
