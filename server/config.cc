#include "server/config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace rqs::server {
namespace {

struct Setting {
  absl::string_view flag;
  absl::string_view env;
  // A switch is on when its flag is given alone; "--flag=VALUE" and the
  // variable take a yes/no value.
  bool is_switch = false;
};

constexpr Setting kDatabaseUrl{"--database-url", "RQS_DATABASE_URL"};
constexpr Setting kListen{"--listen", "RQS_LISTEN"};
constexpr Setting kAdminTokenFile{"--admin-token-file", "RQS_ADMIN_TOKEN_FILE"};
constexpr Setting kPoolSize{"--pool-size", "RQS_POOL_SIZE"};
constexpr Setting kTlsCert{"--tls-cert", "RQS_TLS_CERT"};
constexpr Setting kTlsKey{"--tls-key", "RQS_TLS_KEY"};
constexpr Setting kHealthListen{"--health-listen", "RQS_HEALTH_LISTEN"};
constexpr Setting kMigrateOnly{"--migrate-only", "RQS_MIGRATE_ONLY", /*is_switch=*/true};
constexpr Setting kAllSettings[] = {kDatabaseUrl, kListen, kAdminTokenFile, kPoolSize,
                                    kTlsCert,     kTlsKey, kHealthListen,   kMigrateOnly};

constexpr int kMaxPoolSize = 256;

// Splits "host:port" / "[v6]:port"; returns false if malformed.
bool SplitHostPort(absl::string_view host_port, absl::string_view* host, absl::string_view* port) {
  const std::size_t colon = host_port.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  *host = host_port.substr(0, colon);
  *port = host_port.substr(colon + 1);
  if (absl::StartsWith(*host, "[")) {
    if (!absl::EndsWith(*host, "]") || host->size() < 3) return false;
    *host = host->substr(1, host->size() - 2);
  } else if (absl::StrContains(*host, ':')) {
    return false;  // A bare IPv6 address needs brackets.
  }
  return true;
}

// Returns the port of `host_port`, the value of `setting`; INVALID_ARGUMENT
// naming the setting if it is not HOST:PORT with a port 0..65535.
absl::StatusOr<int> ParsePort(const Setting& setting, const std::string& host_port) {
  absl::string_view host;
  absl::string_view port_text;
  int port = 0;
  if (!SplitHostPort(host_port, &host, &port_text) || !absl::SimpleAtoi(port_text, &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        setting.flag, " (", setting.env, "): '", host_port,
        "' is not HOST:PORT with a port 0..65535 (IPv6 hosts in brackets, e.g. [::1]:50051)"));
  }
  return port;
}

absl::Status CheckReadableFile(const Setting& setting, const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return absl::InvalidArgumentError(
        absl::StrCat(setting.flag, " (", setting.env, "): cannot read file '", path, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

int DefaultPoolSize() {
  const unsigned threads = std::thread::hardware_concurrency();
  return std::clamp(2 * static_cast<int>(threads), 4, kMaxPoolSize);
}

EnvLookup ProcessEnv() {
  return [](absl::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

bool IsLoopback(absl::string_view host_port) {
  absl::string_view host;
  absl::string_view port;
  if (!SplitHostPort(host_port, &host, &port)) return false;
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

std::string ServerUsage() {
  return "Usage: rqs-server [flags]\n"
         "Every flag can also be set by its environment variable; the flag wins.\n"
         "  --database-url URL      RQS_DATABASE_URL      libpq connection string (required)\n"
         "  --listen HOST:PORT      RQS_LISTEN            default localhost:50051; port 0 picks\n"
         "                                                a free port (printed at start)\n"
         "  --admin-token-file F    RQS_ADMIN_TOKEN_FILE  token for the first admin, used only\n"
         "                                                when no user exists yet\n"
         "  --pool-size N           RQS_POOL_SIZE         database connections and workers,\n"
         "                                                1..256, default twice the hardware\n"
         "                                                threads, at least 4\n"
         "  --tls-cert FILE         RQS_TLS_CERT          PEM certificate chain\n"
         "  --tls-key FILE          RQS_TLS_KEY           PEM private key\n"
         "  --health-listen HOST:PORT\n"
         "                          RQS_HEALTH_LISTEN     also serve gRPC health checking\n"
         "                                                (grpc.health.v1.Health, nothing else)\n"
         "                                                in plaintext on this address, any\n"
         "                                                address allowed; port 0 picks a free\n"
         "                                                port (printed at start)\n"
         "  --migrate-only          RQS_MIGRATE_ONLY=1    apply the database migrations, print\n"
         "                                                the schema version and exit\n"
         "Without TLS, --listen may only use a loopback address. --health-listen is\n"
         "plaintext even off loopback because Kubernetes' gRPC probes cannot speak TLS;\n"
         "it carries no data and needs no token, as it serves health checking only.\n";
}

absl::StatusOr<ServerConfig> ParseServerConfig(const std::vector<std::string>& args,
                                               const EnvLookup& env) {
  std::map<absl::string_view, std::string> values;
  for (const Setting& setting : kAllSettings) {
    if (std::optional<std::string> value = env(setting.env); value.has_value()) {
      values[setting.flag] = *value;
    }
  }
  ServerConfig config;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      config.help = true;
      return config;
    }
    absl::string_view name = arg;
    std::string value;
    if (const std::size_t eq = arg.find('='); eq != std::string::npos) {
      name = absl::string_view(arg).substr(0, eq);
      value = arg.substr(eq + 1);
    }
    const Setting* match = nullptr;
    for (const Setting& setting : kAllSettings) {
      if (setting.flag == name) match = &setting;
    }
    if (match == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown argument '", arg, "'; see rqs-server --help"));
    }
    if (name.size() == arg.size() && match->is_switch) {
      value = "true";
    } else if (name.size() == arg.size()) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(match->flag, " needs a value"));
      }
      value = args[++i];
    }
    values[match->flag] = value;
  }

  auto get = [&](const Setting& setting) -> std::string {
    auto it = values.find(setting.flag);
    return it == values.end() ? std::string() : it->second;
  };
  config.database_url = get(kDatabaseUrl);
  if (config.database_url.empty()) {
    return absl::InvalidArgumentError(
        "no database: set --database-url or RQS_DATABASE_URL (a libpq connection string, "
        "e.g. 'postgresql:///rqs?host=/var/run/postgresql')");
  }
  if (std::string listen = get(kListen); !listen.empty()) config.listen = listen;
  absl::StatusOr<int> listen_port = ParsePort(kListen, config.listen);
  if (!listen_port.ok()) return listen_port.status();
  config.health_listen = get(kHealthListen);
  if (config.HasHealthListener()) {
    absl::StatusOr<int> health_port = ParsePort(kHealthListen, config.health_listen);
    if (!health_port.ok()) return health_port.status();
    // gRPC binds with SO_REUSEPORT, so a shared port would not fail: the
    // kernel would split connections between the two listeners.
    if (*health_port != 0 && *health_port == *listen_port) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--health-listen (RQS_HEALTH_LISTEN): port ", *health_port,
          " is also the port of --listen; give the health listener a port of its own"));
    }
  }
  if (std::string pool = get(kPoolSize); !pool.empty()) {
    if (!absl::SimpleAtoi(pool, &config.pool_size) || config.pool_size < 1 ||
        config.pool_size > kMaxPoolSize) {
      return absl::InvalidArgumentError(absl::StrCat("--pool-size (RQS_POOL_SIZE): '", pool,
                                                     "' is not a number 1..", kMaxPoolSize));
    }
  }
  if (std::string migrate_only = get(kMigrateOnly); !migrate_only.empty()) {
    if (!absl::SimpleAtob(migrate_only, &config.migrate_only)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--migrate-only (RQS_MIGRATE_ONLY): '", migrate_only,
                       "' is not a yes/no value (1, true, yes or 0, false, no)"));
    }
  }
  config.admin_token_file = get(kAdminTokenFile);
  config.tls_cert_file = get(kTlsCert);
  config.tls_key_file = get(kTlsKey);
  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both --tls-cert (RQS_TLS_CERT) and --tls-key (RQS_TLS_KEY)");
  }
  // A migration job shares the server's environment but listens nowhere and
  // may lack the server's files (a Kubernetes Job mounts no certificate).
  if (config.migrate_only) return config;

  if (!config.admin_token_file.empty()) {
    if (absl::Status status = CheckReadableFile(kAdminTokenFile, config.admin_token_file);
        !status.ok()) {
      return status;
    }
  }
  if (config.UsesTls()) {
    if (absl::Status status = CheckReadableFile(kTlsCert, config.tls_cert_file); !status.ok()) {
      return status;
    }
    if (absl::Status status = CheckReadableFile(kTlsKey, config.tls_key_file); !status.ok()) {
      return status;
    }
  } else if (!IsLoopback(config.listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen (RQS_LISTEN): refusing plaintext on non-loopback address '", config.listen,
        "'; give --tls-cert and --tls-key, or listen on localhost"));
  }
  return config;
}

}  // namespace rqs::server
