#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "scoring/status_macros.h"
#include "server/auth.h"
#include "server/limits.h"

namespace rqs::server {
namespace {

// Calls waiting for a worker, per worker. Beyond this the server answers
// RESOURCE_EXHAUSTED at once instead of queueing unboundedly.
constexpr std::size_t kQueuedCallsPerWorker = 64;

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
  const ServiceEnv env{server->store_.get(), server->pool_.get(), server->review_wide_pool_.get()};
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
  const std::size_t colon = config.listen.rfind(':');
  server->address_ = absl::StrCat(config.listen.substr(0, colon), ":", server->port_);
  return server;
}

void Server::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (grpc_server_ != nullptr) {
    if (auto* health = grpc_server_->GetHealthCheckService(); health != nullptr) {
      health->SetServingStatus(false);
    }
    // Watch streams never end by themselves: end them so that Shutdown
    // does not wait the whole grace period for them.
    if (watch_hub_ != nullptr) watch_hub_->Shutdown();
    grpc_server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(grace));
  }
  event_listener_.reset();
  // Every call has finished; the workers drain nothing more and stop.
  pool_.reset();
  review_wide_pool_.reset();
}

Server::~Server() { Shutdown(); }

}  // namespace rqs::server
