// End-to-end tests of `rqs agreement`: the built binary on real files and
// stdin, checked against published figures.
#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/cli_runner.h"

namespace rqs::testing {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

CliResult RunAgreement(const std::vector<std::string>& args, const std::string& stdin_text = "") {
  std::vector<std::string> full = {"agreement"};
  full.insert(full.end(), args.begin(), args.end());
  return RunCli(RQS_BINARY, full, stdin_text);
}

// Long-format CSV for one criterion from a subjects x raters matrix; NaN
// cells become empty values.
std::string LongCsv(const std::string& criterion, const std::vector<std::vector<double>>& matrix) {
  std::string csv = "study,rater,criterion,value\n";
  for (size_t i = 0; i < matrix.size(); ++i) {
    for (size_t j = 0; j < matrix[i].size(); ++j) {
      csv += "s" + std::to_string(i + 1) + ",r" + std::to_string(j + 1) + "," + criterion + ",";
      if (!std::isnan(matrix[i][j])) csv += std::to_string(matrix[i][j]);
      csv += "\n";
    }
  }
  return csv;
}

json ParseReport(const CliResult& result) {
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, IsEmpty());
  return json::parse(result.out);
}

// Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges.
const std::vector<std::vector<double>> kShroutFleiss = {
    {9, 2, 5, 8}, {6, 1, 3, 2}, {8, 4, 6, 8}, {7, 1, 2, 6}, {10, 5, 6, 9}, {6, 2, 4, 7},
};

TEST(CliAgreementTest, ShroutFleissTableGivesPublishedIccs) {
  const CliResult result =
      RunAgreement({WriteTempFile("shrout_fleiss.csv", LongCsv("sf", kShroutFleiss))});
  const json report = ParseReport(result);
  ASSERT_EQ(report["criteria"].size(), 1u);  // One criterion: no total entry.
  const json& entry = report["criteria"][0];
  EXPECT_EQ(entry["criterion"], "sf");
  EXPECT_EQ(entry["subjects"], 6);
  EXPECT_EQ(entry["subjects_used"], 6);
  EXPECT_EQ(entry["raters"], 4);

  // Expected figures: R psych 2.2.9, ICC(sf, lmer = FALSE)$results, printed
  // with digits = 15. Shrout & Fleiss (1979) print the values rounded: .17,
  // .29, .71, .44, .62, .91.
  struct Expected {
    const char* type;
    double value, f;
    int df1, df2;
    double p, lower, upper;
  };
  const Expected kExpected[] = {
      {"ICC1", 0.165741768405476, 1.79467849223947, 5, 18, 0.164768808344639611,
       -0.1329323248747509, 0.722560062328121},
      {"ICC2", 0.289763779527559, 11.02724795640327, 5, 15, 0.000134566516484337,
       0.0187865133747120, 0.761084369648953},
      {"ICC3", 0.714840714840715, 11.02724795640327, 5, 15, 0.000134566516484337,
       0.3424647650339254, 0.945858259955360},
      {"ICC1k", 0.442797133679269, 1.79467849223947, 5, 18, 0.164768808344639611,
       -0.8844421552381190, 0.912415420340776},
      {"ICC2k", 0.620050547598989, 11.02724795640327, 5, 15, 0.000134566516484337,
       0.0711368153025035, 0.927232040167722},
      {"ICC3k", 0.909315542377069, 11.02724795640327, 5, 15, 0.000134566516484337,
       0.6756747138163047, 0.985891678169062},
  };
  for (const Expected& expected : kExpected) {
    SCOPED_TRACE(expected.type);
    const json& icc = entry["icc"][expected.type];
    EXPECT_NEAR(icc["value"].get<double>(), expected.value, 1e-12);
    EXPECT_NEAR(icc["F"].get<double>(), expected.f, 1e-10);
    EXPECT_EQ(icc["df1"].get<double>(), expected.df1);
    EXPECT_EQ(icc["df2"].get<double>(), expected.df2);
    EXPECT_NEAR(icc["p"].get<double>(), expected.p, 1e-12);
    EXPECT_NEAR(icc["ci_low"].get<double>(), expected.lower, 1e-9);
    EXPECT_NEAR(icc["ci_high"].get<double>(), expected.upper, 1e-9);
  }
  EXPECT_EQ(entry["interpretation"]["ICC3k"], "excellent");  // Koo & Li: > 0.90.
  // Four raters: no Cohen's kappa.
  EXPECT_FALSE(entry.contains("cohen_kappa"));
  EXPECT_FALSE(entry.contains("bootstrap"));
  // Six subjects are far fewer than a stable estimate needs.
  EXPECT_FALSE(entry["warnings"].empty());
}

TEST(CliAgreementTest, FleissKappaMatchesWorkedExample) {
  // The worked example of the Wikipedia article "Fleiss' kappa": 10 subjects,
  // 14 raters, 5 categories, given as counts per category. Fleiss' kappa does
  // not depend on which rater gave which rating, so raters are assigned in
  // order. Expected: 0.210 in the article; statsmodels 0.13.5
  // fleiss_kappa(table) = 0.20993070442195522.
  const int kCounts[10][5] = {
      {0, 0, 0, 0, 14}, {0, 2, 6, 4, 2}, {0, 0, 3, 5, 6}, {0, 3, 9, 2, 0}, {2, 2, 8, 1, 1},
      {7, 7, 0, 0, 0},  {3, 2, 6, 3, 0}, {2, 5, 3, 2, 2}, {6, 5, 2, 1, 0}, {0, 2, 2, 3, 7},
  };
  std::vector<std::vector<double>> matrix;
  for (const auto& counts : kCounts) {
    std::vector<double> row;
    for (int category = 0; category < 5; ++category) {
      for (int n = 0; n < counts[category]; ++n) row.push_back(category + 1);
    }
    matrix.push_back(row);
  }
  const json report = ParseReport(RunAgreement({"-"}, LongCsv("dx", matrix)));
  const json& entry = report["criteria"][0];
  EXPECT_EQ(entry["raters"], 14);
  EXPECT_NEAR(entry["fleiss_kappa"].get<double>(), 0.20993070442195522, 1e-12);
  EXPECT_EQ(entry["interpretation"]["fleiss_kappa"], "fair");  // Landis & Koch.
  EXPECT_TRUE(entry["fleiss_kappa_se"].is_number());
  EXPECT_TRUE(entry["fleiss_kappa_z"].is_number());
  EXPECT_TRUE(entry["fleiss_kappa_p"].is_number());
}

// Two criteria, two raters, one missing value and one criterion on which
// everybody agrees on a single category.
const char kTwoCriteria[] =
    "study,rater,criterion,value,comment\r\n"
    "s1,r1,a,1,\r\n"
    "s1,r2,a,1,\"fine, really\"\r\n"
    "s2,r1,a,0,\r\n"
    "s2,r2,a,1,\r\n"
    "s3,r1,a,2,\r\n"
    "s3,r2,a,2,\r\n"
    "s4,r1,a,0,\r\n"
    "s4,r2,a,,\"left \"\"blank\"\"\"\r\n"
    "s1,r1,b,3,\r\n"
    "s1,r2,b,3,\r\n"
    "s2,r1,b,3,\r\n"
    "s2,r2,b,3,\r\n"
    "s3,r1,b,3,\r\n"
    "s3,r2,b,3,\r\n"
    "s4,r1,b,3,\r\n"
    "s4,r2,b,3,\r\n";

TEST(CliAgreementTest, ReportsEveryFigureWithTotalLast) {
  const json report = ParseReport(
      RunAgreement({WriteTempFile("two.csv", std::string("\xEF\xBB\xBF") + kTwoCriteria)}));
  const json& criteria = report["criteria"];
  ASSERT_EQ(criteria.size(), 3u);
  EXPECT_EQ(criteria[0]["criterion"], "a");
  EXPECT_EQ(criteria[1]["criterion"], "b");
  EXPECT_EQ(criteria[2]["criterion"], "total");

  for (const json& entry : criteria) {
    SCOPED_TRACE(entry["criterion"].get<std::string>());
    for (const char* key : {"criterion",
                            "subjects",
                            "subjects_used",
                            "raters",
                            "percent_agreement",
                            "fleiss_kappa",
                            "fleiss_kappa_se",
                            "fleiss_kappa_z",
                            "fleiss_kappa_p",
                            "gwet_ac1",
                            "gwet_ac1_se",
                            "gwet_ac1_ci_low",
                            "gwet_ac1_ci_high",
                            "gwet_ac1_p",
                            "gwet_ac2_linear",
                            "gwet_ac2_quadratic",
                            "krippendorff_alpha",
                            "icc",
                            "cohen_kappa",
                            "cohen_kappa_se",
                            "cohen_kappa_ci_low",
                            "cohen_kappa_ci_high",
                            "weighted_kappa_linear",
                            "weighted_kappa_linear_se",
                            "weighted_kappa_linear_ci_low",
                            "weighted_kappa_linear_ci_high",
                            "weighted_kappa_quadratic",
                            "weighted_kappa_quadratic_se",
                            "weighted_kappa_quadratic_ci_low",
                            "weighted_kappa_quadratic_ci_high",
                            "interpretation",
                            "warnings"}) {
      EXPECT_TRUE(entry.contains(key)) << key;
    }
    for (const char* metric : {"nominal", "ordinal", "interval", "ratio"}) {
      EXPECT_TRUE(entry["krippendorff_alpha"].contains(metric)) << metric;
    }
    for (const char* type : {"ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"}) {
      for (const char* field : {"value", "F", "df1", "df2", "p", "ci_low", "ci_high"}) {
        EXPECT_TRUE(entry["icc"][type].contains(field)) << type << "." << field;
      }
    }
    EXPECT_TRUE(entry["warnings"].is_array());
  }

  const json& a = criteria[0];
  EXPECT_EQ(a["subjects"], 4);
  EXPECT_EQ(a["subjects_used"], 3);  // s4 lacks r2's rating.
  EXPECT_EQ(a["raters"], 2);
  // s1 and s3 agree, s2 does not.
  EXPECT_NEAR(a["percent_agreement"].get<double>(), 2.0 / 3.0, 1e-12);

  // A single category: agreement is perfect but chance-corrected figures are
  // undefined, so null rather than NaN or an error.
  const json& b = criteria[1];
  EXPECT_NEAR(b["percent_agreement"].get<double>(), 1.0, 1e-12);
  EXPECT_TRUE(b["cohen_kappa"].is_null());
  EXPECT_TRUE(b["fleiss_kappa"].is_null());
  EXPECT_TRUE(b["krippendorff_alpha"]["nominal"].is_null());
  EXPECT_TRUE(b["icc"]["ICC1"]["value"].is_null());
  EXPECT_TRUE(b["interpretation"]["fleiss_kappa"].is_null());

  // Totals: s4/r2 is missing in a, so s4 drops out of the total as well.
  const json& total = criteria[2];
  EXPECT_EQ(total["subjects"], 4);
  EXPECT_EQ(total["subjects_used"], 3);
  EXPECT_NEAR(total["percent_agreement"].get<double>(), 2.0 / 3.0, 1e-12);
}

TEST(CliAgreementTest, StdinGivesTheSameReportAsAFile) {
  const CliResult from_file = RunAgreement({WriteTempFile("same.csv", kTwoCriteria)});
  const CliResult from_stdin = RunAgreement({"-"}, kTwoCriteria);
  EXPECT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
  EXPECT_EQ(from_file.out, from_stdin.out);
}

TEST(CliAgreementTest, BootstrapAddsSeededIntervals) {
  const std::string path = WriteTempFile("boot.csv", LongCsv("sf", kShroutFleiss));
  const CliResult first = RunAgreement({"--bootstrap", "200", "--seed", "7", path});
  const json report = ParseReport(first);
  const json& boot = report["criteria"][0]["bootstrap"];
  EXPECT_EQ(boot["replicates"], 200);
  EXPECT_EQ(boot["seed"], 7);
  for (const char* key :
       {"percent_agreement", "fleiss_kappa", "gwet_ac1", "gwet_ac2_linear", "gwet_ac2_quadratic",
        "krippendorff_alpha_nominal", "krippendorff_alpha_interval", "ICC1", "ICC3k"}) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(boot["intervals"].contains(key));
    const json& interval = boot["intervals"][key];
    if (interval["ci_low"].is_number() && interval["ci_high"].is_number()) {
      EXPECT_LE(interval["ci_low"].get<double>(), interval["ci_high"].get<double>());
    }
  }
  // The same seed gives the same output; `--name=value` works too.
  EXPECT_EQ(RunAgreement({"--bootstrap=200", "--seed=7", path}).out, first.out);
}

TEST(CliAgreementTest, DoublesPrintAtFullPrecision) {
  const CliResult result = RunAgreement({WriteTempFile("prec.csv", LongCsv("sf", kShroutFleiss))});
  // ICC3 = 0.714840714840715 (R psych): 17 significant digits round-trip.
  const json report = ParseReport(result);
  const double icc3 = report["criteria"][0]["icc"]["ICC3"]["value"].get<double>();
  EXPECT_THAT(result.out, HasSubstr(json(icc3).dump()));
  EXPECT_GE(json(icc3).dump().size(), 16u);
}

// Bad input: exit status 2, a message naming the line and the problem, and
// nothing on stdout.
struct BadInput {
  const char* name;
  std::string csv;
  const char* message;
};

class CliAgreementBadInputTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(CliAgreementBadInputTest, ExitsTwoNamingLineAndProblem) {
  const BadInput& input = GetParam();
  const CliResult result =
      RunAgreement({WriteTempFile(std::string(input.name) + ".csv", input.csv)});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.out, IsEmpty());
  EXPECT_THAT(result.err, HasSubstr(input.message));
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, CliAgreementBadInputTest,
    ::testing::Values(
        BadInput{"missing_column", "study,rater,value\ns1,r1,1\n",
                 "line 1: header lacks column 'criterion'"},
        BadInput{"not_a_number", "study,rater,criterion,value\ns1,r1,c,1\ns1,r2,c,yes\n",
                 "line 3: value 'yes' is not a number"},
        BadInput{"duplicate", "study,rater,criterion,value\ns1,r1,c,1\ns1,r2,c,1\ns1,r1,c,2\n",
                 "line 4: duplicate rating: study 's1', rater 'r1', criterion 'c' was already "
                 "rated on line 2"},
        BadInput{"empty", "", "line 1: the file is empty"},
        BadInput{"header_only", "study,rater,criterion,value\n", "line 1: no ratings"},
        BadInput{"one_rater", "study,rater,criterion,value\ns1,r1,c,1\ns2,r1,c,2\n",
                 "line 2: criterion 'c'"}),
    [](const ::testing::TestParamInfo<BadInput>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(CliAgreementTest, BadFlagsExitTwo) {
  const std::string path = WriteTempFile("flags.csv", LongCsv("sf", kShroutFleiss));
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"--frobnicate", path},
           {"--bootstrap", path},
           {"--bootstrap", "-5", path},
           {"--bootstrap", "many", path},
           {"--seed", "x", path},
           {path, path},
       }) {
    const CliResult result = RunAgreement(args);
    EXPECT_EQ(result.exit_code, 2) << ::testing::PrintToString(args);
    EXPECT_THAT(result.out, IsEmpty());
    EXPECT_THAT(result.err, HasSubstr("rqs agreement: "));
  }
}

TEST(CliAgreementTest, UnreadableFileExitsTwo) {
  const CliResult missing = RunAgreement({"/nonexistent/ratings.csv"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.out, IsEmpty());
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent/ratings.csv"));

  const CliResult directory = RunAgreement({"/"});
  EXPECT_EQ(directory.exit_code, 2);
  EXPECT_THAT(directory.out, IsEmpty());
  EXPECT_THAT(directory.err, HasSubstr("cannot read '/'"));
}

TEST(CliAgreementTest, HelpPrintsUsage) {
  const CliResult result = RunAgreement({"--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("usage: rqs agreement"));
}

}  // namespace
}  // namespace rqs::testing
