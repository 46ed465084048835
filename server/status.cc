#include "server/status.h"

#include <iostream>
#include <string>

namespace rqs::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // The numeric values of the canonical codes are the same in both libraries
  // (google.rpc.Code), so the cast maps them 1:1.
  const auto code = static_cast<grpc::StatusCode>(status.code());
  if (status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown) {
    std::cerr << "rqs-server: internal error: " << status << "\n";
    return grpc::Status(code, "internal error; see the server log");
  }
  return grpc::Status(code, std::string(status.message()));
}

}  // namespace rqs::server
