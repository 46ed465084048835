// Unit tests of the server's pure parts: configuration, input limits, status
// conversion and the worker pool. No database, no network.
#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "server/config.h"
#include "server/limits.h"
#include "server/status.h"
#include "server/thread_pool.h"

namespace rqs::server {
namespace {

using ::testing::HasSubstr;

EnvLookup FakeEnv(std::map<std::string, std::string> values) {
  return [values](absl::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ServerConfigTest, DefaultsAndEnvironment) {
  absl::StatusOr<ServerConfig> config =
      ParseServerConfig({}, FakeEnv({{"RQS_DATABASE_URL", "dbname=rqs"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->database_url, "dbname=rqs");
  EXPECT_EQ(config->listen, "localhost:50051");
  EXPECT_EQ(config->pool_size, DefaultPoolSize());
  EXPECT_GE(config->pool_size, 4);
  EXPECT_FALSE(config->UsesTls());

  config = ParseServerConfig({}, FakeEnv({{"RQS_DATABASE_URL", "dbname=rqs"},
                                          {"RQS_LISTEN", "[::1]:0"},
                                          {"RQS_POOL_SIZE", "3"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "[::1]:0");
  EXPECT_EQ(config->pool_size, 3);
}

TEST(ServerConfigTest, FlagsWinOverEnvironment) {
  absl::StatusOr<ServerConfig> config =
      ParseServerConfig({"--listen=127.0.0.1:7000", "--pool-size", "5"},
                        FakeEnv({{"RQS_DATABASE_URL", "dbname=rqs"},
                                 {"RQS_LISTEN", "localhost:1"},
                                 {"RQS_POOL_SIZE", "9"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "127.0.0.1:7000");
  EXPECT_EQ(config->pool_size, 5);
}

TEST(ServerConfigTest, RejectsBadSettingsNamingThem) {
  const std::map<std::string, std::string> db = {{"RQS_DATABASE_URL", "dbname=rqs"}};
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--listen", "example.org:50051"}, "plaintext"},
      {{"--listen", "localhost"}, "--listen"},
      {{"--listen", "localhost:70000"}, "--listen"},
      {{"--listen", "::1:5"}, "--listen"},
      {{"--pool-size", "x"}, "--pool-size"},
      {{"--pool-size", "1000"}, "--pool-size"},
      {{"--tls-key", "/etc/hostname"}, "--tls-cert"},
      {{"--tls-cert", "/nonexistent", "--tls-key", "/nonexistent"}, "--tls-cert"},
      {{"--unknown"}, "--unknown"},
      {{"--listen"}, "needs a value"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ServerConfig> config = ParseServerConfig(c.args, FakeEnv(db));
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(config.status().message(), HasSubstr(c.message));
  }
  EXPECT_THAT(ParseServerConfig({}, FakeEnv({})).status().message(),
              HasSubstr("RQS_DATABASE_URL"));
  absl::StatusOr<ServerConfig> help = ParseServerConfig({"--help"}, FakeEnv({}));
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->help);
}

TEST(ServerConfigTest, TlsAllowsAnyAddress) {
  absl::StatusOr<ServerConfig> config = ParseServerConfig(
      {"--listen", "0.0.0.0:443", "--tls-cert", "/etc/hostname", "--tls-key", "/etc/hostname"},
      FakeEnv({{"RQS_DATABASE_URL", "dbname=rqs"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->UsesTls());
}

TEST(ServerConfigTest, HealthListenerIsPlaintextOnAnyAddress) {
  const std::map<std::string, std::string> db = {{"RQS_DATABASE_URL", "dbname=rqs"}};
  absl::StatusOr<ServerConfig> config = ParseServerConfig({}, FakeEnv(db));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->HasHealthListener());
  EXPECT_EQ(config->health_listen, "");

  // The main port stays on loopback in plaintext; the health port may not.
  config = ParseServerConfig(
      {}, FakeEnv({{"RQS_DATABASE_URL", "dbname=rqs"}, {"RQS_HEALTH_LISTEN", "0.0.0.0:50052"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->HasHealthListener());
  EXPECT_EQ(config->health_listen, "0.0.0.0:50052");
  EXPECT_FALSE(config->UsesTls());

  config = ParseServerConfig({"--health-listen=[::]:8081"}, FakeEnv(db));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->health_listen, "[::]:8081");

  // Port 0 twice is two free ports, not one shared port.
  config =
      ParseServerConfig({"--listen", "127.0.0.1:0", "--health-listen", "127.0.0.1:0"}, FakeEnv(db));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->health_listen, "127.0.0.1:0");

  // The flag wins over the variable; an empty value turns the listener off.
  config = ParseServerConfig(
      {"--health-listen", "localhost:9000"},
      FakeEnv({{"RQS_DATABASE_URL", "dbname=rqs"}, {"RQS_HEALTH_LISTEN", "0.0.0.0:50052"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->health_listen, "localhost:9000");
  config = ParseServerConfig({"--health-listen="}, FakeEnv({{"RQS_DATABASE_URL", "dbname=rqs"},
                                                            {"RQS_HEALTH_LISTEN", "0.0.0.0:1"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->HasHealthListener());
}

TEST(ServerConfigTest, RejectsBadHealthListenersWithExactMessages) {
  const std::map<std::string, std::string> db = {{"RQS_DATABASE_URL", "dbname=rqs"}};
  const std::string form =
      "' is not HOST:PORT with a port 0..65535 (IPv6 hosts in brackets, e.g. [::1]:50051)";
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--health-listen", "localhost"},
       {},
       "--health-listen (RQS_HEALTH_LISTEN): 'localhost" + form},
      {{"--health-listen", "0.0.0.0:65536"},
       {},
       "--health-listen (RQS_HEALTH_LISTEN): '0.0.0.0:65536" + form},
      {{"--health-listen", "0.0.0.0:-1"},
       {},
       "--health-listen (RQS_HEALTH_LISTEN): '0.0.0.0:-1" + form},
      {{"--health-listen", "::1:8080"},
       {},
       "--health-listen (RQS_HEALTH_LISTEN): '::1:8080" + form},
      {{"--health-listen", ":8080"}, {}, "--health-listen (RQS_HEALTH_LISTEN): ':8080" + form},
      {{},
       {{"RQS_HEALTH_LISTEN", "health"}},
       "--health-listen (RQS_HEALTH_LISTEN): 'health" + form},
      {{"--health-listen"}, {}, "--health-listen needs a value"},
      // The default --listen is localhost:50051.
      {{"--health-listen", "0.0.0.0:50051"},
       {},
       "--health-listen (RQS_HEALTH_LISTEN): port 50051 is also the port of --listen; give the "
       "health listener a port of its own"},
      {{"--listen", "[::1]:7000", "--health-listen", "[::1]:7000"},
       {},
       "--health-listen (RQS_HEALTH_LISTEN): port 7000 is also the port of --listen; give the "
       "health listener a port of its own"},
  };
  for (const Case& c : cases) {
    std::map<std::string, std::string> env = db;
    env.insert(c.env.begin(), c.env.end());
    absl::StatusOr<ServerConfig> config = ParseServerConfig(c.args, FakeEnv(env));
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(config.status().message(), c.message);
  }
}

TEST(ServerConfigTest, MigrateOnlyIsASwitch) {
  const std::map<std::string, std::string> db = {{"RQS_DATABASE_URL", "dbname=rqs"}};
  absl::StatusOr<ServerConfig> config = ParseServerConfig({}, FakeEnv(db));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->migrate_only);

  config = ParseServerConfig({"--migrate-only"}, FakeEnv(db));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->migrate_only);
  // Alone, the switch takes no value: the next argument stays an argument.
  config = ParseServerConfig({"--migrate-only", "--pool-size", "3"}, FakeEnv(db));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->migrate_only);
  EXPECT_EQ(config->pool_size, 3);

  for (const char* on : {"1", "true", "yes", "TRUE"}) {
    config = ParseServerConfig(
        {}, FakeEnv({{"RQS_DATABASE_URL", "dbname=rqs"}, {"RQS_MIGRATE_ONLY", on}}));
    ASSERT_TRUE(config.ok()) << on << ": " << config.status();
    EXPECT_TRUE(config->migrate_only) << on;
  }
  for (const char* off : {"0", "false", "no", ""}) {
    config = ParseServerConfig(
        {}, FakeEnv({{"RQS_DATABASE_URL", "dbname=rqs"}, {"RQS_MIGRATE_ONLY", off}}));
    ASSERT_TRUE(config.ok()) << off << ": " << config.status();
    EXPECT_FALSE(config->migrate_only) << off;
  }
  // The flag wins over the variable.
  config =
      ParseServerConfig({"--migrate-only=false"},
                        FakeEnv({{"RQS_DATABASE_URL", "dbname=rqs"}, {"RQS_MIGRATE_ONLY", "1"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->migrate_only);
}

TEST(ServerConfigTest, MigrateOnlySkipsTheChecksThatGuardListening) {
  // As in the container image (RQS_LISTEN=0.0.0.0:50051) of a migration Job
  // that mounts neither the certificate nor the admin token.
  absl::StatusOr<ServerConfig> config = ParseServerConfig(
      {"--migrate-only", "--admin-token-file", "/nonexistent", "--tls-cert", "/nonexistent.crt",
       "--tls-key", "/nonexistent.key"},
      FakeEnv({{"RQS_DATABASE_URL", "dbname=rqs"}, {"RQS_LISTEN", "0.0.0.0:50051"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->migrate_only);
  config = ParseServerConfig({}, FakeEnv({{"RQS_DATABASE_URL", "dbname=rqs"},
                                          {"RQS_LISTEN", "0.0.0.0:50051"},
                                          {"RQS_MIGRATE_ONLY", "1"}}));
  ASSERT_TRUE(config.ok()) << config.status();

  // Without the switch the same settings are refused.
  EXPECT_EQ(ParseServerConfig(
                {}, FakeEnv({{"RQS_DATABASE_URL", "dbname=rqs"}, {"RQS_LISTEN", "0.0.0.0:50051"}}))
                .status()
                .message(),
            "--listen (RQS_LISTEN): refusing plaintext on non-loopback address '0.0.0.0:50051'; "
            "give --tls-cert and --tls-key, or listen on localhost");
}

TEST(ServerConfigTest, RejectsBadMigrateOnlySettingsWithExactMessages) {
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{},
       {{"RQS_MIGRATE_ONLY", "maybe"}},
       "--migrate-only (RQS_MIGRATE_ONLY): 'maybe' is not a yes/no value (1, true, yes or 0, "
       "false, no)"},
      {{"--migrate-only=2"},
       {},
       "--migrate-only (RQS_MIGRATE_ONLY): '2' is not a yes/no value (1, true, yes or 0, false, "
       "no)"},
      {{"--migrate-only", "yes"}, {}, "unknown argument 'yes'; see rqs-server --help"},
      // The database is what it migrates: still required.
      {{"--migrate-only"},
       {{"RQS_DATABASE_URL", ""}},
       "no database: set --database-url or RQS_DATABASE_URL (a libpq connection string, "
       "e.g. 'postgresql:///rqs?host=/var/run/postgresql')"},
      // Values are still checked for form, even those it does not use.
      {{"--migrate-only", "--listen", "nonsense"},
       {},
       "--listen (RQS_LISTEN): 'nonsense' is not HOST:PORT with a port 0..65535 (IPv6 hosts in "
       "brackets, e.g. [::1]:50051)"},
      {{"--migrate-only", "--pool-size", "0"},
       {},
       "--pool-size (RQS_POOL_SIZE): '0' is not a number 1..256"},
      {{"--migrate-only", "--tls-cert", "/etc/hostname"},
       {},
       "TLS needs both --tls-cert (RQS_TLS_CERT) and --tls-key (RQS_TLS_KEY)"},
  };
  for (const Case& c : cases) {
    std::map<std::string, std::string> env = {{"RQS_DATABASE_URL", "dbname=rqs"}};
    for (const auto& [name, value] : c.env) env[name] = value;
    absl::StatusOr<ServerConfig> config = ParseServerConfig(c.args, FakeEnv(env));
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(config.status().message(), c.message);
  }
}

TEST(ServerConfigTest, UsageDescribesTheNewFlags) {
  const std::string usage = ServerUsage();
  EXPECT_THAT(usage, HasSubstr("--health-listen HOST:PORT"));
  EXPECT_THAT(usage, HasSubstr("RQS_HEALTH_LISTEN"));
  EXPECT_THAT(usage, HasSubstr("--migrate-only"));
  EXPECT_THAT(usage, HasSubstr("RQS_MIGRATE_ONLY"));
}

TEST(ServerConfigTest, Loopback) {
  EXPECT_TRUE(IsLoopback("localhost:1"));
  EXPECT_TRUE(IsLoopback("127.0.0.1:0"));
  EXPECT_TRUE(IsLoopback("[::1]:50051"));
  EXPECT_FALSE(IsLoopback("0.0.0.0:1"));
  EXPECT_FALSE(IsLoopback("[::]:1"));
  EXPECT_FALSE(IsLoopback("example.org:1"));
}

TEST(LimitsTest, CountsCharactersNotBytes) {
  EXPECT_TRUE(CheckText("f", "", 0).ok());
  EXPECT_TRUE(CheckText("f", "\xc3\xa9\xc3\xa9", 2).ok());  // "éé": 4 bytes, 2 characters.
  EXPECT_TRUE(CheckText("f", "\xf0\x9f\x98\x80", 1).ok());  // One emoji.
  absl::Status status = CheckText("title", "abc", 2);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("title"));
}

TEST(LimitsTest, RejectsInvalidUtf8AndNul) {
  for (const std::string& bad :
       {std::string("\xff"), std::string("\xc3"), std::string("\xc0\xaf"),  // overlong '/'
        std::string("\xed\xa0\x80"),                                      // surrogate
        std::string("\xf4\x90\x80\x80"),                                  // above U+10FFFF
        std::string("a\0b", 3)}) {
    absl::Status status = CheckText("rationale", bad, 100);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("rationale"));
  }
  EXPECT_EQ(CheckRequiredText("name", "", 10).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckCount("studies", 3, 2).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckCount("studies", 2, 2).ok());
}

TEST(StatusTest, CodesMapOneToOne) {
  for (int code = 1; code <= 16; ++code) {
    const absl::Status status(static_cast<absl::StatusCode>(code), "message");
    const grpc::Status converted = ToGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(converted.error_code()), code);
  }
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("review 3 not found")).error_message(),
            "review 3 not found");
  // Internal details stay in the server log.
  EXPECT_THAT(ToGrpcStatus(absl::InternalError("SQL: relation x")).error_message(),
              ::testing::Not(HasSubstr("SQL")));
}

TEST(ThreadPoolTest, RunsEveryAcceptedTaskAndBoundsTheQueue) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(1, 2);
    absl::Notification release;
    absl::Notification started;
    ASSERT_TRUE(pool.TrySubmit([&] {
      started.Notify();
      release.WaitForNotification();
      ++ran;
    }));
    started.WaitForNotification();
    EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));  // Queue full.
    release.Notify();
  }
  EXPECT_EQ(ran.load(), 3);
}

}  // namespace
}  // namespace rqs::server
