// Drives the `rqs` binary against a real rqs-server binary and PostgreSQL:
// the demo flow a review team follows, plus the errors a user can hit on the
// way (bad input, missing or wrong token, blinding between raters).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

constexpr char kAdminToken[] = "rqs_e2e_admin_token_0123456789abcdef";

class CliServerTest : public db::testing::PgTest {
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

  // Runs `rqs --server ADDRESS --token TOKEN args...`.
  CliResult Rqs(const std::string& token, std::vector<std::string> args,
                const std::string& stdin_text = "") {
    std::vector<std::string> full = {"--server", address_, "--timeout", "20"};
    if (!token.empty()) {
      full.push_back("--token");
      full.push_back(token);
    }
    full.insert(full.end(), args.begin(), args.end());
    return RunCli(RQS_BINARY, full, stdin_text);
  }

  // Runs a command with --json and parses its output; fails the test on error.
  nlohmann::json RqsJson(const std::string& token, std::vector<std::string> args) {
    args.push_back("--json");
    const CliResult result = Rqs(token, args);
    EXPECT_EQ(result.exit_code, 0) << absl::StrJoin(args, " ") << ": " << result.err;
    if (result.exit_code != 0) return nlohmann::json::object();
    return nlohmann::json::parse(result.out);
  }

  std::string CreateUserWithToken(const std::string& name) {
    const nlohmann::json user = RqsJson(kAdminToken, {"user", "create", name});
    const std::string id = user["user"]["user_id"].get<std::string>();
    const nlohmann::json token = RqsJson(kAdminToken, {"token", "issue", id});
    ids_[name] = id;
    return token["token"].get<std::string>();
  }

  std::unique_ptr<ServerProcess> server_;
  std::string address_;
  std::map<std::string, std::string> ids_;
};

constexpr char kStudiesCsv[] =
    "title,authors,year,doi,study_type,external_id\n"
    "\"CT radiomics, lung\",\"Smith J; Doe A\",2021,10.1/e2e.1,HCR,E1\n"
    "Deep learning on MRI,Lee K,2022,https://doi.org/10.1/e2e.2,DLR,E2\n";

constexpr char kStudiesRis[] =
    "TY  - JOUR\nTI  - PET radiomics in lymphoma\nAU  - Roe, R\nPY  - 2020///\n"
    "DO  - 10.1/e2e.3\nID  - E3\nER  - \n";

TEST_F(CliServerTest, DemoFlowFromReviewToSubmittedScores) {
  const std::string alice = CreateUserWithToken("alice");
  const std::string bob = CreateUserWithToken("bob");
  const std::string olga = CreateUserWithToken("olga");

  const nlohmann::json review =
      RqsJson(kAdminToken, {"review", "create", "E2E review", "--target-rrl", "9"});
  const std::string review_id = review["review"]["review_id"].get<std::string>();
  for (const auto& [name, role] : std::vector<std::pair<std::string, std::string>>{
           {"alice", "rater"}, {"bob", "rater"}, {"olga", "observer"}}) {
    const CliResult added = Rqs(kAdminToken, {"member", "add", review_id, ids_[name], role});
    ASSERT_EQ(added.exit_code, 0) << added.err;
    EXPECT_THAT(added.out, HasSubstr(absl::StrCat("is now ", role)));
  }

  // Studies from CSV and RIS, as reference managers export them.
  const CliResult csv =
      Rqs(kAdminToken, {"study", "import", review_id, WriteTempFile("studies.csv", kStudiesCsv)});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.err, HasSubstr("2 studies added"));
  const CliResult ris =
      Rqs(kAdminToken, {"study", "import", review_id, WriteTempFile("studies.ris", kStudiesRis),
                        "--type", "HYBRID"});
  ASSERT_EQ(ris.exit_code, 0) << ris.err;
  const nlohmann::json studies = RqsJson(kAdminToken, {"study", "list", review_id});
  ASSERT_EQ(studies["studies"].size(), 3u);
  EXPECT_EQ(studies["studies"][1]["doi"], "10.1/e2e.2");
  EXPECT_EQ(studies["studies"][2]["study_type"], "STUDY_TYPE_HYBRID");
  const std::string study = studies["studies"][0]["study_id"].get<std::string>();

  // Every study to both raters, balanced.
  const nlohmann::json assigned = RqsJson(kAdminToken, {"assign", review_id, "--per-study", "2"});
  EXPECT_EQ(assigned["created"].size(), 6u);
  const nlohmann::json mine = RqsJson(alice, {"assignments", review_id});
  EXPECT_EQ(mine["assignments"].size(), 3u);
  EXPECT_EQ(mine["not_started_count"], 3);

  // The rater fills in the template and submits it.
  const CliResult template_result = Rqs(alice, {"template", study, "--review", review_id});
  ASSERT_EQ(template_result.exit_code, 0) << template_result.err;
  nlohmann::json answers = nlohmann::json::parse(template_result.out);
  EXPECT_EQ(answers["study_type"], "HCR");
  EXPECT_EQ(answers["answers"].size(), 42u);  // HCR: every criterion applies.
  for (nlohmann::json& answer : answers["answers"]) {
    const int criterion = answer["criterion"];
    if (criterion == 1) answer["option"] = "consensus_method";
    if (criterion == 14) {
      answer["option"] = "yes";
      answer["rationale"] = "'); DROP TABLE users; --";
    }
    if (criterion == 20) answer["options"] = {"data", "code"};
  }
  const std::string answer_file = WriteTempFile("answers.json", answers.dump());
  // The offline scorer accepts the same file.
  const CliResult offline = RunCli(RQS_BINARY, {"score", answer_file});
  ASSERT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_EQ(nlohmann::json::parse(offline.out)["total"], 6);

  const CliResult submitted =
      Rqs(alice, {"submit", study, answer_file, "--idempotency-key", "alice-e2e-1", "--json"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  const nlohmann::json assessment = nlohmann::json::parse(submitted.out);
  EXPECT_EQ(assessment["report"]["total"], 6);
  EXPECT_EQ(assessment["report"]["max_total"], 56);
  EXPECT_EQ(assessment["state"], "ASSESSMENT_STATE_SUBMITTED");

  // A retry with the same key returns the first result and stores nothing twice.
  const CliResult retry =
      Rqs(alice, {"submit", study, answer_file, "--idempotency-key", "alice-e2e-1"});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_THAT(retry.out, HasSubstr("Already submitted (retry)"));

  // Read back, with the SQL-looking rationale stored verbatim.
  const nlohmann::json shown = RqsJson(alice, {"show", study, "--review", review_id});
  EXPECT_EQ(shown["assessment"]["report"]["total"], 6);
  bool found_rationale = false;
  for (const nlohmann::json& answer : shown["assessment"]["answers"]) {
    if (answer["criterion"] == 14) {
      found_rationale = answer["rationale"] == "'); DROP TABLE users; --";
    }
  }
  EXPECT_TRUE(found_rationale) << shown.dump();
  const CliResult table = Rqs(alice, {"show", study, "--review", review_id});
  EXPECT_THAT(table.out, HasSubstr("Total 6 of 56"));

  // Blinding: bob sees neither alice's assessment nor a hint that it exists.
  const CliResult bob_show = Rqs(bob, {"show", study, "--review", review_id});
  EXPECT_EQ(bob_show.exit_code, 1);
  EXPECT_THAT(bob_show.out + bob_show.err, Not(HasSubstr("DROP TABLE")));
  EXPECT_THAT(bob_show.out + bob_show.err, Not(HasSubstr("alice")));
  const nlohmann::json bob_mine = RqsJson(bob, {"assignments", review_id});
  for (const nlohmann::json& assignment : bob_mine["assignments"]) {
    EXPECT_EQ(assignment["state"], "ASSESSMENT_STATE_NOT_STARTED");
  }
  // An observer may see the study list (bibliographic data) but cannot rate
  // or read anyone's assessment.
  EXPECT_EQ(Rqs(olga, {"show", study, "--review", review_id}).exit_code, 1);
  const CliResult olga_submit = Rqs(olga, {"submit", study, answer_file});
  EXPECT_EQ(olga_submit.exit_code, 1);
  EXPECT_THAT(olga_submit.err, HasSubstr("PERMISSION_DENIED"));

  // The coordinator's view counts the submission without revealing answers.
  const CliResult summary = Rqs(kAdminToken, {"review", "show", review_id});
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_THAT(summary.out, HasSubstr("1 of 6 assigned assessments submitted"));
}

TEST_F(CliServerTest, ErrorsNameTheProblemAndExitNonZero) {
  const std::string alice = CreateUserWithToken("alice");
  const nlohmann::json review = RqsJson(kAdminToken, {"review", "create", "Errors"});
  const std::string review_id = review["review"]["review_id"].get<std::string>();
  ASSERT_EQ(Rqs(kAdminToken, {"member", "add", review_id, ids_["alice"], "rater"}).exit_code, 0);
  ASSERT_EQ(
      Rqs(kAdminToken, {"study", "add", review_id, "--title", "One", "--type", "DLR"}).exit_code,
      0);
  const std::string study =
      RqsJson(kAdminToken, {"study", "list", review_id})["studies"][0]["study_id"];
  ASSERT_EQ(
      Rqs(kAdminToken, {"assign", review_id, absl::StrCat(study, ":", ids_["alice"])}).exit_code,
      0);

  // The server validates with the scoring engine and names the criterion.
  const std::string bad_points =
      WriteTempFile("bad.json", R"({"instrument": "rqs2", "study_type": "DLR",
                      "answers": [{"criterion": 14, "points": 1}]})");
  CliResult result = Rqs(alice, {"submit", study, bad_points, "--review", review_id});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(result.err, HasSubstr("criterion 14: points 1 cannot be awarded"));
  const std::string inapplicable =
      WriteTempFile("inapplicable.json", R"({"instrument": "rqs2", "study_type": "DLR",
                               "answers": [{"criterion": 6, "option": "yes"}]})");
  result = Rqs(alice, {"submit", study, inapplicable, "--review", review_id});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("criterion 6: does not apply to DLR studies"));
  // Nothing was stored by the rejected submissions.
  EXPECT_EQ(RqsJson(alice, {"assignments", review_id})["not_started_count"], 1);

  // Local problems exit 2 before anything is sent.
  result = Rqs(alice, {"submit", study, "/nonexistent.json", "--review", review_id});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("cannot open /nonexistent.json"));
  result = Rqs(alice, {"study", "import", review_id, WriteTempFile("x.csv", "name\nfoo\n")});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("line 1: header has no 'title' column"));
  result = Rqs(kAdminToken, {"member", "add", review_id, ids_["alice"], "boss"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("unknown role 'boss'"));

  // Missing and wrong tokens.
  result = Rqs("", {"review", "list"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("no API token"));
  result = Rqs("rqs_not_a_real_token", {"review", "list"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("UNAUTHENTICATED"));
  // A rater may not create users.
  result = Rqs(alice, {"user", "create", "mallory"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("PERMISSION_DENIED"));
}

TEST_F(CliServerTest, DemoLoaderScoresTheDemoReview) {
  const std::string token_dir = WriteTempFile("unused", "") + ".tokens";
  // load.sh finds the server through RQS_SERVER, as deploy/run.sh sets it.
  const CliResult via_env = RunCli(
      "/bin/bash",
      {"-c", absl::StrCat("RQS_SERVER=", address_, " bash ", RQS_SOURCE_DIR,
                          "/deploy/demo/load.sh ", RQS_BINARY, " ", kAdminToken, " ", token_dir)});
  ASSERT_EQ(via_env.exit_code, 0) << via_env.err;
  const std::string review_id(absl::StripAsciiWhitespace(via_env.out));
  const CliResult summary = Rqs(kAdminToken, {"review", "show", review_id});
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_THAT(summary.out, HasSubstr("30 of 30 assigned assessments submitted"));
}

}  // namespace
}  // namespace rqs::testing
