// Drives the `rqs` binary through a whole Delphi cycle against the real
// rqs-server binary and PostgreSQL: policy, round 1 with disagreements,
// progress, automatic and manual round closing, anonymised feedback, a round-2
// answer file from `feedback --template`, adjudication (one decision and a
// batch), the consensus, agreement, summary, the three exports, the HTML
// report, blinding of a rater's export, and `watch` receiving the events live.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/cli_runner.h"
#include "tests/integration/server_process.h"
#include "tests/unit/db/test_database.h"

namespace rqs::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

constexpr char kAdminToken[] = "rqs_e2e_consensus_admin_token_0123456789";

// A CLI process left running (rqs watch): its output is collected by a
// thread until it exits.
class BackgroundCli {
 public:
  BackgroundCli(const std::string& binary, const std::vector<std::string>& args) {
    signal(SIGPIPE, SIG_IGN);
    int out_pipe[2], err_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      const int null = open("/dev/null", O_RDONLY);
      dup2(null, STDIN_FILENO);
      dup2(out_pipe[1], STDOUT_FILENO);
      dup2(err_pipe[1], STDERR_FILENO);
      for (int fd : {null, out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(binary.c_str()));
      for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    reader_ = std::thread([this, out = out_pipe[0], err = err_pipe[0]] { Read(out, err); });
  }

  ~BackgroundCli() {
    if (pid_ > 0 && !reaped_) Stop(SIGKILL);
  }

  // Waits until `done(stdout so far)` holds, the process closes its output
  // or `limit` passes; returns whether `done` held.
  bool WaitFor(const std::function<bool(const std::string&)>& done,
               std::chrono::seconds limit = std::chrono::seconds(60)) {
    return WaitForOutput([&](const std::string& out, const std::string&) { return done(out); },
                         limit);
  }

  // As WaitFor, with `done(stdout, stderr)`; `done` must not call out() or
  // err(), which take the lock it runs under.
  bool WaitForOutput(const std::function<bool(const std::string&, const std::string&)>& done,
                     std::chrono::seconds limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return done(out_, err_) || closed_; }) &&
           done(out_, err_);
  }

  // Sends `signal`, waits for the exit and returns the exit code (-1 if a
  // signal ended the process).
  int Stop(int signal) {
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    reader_.join();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string out() {
    std::lock_guard<std::mutex> lock(mutex_);
    return out_;
  }
  std::string err() {
    std::lock_guard<std::mutex> lock(mutex_);
    return err_;
  }

 private:
  void Read(int out, int err) {
    pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
    int open_fds = 2;
    char buffer[4096];
    while (open_fds > 0) {
      if (poll(fds, 2, -1) < 0) break;
      for (pollfd& fd : fds) {
        if (fd.fd < 0 || (fd.revents & (POLLIN | POLLHUP)) == 0) continue;
        const ssize_t n = read(fd.fd, buffer, sizeof(buffer));
        std::lock_guard<std::mutex> lock(mutex_);
        if (n <= 0) {
          close(fd.fd);
          fd.fd = -1;
          --open_fds;
        } else {
          (fd.fd == out ? out_ : err_).append(buffer, static_cast<size_t>(n));
        }
        changed_.notify_all();
      }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }

  pid_t pid_ = -1;
  bool reaped_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string out_;
  std::string err_;
  bool closed_ = false;
  std::thread reader_;
};

// RFC 4180 rows (quoted fields, doubled quotes, "\n" line ends).
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (!field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool FileExists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// Column `name` of a CSV header, or -1.
int Column(const std::vector<std::string>& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

class CliConsensusTest : public db::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    const std::string token_file = WriteTempFile("admin.token", kAdminToken);
    server_ = std::make_unique<ServerProcess>(
        RQS_SERVER_BINARY,
        std::vector<std::string>{"--listen", "127.0.0.1:0", "--database-url", conninfo_,
                                 "--admin-token-file", token_file, "--pool-size", "2"});
    address_ = server_->WaitForAddress();
    ASSERT_FALSE(address_.empty()) << server_->Stdout() << server_->Stderr();
  }

  std::vector<std::string> Prefix(const std::string& token) const {
    return {"--server", address_, "--timeout", "30", "--token", token};
  }

  CliResult Rqs(const std::string& token, std::vector<std::string> args,
                const std::string& stdin_text = "") {
    std::vector<std::string> full = Prefix(token);
    full.insert(full.end(), args.begin(), args.end());
    return RunCli(RQS_BINARY, full, stdin_text);
  }

  // Runs a command that must succeed; returns its stdout.
  std::string Ok(const std::string& token, std::vector<std::string> args) {
    const CliResult result = Rqs(token, args);
    EXPECT_EQ(result.exit_code, 0) << absl::StrJoin(args, " ") << ": " << result.err;
    return result.out;
  }

  Json RqsJson(const std::string& token, std::vector<std::string> args) {
    args.push_back("--json");
    const std::string out = Ok(token, args);
    if (out.empty()) return Json::object();
    return Json::parse(out);
  }

  std::string CreateUserWithToken(const std::string& name) {
    const Json user = RqsJson(kAdminToken, {"user", "create", name});
    ids_[name] = user["user"]["user_id"].get<std::string>();
    return RqsJson(kAdminToken, {"token", "issue", ids_[name]})["token"].get<std::string>();
  }

  // Fills the server's template for `study` with `answers` (criterion ->
  // "option" or "options" value; a string is an option, a list the met
  // sub-items) and `rationale` on every answered criterion, and submits it.
  void SubmitRound1(const std::string& token, const std::string& study,
                    const std::map<int, Json>& answers, const std::string& rationale) {
    const CliResult form = Rqs(token, {"template", study, "--review", review_});
    ASSERT_EQ(form.exit_code, 0) << form.err;
    Json file = Json::parse(form.out);
    for (Json& answer : file["answers"]) {
      const auto found = answers.find(answer["criterion"].get<int>());
      if (found == answers.end()) continue;
      answer[found->second.is_array() ? "options" : "option"] = found->second;
      answer["rationale"] = rationale;
      answer["evidence"]["page"] = "iv";
    }
    const CliResult submitted =
        Rqs(token, {"submit", study, WriteTempFile("round1.json", file.dump())});
    ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
    EXPECT_THAT(submitted.out, HasSubstr("round 1"));
  }

  // The consensus total and attained RRL of `answers` (as in SubmitRound1)
  // scored offline by `rqs score`, the reference for the server's figures.
  std::pair<int, int> OfflineScore(const std::map<int, Json>& answers) {
    Json file = {{"instrument", "rqs2"},
                 {"study_type", "HCR"},
                 {"target_rrl", 9},
                 {"level_threshold", 50},
                 {"answers", Json::array()}};
    for (const auto& [criterion, value] : answers) {
      file["answers"].push_back(
          {{"criterion", criterion}, {value.is_array() ? "options" : "option", value}});
    }
    const CliResult scored = RunCli(RQS_BINARY, {"score", "-"}, file.dump());
    EXPECT_EQ(scored.exit_code, 0) << scored.err;
    const Json report = Json::parse(scored.out);
    return {report["total"].get<int>(), report["attained_rrl"].get<int>()};
  }

  const Json* FindStudy(const Json& list, const std::string& study) {
    for (const Json& entry : list) {
      if (entry["study_id"].get<std::string>() == study) return &entry;
    }
    ADD_FAILURE() << "study " << study << " not in " << list.dump();
    return nullptr;
  }

  std::unique_ptr<ServerProcess> server_;
  std::string address_;
  std::string review_;
  std::map<std::string, std::string> ids_;
};

TEST_F(CliConsensusTest, FullDelphiCycleThroughTheCli) {
  const std::string alice = CreateUserWithToken("e2e_alice");
  const std::string bob = CreateUserWithToken("e2e_bob");
  const std::string carol = CreateUserWithToken("e2e_carol");
  const std::string olga = CreateUserWithToken("e2e_olga");
  const std::vector<std::string> names = {"e2e_alice", "e2e_bob", "e2e_carol", "e2e_olga"};

  review_ = RqsJson(kAdminToken,
                    {"review", "create", "Delphi e2e", "--target-rrl", "9"})["review"]["review_id"]
                .get<std::string>();

  // The policy: set two fields, keep the rest.
  Json policy = RqsJson(kAdminToken, {"policy", "show", "--review", review_});
  EXPECT_EQ(policy["locked"], false);
  const bool share_rationales = policy["policy"]["share_rationales"].get<bool>();
  policy = RqsJson(kAdminToken, {"policy", "set", "--review", review_, "--threshold", "0.75",
                                 "--max-rounds", "2"});
  EXPECT_EQ(policy["policy"]["agreement_threshold"], 0.75);
  EXPECT_EQ(policy["policy"]["max_rounds"], 2);
  EXPECT_EQ(policy["policy"]["share_rationales"], share_rationales);
  EXPECT_THAT(Ok(kAdminToken, {"policy", "show", "--review", review_}),
              HasSubstr("max rounds           2"));
  EXPECT_EQ(
      Rqs(kAdminToken, {"policy", "set", "--review", review_, "--stop-when-stable", "perhaps"})
          .exit_code,
      2);

  for (const auto& [name, role] :
       std::vector<std::pair<std::string, std::string>>{{"e2e_alice", "rater"},
                                                        {"e2e_bob", "rater"},
                                                        {"e2e_carol", "rater"},
                                                        {"e2e_olga", "observer"}}) {
    ASSERT_EQ(Rqs(kAdminToken, {"member", "add", review_, ids_[name], role}).exit_code, 0);
  }
  for (const char* title : {"Study A", "Study B", "Study C", "Study D"}) {
    ASSERT_EQ(
        Rqs(kAdminToken, {"study", "add", review_, "--title", title, "--type", "HCR"}).exit_code,
        0);
  }
  const Json studies = RqsJson(kAdminToken, {"study", "list", review_});
  ASSERT_EQ(studies["studies"].size(), 4u);
  const std::string a = studies["studies"][0]["study_id"];
  const std::string b = studies["studies"][1]["study_id"];
  const std::string c = studies["studies"][2]["study_id"];
  const std::string d = studies["studies"][3]["study_id"];
  ASSERT_EQ(RqsJson(kAdminToken, {"assign", review_, "--per-study", "3"})["created"].size(), 12u);

  // The coordinator watches from the start, in the background.
  std::vector<std::string> watch_args = Prefix(kAdminToken);
  watch_args.insert(watch_args.end(), {"watch", "--review", review_, "--after", "0", "--json"});
  BackgroundCli watch(RQS_BINARY, watch_args);

  const Json mine = RqsJson(alice, {"assignments", review_});
  ASSERT_EQ(mine["assignments"].size(), 4u);
  EXPECT_EQ(mine["assignments"][0]["action_needed"], true);
  EXPECT_EQ(mine["assignments"][0]["current_round"], 1);

  // Round 1, independent. A: 14 and 20 disputed; B: all agree; C: 1 and 14
  // disputed; D: carol never submits and the coordinator closes the round.
  const std::string alice_note = "note-k7q", bob_note = "note-m2x", carol_note = "note-z9w";
  SubmitRound1(alice, a, {{1, "consensus_method"}, {14, "yes"}, {20, Json{"data", "code"}}},
               alice_note);
  SubmitRound1(bob, a, {{1, "consensus_method"}, {14, "yes"}, {20, Json{"data"}}}, bob_note);
  Json progress = RqsJson(kAdminToken, {"progress", "--review", review_});
  const Json* progress_a = FindStudy(progress["studies"], a);
  ASSERT_NE(progress_a, nullptr);
  EXPECT_EQ((*progress_a)["state"], "STUDY_STATE_IN_ROUND");
  EXPECT_EQ((*progress_a)["submitted_in_round"], 2);
  EXPECT_EQ((*progress_a)["panel_size"], 3);
  EXPECT_THAT(Ok(kAdminToken, {"progress", "--review", review_}), HasSubstr("2/3"));
  SubmitRound1(carol, a, {{1, "consensus_method"}, {14, "no"}, {20, Json::array()}}, carol_note);
  for (const std::string* token : {&alice, &bob, &carol}) {
    SubmitRound1(*token, b, {{1, "consensus_method"}, {14, "yes"}, {20, Json{"data"}}}, alice_note);
  }
  SubmitRound1(alice, c, {{1, "consensus_method"}, {14, "yes"}}, alice_note);
  SubmitRound1(bob, c, {{1, "multicentre"}, {14, "no"}}, bob_note);
  SubmitRound1(carol, c, {{1, "multicentre"}, {14, "no"}}, carol_note);
  SubmitRound1(alice, d, {{1, "multicentre"}}, alice_note);
  SubmitRound1(bob, d, {{1, "multicentre"}}, bob_note);

  // Rounds close by themselves once every rater has submitted.
  progress = RqsJson(kAdminToken, {"progress", "--review", review_});
  EXPECT_EQ((*FindStudy(progress["studies"], a))["current_round"], 2);
  EXPECT_EQ((*FindStudy(progress["studies"], a))["open_criteria"], Json({14, 20}));
  EXPECT_EQ((*FindStudy(progress["studies"], b))["state"], "STUDY_STATE_FINALISED");
  EXPECT_EQ((*FindStudy(progress["studies"], c))["open_criteria"], Json({1, 14}));
  EXPECT_EQ((*FindStudy(progress["studies"], d))["current_round"], 1);
  // ... or when the coordinator closes them; carol is recorded as missing.
  const CliResult bad_close =
      Rqs(kAdminToken, {"round", "close", "--review", review_, "--study", d, "--round", "2"});
  EXPECT_EQ(bad_close.exit_code, 1);
  EXPECT_THAT(bad_close.err, HasSubstr("FAILED_PRECONDITION"));
  const Json closed =
      RqsJson(kAdminToken, {"round", "close", "--review", review_, "--study", d, "--round", "1"});
  ASSERT_EQ(closed["outcomes"].size(), 1u);
  EXPECT_EQ(closed["outcomes"][0]["missing_rater_ids"], Json({ids_["e2e_carol"]}));
  EXPECT_EQ(closed["outcomes"][0]["state"], "STUDY_STATE_FINALISED");
  const std::string progress_text = Ok(kAdminToken, {"progress", "--review", review_});
  EXPECT_THAT(progress_text, HasSubstr("Convergence (items agreed): after round 1"));
  EXPECT_THAT(progress_text, HasSubstr("finalised (all agreed)"));

  EXPECT_THAT(Ok(alice, {"assignments", review_}), HasSubstr("answer 2 criteria"));

  // Feedback is anonymised: labels only, never a login name or a user id.
  const std::string feedback = Ok(alice, {"feedback", "--review", review_, "--study", a});
  EXPECT_THAT(feedback, HasSubstr("round 2: 2 disputed criteria"));
  EXPECT_THAT(feedback, HasSubstr("Criterion 14"));
  EXPECT_THAT(feedback, HasSubstr("Rater "));
  EXPECT_THAT(feedback, HasSubstr("You: option:yes"));
  if (share_rationales) {
    EXPECT_THAT(feedback, HasSubstr(absl::StrCat("option:no \u2014 ", carol_note, " (p. iv)")));
  }
  const Json feedback_json = RqsJson(carol, {"feedback", "--review", review_, "--study", a});
  for (const std::string& text : {feedback, feedback_json.dump()}) {
    for (const std::string& name : names) EXPECT_THAT(text, Not(HasSubstr(name)));
    for (const auto& [name, id] : ids_) {
      EXPECT_THAT(text, Not(HasSubstr(absl::StrCat("rater ", id))));
      EXPECT_THAT(text, Not(HasSubstr(absl::StrCat("\"", id, "\""))));
    }
    EXPECT_THAT(text, Not(HasSubstr("rater_id")));
    EXPECT_THAT(text, Not(HasSubstr("user_id")));
  }
  const std::regex label("^Rater [A-Z]+$");
  for (const Json& criterion : feedback_json["criteria"]) {
    EXPECT_TRUE(std::regex_match(criterion["own_label"].get<std::string>(), label));
    for (const Json& other : criterion["others"]) {
      EXPECT_TRUE(std::regex_match(other["label"].get<std::string>(), label)) << other.dump();
    }
  }

  // Round 2 through `feedback --template`: only the disputed criteria,
  // pre-filled; carol changes her mind on 14, nobody on 20.
  std::map<std::string, std::string> round2_files;
  for (const auto& [name, token] : std::vector<std::pair<std::string, std::string>>{
           {"alice", alice}, {"bob", bob}, {"carol", carol}}) {
    for (const std::string& study : {a, c}) {
      const std::string path = WriteTempFile(absl::StrCat(name, study, ".json"), "");
      const CliResult written =
          Rqs(token, {"feedback", "--review", review_, "--study", study, "--template", path});
      ASSERT_EQ(written.exit_code, 0) << written.err;
      EXPECT_THAT(written.err, HasSubstr("for round 2"));
      Json file = Json::parse(ReadFile(path));
      EXPECT_EQ(file["round"], 2);
      std::set<int> criteria;
      for (const Json& answer : file["answers"]) criteria.insert(answer["criterion"].get<int>());
      EXPECT_EQ(criteria, study == a ? std::set<int>({14, 20}) : std::set<int>({1, 14}));
      if (name == "alice" && study == a) {
        EXPECT_EQ(file["answers"][0]["option"], "yes");
        EXPECT_EQ(file["answers"][1]["options"], Json({"data", "code"}));
        EXPECT_EQ(file["answers"][0]["rationale"], alice_note);
      }
      if (name == "carol" && study == a) {
        for (Json& answer : file["answers"]) {
          if (answer["criterion"] == 14) answer["option"] = "yes";
        }
        std::ofstream(path, std::ios::trunc) << file.dump(2);
      }
      round2_files[name + study] = path;
    }
  }
  // A file made for round 2 cannot be sent to another round.
  const CliResult wrong_round =
      Rqs(alice, {"submit", a, round2_files["alice" + a], "--round", "3"});
  EXPECT_EQ(wrong_round.exit_code, 2);
  EXPECT_THAT(wrong_round.err, HasSubstr("was made for round 2, not round 3"));
  for (const auto& [name, token] : std::vector<std::pair<std::string, std::string>>{
           {"alice", alice}, {"bob", bob}, {"carol", carol}}) {
    for (const std::string& study : {a, c}) {
      const CliResult submitted = Rqs(token, {"submit", study, round2_files[name + study]});
      ASSERT_EQ(submitted.exit_code, 0) << name << " " << study << ": " << submitted.err;
      EXPECT_THAT(submitted.out, HasSubstr("round 2"));
    }
  }
  EXPECT_EQ(RqsJson(alice, {"show", a, "--review", review_, "--round", "1"})["assessment"]["round"],
            1);

  // Round 2 was the last: what is still disputed awaits adjudication.
  progress = RqsJson(kAdminToken, {"progress", "--review", review_});
  EXPECT_EQ((*FindStudy(progress["studies"], a))["state"], "STUDY_STATE_AWAITING_ADJUDICATION");
  EXPECT_EQ((*FindStudy(progress["studies"], a))["awaiting_adjudication"], Json({20}));
  EXPECT_EQ((*FindStudy(progress["studies"], c))["awaiting_adjudication"], Json({1, 14}));
  EXPECT_EQ(progress["consensus_share_by_round"].size(), 2u);

  const CliResult one =
      Rqs(kAdminToken, {"adjudicate", "--review", review_, "--study", a, "--criterion", "20",
                        "--option", "data", "--reason", "Only the data are shared (p. 9)"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_THAT(one.out, HasSubstr("finalised"));
  const std::string batch = WriteTempFile("decisions.json", R"([
      {"criterion": 1, "option_ids": ["multicentre"], "reason": "Two centres, no Delphi"},
      {"criterion": 14, "points": 2, "reason": "Table 3 is multivariable"}])");
  const Json batch_result =
      RqsJson(kAdminToken, {"adjudicate", "--review", review_, "--study", c, "--file", batch});
  EXPECT_EQ(batch_result["state"], "STUDY_STATE_FINALISED");
  EXPECT_EQ(batch_result["awaiting_adjudication"].size(), 0u);

  // The consensus, checked against the offline scorer.
  const std::map<std::string, std::map<int, Json>> expected_answers = {
      {a, {{1, "consensus_method"}, {14, "yes"}, {20, Json{"data"}}}},
      {b, {{1, "consensus_method"}, {14, "yes"}, {20, Json{"data"}}}},
      {c, {{1, "multicentre"}, {14, "yes"}}},
      {d, {{1, "multicentre"}}}};
  const Json consensus = RqsJson(kAdminToken, {"consensus", "--review", review_});
  ASSERT_EQ(consensus["studies"].size(), 4u);
  for (const auto& [study, answers] : expected_answers) {
    const auto [total, level] = OfflineScore(answers);
    const Json* entry = FindStudy(consensus["studies"], study);
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ((*entry)["state"], "STUDY_STATE_FINALISED");
    EXPECT_EQ((*entry)["report"]["total"], total) << study;
    EXPECT_EQ((*entry)["report"]["attained_level"], level) << study;
  }
  const auto [total_a, level_a] = OfflineScore(expected_answers.at(a));
  const std::string consensus_a = Ok(kAdminToken, {"consensus", "--review", review_, "--study", a});
  EXPECT_THAT(consensus_a, HasSubstr(absl::StrCat("Total ", total_a, " of 56")));
  EXPECT_THAT(consensus_a, HasSubstr(absl::StrCat("attained RRL", level_a)));
  EXPECT_THAT(consensus_a, HasSubstr("adjudicated: Only the data are shared (p. 9)"));
  EXPECT_THAT(consensus_a, HasSubstr("agreed in round 2"));
  EXPECT_THAT(consensus_a, HasSubstr("agreed in round 1"));
  EXPECT_THAT(Ok(kAdminToken, {"consensus", "--review", review_}), HasSubstr("finalised"));

  // Agreement: coordinators and observers; raters may not.
  const std::string agreement = Ok(kAdminToken, {"agreement", "--review", review_});
  EXPECT_THAT(agreement, HasSubstr("Fleiss kappa"));
  EXPECT_THAT(agreement, HasSubstr("Total score (absolute agreement"));
  EXPECT_THAT(agreement, HasSubstr("ICC2k"));
  EXPECT_THAT(agreement, HasSubstr("Convergence"));
  EXPECT_THAT(agreement, HasSubstr("e2e_bob"));  // Per rater, for coordinators.
  const Json agreement_json =
      RqsJson(kAdminToken, {"agreement", "--review", review_, "--bootstrap", "50", "--seed", "7"});
  EXPECT_FALSE(agreement_json["criteria"].empty());
  EXPECT_EQ(agreement_json["raters"].size(), 3u);
  bool has_icc2 = false;
  for (const Json& statistic : agreement_json["total_score"]["statistics"]) {
    has_icc2 = has_icc2 || statistic["key"] == "icc2";
  }
  EXPECT_TRUE(has_icc2) << agreement_json["total_score"].dump();
  EXPECT_EQ(Rqs(olga, {"agreement", "--review", review_}).exit_code, 0);
  const CliResult rater_agreement = Rqs(alice, {"agreement", "--review", review_});
  EXPECT_EQ(rater_agreement.exit_code, 1);
  EXPECT_THAT(rater_agreement.err, HasSubstr("PERMISSION_DENIED"));

  // The summary.
  const Json summary = RqsJson(kAdminToken, {"summary", "--review", review_});
  EXPECT_EQ(summary["studies"], 4);
  EXPECT_EQ(summary["finalised"], 4);
  EXPECT_EQ(summary["review_name"], "Delphi e2e");
  const std::string summary_text = Ok(kAdminToken, {"summary", "--review", review_});
  EXPECT_THAT(summary_text, HasSubstr("Studies 4, finalised 4"));
  EXPECT_THAT(summary_text, HasSubstr("Consensus score, points:"));
  EXPECT_THAT(summary_text, HasSubstr("Fulfilment per criterion"));

  // Exports: long CSV to stdout, wide CSV and JSON to files.
  const std::string long_csv = Ok(kAdminToken, {"export", "--review", review_, "--format", "long"});
  const auto long_rows = ParseCsv(long_csv);
  ASSERT_GT(long_rows.size(), 1u);
  const std::vector<std::string>& long_header = long_rows[0];
  for (const char* column :
       {"study_id", "rater", "round", "criterion", "option_ids", "points", "rationale"}) {
    EXPECT_GE(Column(long_header, column), 0) << column;
  }
  const int rater_column = Column(long_header, "rater");
  std::set<std::string> raters_in_export;
  for (size_t i = 1; i < long_rows.size(); ++i) {
    ASSERT_EQ(long_rows[i].size(), long_header.size()) << i;
    raters_in_export.insert(long_rows[i][static_cast<size_t>(rater_column)]);
  }
  EXPECT_TRUE(raters_in_export.count("consensus")) << long_csv.substr(0, 400);
  EXPECT_TRUE(raters_in_export.count("e2e_bob"));

  const std::string out_dir = WriteTempFile("unused", "") + ".d";
  ASSERT_EQ(mkdir(out_dir.c_str(), 0755), 0);
  const std::string wide_path = out_dir + "/wide.csv";
  const CliResult wide =
      Rqs(kAdminToken, {"export", "--review", review_, "--format", "wide", "-o", wide_path});
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  EXPECT_EQ(wide.out, "");
  const auto wide_rows = ParseCsv(ReadFile(wide_path));
  ASSERT_EQ(wide_rows.size(), 5u);
  const int total_column = Column(wide_rows[0], "total");
  const int c14_column = Column(wide_rows[0], "c14");
  ASSERT_GE(total_column, 0);
  ASSERT_GE(c14_column, 0);
  for (size_t i = 1; i < wide_rows.size(); ++i) {
    if (wide_rows[i][0] == a) {
      EXPECT_EQ(wide_rows[i][static_cast<size_t>(total_column)], absl::StrCat(total_a));
      EXPECT_EQ(wide_rows[i][static_cast<size_t>(c14_column)], "2");
    }
  }
  const std::string json_path = out_dir + "/review.json";
  ASSERT_EQ(
      Rqs(kAdminToken, {"export", "--review", review_, "--format", "json", "--output", json_path})
          .exit_code,
      0);
  const Json exported = Json::parse(ReadFile(json_path));
  ASSERT_EQ(exported["studies"].size(), 4u);
  for (const Json& study : exported["studies"]) EXPECT_FALSE(study["consensus"].is_null());
  // A failed export leaves no file behind.
  const std::string missing_dir = out_dir + "/no/such/dir/x.csv";
  EXPECT_EQ(Rqs(kAdminToken, {"export", "--review", review_, "--format", "long", "-o", missing_dir})
                .exit_code,
            1);
  EXPECT_FALSE(FileExists(missing_dir));

  // Blinding: alice's exports hold her own answers and the consensus only.
  const std::string alice_long = Ok(alice, {"export", "--review", review_, "--format", "long"});
  const auto alice_rows = ParseCsv(alice_long);
  ASSERT_GT(alice_rows.size(), 1u);
  const int alice_rater_column = Column(alice_rows[0], "rater");
  for (size_t i = 1; i < alice_rows.size(); ++i) {
    const std::string& rater = alice_rows[i][static_cast<size_t>(alice_rater_column)];
    EXPECT_TRUE(rater == "e2e_alice" || rater == "consensus") << rater;
  }
  const std::string alice_json = Ok(alice, {"export", "--review", review_, "--format", "json"});
  for (const std::string& text : {alice_long, alice_json}) {
    EXPECT_THAT(text, Not(HasSubstr(bob_note)));
    EXPECT_THAT(text, Not(HasSubstr(carol_note)));
    EXPECT_THAT(text, Not(HasSubstr("e2e_bob")));
    EXPECT_THAT(text, Not(HasSubstr("e2e_carol")));
  }
  EXPECT_THAT(alice_long, HasSubstr(alice_note));

  // The HTML report, for the coordinator and (without agreement) a rater.
  const std::string html_path = out_dir + "/report.html";
  const CliResult report = Rqs(kAdminToken, {"report", "--review", review_, "--html", html_path});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const std::string html = ReadFile(html_path);
  EXPECT_THAT(html, HasSubstr("<html"));
  EXPECT_THAT(html, HasSubstr("Delphi e2e"));
  const std::string rater_html = out_dir + "/alice.html";
  const CliResult rater_report = Rqs(alice, {"report", "--review", review_, "--html", rater_html});
  ASSERT_EQ(rater_report.exit_code, 0) << rater_report.err;
  EXPECT_THAT(rater_report.err, HasSubstr("without agreement figures"));
  EXPECT_THAT(ReadFile(rater_html), Not(HasSubstr("e2e_bob")));

  // The watcher saw every event, live, once; Ctrl-C ends it cleanly.
  auto finalised_count = [](const std::string& out) {
    size_t count = 0;
    for (size_t at = out.find("EVENT_KIND_STUDY_FINALISED"); at != std::string::npos;
         at = out.find("EVENT_KIND_STUDY_FINALISED", at + 1)) {
      ++count;
    }
    return count;
  };
  EXPECT_TRUE(watch.WaitFor([&](const std::string& out) { return finalised_count(out) >= 4; }))
      << watch.out() << watch.err();
  EXPECT_EQ(watch.Stop(SIGINT), 0) << watch.err();
  std::map<std::string, int> kinds;
  int64_t last_id = 0;
  for (absl::string_view line : absl::StrSplit(watch.out(), '\n', absl::SkipEmpty())) {
    const Json event = Json::parse(line);
    const int64_t id = std::stoll(event["event_id"].get<std::string>());
    EXPECT_GT(id, last_id);
    last_id = id;
    EXPECT_EQ(event["review_id"].get<std::string>(), review_);
    ++kinds[event["kind"].get<std::string>()];
  }
  EXPECT_EQ(kinds["EVENT_KIND_SUBMISSION_RECEIVED"], 17);
  EXPECT_EQ(kinds["EVENT_KIND_ROUND_CLOSED"], 6);  // A: 2, B: 1, C: 2, D: 1.
  EXPECT_EQ(kinds["EVENT_KIND_ADJUDICATION_REQUIRED"], 2);
  EXPECT_EQ(kinds["EVENT_KIND_STUDY_FINALISED"], 4);

  // The text display replays the history.
  std::vector<std::string> text_args = Prefix(kAdminToken);
  text_args.insert(text_args.end(), {"watch", "--review", review_, "--after", "0"});
  BackgroundCli text_watch(RQS_BINARY, text_args);
  // Wait for all four finalisations: every earlier event (the adjudications
  // required among them) is printed before the last one.
  EXPECT_TRUE(text_watch.WaitFor([](const std::string& out) {
    size_t count = 0;
    for (size_t at = out.find(": finalised\n"); at != std::string::npos;
         at = out.find(": finalised\n", at + 1)) {
      ++count;
    }
    return count >= 4;
  })) << text_watch.out()
      << text_watch.err();
  EXPECT_EQ(text_watch.Stop(SIGTERM), 0);
  EXPECT_THAT(text_watch.out(),
              HasSubstr(absl::StrCat("study ", a, " round 1: submission received (rater ")));
  EXPECT_THAT(text_watch.out(), HasSubstr(absl::StrCat("study ", a, " round 1: round 1 closed")));
  EXPECT_THAT(text_watch.out(), HasSubstr(": adjudication required\n"));
  // Raters may not watch.
  const CliResult rater_watch = Rqs(alice, {"watch", "--review", review_});
  EXPECT_EQ(rater_watch.exit_code, 1);
  EXPECT_THAT(rater_watch.err, HasSubstr("PERMISSION_DENIED"));

  // The policy is fixed once round 1 opened.
  const CliResult late =
      Rqs(kAdminToken, {"policy", "set", "--review", review_, "--max-rounds", "3"});
  EXPECT_EQ(late.exit_code, 1);
  EXPECT_THAT(late.err, HasSubstr("FAILED_PRECONDITION"));
}

// `rqs watch` survives a server restart: it reconnects and resumes after the
// last event it showed, so nothing is lost or shown twice.
TEST_F(CliConsensusTest, WatchResumesAfterAServerRestart) {
  const std::string alice = CreateUserWithToken("e2e_alice");
  const std::string bob = CreateUserWithToken("e2e_bob");
  review_ = RqsJson(kAdminToken, {"review", "create", "Restart"})["review"]["review_id"]
                .get<std::string>();
  for (const char* name : {"e2e_alice", "e2e_bob"}) {
    ASSERT_EQ(Rqs(kAdminToken, {"member", "add", review_, ids_[name], "rater"}).exit_code, 0);
  }
  for (const char* title : {"One", "Two"}) {
    ASSERT_EQ(Rqs(kAdminToken, {"study", "add", review_, "--title", title}).exit_code, 0);
  }
  const Json studies = RqsJson(kAdminToken, {"study", "list", review_})["studies"];
  ASSERT_EQ(RqsJson(kAdminToken, {"assign", review_, "--per-study", "2"})["created"].size(), 4u);

  std::vector<std::string> args = Prefix(kAdminToken);
  args.insert(args.end(), {"watch", "--review", review_, "--after", "0", "--json"});
  BackgroundCli watch(RQS_BINARY, args);
  for (const std::string* token : {&alice, &bob}) {
    SubmitRound1(*token, studies[0]["study_id"], {{1, "multicentre"}}, "before");
  }
  auto finalised = [](size_t n) {
    return [n](const std::string& out) {
      size_t count = 0;
      for (size_t at = out.find("FINALISED"); at != std::string::npos;
           at = out.find("FINALISED", at + 1)) {
        ++count;
      }
      return count >= n;
    };
  };
  ASSERT_TRUE(watch.WaitFor(finalised(1))) << watch.out() << watch.err();

  // Kill the server and start another on the same address and database.
  server_->Stop(SIGKILL);
  EXPECT_TRUE(watch.WaitForOutput(
      [](const std::string&, const std::string& err) {
        return absl::StrContains(err, "reconnecting");
      },
      std::chrono::seconds(30)))
      << watch.err();
  const std::string token_file = WriteTempFile("admin.token", kAdminToken);
  server_ = std::make_unique<ServerProcess>(
      RQS_SERVER_BINARY,
      std::vector<std::string>{"--listen", address_, "--database-url", conninfo_,
                               "--admin-token-file", token_file, "--pool-size", "2"});
  ASSERT_EQ(server_->WaitForAddress(), address_) << server_->Stderr();
  for (const std::string* token : {&alice, &bob}) {
    SubmitRound1(*token, studies[1]["study_id"], {{1, "multicentre"}}, "after");
  }
  EXPECT_TRUE(watch.WaitFor(finalised(2))) << watch.out() << watch.err();
  EXPECT_EQ(watch.Stop(SIGINT), 0);
  std::set<std::string> ids;
  size_t lines = 0;
  for (absl::string_view line : absl::StrSplit(watch.out(), '\n', absl::SkipEmpty())) {
    ids.insert(Json::parse(line)["event_id"].get<std::string>());
    ++lines;
  }
  EXPECT_EQ(ids.size(), lines) << watch.out();  // No event twice.
  // Per study: two submissions, the round closed, finalised.
  EXPECT_EQ(lines, 8u) << watch.out();
}

// The offline agreement command is untouched by the remote one.
TEST_F(CliConsensusTest, AgreementWithoutReviewStaysOffline) {
  const std::string csv = WriteTempFile(
      "ratings.csv", "study,rater,criterion,value\n1,a,1,1\n1,b,1,1\n2,a,1,0\n2,b,1,1\n");
  const CliResult offline = RunCli(RQS_BINARY, {"agreement", csv});
  ASSERT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_TRUE(Json::parse(offline.out).contains("criteria"));
  const CliResult no_server =
      RunCli(RQS_BINARY, {"--server", "127.0.0.1:1", "--token", "x", "agreement", csv});
  EXPECT_EQ(no_server.exit_code, 0) << no_server.err;
}

}  // namespace
}  // namespace rqs::testing
