// Plumbing shared by the `rqs` commands that talk to rqs-server: one
// invocation's connection, streams and exit status (Session), aligned text
// tables, and the small lookups and renderings several commands need.
//
// Errors reach the user as one line on io.err, "rqs COMMAND: CODE: message",
// and as the exit status: kExitFailure when the server refused or failed,
// kExitBadInput for bad arguments or input files.
#ifndef RQS_CLIENT_SESSION_H_
#define RQS_CLIENT_SESSION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/args.h"
#include "client/command.h"
#include "client/connection.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "rqs/v1/assessment.pb.h"
#include "rqs/v1/instrument.pb.h"
#include "rqs/v1/review.grpc.pb.h"

namespace rqs::client {

// The state of one command invocation: its streams, options and connection.
class Session {
 public:
  Session(const GlobalOptions& options, CommandIo& io, std::string command)
      : options_(options), io_(io), command_(std::move(command)) {}

  // Opens the connection. Returns false (after printing why) on failure.
  bool Connect(const ChannelSettings& settings = {});

  // Calls a unary RPC with the token and deadline. On failure prints the
  // server's message and returns false.
  template <typename Stub, typename Request, typename Response>
  bool Call(Stub& stub,
            grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
            const Request& request, Response& response) {
    const grpc::Status status = TryCall(stub, method, request, response);
    if (!status.ok()) {
      Fail(DescribeRpcError(status, options_));
      return false;
    }
    return true;
  }

  // Calls a unary RPC with the token and deadline and returns its status
  // without printing anything, for callers that treat some codes as normal.
  template <typename Stub, typename Request, typename Response>
  grpc::Status TryCall(Stub& stub,
                       grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                    Response*),
                       const Request& request, Response& response) {
    std::unique_ptr<grpc::ClientContext> context = connection_->NewContext();
    return (stub.*method)(context.get(), request, &response);
  }

  std::unique_ptr<grpc::ClientContext> NewContext() const { return connection_->NewContext(); }
  std::unique_ptr<grpc::ClientContext> NewStreamContext() const {
    return connection_->NewStreamContext();
  }

  template <typename Service>
  std::unique_ptr<typename Service::Stub> Stub() {
    return Service::NewStub(connection_->channel());
  }

  // Prints a usage or input error and returns exit status 2.
  int BadInput(absl::string_view message);
  // Prints a failure and sets exit status 1.
  void Fail(absl::string_view message);

  // Prints `message` as JSON (proto3 JSON mapping, field names as in the
  // .proto, defaults included so scripts see every field). `one_line` prints
  // it without whitespace, for streams of one object per line.
  void PrintJson(const google::protobuf::Message& message, bool one_line = false);

  bool json() const { return options_.json; }
  std::ostream& out() { return io_.out; }
  std::ostream& err() { return io_.err; }
  int exit_code() const { return exit_code_; }
  const GlobalOptions& options() const { return options_; }
  const std::string& command() const { return command_; }

 private:
  const GlobalOptions& options_;
  CommandIo& io_;
  std::string command_;
  std::optional<Connection> connection_;
  int exit_code_ = kExitOk;
};

// A plain-text table with aligned columns.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// The review id from positional argument `positional_index` (if there is
// one), else --review, else RQS_REVIEW. Errors: INVALID_ARGUMENT.
absl::StatusOr<int64_t> ReviewFrom(const ParsedArgs& parsed, size_t positional_index);

// "HCR", "DLR", "HYBRID" or "-".
std::string StudyTypeName(rqs::v1::StudyType type);

// Prints a score report's total line and its per-level table.
void PrintReport(Session& session, const rqs::v1::ScoreReport& report);

// Lists every study of a review, following pages. Prints the error and
// returns false on failure.
bool ListAllStudies(Session& session, rqs::v1::ReviewService::Stub& stub, int64_t review,
                    rqs::v1::ListStudiesResponse& all);

// Finds the study `study_id` of `review` the caller may see. Prints a
// NOT_FOUND failure and returns false if there is none.
bool FindStudy(Session& session, int64_t review, int64_t study_id, rqs::v1::Study& study);

// A criterion's description and its options with their points, as the hint
// of an answer-file template.
std::string OptionHint(const rqs::v1::Criterion& criterion);

// Whether `criterion` is asked of a study of `type` (the rubric's
// applicability, as the server's instrument lists it).
bool CriterionApplies(const rqs::v1::Criterion& criterion, rqs::v1::StudyType type);

}  // namespace rqs::client

#endif  // RQS_CLIENT_SESSION_H_
