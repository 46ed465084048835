// The shape shared by every unary RPC of rqs-server.
//
// A gRPC callback handler must not block, so ServeUnary only copies the raw
// request and the authorization metadata and queues the real work on the
// bounded worker pool. The worker decodes the request (DecodeRequest: invalid
// UTF-8 becomes INVALID_ARGUMENT naming the field), authenticates the caller,
// runs the handler (authorise -> scoring/db -> encode) and finishes the call
// with ToGrpcStatus. When the pool's queue is full the call fails at once with
// RESOURCE_EXHAUSTED.
#ifndef RQS_SERVER_RPC_H_
#define RQS_SERVER_RPC_H_

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "db/store.h"
#include "server/auth.h"
#include "server/memory.h"
#include "server/status.h"
#include "server/thread_pool.h"

namespace rqs::server {

// What every service needs; owned by the Server, outliving every call.
struct ServiceEnv {
  db::Store* store = nullptr;
  ThreadPool* pool = nullptr;
  // The worker of Workers::kReviewWide calls; `pool` if null.
  ThreadPool* review_wide_pool = nullptr;
  // Told when a Workers::kReviewWide call ended; nothing if null.
  IdleMemoryReleaser* memory_releaser = nullptr;
};

// Returns the value of the call's "authorization" metadata, or "".
std::string AuthorizationOf(const grpc::CallbackServerContext& context);

// Parses `buffer` into `message`. Errors: INVALID_ARGUMENT naming the first
// string field that is not valid UTF-8 (e.g. "answers[2].rationale"), or
// saying the bytes are not a `message` at all.
absl::Status DecodeRequest(const grpc::ByteBuffer& buffer, google::protobuf::Message* message);

// Serializes `message` into `buffer`. INTERNAL if that fails.
absl::Status EncodeResponse(const google::protobuf::Message& message, grpc::ByteBuffer* buffer);

// Which workers run a call.
enum class Workers {
  // The pool sized like the database connection pool.
  kShared,
  // One worker of their own, for calls that read a whole review (every
  // study's state: tens of megabytes for 2,000 studies). glibc keeps what a
  // thread frees in that thread's malloc arena; spread over the shared
  // workers, such reads left their peak in each arena they ran in, while
  // one after another on one worker they reuse the same memory. They also
  // cannot multiply the server's memory by running side by side. Once such
  // calls pause, the memory they freed goes back to the system
  // (IdleMemoryReleaser, server/memory.h).
  kReviewWide,
};

namespace internal {

// The request and response types of a handler
// `absl::Status(const Caller&, const Request&, Response*)`.
template <typename T>
struct HandlerTraits : HandlerTraits<decltype(&T::operator())> {};
template <typename C, typename Req, typename Resp>
struct HandlerTraits<absl::Status (C::*)(const Caller&, const Req&, Resp*) const> {
  using Request = Req;
  using Response = Resp;
};

}  // namespace internal

// Serves one unary call: `handler(const Caller&, const Request&, Response*)`
// returns absl::Status and runs on a worker after decoding and
// authentication, on the `workers` pool. Returns the reactor to hand back to
// gRPC.
template <typename Handler>
grpc::ServerUnaryReactor* ServeUnary(const ServiceEnv& env, grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request, grpc::ByteBuffer* response,
                                     Handler handler, Workers workers = Workers::kShared) {
  using Request = typename internal::HandlerTraits<Handler>::Request;
  using Response = typename internal::HandlerTraits<Handler>::Response;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  db::Store* store = env.store;
  ThreadPool* pool = workers == Workers::kReviewWide && env.review_wide_pool != nullptr
                         ? env.review_wide_pool
                         : env.pool;
  IdleMemoryReleaser* const memory_releaser =
      workers == Workers::kReviewWide ? env.memory_releaser : nullptr;
  const bool queued = pool->TrySubmit([store, reactor, raw_request = *request, response,
                                       handler = std::move(handler),
                                       authorization = AuthorizationOf(*context),
                                       memory_releaser]() {
        absl::Status status = [&]() -> absl::Status {
          // Authenticate first: an anonymous caller learns nothing, not even
          // whether its request would have been well-formed.
          absl::StatusOr<Caller> caller = Authenticate(*store, authorization);
          if (!caller.ok()) return caller.status();
          Request decoded;
          if (absl::Status decoding = DecodeRequest(raw_request, &decoded); !decoding.ok()) {
            return decoding;
          }
          Response out;
          if (absl::Status handled = handler(*caller, decoded, &out); !handled.ok()) {
            return handled;
          }
          return EncodeResponse(out, response);
        }();
        reactor->Finish(ToGrpcStatus(status));
        if (memory_releaser != nullptr) memory_releaser->CallEnded();
      });
  if (!queued) {
    reactor->Finish(ToGrpcStatus(
        absl::ResourceExhaustedError("the server is busy; retry with backoff")));
  }
  return reactor;
}

}  // namespace rqs::server

#endif  // RQS_SERVER_RPC_H_
