// The one place where an absl::Status becomes a grpc::Status.
//
// Everything below the gRPC adapters (scoring, db, server logic) reports
// errors as absl::Status; the adapters convert with ToGrpcStatus just before
// finishing a call, so every RPC maps codes the same way.
#ifndef RQS_SERVER_STATUS_H_
#define RQS_SERVER_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace rqs::server {

// Returns the grpc::Status with the same code (the canonical codes are
// numbered identically in Abseil and gRPC) and message. INTERNAL and UNKNOWN
// messages are logged and replaced by a generic text, because they can carry
// database details a client must not see.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace rqs::server

#endif  // RQS_SERVER_STATUS_H_
