// load_gen: a load generator for a running rqs-server, over real gRPC.
//
// Write mode (default): sets up a review with N raters (users and tokens via
// UserService) and enough studies and assignments that every submission is
// for a study of its own, then runs N concurrent raters, each on its own
// HTTP/2 connection, submitting full 42-criterion RQS 2.0 assessments
// (SubmitAssessment, a unique idempotency key each) back to back for the
// given duration. Prints throughput and latency percentiles.
//
// With --rate R, write mode is an open loop instead: submissions arrive at
// R a second in all, at Poisson-distributed times (as pgbench --rate
// schedules its transactions), and each goes to whichever of the N raters is
// free. A submission's latency runs from its scheduled arrival, not from the
// moment a rater got to send it, so time spent waiting for a free rater
// counts (as pgbench counts its schedule lag).
//
// Read mode (--mode read): sets up a review of S studies x R raters, loads
// every round-1 submission through the API, then times GetReviewSummary and,
// if the server implements them, ConsensusService.GetSummary and
// GetAgreement.
//
//   load_gen --server 127.0.0.1:50051 --admin-token-file var/admin.token
//            [--mode write|read] [--concurrency 16] [--duration 20] [--warmup 2]
//            [--rate R]
//            [--studies-per-rater N] [--read-studies 2000] [--read-raters 3]
//            [--read-repeats 5] [--server-pid PID]
//
// With --server-pid (a server on this machine), read mode also prints the
// server's peak RSS (VmHWM) after loading the review and after the reads.
//
// Results are also printed as `key=value` lines for scripts (bench/load.sh).
// Exit status: 0 done, 1 the server refused the setup, 2 bad arguments.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "rqs/v1/assessment.grpc.pb.h"
#include "rqs/v1/consensus.grpc.pb.h"
#include "rqs/v1/instrument.grpc.pb.h"
#include "rqs/v1/review.grpc.pb.h"
#include "rqs/v1/user.grpc.pb.h"

namespace rqs::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string server;
  std::string admin_token;
  std::string mode = "write";
  int concurrency = 16;
  double duration_s = 20;
  double warmup_s = 2;
  double rate_per_s = 0;  // 0: closed loop, each rater sends back to back.
  int studies_per_rater = 0;  // 0: derived from the duration.
  int read_studies = 2000;
  int read_raters = 3;
  int read_repeats = 5;
  int server_pid = 0;  // 0: unknown.
};

[[noreturn]] void Usage(const std::string& error) {
  std::cerr << "load_gen: " << error << "\n"
            << "usage: load_gen --server HOST:PORT (--admin-token T | --admin-token-file F)\n"
               "  [--mode write|read] [--concurrency N] [--duration S] [--warmup S] [--rate R]\n"
               "  [--studies-per-rater N] [--read-studies N] [--read-raters N]\n"
               "  [--read-repeats N] [--server-pid PID]\n";
  std::exit(2);
}

int ParseInt(const std::string& flag, const std::string& value, int min, int max) {
  int result = 0;
  if (!absl::SimpleAtoi(value, &result) || result < min || result > max) {
    Usage(absl::StrCat(flag, " must be an integer in ", min, "..", max));
  }
  return result;
}

double ParseSeconds(const std::string& flag, const std::string& value) {
  double result = 0;
  if (!absl::SimpleAtod(value, &result) || !(result >= 0) || result > 86400) {
    Usage(absl::StrCat(flag, " must be a number of seconds"));
  }
  return result;
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    if (const std::size_t eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    } else if (flag == "--help") {
      Usage("help");
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      Usage(flag + " needs a value");
    }
    if (flag == "--server") {
      options.server = value;
    } else if (flag == "--admin-token") {
      options.admin_token = value;
    } else if (flag == "--admin-token-file") {
      std::ifstream file(value);
      if (!std::getline(file, options.admin_token)) Usage("cannot read " + value);
      options.admin_token = std::string(absl::StripAsciiWhitespace(options.admin_token));
    } else if (flag == "--mode") {
      if (value != "write" && value != "read") Usage("--mode must be write or read");
      options.mode = value;
    } else if (flag == "--concurrency") {
      options.concurrency = ParseInt(flag, value, 1, 1024);
    } else if (flag == "--duration") {
      options.duration_s = ParseSeconds(flag, value);
    } else if (flag == "--warmup") {
      options.warmup_s = ParseSeconds(flag, value);
    } else if (flag == "--rate") {
      if (!absl::SimpleAtod(value, &options.rate_per_s) || !(options.rate_per_s > 0) ||
          options.rate_per_s > 1e6) {
        Usage("--rate must be a positive number of submissions a second");
      }
    } else if (flag == "--studies-per-rater") {
      options.studies_per_rater = ParseInt(flag, value, 1, 1000000);
    } else if (flag == "--read-studies") {
      options.read_studies = ParseInt(flag, value, 1, 1000000);
    } else if (flag == "--read-raters") {
      options.read_raters = ParseInt(flag, value, 1, 100);
    } else if (flag == "--read-repeats") {
      options.read_repeats = ParseInt(flag, value, 1, 1000);
    } else if (flag == "--server-pid") {
      options.server_pid = ParseInt(flag, value, 1, 1 << 30);
    } else {
      Usage("unknown flag " + flag);
    }
  }
  if (options.server.empty()) Usage("--server is required");
  if (options.admin_token.empty()) Usage("--admin-token or --admin-token-file is required");
  return options;
}

// A channel of its own (not shared with other channels to the same
// address), so that every simulated rater has its own HTTP/2 connection.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& server) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  return grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, int timeout_s = 30) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s));
  return context;
}

// Exits with status 1 naming the call if the setup call failed.
void Check(const grpc::Status& status, const std::string& what) {
  if (!status.ok()) {
    std::cerr << "load_gen: " << what << " failed: code " << status.error_code() << ": "
              << status.error_message() << "\n";
    std::exit(1);
  }
}

// Prints the peak RSS (VmHWM) of process `pid` as `key`=MB; nothing if pid
// is 0 or unreadable.
void PrintPeakRss(int pid, const std::string& key) {
  if (pid == 0) return;
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) != 0) continue;
    double kb = 0;
    if (absl::SimpleAtod(absl::StripAsciiWhitespace(
                             absl::StripSuffix(absl::StripPrefix(line, "VmHWM:"), "kB")),
                         &kb)) {
      std::printf("%s=%.1f\n", key.c_str(), kb / 1024);
    }
  }
}

double Seconds(Clock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

// The admin's view of the server: creates the review, raters, studies.
class Setup {
 public:
  Setup(std::shared_ptr<grpc::Channel> channel, std::string admin_token)
      : users_(v1::UserService::NewStub(channel)),
        reviews_(v1::ReviewService::NewStub(channel)),
        instruments_(v1::InstrumentService::NewStub(channel)),
        admin_token_(std::move(admin_token)),
        nonce_(absl::StrCat(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count())) {}

  int64_t CreateReview(const std::string& name) {
    v1::CreateReviewRequest request;
    request.set_name(absl::StrCat(name, " ", nonce_));
    request.set_instrument_id("rqs2");
    v1::CreateReviewResponse response;
    Check(reviews_->CreateReview(Ctx(admin_token_).get(), request, &response), "CreateReview");
    return response.review().review_id();
  }

  // Creates a rater, issues a token and adds them to the review.
  std::pair<int64_t, std::string> AddRater(int64_t review_id, const std::string& name) {
    v1::CreateUserRequest create;
    create.set_name(absl::StrCat(name, "-", nonce_));
    v1::CreateUserResponse user;
    Check(users_->CreateUser(Ctx(admin_token_).get(), create, &user), "CreateUser");
    v1::IssueTokenRequest issue;
    issue.set_user_id(user.user().user_id());
    issue.set_label("load_gen");
    v1::IssueTokenResponse token;
    Check(users_->IssueToken(Ctx(admin_token_).get(), issue, &token), "IssueToken");
    v1::AddMemberRequest member;
    member.set_review_id(review_id);
    member.set_user_id(user.user().user_id());
    member.set_role(v1::ROLE_RATER);
    v1::AddMemberResponse added;
    Check(reviews_->AddMember(Ctx(admin_token_).get(), member, &added), "AddMember");
    return {user.user().user_id(), token.token()};
  }

  // Adds `count` handcrafted-radiomics studies; returns their ids in order.
  std::vector<int64_t> AddStudies(int64_t review_id, int count) {
    std::vector<int64_t> ids;
    constexpr int kBatch = 1000;  // The API's per-call limit.
    for (int first = 0; first < count; first += kBatch) {
      v1::AddStudiesRequest request;
      request.set_review_id(review_id);
      for (int i = first; i < std::min(count, first + kBatch); ++i) {
        v1::StudyInput* study = request.add_studies();
        study->set_title(absl::StrCat("Load study ", i));
        study->set_authors("Doe J; Roe R");
        study->set_year(2024);
        study->set_study_type(v1::STUDY_TYPE_HANDCRAFTED);
      }
      v1::AddStudiesResponse response;
      Check(reviews_->AddStudies(Ctx(admin_token_, 120).get(), request, &response), "AddStudies");
      for (const v1::Study& study : response.studies()) ids.push_back(study.study_id());
    }
    return ids;
  }

  void Assign(int64_t review_id, const std::vector<std::pair<int64_t, int64_t>>& pairs) {
    constexpr std::size_t kBatch = 10000;  // The API's per-call limit.
    for (std::size_t first = 0; first < pairs.size(); first += kBatch) {
      v1::AssignRatersRequest request;
      request.set_review_id(review_id);
      auto* assignments = request.mutable_explicit_assignments();
      for (std::size_t i = first; i < std::min(pairs.size(), first + kBatch); ++i) {
        v1::Assignment* assignment = assignments->add_assignments();
        assignment->set_study_id(pairs[i].first);
        assignment->set_rater_id(pairs[i].second);
      }
      v1::AssignRatersResponse response;
      Check(reviews_->AssignRaters(Ctx(admin_token_, 120).get(), request, &response),
            "AssignRaters");
    }
  }

  v1::Instrument GetRqs2() {
    v1::GetInstrumentRequest request;
    request.set_instrument_id("rqs2");
    v1::GetInstrumentResponse response;
    Check(instruments_->GetInstrument(Ctx(admin_token_).get(), request, &response),
          "GetInstrument");
    return response.instrument();
  }

  const std::string& nonce() const { return nonce_; }

 private:
  std::unique_ptr<v1::UserService::Stub> users_;
  std::unique_ptr<v1::ReviewService::Stub> reviews_;
  std::unique_ptr<v1::InstrumentService::Stub> instruments_;
  std::string admin_token_;
  std::string nonce_;
};

// Returns a full answer set for a handcrafted study: every applicable
// criterion answered, options drawn by `random`, with a short rationale and
// evidence as raters write them.
std::vector<v1::Answer> RandomAnswers(const v1::Instrument& instrument, std::mt19937_64& random) {
  std::vector<v1::Answer> answers;
  for (const v1::Criterion& criterion : instrument.criteria()) {
    if (criterion.applies_to() == v1::APPLICABILITY_DEEP_LEARNING_ONLY) continue;
    v1::Answer answer;
    answer.set_criterion(criterion.number());
    const int options = criterion.options_size();
    if (criterion.kind() == v1::OPTION_KIND_ADDITIVE) {
      for (int i = 0; i < options; ++i) {
        if (random() % 2 == 0) answer.add_option_ids(criterion.options(i).id());
      }
    } else {
      answer.add_option_ids(criterion.options(static_cast<int>(random() % static_cast<uint64_t>(
                                                  std::max(options, 1))))
                                .id());
    }
    answer.set_rationale(absl::StrCat("Reported in the methods; see criterion ",
                                      criterion.number(), " of the checklist."));
    answer.mutable_evidence()->set_page(absl::StrCat(1 + random() % 12));
    answer.mutable_evidence()->set_section("Methods");
    answers.push_back(std::move(answer));
  }
  return answers;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1));
  return sorted[std::min(rank, sorted.size() - 1)];
}

// The arrival times of an open-loop run: a Poisson process of `rate_per_s`
// from `first`, shared by every rater; each free rater takes the next time.
class ArrivalSchedule {
 public:
  ArrivalSchedule(double rate_per_s, Clock::time_point first)
      : interval_(rate_per_s), random_(7), next_(first) {}

  Clock::time_point Next() {
    std::lock_guard<std::mutex> lock(mutex_);
    const Clock::time_point arrival = next_;
    next_ += std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(interval_(random_)));
    return arrival;
  }

 private:
  std::mutex mutex_;
  std::exponential_distribution<double> interval_;  // Seconds; lambda = rate.
  std::mt19937_64 random_;
  Clock::time_point next_;
};

// What one rater thread measured.
struct RaterResult {
  std::vector<double> latencies_ms;  // Successful submissions in the window.
  int64_t ok_total = 0;
  std::map<int, int64_t> errors;  // By gRPC status code.
  std::string first_error;
  bool exhausted = false;  // Ran out of studies before the end.
};

int RunWrite(const Options& options) {
  const auto setup_start = Clock::now();
  Setup setup(NewChannel(options.server), options.admin_token);
  const v1::Instrument instrument = setup.GetRqs2();
  const int raters = options.concurrency;
  const int per_rater =
      options.studies_per_rater > 0
          ? options.studies_per_rater
          : std::max(100, static_cast<int>((options.duration_s + options.warmup_s) * 40));
  const int64_t review_id = setup.CreateReview("Load test");
  std::vector<std::pair<int64_t, std::string>> rater_ids;
  for (int r = 0; r < raters; ++r) {
    rater_ids.push_back(setup.AddRater(review_id, absl::StrCat("load-r", r)));
  }
  const std::vector<int64_t> studies = setup.AddStudies(review_id, raters * per_rater);
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int r = 0; r < raters; ++r) {
    for (int i = 0; i < per_rater; ++i) {
      pairs.emplace_back(studies[static_cast<std::size_t>(r * per_rater + i)],
                         rater_ids[static_cast<std::size_t>(r)].first);
    }
  }
  setup.Assign(review_id, pairs);
  std::mt19937_64 random(42);
  std::vector<std::vector<v1::Answer>> variants;
  for (int i = 0; i < 64; ++i) variants.push_back(RandomAnswers(instrument, random));
  std::cout << "load_gen: setup: review " << review_id << ", " << raters << " raters, "
            << studies.size() << " studies, " << variants.front().size()
            << " answers per assessment (" << Seconds(Clock::now() - setup_start) << " s)\n";

  std::vector<RaterResult> results(static_cast<std::size_t>(raters));
  // `start` and `schedule` are written before `go` is set and read after it
  // is seen set.
  std::atomic<bool> go{false};
  Clock::time_point start;
  std::optional<ArrivalSchedule> schedule;
  std::vector<std::thread> threads;
  for (int r = 0; r < raters; ++r) {
    threads.emplace_back([&, r] {
      RaterResult& result = results[static_cast<std::size_t>(r)];
      const auto channel = NewChannel(options.server);
      auto stub = v1::AssessmentService::NewStub(channel);
      const std::string& token = rater_ids[static_cast<std::size_t>(r)].second;
      // One request per answer variant, built before the clock starts: the
      // loop only sets the study and the key, so the client spends its
      // share of the cores on sending, not on copying 42 answers.
      std::vector<v1::SubmitAssessmentRequest> requests(variants.size());
      for (std::size_t v = 0; v < variants.size(); ++v) {
        requests[v].set_review_id(review_id);
        requests[v].mutable_answers()->Assign(variants[v].begin(), variants[v].end());
      }
      // Connect before the clock starts.
      channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10));
      while (!go.load()) std::this_thread::yield();
      const auto window_start =
          start + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(options.warmup_s));
      const auto end = window_start + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(options.duration_s));
      for (int i = 0; i < per_rater; ++i) {
        // Closed loop: send now, until the window ends. Open loop: wait for
        // the next arrival; one due at or after the end is not sent, and
        // every one due before it is sent and waited for, however late.
        Clock::time_point sent;
        if (schedule.has_value()) {
          sent = schedule->Next();
          if (sent >= end) return;
          std::this_thread::sleep_until(sent);
        } else {
          sent = Clock::now();
          if (sent >= end) return;
        }
        v1::SubmitAssessmentRequest& request =
            requests[static_cast<std::size_t>(i) % requests.size()];
        request.set_study_id(studies[static_cast<std::size_t>(r * per_rater + i)]);
        request.set_idempotency_key(absl::StrCat("load-", r, "-", i));
        v1::SubmitAssessmentResponse response;
        const grpc::Status status = stub->SubmitAssessment(Ctx(token, 10).get(), request, &response);
        const auto received = Clock::now();
        if (!status.ok()) {
          ++result.errors[status.error_code()];
          if (result.first_error.empty()) result.first_error = status.error_message();
          continue;
        }
        ++result.ok_total;
        if (sent >= window_start && (schedule.has_value() || received <= end)) {
          result.latencies_ms.push_back(
              std::chrono::duration<double, std::milli>(received - sent).count());
        }
      }
      result.exhausted = true;
    });
  }
  // Give the threads a moment to dial, then start them together.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  start = Clock::now();
  if (options.rate_per_s > 0) schedule.emplace(options.rate_per_s, start);
  go.store(true);
  for (std::thread& thread : threads) thread.join();

  std::vector<double> all;
  int64_t ok_total = 0;
  std::map<int, int64_t> errors;
  int exhausted = 0;
  std::string first_error;
  for (const RaterResult& result : results) {
    all.insert(all.end(), result.latencies_ms.begin(), result.latencies_ms.end());
    ok_total += result.ok_total;
    for (const auto& [code, count] : result.errors) errors[code] += count;
    if (result.exhausted) ++exhausted;
    if (first_error.empty()) first_error = result.first_error;
  }
  std::sort(all.begin(), all.end());
  const double throughput = static_cast<double>(all.size()) / options.duration_s;
  int64_t error_total = 0;
  for (const auto& [code, count] : errors) {
    error_total += count;
    std::cout << "load_gen: " << count << " submissions failed with code " << code << "\n";
  }
  if (!first_error.empty()) std::cout << "load_gen: first error: " << first_error << "\n";
  if (exhausted > 0) {
    std::cout << "load_gen: WARNING: " << exhausted
              << " raters ran out of studies; raise --studies-per-rater\n";
  }
  if (options.rate_per_s > 0) {
    std::cout << "load_gen: open loop, " << options.rate_per_s
              << " submissions/s offered; latency from each scheduled arrival\n";
    std::printf("offered_per_s=%.1f\n", options.rate_per_s);
  }
  std::cout << "load_gen: " << raters << " concurrent raters, " << options.duration_s
            << " s measured after " << options.warmup_s << " s warm-up: " << all.size()
            << " submissions in the window (" << ok_total << " in all), " << error_total
            << " errors\n";
  std::printf("submissions=%zu\nerrors=%lld\nexhausted=%d\nthroughput_per_s=%.1f\n", all.size(),
              static_cast<long long>(error_total), exhausted, throughput);
  std::printf("latency_ms_p50=%.2f\nlatency_ms_p95=%.2f\nlatency_ms_p99=%.2f\nlatency_ms_max=%.2f\n",
              Percentile(all, 50), Percentile(all, 95), Percentile(all, 99),
              all.empty() ? 0.0 : all.back());
  return 0;
}

// Times `call` (which returns a grpc::Status) `repeats` times after one
// untimed warm-up call; prints the figures under `name`, then the server's
// peak RSS if `server_pid` is known. UNIMPLEMENTED prints "not available yet".
template <typename Call>
void TimeRead(const std::string& name, int repeats, int server_pid, Call call) {
  const auto cold_start = Clock::now();
  grpc::Status status = call();
  const double cold_ms = std::chrono::duration<double, std::milli>(Clock::now() - cold_start).count();
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    std::cout << "load_gen: " << name << ": not available yet (UNIMPLEMENTED)\n";
    std::printf("read_%s=unavailable\n", name.c_str());
    return;
  }
  if (!status.ok()) {
    std::cout << "load_gen: " << name << " failed: code " << status.error_code() << ": "
              << status.error_message() << "\n";
    std::printf("read_%s=error\n", name.c_str());
    return;
  }
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    status = call();
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!status.ok()) {
      std::cout << "load_gen: " << name << " failed: " << status.error_message() << "\n";
      std::printf("read_%s=error\n", name.c_str());
      return;
    }
  }
  std::sort(times.begin(), times.end());
  std::cout << "load_gen: " << name << ": first call " << cold_ms << " ms, then median "
            << Percentile(times, 50) << " ms, max " << times.back() << " ms over " << repeats
            << " calls\n";
  std::printf("read_%s=ok\nread_%s_first_ms=%.1f\nread_%s_median_ms=%.1f\nread_%s_max_ms=%.1f\n",
              name.c_str(), name.c_str(), cold_ms, name.c_str(), Percentile(times, 50),
              name.c_str(), times.back());
  PrintPeakRss(server_pid, "server_peak_rss_mb_after_" + name);
}

int RunRead(const Options& options) {
  const auto setup_start = Clock::now();
  const auto channel = NewChannel(options.server);
  Setup setup(channel, options.admin_token);
  const v1::Instrument instrument = setup.GetRqs2();
  const int64_t review_id = setup.CreateReview("Read benchmark");
  std::vector<std::pair<int64_t, std::string>> raters;
  for (int r = 0; r < options.read_raters; ++r) {
    raters.push_back(setup.AddRater(review_id, absl::StrCat("read-r", r)));
  }
  const std::vector<int64_t> studies = setup.AddStudies(review_id, options.read_studies);
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (const int64_t study : studies) {
    for (const auto& rater : raters) pairs.emplace_back(study, rater.first);
  }
  setup.Assign(review_id, pairs);

  // Answers: a study's raters mostly agree (its "true" answers differ from
  // study to study); on every fifth study two raters disagree on a few
  // criteria, as real raters do.
  std::atomic<std::size_t> next{0};
  std::atomic<int64_t> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < options.concurrency; ++t) {
    threads.emplace_back([&] {
      auto channel_of_thread = NewChannel(options.server);
      auto stub = v1::AssessmentService::NewStub(channel_of_thread);
      for (std::size_t item = next++; item < pairs.size(); item = next++) {
        const std::size_t study_index = item / raters.size();
        const std::size_t rater_index = item % raters.size();
        std::mt19937_64 study_random(study_index);
        std::vector<v1::Answer> answers = RandomAnswers(instrument, study_random);
        if (study_index % 5 == 0 && rater_index > 0) {
          std::mt19937_64 rater_random(study_index * 1000 + rater_index);
          for (int k = 0; k < 3; ++k) {
            const std::size_t which = rater_random() % answers.size();
            std::vector<v1::Answer> other = RandomAnswers(instrument, rater_random);
            answers[which] = other[which];
          }
        }
        v1::SubmitAssessmentRequest request;
        request.set_review_id(review_id);
        request.set_study_id(pairs[item].first);
        request.set_idempotency_key(absl::StrCat("read-", item));
        request.mutable_answers()->Assign(answers.begin(), answers.end());
        v1::SubmitAssessmentResponse response;
        grpc::Status status;
        for (int attempt = 0; attempt < 5; ++attempt) {
          status = stub->SubmitAssessment(Ctx(raters[rater_index].second, 60).get(), request,
                                          &response);
          if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
              status.error_code() != grpc::StatusCode::ABORTED) {
            break;
          }
        }
        if (!status.ok() && failed++ == 0) {
          std::cerr << "load_gen: a submission failed: code " << status.error_code() << ": "
                    << status.error_message() << "\n";
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::cout << "load_gen: read setup: review " << review_id << ", " << studies.size()
            << " studies x " << raters.size() << " raters, " << pairs.size() - static_cast<std::size_t>(failed.load())
            << " submissions through the API (" << Seconds(Clock::now() - setup_start) << " s, "
            << failed.load() << " failed)\n";
  if (failed.load() > 0) return 1;
  PrintPeakRss(options.server_pid, "server_peak_rss_mb_after_read_setup");

  auto review_stub = v1::ReviewService::NewStub(channel);
  auto consensus_stub = v1::ConsensusService::NewStub(channel);
  TimeRead("review_summary", options.read_repeats, options.server_pid, [&] {
    v1::GetReviewSummaryRequest request;
    request.set_review_id(review_id);
    v1::GetReviewSummaryResponse response;
    grpc::Status status =
        review_stub->GetReviewSummary(Ctx(options.admin_token, 60).get(), request, &response);
    if (status.ok() && response.studies_size() != static_cast<int>(studies.size())) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "GetReviewSummary: wrong study count");
    }
    return status;
  });
  TimeRead("summary", options.read_repeats, options.server_pid, [&] {
    v1::GetSummaryRequest request;
    request.set_review_id(review_id);
    v1::GetSummaryResponse response;
    return consensus_stub->GetSummary(Ctx(options.admin_token, 60).get(), request, &response);
  });
  TimeRead("agreement", options.read_repeats, options.server_pid, [&] {
    v1::GetAgreementRequest request;
    request.set_review_id(review_id);
    v1::GetAgreementResponse response;
    return consensus_stub->GetAgreement(Ctx(options.admin_token, 60).get(), request, &response);
  });
  return 0;
}

}  // namespace
}  // namespace rqs::bench

int main(int argc, char** argv) {
  const rqs::bench::Options options = rqs::bench::ParseOptions(argc, argv);
  return options.mode == "read" ? rqs::bench::RunRead(options) : rqs::bench::RunWrite(options);
}
