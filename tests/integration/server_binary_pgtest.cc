// Runs the real rqs-server executable as an operator would: configuration
// from flags and environment, port 0 with the chosen port printed, first-start
// admin bootstrap, health checking and reflection, clean shutdown on SIGTERM,
// data kept across a restart, fail-fast configuration errors, the plaintext
// health-only listener (--health-listen) and --migrate-only.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "db/migrate.h"
#include "rqs/v1/user.grpc.pb.h"
#include "tests/integration/server_process.h"
#include "tests/unit/db/test_database.h"
#include "wire/health.grpc.pb.h"
#include "wire/reflection.grpc.pb.h"

namespace rqs::server::testing {
namespace {

using ::rqs::testing::ServerProcess;
using ::testing::HasSubstr;

// Returns the address in "rqs-server: listening on HOST:PORT (...)", or
// after another `prefix` ("health checks on ").
std::string AddressOf(const std::string& line, const std::string& prefix = "listening on ") {
  const std::size_t start = line.find(prefix);
  if (start == std::string::npos) return "";
  const std::size_t from = start + prefix.size();
  return line.substr(from, line.find(' ', from) - from);
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return context;
}

class ServerBinaryTest : public db::testing::PgTest {};

TEST_F(ServerBinaryTest, ServesStopsCleanlyAndKeepsDataAcrossRestarts) {
  // First start without a token file: the admin token is printed once.
  std::string admin_token;
  std::string address;
  {
    ServerProcess server(RQS_SERVER_BINARY, {"--listen", "127.0.0.1:0", "--pool-size", "2"},
                         {{"RQS_DATABASE_URL", conninfo_}, {"RQS_ADMIN_TOKEN_FILE", ""}});
    ASSERT_FALSE(server.WaitForLine("created user 'admin'").empty()) << server.Stdout();
    std::string token_line = server.WaitForLine("rqs_");
    admin_token = token_line;
    ASSERT_TRUE(absl::StartsWith(admin_token, "rqs_")) << server.Stdout();
    const std::string listening = server.WaitForLine("listening on");
    address = AddressOf(listening);
    ASSERT_FALSE(address.empty()) << server.Stdout();
    EXPECT_NE(address, "127.0.0.1:0");

    auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    auto users = v1::UserService::NewStub(channel);
    v1::GetCurrentUserResponse me;
    grpc::Status status = users->GetCurrentUser(Ctx(admin_token).get(), {}, &me);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(me.user().name(), "admin");
    v1::CreateUserRequest create;
    create.set_name("kept");
    v1::CreateUserResponse created;
    ASSERT_TRUE(users->CreateUser(Ctx(admin_token).get(), create, &created).ok());

    // Health checking needs no token.
    auto health = grpc::health::v1::Health::NewStub(channel);
    grpc::health::v1::HealthCheckResponse serving;
    status = health->Check(Ctx("").get(), {}, &serving);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(serving.status(), grpc::health::v1::HealthCheckResponse::SERVING);

    // Reflection lists the API.
    auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
    auto context = Ctx("");
    auto stream = reflection->ServerReflectionInfo(context.get());
    grpc::reflection::v1alpha::ServerReflectionRequest list;
    list.set_list_services("*");
    ASSERT_TRUE(stream->Write(list));
    stream->WritesDone();
    grpc::reflection::v1alpha::ServerReflectionResponse services;
    ASSERT_TRUE(stream->Read(&services));
    std::vector<std::string> names;
    for (const auto& service : services.list_services_response().service()) {
      names.push_back(service.name());
    }
    EXPECT_THAT(names, ::testing::IsSupersetOf({"rqs.v1.InstrumentService", "rqs.v1.UserService",
                                                "rqs.v1.ReviewService",
                                                "rqs.v1.AssessmentService"}));
    while (stream->Read(&services)) {
    }
    EXPECT_TRUE(stream->Finish().ok());

    // The client's connection stays open: the server waits at most its grace
    // period (5 s) for it, then stops anyway.
    const auto stop_start = std::chrono::steady_clock::now();
    EXPECT_EQ(server.Stop(SIGTERM), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - stop_start, std::chrono::seconds(15));
    EXPECT_THAT(server.Stdout(), HasSubstr("stopped"));
    EXPECT_THAT(server.Stderr(), HasSubstr("plaintext"));
  }

  // Second start, same database, settings from the environment and a token
  // file that is ignored because users exist: the data and token survive.
  const std::string token_file = absl::StrCat(::testing::TempDir(), "/", database_, ".token");
  std::ofstream(token_file) << "some-other-token-that-is-long-enough\n";
  {
    ServerProcess server(RQS_SERVER_BINARY, {},
                         {{"RQS_DATABASE_URL", conninfo_},
                          {"RQS_LISTEN", "localhost:0"},
                          {"RQS_POOL_SIZE", "2"},
                          {"RQS_ADMIN_TOKEN_FILE", token_file}});
    const std::string listening = server.WaitForLine("listening on");
    ASSERT_FALSE(listening.empty()) << server.Stdout();
    EXPECT_THAT(server.Stdout(), ::testing::Not(HasSubstr("created user 'admin'")));
    // Dial the IPv4 loopback: resolving "localhost" goes through c-ares,
    // whose one-time allocation LeakSanitizer would report in this process.
    const std::string dial =
        absl::StrReplaceAll(AddressOf(listening), {{"localhost:", "127.0.0.1:"}});
    EXPECT_TRUE(absl::StartsWith(dial, "127.0.0.1:")) << listening;
    auto channel = grpc::CreateChannel(dial, grpc::InsecureChannelCredentials());
    auto users = v1::UserService::NewStub(channel);
    v1::ListUsersResponse list;
    grpc::Status status = users->ListUsers(Ctx(admin_token).get(), {}, &list);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(list.users_size(), 2);
    EXPECT_EQ(list.users(1).name(), "kept");
    v1::GetCurrentUserResponse me;
    EXPECT_EQ(users->GetCurrentUser(Ctx("some-other-token-that-is-long-enough").get(), {}, &me)
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(server.Stop(SIGINT), 0);
  }
  std::remove(token_file.c_str());
}

TEST_F(ServerBinaryTest, ASecondServerOnTheSamePortFailsInsteadOfSharingIt) {
  ServerProcess first(RQS_SERVER_BINARY, {"--listen", "127.0.0.1:0", "--pool-size", "1"},
                      {{"RQS_DATABASE_URL", conninfo_}, {"RQS_ADMIN_TOKEN_FILE", ""}});
  const std::string address = first.WaitForAddress();
  ASSERT_FALSE(address.empty()) << first.Stdout() << first.Stderr();
  ServerProcess second(RQS_SERVER_BINARY, {"--listen", address, "--pool-size", "1"},
                       {{"RQS_DATABASE_URL", conninfo_}, {"RQS_ADMIN_TOKEN_FILE", ""}});
  EXPECT_EQ(second.Wait(), 1) << second.Stdout();
  EXPECT_THAT(second.Stderr(), HasSubstr("cannot listen on '" + address + "'"));
  EXPECT_EQ(first.Stop(), 0) << first.Stderr();
}

TEST_F(ServerBinaryTest, BadConfigurationFailsFastWithAClearMessage) {
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, {{"RQS_DATABASE_URL", ""}}, "RQS_DATABASE_URL"},
      {{"--database-url", conninfo_, "--listen", "0.0.0.0:0"}, {}, "plaintext"},
      {{"--database-url", conninfo_, "--listen", "nonsense"}, {}, "--listen"},
      {{"--database-url", conninfo_, "--pool-size", "0"}, {}, "--pool-size"},
      {{"--database-url", conninfo_, "--tls-cert", "/nonexistent.pem"}, {}, "--tls-key"},
      {{"--database-url", conninfo_, "--bogus"}, {}, "--bogus"},
      {{"--database-url", conninfo_, "--admin-token-file", "/nonexistent"}, {},
       "--admin-token-file"},
      {{"--database-url", conninfo_, "--health-listen", "nonsense"}, {}, "--health-listen"},
      {{"--database-url", conninfo_, "--listen", "127.0.0.1:7000", "--health-listen",
        "0.0.0.0:7000"},
       {},
       "a port of its own"},
      {{"--database-url", conninfo_}, {{"RQS_MIGRATE_ONLY", "maybe"}}, "RQS_MIGRATE_ONLY"},
  };
  for (const Case& c : cases) {
    std::map<std::string, std::string> env = c.env;
    env.emplace("RQS_LISTEN", "");
    env.emplace("RQS_ADMIN_TOKEN_FILE", "");
    env.emplace("RQS_HEALTH_LISTEN", "");
    env.emplace("RQS_MIGRATE_ONLY", "");
    ServerProcess server(RQS_SERVER_BINARY, c.args, env);
    EXPECT_EQ(server.Wait(), 2) << c.message;
    EXPECT_THAT(server.Stderr(), HasSubstr(c.message));
  }
  // A database that cannot be reached stops the server at start.
  ServerProcess server(
      RQS_SERVER_BINARY,
      {"--database-url", "host=/nonexistent-socket-dir dbname=x", "--listen", "127.0.0.1:0"},
      {{"RQS_ADMIN_TOKEN_FILE", ""}});
  EXPECT_EQ(server.Wait(), 1);
  EXPECT_THAT(server.Stderr(), HasSubstr("cannot start"));
  ServerProcess migrate(
      RQS_SERVER_BINARY,
      {"--migrate-only", "--database-url", "host=/nonexistent-socket-dir dbname=x"},
      {{"RQS_ADMIN_TOKEN_FILE", ""}, {"RQS_LISTEN", ""}, {"RQS_MIGRATE_ONLY", ""}});
  EXPECT_EQ(migrate.Wait(), 1);
  EXPECT_THAT(migrate.Stderr(), HasSubstr("cannot migrate the database"));
}

grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
                         grpc::health::v1::HealthCheckResponse* response) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  return grpc::health::v1::Health::NewStub(channel)->Check(Ctx("").get(), request, response);
}

// Runs `query` until it returns `expected` or 20 s pass; returns the last value.
std::string WaitForValue(const std::function<std::string()>& query, const std::string& expected) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string value = query();
  while (value != expected && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    value = query();
  }
  return value;
}

TEST_F(ServerBinaryTest, HealthListenerServesOnlyHealthAndMirrorsTheMainPort) {
  const std::string admin_token = absl::StrCat("rqs_health_listener_admin_", database_);
  const std::string token_file = absl::StrCat(::testing::TempDir(), "/", database_, ".token");
  std::ofstream(token_file) << admin_token << "\n";
  ServerProcess server(
      RQS_SERVER_BINARY,
      {"--listen", "127.0.0.1:0", "--health-listen", "127.0.0.1:0", "--pool-size", "2"},
      {{"RQS_DATABASE_URL", conninfo_},
       {"RQS_ADMIN_TOKEN_FILE", token_file},
       {"RQS_LISTEN", ""},
       {"RQS_HEALTH_LISTEN", ""},
       {"RQS_MIGRATE_ONLY", ""}});
  const std::string address = AddressOf(server.WaitForLine("listening on"));
  ASSERT_FALSE(address.empty()) << server.Stdout() << server.Stderr();
  // Its own line, after the main one, with the port actually bound.
  const std::string health_line = server.WaitForLine("health checks on");
  const std::string health_address = AddressOf(health_line, "health checks on ");
  ASSERT_TRUE(absl::StartsWith(health_address, "127.0.0.1:")) << server.Stdout();
  EXPECT_NE(health_address, "127.0.0.1:0");
  EXPECT_NE(health_address, address);
  EXPECT_THAT(health_line, HasSubstr("plaintext"));
  const auto main_channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  const auto health_channel =
      grpc::CreateChannel(health_address, grpc::InsecureChannelCredentials());

  // (a) The health port answers what the main port answers: SERVING for the
  // server, and the same for a named service.
  grpc::health::v1::HealthCheckResponse on_health;
  grpc::health::v1::HealthCheckResponse on_main;
  grpc::Status status = CheckHealth(health_channel, "", &on_health);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(on_health.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  status = CheckHealth(main_channel, "", &on_main);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(on_main.status(), on_health.status());
  const grpc::Status named_on_health =
      CheckHealth(health_channel, "rqs.v1.UserService", &on_health);
  const grpc::Status named_on_main = CheckHealth(main_channel, "rqs.v1.UserService", &on_main);
  EXPECT_EQ(named_on_health.error_code(), named_on_main.error_code());
  EXPECT_EQ(on_health.status(), on_main.status());

  // (b) No rqs service on the health port, even with a valid token (which
  // the main port accepts), and no reflection describing the API.
  v1::GetCurrentUserResponse me;
  status =
      v1::UserService::NewStub(health_channel)->GetCurrentUser(Ctx(admin_token).get(), {}, &me);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
  EXPECT_EQ(status.error_message(),
            "/rqs.v1.UserService/GetCurrentUser: this port serves only grpc.health.v1.Health; "
            "call the rqs API on the --listen address");
  status = v1::UserService::NewStub(main_channel)->GetCurrentUser(Ctx(admin_token).get(), {}, &me);
  EXPECT_TRUE(status.ok()) << status.error_message();
  {
    auto context = Ctx("");
    auto stream = grpc::reflection::v1alpha::ServerReflection::NewStub(health_channel)
                      ->ServerReflectionInfo(context.get());
    grpc::reflection::v1alpha::ServerReflectionRequest list;
    list.set_list_services("*");
    stream->Write(list);
    stream->WritesDone();
    grpc::reflection::v1alpha::ServerReflectionResponse services;
    EXPECT_FALSE(stream->Read(&services));
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }

  // (c) On SIGTERM the health port turns NOT_SERVING with the main port and
  // stays up while the main port drains its calls. A lock on the token table
  // keeps one call running: its token lookup waits for the lock.
  std::thread locker(
      [this] { Exec("LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4)"); });
  const std::string lock_held = WaitForValue(
      [this] {
        return Exec(
            "SELECT count(*) FROM pg_locks WHERE relation = 'api_tokens'::regclass "
            "AND mode = 'AccessExclusiveLock' AND granted");
      },
      "1");
  ASSERT_EQ(lock_held, "1");
  std::future<grpc::Status> running = std::async(std::launch::async, [&] {
    v1::GetCurrentUserResponse response;
    return v1::UserService::NewStub(main_channel)
        ->GetCurrentUser(Ctx(admin_token).get(), {}, &response);
  });
  const std::string waiting = WaitForValue(
      [this] {
        return Exec(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'");
      },
      "1");
  EXPECT_EQ(waiting, "1");
  kill(server.pid(), SIGTERM);
  EXPECT_FALSE(server.WaitForLine("shutting down").empty()) << server.Stdout();
  // The line comes just before the status changes: poll briefly.
  grpc::health::v1::HealthCheckResponse draining;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  do {
    status = CheckHealth(health_channel, "", &draining);
  } while (status.ok() && draining.status() == grpc::health::v1::HealthCheckResponse::SERVING &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(draining.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  locker.join();
  status = running.get();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(server.Wait(), 0) << server.Stderr();
  EXPECT_THAT(server.Stdout(), HasSubstr("stopped"));
  std::remove(token_file.c_str());
}

TEST_F(ServerBinaryTest, MigrateOnlyMigratesAFreshDatabaseIdempotentlyWithoutServing) {
  ASSERT_EQ(Exec("SELECT to_regclass('schema_migrations') IS NULL"), "t");
  const std::string latest = std::to_string(db::LatestSchemaVersion());
  const std::string applied_query =
      "SELECT string_agg(version || ' ' || name || ' ' || applied_at, ', ' ORDER BY version) "
      "FROM schema_migrations";
  std::string applied_first;
  for (int run = 1; run <= 2; ++run) {
    // The flag, then the variable; both under the container image's
    // RQS_LISTEN, which a plaintext server would refuse.
    std::vector<std::string> args = {"--database-url", conninfo_};
    std::map<std::string, std::string> env = {{"RQS_DATABASE_URL", ""},
                                              {"RQS_LISTEN", "0.0.0.0:50051"},
                                              {"RQS_ADMIN_TOKEN_FILE", ""},
                                              {"RQS_HEALTH_LISTEN", ""},
                                              {"RQS_MIGRATE_ONLY", ""}};
    if (run == 1) {
      args.push_back("--migrate-only");
    } else {
      env["RQS_MIGRATE_ONLY"] = "1";
    }
    ServerProcess migrate(RQS_SERVER_BINARY, args, env);
    EXPECT_EQ(migrate.Wait(), 0) << "run " << run << ": " << migrate.Stderr();
    EXPECT_THAT(migrate.Stdout(),
                HasSubstr("migrations done; the database schema is at version " + latest + "\n"))
        << "run " << run;
    EXPECT_THAT(migrate.Stdout(), ::testing::Not(HasSubstr("listening on"))) << "run " << run;
    EXPECT_EQ(Exec("SELECT max(version) FROM schema_migrations"), latest) << "run " << run;
    EXPECT_EQ(Exec("SELECT count(*) FROM schema_migrations"), latest) << "run " << run;
    // Serving nothing, it creates no admin either.
    EXPECT_EQ(Exec("SELECT count(*) FROM users"), "0") << "run " << run;
    // The second run applies nothing again.
    const std::string applied = Exec(applied_query);
    if (run == 1) applied_first = applied;
    EXPECT_EQ(applied, applied_first) << "run " << run;
  }

  // A schema newer than the binary: refused, with the versions named.
  ASSERT_EQ(Exec("INSERT INTO schema_migrations (version, name) VALUES (99, 'future')"), "");
  ServerProcess newer(RQS_SERVER_BINARY, {"--migrate-only", "--database-url", conninfo_},
                      {{"RQS_DATABASE_URL", ""},
                       {"RQS_LISTEN", ""},
                       {"RQS_ADMIN_TOKEN_FILE", ""},
                       {"RQS_MIGRATE_ONLY", ""}});
  EXPECT_EQ(newer.Wait(), 1);
  EXPECT_THAT(newer.Stderr(), HasSubstr("cannot migrate the database"));
  EXPECT_THAT(newer.Stderr(),
              HasSubstr("at version 99 but this server only knows versions up to " + latest));
}

}  // namespace
}  // namespace rqs::server::testing
