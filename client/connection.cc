#include "client/connection.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace rqs::client {
namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

absl::StatusOr<GlobalOptions> ExtractGlobalOptions(std::vector<std::string>& args,
                                                   const EnvLookup& env) {
  GlobalOptions options;
  std::optional<std::string> server = env("RQS_SERVER"), token = env("RQS_TOKEN"),
                             tls_ca = env("RQS_TLS_CA"), timeout = env("RQS_TIMEOUT");
  std::string timeout_source = "RQS_TIMEOUT";
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    std::optional<std::string>* target = nullptr;
    std::string name = arg;
    std::optional<std::string> inline_value;
    if (const size_t eq = arg.find('='); absl::StartsWith(arg, "--") && eq != std::string::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    if (name == "--server") target = &server;
    if (name == "--token") target = &token;
    if (name == "--tls-ca") target = &tls_ca;
    if (name == "--timeout") {
      target = &timeout;
      timeout_source = "--timeout";
    }
    if (target != nullptr) {
      if (inline_value.has_value()) {
        *target = inline_value;
      } else if (i + 1 < args.size()) {
        *target = args[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
      }
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg == "--tls") {
      options.tls = true;
    } else {
      rest.push_back(arg);
    }
  }
  args.swap(rest);
  if (server.has_value()) options.server = *server;
  if (token.has_value()) options.token = *token;
  if (tls_ca.has_value()) {
    options.tls = true;
    options.tls_ca_path = *tls_ca;
  }
  if (timeout.has_value()) {
    if (!absl::SimpleAtod(*timeout, &options.timeout_seconds) || !(options.timeout_seconds > 0) ||
        options.timeout_seconds > 86400) {
      return absl::InvalidArgumentError(absl::StrCat(
          timeout_source, ": expected a number of seconds in (0, 86400], got '", *timeout, "'"));
    }
  }
  if (options.server.empty()) return absl::InvalidArgumentError("--server: empty address");
  return options;
}

absl::StatusOr<Connection> Connection::Open(const GlobalOptions& options,
                                            const ChannelSettings& settings) {
  if (options.token.empty()) {
    return absl::FailedPreconditionError(
        "no API token: pass --token TOKEN or set RQS_TOKEN (an admin issues tokens with "
        "'rqs token issue')");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_ca_path.empty()) {
      std::ifstream file(options.tls_ca_path);
      if (!file) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot read TLS roots ", options.tls_ca_path));
      }
      std::ostringstream pem;
      pem << file.rdbuf();
      ssl.pem_root_certs = pem.str();
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(settings.max_receive_message_bytes);
  if (settings.keepalive) {
    // gRPC servers by default treat pings more often than every 5 minutes
    // on a connection without data as abuse (GOAWAY "too_many_pings"), so
    // ping at that pace; a restarted server closes the connection anyway.
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 300000);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
    arguments.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  }
  return Connection(grpc::CreateCustomChannel(options.server, credentials, arguments),
                    options.token, options.timeout_seconds);
}

std::unique_ptr<grpc::ClientContext> Connection::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds_ * 1000)));
  return context;
}

std::unique_ptr<grpc::ClientContext> Connection::NewStreamContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  return context;
}

std::string DescribeRpcError(const grpc::Status& status, const GlobalOptions& options) {
  std::string message = absl::StrCat(CodeName(status.error_code()), ": ", status.error_message());
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      absl::StrAppend(&message, " (is rqs-server running at ", options.server, "?)");
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      absl::StrAppend(&message, " (no answer within ", options.timeout_seconds,
                      " s; raise --timeout)");
      break;
    case grpc::StatusCode::UNAUTHENTICATED:
      absl::StrAppend(&message, " (check --token / RQS_TOKEN)");
      break;
    default:
      break;
  }
  return message;
}

}  // namespace rqs::client
