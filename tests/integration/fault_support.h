// Test support for the fault tests (fault_*_pgtest.cc, bad_input_corpus_pgtest.cc):
// a review set up through the public API of a live rqs-server process, a
// load of submissions that clients retry with the same idempotency key while
// the server or the database fails, and checks of what the database holds.
//
// Only the public API (rqs::proto) and libpqxx are used: the server runs as a
// separate process (tests/integration/server_process.h).
#ifndef RQS_TESTS_INTEGRATION_FAULT_SUPPORT_H_
#define RQS_TESTS_INTEGRATION_FAULT_SUPPORT_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "rqs/v1/assessment.grpc.pb.h"

namespace rqs::testing {

// A channel that reconnects within ~100-500 ms after the server comes back
// (gRPC's default backoff grows to two minutes), with its own connection.
std::shared_ptr<grpc::Channel> FaultChannel(const std::string& address);

// A client context carrying `token` (none if empty) and a deadline.
std::unique_ptr<grpc::ClientContext> CallContext(const std::string& token,
                                                 std::chrono::milliseconds timeout =
                                                     std::chrono::seconds(30));

// Returns "" if `status` is OK, else "code N: message".
std::string DescribeStatus(const grpc::Status& status);

// Returns the port of "host:port" ("" if none).
std::string PortOf(const std::string& address);

// A rater of a test review with the studies assigned to them.
struct FaultRater {
  int64_t id = 0;
  std::string token;
  std::vector<int64_t> studies;
};

// A review (rqs2, handcrafted studies) made through the API by the admin.
struct FaultReview {
  int64_t review_id = 0;
  std::vector<FaultRater> raters;
  // One whole RQS 2.0 assessment: every criterion answered, from the
  // server's own rubric (InstrumentService.GetInstrument).
  std::vector<v1::Answer> full_answers;
};

// Creates a review with `raters` raters and `studies_per_rater` studies
// assigned to each (no study shared). Returns a description of the first
// failure in `error` ("" on success).
FaultReview SetUpFaultReview(const std::shared_ptr<grpc::Channel>& channel,
                             const std::string& admin_token, int raters, int studies_per_rater,
                             std::string* error);

// One acknowledged submission.
struct Acknowledgement {
  int64_t assessment_id = 0;
  bool replayed = false;
};

// Runs one client thread per rater; each submits a full assessment for each
// of its studies in order, with the idempotency key "<prefix>-<rater>-<i>",
// and retries the same request with the same key while the call fails with
// UNAVAILABLE or DEADLINE_EXCEEDED (the server or its database is down; the
// outcome of the attempt is unknown) or ABORTED (gRPC's "retry at a higher
// level": a concurrent attempt of the same submission held the row). Any
// other failure is recorded and the key abandoned. Every call has a
// deadline, and the whole load stops at `give_up`.
class SubmissionLoad {
 public:
  SubmissionLoad(std::string address, const FaultReview& review, std::string key_prefix,
                 std::chrono::steady_clock::time_point give_up);
  // Joins the threads.
  ~SubmissionLoad();
  SubmissionLoad(const SubmissionLoad&) = delete;
  SubmissionLoad& operator=(const SubmissionLoad&) = delete;

  // Waits until every thread finished. Idempotent.
  void Join();

  // Submissions acknowledged so far.
  int acknowledged() const { return acknowledged_count_.load(); }
  // Submissions to make in all.
  int total() const { return total_; }
  // Whether every thread has finished.
  bool done() const { return finished_threads_.load() == static_cast<int>(threads_.size()); }

  // By idempotency key (after Join).
  std::map<std::string, Acknowledgement> Acknowledgements() const;
  // Failed attempts by gRPC status code, retried or not.
  std::map<int, int> FailureCodes() const;
  // Failures that were not retried, described; empty if none.
  std::vector<std::string> Unexpected() const;

 private:
  void Run(const FaultRater& rater, int index);

  const std::string address_;
  const std::string key_prefix_;
  const FaultReview review_;
  const std::chrono::steady_clock::time_point give_up_;
  int total_ = 0;
  std::atomic<int> acknowledged_count_{0};
  std::atomic<int> finished_threads_{0};
  mutable absl::Mutex mu_;
  std::map<std::string, Acknowledgement> acknowledgements_ ABSL_GUARDED_BY(mu_);
  std::map<int, int> failure_codes_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> unexpected_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

// Runs `sql` on `conninfo`; returns the first column of the first row ("" if
// none), or "ERROR: ..." if it failed.
std::string QueryValue(const std::string& conninfo, const std::string& sql);

// Checks that the database at `conninfo` holds every acknowledged submission
// exactly once, under its key and with the acknowledged id, each with
// `answers` answers, no submission under `key_prefix` that was not
// acknowledged, and no submitted assessment twice under one key. Returns ""
// or a description of what is wrong.
std::string CheckStoredExactlyOnce(const std::string& conninfo, const std::string& key_prefix,
                                   const std::map<std::string, Acknowledgement>& acknowledged,
                                   int answers);

}  // namespace rqs::testing

#endif  // RQS_TESTS_INTEGRATION_FAULT_SUPPORT_H_
