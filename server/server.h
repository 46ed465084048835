// rqs-server as a library: opens the store, bootstraps the first admin,
// and serves the rqs.v1 services plus gRPC health checking and reflection,
// optionally with a second, plaintext listener that serves health checking
// only (for probes that cannot speak TLS).
//
// main.cc only parses the configuration, starts a Server and waits for a
// signal; tests start a Server in-process on port 0 the same way.
//
// Example:
//   RQS_ASSIGN_OR_RETURN(ServerConfig config, ParseServerConfig(args, ProcessEnv()));
//   RQS_ASSIGN_OR_RETURN(std::unique_ptr<Server> server, Server::Start(config, std::cout));
//   std::cout << "listening on " << server->address() << "\n";
//   ...
//   server->Shutdown();
#ifndef RQS_SERVER_SERVER_H_
#define RQS_SERVER_SERVER_H_

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "db/store.h"
#include "server/config.h"
#include "server/memory.h"
#include "server/review_watch.h"
#include "server/services.h"
#include "server/thread_pool.h"

namespace rqs::server {

class Server {
 public:
  // Opens the database (running pending migrations), creates the first admin
  // if there is no user yet (printing its token to `log` unless a token file
  // is configured) and starts listening, on `config.health_listen` too if it
  // is set. Returns the running server.
  // Errors: those of db::Store::Open and BootstrapAdmin; UNAVAILABLE if an
  // address cannot be bound; INVALID_ARGUMENT for unreadable TLS files.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerConfig& config,
                                                       std::ostream& log);

  // Shuts down (if not yet) and releases everything.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The port actually bound (useful when the configuration asked for 0).
  int port() const { return port_; }
  // "host:port" with the bound port, for clients to dial.
  const std::string& address() const { return address_; }
  // The health-only listener's "host:port" with the bound port; empty if
  // none is configured.
  const std::string& health_address() const { return health_address_; }
  // The store the server uses; for tests that inspect the database.
  db::Store& store() { return *store_; }

  // Reports NOT_SERVING on both listeners, stops accepting calls, lets
  // running calls finish (cancelling those still running after `grace`),
  // then closes the health-only listener and stops the workers. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(5));

 private:
  Server() = default;

  // Sets what health checking reports on the main listener and on the
  // health-only one alike: the only way the status changes, so that the
  // probes' port never disagrees with the port they stand for.
  void SetServingStatus(bool serving);

  std::unique_ptr<db::Store> store_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<ThreadPool> review_wide_pool_;  // See Workers::kReviewWide.
  // Told by review_wide_pool_'s calls; outlives the pools.
  std::unique_ptr<IdleMemoryReleaser> memory_releaser_;
  // Declared before the gRPC server so that they outlive its streams.
  std::unique_ptr<ReviewWatchHub> watch_hub_;
  std::unique_ptr<db::ReviewEventListener> event_listener_;
  std::unique_ptr<InstrumentServiceImpl> instrument_service_;
  std::unique_ptr<UserServiceImpl> user_service_;
  std::unique_ptr<ReviewServiceImpl> review_service_;
  std::unique_ptr<AssessmentServiceImpl> assessment_service_;
  std::unique_ptr<ConsensusServiceImpl> consensus_service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  // Both null without --health-listen.
  std::unique_ptr<grpc::CallbackGenericService> health_refusals_;
  std::unique_ptr<grpc::Server> health_server_;
  int port_ = 0;
  std::string address_;
  int health_port_ = 0;
  std::string health_address_;
  bool shut_down_ = false;
};

// Applies the database's pending migrations (db/migrations, under the same
// advisory lock as Server::Start) without serving anything: rqs-server
// --migrate-only. Returns the schema version reached.
// Errors: those of db::ApplyMigrations (UNAVAILABLE if the database cannot
// be reached, FAILED_PRECONDITION if its schema is newer than this binary).
absl::StatusOr<int> MigrateDatabase(const ServerConfig& config);

}  // namespace rqs::server

#endif  // RQS_SERVER_SERVER_H_
