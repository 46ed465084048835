#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "db/migrate.h"
#include "scoring/status_macros.h"
#include "server/auth.h"
#include "server/limits.h"
#include "server/memory.h"

namespace rqs::server {
namespace {

// Calls waiting for a worker, per worker. Beyond this the server answers
// RESOURCE_EXHAUSTED at once instead of queueing unboundedly.
constexpr std::size_t kQueuedCallsPerWorker = 64;

// How long whole-review reads must pause before the memory they freed goes
// back to the system: a client reading a review's summary, agreement and
// progress one after another keeps its memory warm, an idle server gives
// it back.
constexpr absl::Duration kReleaseMemoryAfterIdle = absl::Seconds(2);

// A health check request holds only a service name; the health-only port
// may be open to anyone, so it accepts nothing bigger.
constexpr int kMaxHealthRequestBytes = 4 * 1024;

// Removes the plugins gRPC adds to every server of the process, server
// reflection among them: on the health-only port, reflection would describe
// the whole rqs API to anyone who can reach a port without TLS.
class WithoutPlugins : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments* /*args*/) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->clear();
  }
};

// Answers every call on the health-only port that the health service does
// not take, with UNIMPLEMENTED naming the method. gRPC also refuses to start
// a server that has no service of its own (the default health service is
// added only once it starts), and this is one.
class HealthOnlyRefusals : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    class Refusal : public grpc::ServerGenericBidiReactor {
     public:
      explicit Refusal(const std::string& method) {
        Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                            absl::StrCat(method,
                                         ": this port serves only grpc.health.v1.Health; call the "
                                         "rqs API on the --listen address")));
      }
      void OnDone() override { delete this; }
    };
    return new Refusal(context->method());
  }
};

// "host:port" of `listen` with the port actually bound.
std::string BoundAddress(const std::string& listen, int port) {
  return absl::StrCat(listen.substr(0, listen.rfind(':')), ":", port);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::InvalidArgumentError(absl::StrCat("cannot read '", path, "'"));
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const ServerConfig& config) {
  if (!config.UsesTls()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  RQS_ASSIGN_OR_RETURN(pair.private_key, ReadFile(config.tls_key_file));
  RQS_ASSIGN_OR_RETURN(pair.cert_chain, ReadFile(config.tls_cert_file));
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back(std::move(pair));
  return grpc::SslServerCredentials(options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerConfig& config,
                                                      std::ostream& log) {
  std::unique_ptr<Server> server(new Server());
  db::StoreOptions store_options;
  store_options.conninfo = config.database_url;
  store_options.pool_size = config.pool_size;
  store_options.migrate = true;
  RQS_ASSIGN_OR_RETURN(server->store_, db::Store::Open(store_options));
  RQS_RETURN_IF_ERROR(BootstrapAdmin(*server->store_, config.admin_token_file, log));
  RQS_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                       Credentials(config));

  // One worker per database connection: more would only wait for connections.
  server->pool_ = std::make_unique<ThreadPool>(
      config.pool_size, kQueuedCallsPerWorker * static_cast<std::size_t>(config.pool_size));
  // Whole-review reads one at a time (see Workers::kReviewWide), queueing as
  // many as all the shared workers would.
  server->review_wide_pool_ = std::make_unique<ThreadPool>(
      1, kQueuedCallsPerWorker * static_cast<std::size_t>(config.pool_size));
  server->memory_releaser_ = std::make_unique<IdleMemoryReleaser>(kReleaseMemoryAfterIdle);
  const ServiceEnv env{server->store_.get(), server->pool_.get(), server->review_wide_pool_.get(),
                       server->memory_releaser_.get()};
  server->instrument_service_ = std::make_unique<InstrumentServiceImpl>(env);
  server->user_service_ = std::make_unique<UserServiceImpl>(env);
  server->review_service_ = std::make_unique<ReviewServiceImpl>(env);
  server->assessment_service_ = std::make_unique<AssessmentServiceImpl>(env);
  server->watch_hub_ = std::make_unique<ReviewWatchHub>(server->store_.get());
  server->consensus_service_ =
      std::make_unique<ConsensusServiceImpl>(env, server->watch_hub_.get());
  ReviewWatchHub* hub = server->watch_hub_.get();
  RQS_ASSIGN_OR_RETURN(server->event_listener_,
                       db::ReviewEventListener::Start(config.database_url, [hub](int64_t review_id) {
                         hub->Notify(review_id);
                       }));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen, credentials, &server->port_);
  // gRPC binds with SO_REUSEPORT by default: a second server (say, a stale
  // one) would silently share the port and its clients. Fail instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  // Exports of large reviews are bigger than any request needs to be.
  builder.SetMaxSendMessageSize(kMaxResponseBytes);
  builder.RegisterService(server->instrument_service_.get());
  builder.RegisterService(server->user_service_.get());
  builder.RegisterService(server->review_service_.get());
  builder.RegisterService(server->assessment_service_.get());
  builder.RegisterService(server->consensus_service_.get());
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on '", config.listen,
                                               "' (address in use or not local?)"));
  }
  server->address_ = BoundAddress(config.listen, server->port_);

  if (config.HasHealthListener()) {
    // No rqs service and no reflection: only the default health service,
    // which needs no token, and refusals. Plaintext on purpose (config.h).
    grpc::ServerBuilder health_builder;
    health_builder.AddListeningPort(config.health_listen, grpc::InsecureServerCredentials(),
                                    &server->health_port_);
    health_builder.SetMaxReceiveMessageSize(kMaxHealthRequestBytes);
    // Binding a port that another socket holds must fail, not share it.
    health_builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    health_builder.SetOption(std::make_unique<WithoutPlugins>());
    server->health_refusals_ = std::make_unique<HealthOnlyRefusals>();
    health_builder.RegisterCallbackGenericService(server->health_refusals_.get());
    server->health_server_ = health_builder.BuildAndStart();
    if (server->health_server_ == nullptr || server->health_port_ == 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen on '", config.health_listen,
                                                 "' for health checks (address in use?)"));
    }
    if (server->health_server_->GetHealthCheckService() == nullptr) {
      return absl::InternalError("the health-only listener has no health checking service");
    }
    server->health_address_ = BoundAddress(config.health_listen, server->health_port_);
  }
  server->SetServingStatus(true);
  return server;
}

void Server::SetServingStatus(bool serving) {
  for (grpc::Server* listener : {grpc_server_.get(), health_server_.get()}) {
    if (listener == nullptr) continue;
    if (auto* health = listener->GetHealthCheckService(); health != nullptr) {
      health->SetServingStatus(serving);
    }
  }
}

absl::StatusOr<int> MigrateDatabase(const ServerConfig& config) {
  return db::ApplyMigrations(config.database_url, db::EmbeddedMigrations());
}

void Server::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  SetServingStatus(false);
  if (grpc_server_ != nullptr) {
    // Watch streams never end by themselves: end them so that Shutdown
    // does not wait the whole grace period for them.
    if (watch_hub_ != nullptr) watch_hub_->Shutdown();
    grpc_server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(grace));
  }
  // Closed last, so that probes saw NOT_SERVING while the calls drained.
  // Health calls are instant; only Watch streams remain, and they may go.
  if (health_server_ != nullptr) health_server_->Shutdown(std::chrono::system_clock::now());
  event_listener_.reset();
  // Every call has finished; the workers drain nothing more and stop.
  pool_.reset();
  review_wide_pool_.reset();
  memory_releaser_.reset();
}

Server::~Server() { Shutdown(); }

}  // namespace rqs::server
