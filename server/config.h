// Settings of rqs-server, from command-line flags and environment variables.
//
// Each setting has a flag and an environment variable; the flag wins. Parsing
// validates everything up front so that a bad setting stops the server at
// start with a message naming the flag, never later in the middle of a call.
//
//   --database-url   RQS_DATABASE_URL      libpq connection string or URL (required)
//   --listen         RQS_LISTEN            host:port; default localhost:50051;
//                                          port 0 picks a free port
//   --admin-token-file RQS_ADMIN_TOKEN_FILE file holding the first admin's token
//   --pool-size      RQS_POOL_SIZE         database connections and worker threads,
//                                          1..256; default DefaultPoolSize()
//   --tls-cert       RQS_TLS_CERT          PEM certificate chain
//   --tls-key        RQS_TLS_KEY           PEM private key
//   --health-listen  RQS_HEALTH_LISTEN     host:port of a second, plaintext
//                                          listener serving only gRPC health
//                                          checking; port 0 picks a free port
//   --migrate-only   RQS_MIGRATE_ONLY      apply the database migrations and
//                                          exit without serving (a switch; the
//                                          variable takes 1/0, true/false, yes/no)
//
// Without TLS the server listens in plaintext, which is only allowed on a
// loopback address (localhost, 127.x.y.z, [::1]). The health-only listener is
// always plaintext and may use any address: Kubernetes' gRPC probes cannot
// speak TLS, and it serves nothing but grpc.health.v1.Health, which carries
// no data and needs no token.
//
// With --migrate-only nothing listens, so the checks that guard listening
// (plaintext only on loopback, TLS and admin token files readable) are
// skipped; every value given is still checked for form.
#ifndef RQS_SERVER_CONFIG_H_
#define RQS_SERVER_CONFIG_H_

#include <functional>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace rqs::server {

// Two connections per hardware thread, at least 4. Measured with
// bench/load.sh on 2 cores, 16 concurrent raters: 4 connections gave 403
// submissions/s, 8 gave 303 and 16 gave 308. Beyond about two per core the
// backends only compete for the CPU and the WAL flush.
int DefaultPoolSize();

struct ServerConfig {
  std::string database_url;
  std::string listen = "localhost:50051";
  std::string admin_token_file;  // Empty: print a generated admin token.
  int pool_size = DefaultPoolSize();
  std::string tls_cert_file;  // Both empty (plaintext) or both set.
  std::string tls_key_file;
  std::string health_listen;  // Empty: no health-only listener.
  bool migrate_only = false;  // Apply the migrations and exit.
  bool help = false;  // --help was given; nothing else is validated.

  // Whether the server speaks TLS.
  bool UsesTls() const { return !tls_cert_file.empty(); }
  // Whether a health-only listener is configured.
  bool HasHealthListener() const { return !health_listen.empty(); }
};

// Looks up an environment variable; nullopt if unset.
using EnvLookup = std::function<std::optional<std::string>(absl::string_view name)>;

// Returns an EnvLookup reading the process environment.
EnvLookup ProcessEnv();

// Parses flags (`args` excludes the program name; "--flag=value" and
// "--flag value" both work) over the environment and validates the result.
// Errors: INVALID_ARGUMENT naming the flag or variable and what is wrong.
absl::StatusOr<ServerConfig> ParseServerConfig(const std::vector<std::string>& args,
                                               const EnvLookup& env);

// Returns whether `host_port`'s host is a loopback address or "localhost".
bool IsLoopback(absl::string_view host_port);

// Usage text for --help.
std::string ServerUsage();

}  // namespace rqs::server

#endif  // RQS_SERVER_CONFIG_H_
