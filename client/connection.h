// How `rqs` reaches the server: address, credentials, TLS and deadlines.
//
// Settings come from global flags (anywhere on the command line) or the
// environment:
//   --server ADDR     RQS_SERVER   host:port, default localhost:50051
//   --token TOKEN     RQS_TOKEN    API token sent as "authorization: Bearer"
//   --tls-ca FILE     RQS_TLS_CA   PEM roots; enables TLS (also --tls alone
//                                  for the system roots)
//   --timeout SECS    RQS_TIMEOUT  deadline of every call, default 30
//   --json                         machine-readable output
#ifndef RQS_CLIENT_CONNECTION_H_
#define RQS_CLIENT_CONNECTION_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace rqs::client {

// Global settings shared by every remote command.
struct GlobalOptions {
  std::string server = "localhost:50051";
  std::string token;
  bool tls = false;
  std::string tls_ca_path;
  double timeout_seconds = 30;
  bool json = false;
};

// Reads an environment variable; injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const char*)>;

// The process environment.
EnvLookup ProcessEnvironment();

// Removes the global flags from `args` (wherever they appear, before "--") and
// returns the settings, with the environment filling what flags leave unset.
// Errors: INVALID_ARGUMENT naming the flag or variable (a timeout that is not
// a positive number, a flag without its value).
absl::StatusOr<GlobalOptions> ExtractGlobalOptions(std::vector<std::string>& args,
                                                   const EnvLookup& env);

// Channel arguments a command may need beyond the defaults.
struct ChannelSettings {
  // Largest reply accepted, in bytes. Exports raise it.
  int max_receive_message_bytes = 64 << 20;
  // Send HTTP/2 keepalive pings so that a long-lived, mostly idle stream
  // (rqs watch) notices a dead connection.
  bool keepalive = false;
};

// A channel to the server plus the per-call context every call needs.
class Connection {
 public:
  // Opens a channel (lazily connected). Errors: INVALID_ARGUMENT when the
  // TLS roots cannot be read, FAILED_PRECONDITION without a token.
  static absl::StatusOr<Connection> Open(const GlobalOptions& options,
                                         const ChannelSettings& settings = {});

  // A fresh context carrying the bearer token and the deadline.
  std::unique_ptr<grpc::ClientContext> NewContext() const;

  // A fresh context carrying the bearer token and no deadline, for a
  // server stream that runs until the user stops it.
  std::unique_ptr<grpc::ClientContext> NewStreamContext() const;

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  Connection(std::shared_ptr<grpc::Channel> channel, std::string token, double timeout_seconds)
      : channel_(std::move(channel)), token_(std::move(token)), timeout_seconds_(timeout_seconds) {}

  std::shared_ptr<grpc::Channel> channel_;
  std::string token_;
  double timeout_seconds_;
};

// "rqs: NOT_FOUND: study 7 ..." style one-line rendering of a failed call,
// with a hint for the codes a user can act on (unreachable server, bad token).
std::string DescribeRpcError(const grpc::Status& status, const GlobalOptions& options);

}  // namespace rqs::client

#endif  // RQS_CLIENT_CONNECTION_H_
