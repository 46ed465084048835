// Runs the built `rqs score` as a user would: files, stdin, exit codes.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/cli_runner.h"

namespace rqs::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kBinary = RQS_BINARY;
const std::string kWorkedExample = std::string(RQS_SOURCE_DIR) + "/deploy/demo/worked_example.json";

TEST(CliScoreTest, WorkedExampleFromTheReadme) {
  const CliResult result = RunCli(kBinary, {"score", kWorkedExample});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  const nlohmann::json report = nlohmann::json::parse(result.out);
  EXPECT_EQ(report["instrument"], "rqs2");
  EXPECT_EQ(report["study_type"], "HCR");
  EXPECT_EQ(report["target_rrl"], 9);
  EXPECT_EQ(report["total"], 23);
  EXPECT_EQ(report["max"], 56);
  EXPECT_NEAR(report["percent"].get<double>(), 100.0 * 23 / 56, 1e-9);
  EXPECT_EQ(report["levels"][4]["cumulative_points"], 22);
  EXPECT_EQ(report["levels"][4]["cumulative_max"], 34);
  EXPECT_EQ(report["attained_rrl"], 5);
  EXPECT_EQ(report["levels"].size(), 9u);
}

TEST(CliScoreTest, ReadsStdinAndHonoursTarget) {
  const CliResult result = RunCli(kBinary, {"score", "-"},
                                  R"({"instrument": "rqs2", "study_type": "DLR", "target_rrl": 2,
          "answers": [{"criterion": 1, "points": 2}, {"criterion": 7, "option": "yes"}]})");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json report = nlohmann::json::parse(result.out);
  EXPECT_EQ(report["total"], 3);
  EXPECT_EQ(report["max"], 10);
  EXPECT_EQ(report["levels"].size(), 2u);
}

TEST(CliScoreTest, Rqs1ReportHasMinAndNoLevels) {
  const CliResult result =
      RunCli(kBinary, {"score", "-"}, R"({"instrument": "rqs1", "study_type": "HCR",
          "answers": [{"criterion": 12, "option": "same_institute"}]})");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json report = nlohmann::json::parse(result.out);
  EXPECT_EQ(report["total"], -1);
  EXPECT_EQ(report["min"], -8);
  EXPECT_EQ(report["max"], 36);
  EXPECT_FALSE(report.contains("levels"));
}

// Every kind of bad input: exit status 2, nothing on stdout, and exactly one
// line on stderr naming the problem.
TEST(CliScoreTest, BadInputExitsTwoWithOneLineAndNoOutput) {
  const std::string header = R"({"instrument": "rqs2", "study_type": "HCR", )";
  const struct {
    std::string json;
    std::string message;
  } cases[] = {
      {header + R"("answers": [{"criterion": 43, "option": "yes"}]})",
       "criterion 43: unknown criterion"},
      {header + R"("answers": [{"criterion": 14, "points": 1}]})",
       "criterion 14: points 1 cannot be awarded"},
      {R"({"instrument": "rqs1", "study_type": "HCR", "answers": [{"criterion": 12, "points": 0}]})",
       "criterion 12: points 0 cannot be awarded"},
      {header + R"("answers": [{"criterion": 3, "option": "level9"}]})",
       "criterion 3: unknown option 'level9'"},
      {R"({"instrument": "rqs2", "study_type": "DLR", "answers": [{"criterion": 6, "option": "yes"}]})",
       "criterion 6: does not apply to DLR studies"},
      {header + R"("target_rrl": 3, "answers": [{"criterion": 15, "option": "yes"}]})",
       "criterion 15: belongs to RRL4, above the target RRL3"},
      {header + R"("answers": [{"criterion": 2, "option": "yes"}, {"criterion": 2, "points": 0}]})",
       "criterion 2: answered twice"},
      {R"({"instrument": "rqs9", "study_type": "HCR"})", "unknown instrument 'rqs9'"},
      {R"({"instrument": "rqs2", "study_type": "XYZ"})", "unknown study type 'XYZ'"},
      {header + R"("target_rrl": 0})", "target_rrl 0 is outside 1-9"},
      {header + R"("target_rrl": 10})", "target_rrl 10 is outside 1-9"},
      {"{\"instrument\": \"rqs2\",", "malformed JSON"},
      {header + R"("answers": [{"criterion": "one"}]})", "expected an integer, got string"},
  };
  for (const auto& bad : cases) {
    SCOPED_TRACE(bad.json);
    const CliResult result = RunCli(kBinary, {"score", "-"}, bad.json);
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_EQ(result.out, "");
    EXPECT_THAT(result.err, StartsWith("rqs score: <stdin>: "));
    EXPECT_THAT(result.err, HasSubstr(bad.message));
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
}

TEST(CliScoreTest, FileProblemsAndUsage) {
  CliResult result = RunCli(kBinary, {"score", "/nonexistent/answers.json"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("cannot open /nonexistent/answers.json"));
  EXPECT_EQ(result.out, "");
  result = RunCli(kBinary, {"score"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("missing FILE"));
  result = RunCli(kBinary, {"score", "--frobnicate", "x"});
  EXPECT_EQ(result.exit_code, 2);
  result = RunCli(kBinary, {"nonsense"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("unknown command 'nonsense'"));
  result = RunCli(kBinary, {"--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("score"));
  const std::string path = WriteTempFile("empty.json", "");
  result = RunCli(kBinary, {"score", path});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("malformed JSON"));
}

}  // namespace
}  // namespace rqs::testing
