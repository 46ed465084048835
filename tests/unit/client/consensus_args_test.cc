#include "client/consensus_args.h"

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rqs::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace v1 = ::rqs::v1;

class ConsensusArgsTest : public ::testing::Test {
 protected:
  // A review from the environment must not leak into these tests.
  void SetUp() override { unsetenv("RQS_REVIEW"); }
  void TearDown() override { unsetenv("RQS_REVIEW"); }
};

std::string ErrorOf(const absl::Status& status) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  return std::string(status.message());
}

TEST_F(ConsensusArgsTest, PolicyShowTakesTheReviewFromFlagPositionalOrEnvironment) {
  absl::StatusOr<PolicyArgs> policy = ParsePolicyArgs({"show", "--review", "4"});
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_FALSE(policy->set);
  EXPECT_EQ(policy->review_id, 4);
  policy = ParsePolicyArgs({"show", "5"});
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->review_id, 5);
  setenv("RQS_REVIEW", "6", 1);
  policy = ParsePolicyArgs({"show"});
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->review_id, 6);
}

TEST_F(ConsensusArgsTest, PolicySetChangesOnlyTheFieldsGiven) {
  const absl::StatusOr<PolicyArgs> policy =
      ParsePolicyArgs({"set", "--review=2", "--threshold", "1", "--stop-when-stable", "No"});
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(policy->set);
  v1::Policy current;
  current.set_agreement_threshold(0.75);
  current.set_max_rounds(3);
  current.set_stop_when_stable(true);
  current.set_level_threshold_percent(50);
  current.set_share_rationales(true);
  const v1::Policy changed = ApplyPolicyChanges(*policy, current);
  EXPECT_EQ(changed.agreement_threshold(), 1.0);
  EXPECT_FALSE(changed.stop_when_stable());
  EXPECT_EQ(changed.max_rounds(), 3);
  EXPECT_EQ(changed.level_threshold_percent(), 50.0);
  EXPECT_TRUE(changed.share_rationales());

  const absl::StatusOr<PolicyArgs> all =
      ParsePolicyArgs({"set", "--review", "2", "--max-rounds", "5", "--level-threshold", "62.5",
                       "--share-rationales", "yes"});
  ASSERT_TRUE(all.ok()) << all.status();
  const v1::Policy more = ApplyPolicyChanges(*all, current);
  EXPECT_EQ(more.max_rounds(), 5);
  EXPECT_EQ(more.level_threshold_percent(), 62.5);
  EXPECT_TRUE(more.share_rationales());
}

TEST_F(ConsensusArgsTest, PolicyErrorsNameTheFlag) {
  EXPECT_THAT(ErrorOf(ParsePolicyArgs({"set", "--review", "2"}).status()),
              HasSubstr("give at least one field"));
  EXPECT_THAT(ErrorOf(ParsePolicyArgs({"set", "--review", "2", "--threshold", "high"}).status()),
              HasSubstr("--threshold: expected a number, got 'high'"));
  EXPECT_THAT(
      ErrorOf(ParsePolicyArgs({"set", "--review", "2", "--stop-when-stable", "maybe"}).status()),
      HasSubstr("--stop-when-stable: expected yes or no"));
  EXPECT_THAT(ErrorOf(ParsePolicyArgs({"set", "--review", "2", "--max-rounds", "x"}).status()),
              HasSubstr("--max-rounds: expected an integer"));
  EXPECT_THAT(ErrorOf(ParsePolicyArgs({"show", "--review", "2", "--threshold", "1"}).status()),
              HasSubstr("unknown flag --threshold"));
  EXPECT_THAT(ErrorOf(ParsePolicyArgs({"drop", "--review", "2"}).status()),
              HasSubstr("unknown verb 'drop'"));
  EXPECT_THAT(ErrorOf(ParsePolicyArgs({"show"}).status()), HasSubstr("missing REVIEW"));
  EXPECT_THAT(ErrorOf(ParsePolicyArgs({"show", "--review", "0"}).status()),
              HasSubstr("must be a positive number"));
}

TEST_F(ConsensusArgsTest, YesNo) {
  for (const char* yes : {"yes", "YES", "true", "on", "1"}) {
    EXPECT_EQ(ParseYesNo(yes, "--x").value(), true) << yes;
  }
  for (const char* no : {"no", "False", "off", "0"}) {
    EXPECT_EQ(ParseYesNo(no, "--x").value(), false) << no;
  }
  EXPECT_FALSE(ParseYesNo("", "--x").ok());
}

TEST_F(ConsensusArgsTest, RoundCloseOneStudyOrAll) {
  absl::StatusOr<v1::CloseRoundRequest> request =
      ParseRoundArgs({"close", "--review", "3", "--study", "9", "--round", "2"});
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->review_id(), 3);
  EXPECT_EQ(request->study_id(), 9);
  EXPECT_EQ(request->round(), 2);
  request = ParseRoundArgs({"close", "--review", "3", "--all", "--round", "1"});
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->study_id(), 0);
  EXPECT_EQ(request->round(), 1);

  EXPECT_THAT(ErrorOf(ParseRoundArgs({"close", "--review", "3", "--round", "1"}).status()),
              HasSubstr("give --study S or --all"));
  EXPECT_THAT(
      ErrorOf(ParseRoundArgs({"close", "--review", "3", "--all", "--study", "2", "--round", "1"})
                  .status()),
      HasSubstr("give --study S or --all"));
  EXPECT_THAT(ErrorOf(ParseRoundArgs({"close", "--review", "3", "--all"}).status()),
              HasSubstr("missing --round"));
  EXPECT_THAT(ErrorOf(ParseRoundArgs({"open", "--review", "3"}).status()),
              HasSubstr("unknown verb 'open'"));
  EXPECT_THAT(ErrorOf(ParseRoundArgs({"close", "3", "--all", "--round", "1"}).status()),
              HasSubstr("unexpected argument '3'"));
}

TEST_F(ConsensusArgsTest, Feedback) {
  absl::StatusOr<FeedbackArgs> feedback =
      ParseFeedbackArgs({"--review", "3", "--study", "7", "--template", "r2.json"});
  ASSERT_TRUE(feedback.ok()) << feedback.status();
  EXPECT_EQ(feedback->request.review_id(), 3);
  EXPECT_EQ(feedback->request.study_id(), 7);
  EXPECT_EQ(feedback->template_path, "r2.json");
  feedback = ParseFeedbackArgs({"--review", "3", "--study", "7"});
  ASSERT_TRUE(feedback.ok()) << feedback.status();
  EXPECT_FALSE(feedback->template_path.has_value());
  EXPECT_THAT(ErrorOf(ParseFeedbackArgs({"--review", "3"}).status()), HasSubstr("missing --study"));
  EXPECT_THAT(ErrorOf(ParseFeedbackArgs({"--review", "3", "--study", "x"}).status()),
              HasSubstr("--study must be a positive number"));
}

TEST_F(ConsensusArgsTest, AdjudicateFromFlags) {
  std::istringstream in;
  absl::StatusOr<v1::AdjudicateRequest> request =
      ParseAdjudicateArgs({"--review", "3", "--study", "7", "--criterion", "14", "--option",
                           "data,code", "--option", "model", "--reason", "Methods p. 4"},
                          in);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->review_id(), 3);
  EXPECT_EQ(request->study_id(), 7);
  ASSERT_EQ(request->decisions_size(), 1);
  const v1::AdjudicationInput& decision = request->decisions(0);
  EXPECT_EQ(decision.criterion(), 14);
  EXPECT_THAT(decision.option_ids(), ElementsAre("data", "code", "model"));
  EXPECT_FALSE(decision.has_points());
  EXPECT_EQ(decision.reason(), "Methods p. 4");

  request = ParseAdjudicateArgs(
      {"--review", "3", "--study", "7", "--criterion", "9", "--points", "-1", "--reason", "r"}, in);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_TRUE(request->decisions(0).has_points());
  EXPECT_EQ(request->decisions(0).points(), -1);
  EXPECT_EQ(request->decisions(0).option_ids_size(), 0);

  // An empty --option: no sub-item of an additive criterion is met.
  request = ParseAdjudicateArgs(
      {"--review", "3", "--study", "7", "--criterion", "20", "--option", "", "--reason", "r"}, in);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->decisions(0).option_ids_size(), 0);
  EXPECT_FALSE(request->decisions(0).has_points());
}

TEST_F(ConsensusArgsTest, AdjudicateFlagErrors) {
  std::istringstream in;
  const std::vector<std::string> base = {"--review", "3", "--study", "7"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = base;
    args.insert(args.end(), more.begin(), more.end());
    return ErrorOf(ParseAdjudicateArgs(args, in).status());
  };
  EXPECT_THAT(with({"--option", "yes", "--reason", "r"}), HasSubstr("missing --criterion"));
  EXPECT_THAT(with({"--criterion", "1", "--reason", "r"}),
              HasSubstr("give --option ID... or --points P"));
  EXPECT_THAT(with({"--criterion", "1", "--option", "yes", "--points", "1", "--reason", "r"}),
              HasSubstr("give --option ID... or --points P"));
  EXPECT_THAT(with({"--criterion", "1", "--option", "yes"}), HasSubstr("missing --reason"));
  EXPECT_THAT(with({"--criterion", "1", "--file", "x.json"}), HasSubstr("--file replaces"));
  EXPECT_THAT(ErrorOf(ParseAdjudicateArgs({"--review", "3", "--criterion", "1"}, in).status()),
              HasSubstr("missing --study"));
}

TEST_F(ConsensusArgsTest, AdjudicateBatchFromStandardInputIsOneRequest) {
  std::istringstream in(R"([
    {"criterion": 3, "option_ids": ["yes"], "reason": "agreed at the meeting"},
    {"criterion": 9, "points": 2, "reason": "p. 4"},
    {"criterion": 20, "option_ids": [], "reason": "none met"}
  ])");
  const absl::StatusOr<v1::AdjudicateRequest> request =
      ParseAdjudicateArgs({"--review", "3", "--study", "7", "--file", "-"}, in);
  ASSERT_TRUE(request.ok()) << request.status();
  ASSERT_EQ(request->decisions_size(), 3);
  EXPECT_EQ(request->decisions(0).criterion(), 3);
  EXPECT_THAT(request->decisions(0).option_ids(), ElementsAre("yes"));
  EXPECT_EQ(request->decisions(0).reason(), "agreed at the meeting");
  EXPECT_EQ(request->decisions(1).points(), 2);
  EXPECT_TRUE(request->decisions(1).has_points());
  EXPECT_EQ(request->decisions(2).option_ids_size(), 0);
  EXPECT_FALSE(request->decisions(2).has_points());

  std::istringstream bad("[{\"criterion\": 3}]");
  EXPECT_THAT(
      ErrorOf(ParseAdjudicateArgs({"--review", "3", "--study", "7", "--file", "-"}, bad).status()),
      HasSubstr("-: [0] (criterion 3): give exactly one of 'option_ids' and 'points'"));
  const absl::Status unreadable =
      ParseAdjudicateArgs({"--review", "3", "--study", "7", "--file", "/nonexistent/x.json"}, in)
          .status();
  EXPECT_EQ(unreadable.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unreadable.message(), HasSubstr("/nonexistent/x.json"));
}

TEST_F(ConsensusArgsTest, AdjudicationFileErrorsNameTheLocation) {
  auto error = [](const std::string& text) {
    const auto decisions = ParseAdjudicationFile(text);
    EXPECT_FALSE(decisions.ok()) << text;
    return std::string(decisions.status().message());
  };
  EXPECT_THAT(error("{"), HasSubstr("malformed JSON"));
  EXPECT_THAT(error("{}"), HasSubstr("expected a JSON list of decisions, got object"));
  EXPECT_THAT(error("[]"), HasSubstr("the list of decisions is empty"));
  EXPECT_THAT(error("[1]"), HasSubstr("[0]: expected an object, got number"));
  EXPECT_THAT(error(R"([{"option_ids": ["a"], "reason": "r"}])"),
              HasSubstr("[0]: missing field 'criterion'"));
  EXPECT_THAT(error(R"([{"criterion": "3", "points": 1, "reason": "r"}])"),
              HasSubstr("[0].criterion: expected an integer, got string"));
  EXPECT_THAT(error(R"([{"criterion": 3, "points": 1.5, "reason": "r"}])"),
              HasSubstr("[0].points: expected an integer, got 1.5"));
  EXPECT_THAT(error(R"([{"criterion": 3, "option_ids": "yes", "reason": "r"}])"),
              HasSubstr("[0] (criterion 3).option_ids: expected a list of option ids, got string"));
  EXPECT_THAT(error(R"([{"criterion": 3, "option_ids": [1], "reason": "r"}])"),
              HasSubstr("[0] (criterion 3).option_ids[0]: expected a string, got number"));
  EXPECT_THAT(error(R"([{"criterion": 3, "points": 1}])"),
              HasSubstr("[0] (criterion 3).reason: expected a string"));
  EXPECT_THAT(error(R"([{"criterion": 3, "points": 1, "reason": "r", "option": "x"}])"),
              HasSubstr("[0].option: unknown field"));
  EXPECT_THAT(error(R"([{"criterion": 3, "points": 1, "reason": "r"},
                        {"criterion": 4, "points": 1, "option_ids": [], "reason": "r"}])"),
              HasSubstr("[1] (criterion 4): give exactly one"));
}

TEST_F(ConsensusArgsTest, ConsensusAndRemoteAgreement) {
  absl::StatusOr<v1::GetConsensusRequest> consensus = ParseConsensusArgs({"--review", "3"});
  ASSERT_TRUE(consensus.ok()) << consensus.status();
  EXPECT_EQ(consensus->study_id(), 0);
  consensus = ParseConsensusArgs({"--review", "3", "--study", "8"});
  ASSERT_TRUE(consensus.ok()) << consensus.status();
  EXPECT_EQ(consensus->study_id(), 8);

  // The offline form stays offline: a CSV path and no --review.
  EXPECT_FALSE(IsRemoteAgreement({"ratings.csv"}));
  EXPECT_FALSE(IsRemoteAgreement({"--bootstrap", "100", "ratings.csv"}));
  EXPECT_FALSE(IsRemoteAgreement({"--", "--review"}));
  setenv("RQS_REVIEW", "3", 1);
  EXPECT_FALSE(IsRemoteAgreement({"ratings.csv"}));
  EXPECT_TRUE(IsRemoteAgreement({"--review", "3"}));
  EXPECT_TRUE(IsRemoteAgreement({"--bootstrap", "10", "--review=3"}));

  const absl::StatusOr<v1::GetAgreementRequest> agreement = ParseRemoteAgreementArgs(
      {"--review", "3", "--bootstrap", "500", "--seed", "18446744073709551615"});
  ASSERT_TRUE(agreement.ok()) << agreement.status();
  EXPECT_EQ(agreement->review_id(), 3);
  EXPECT_EQ(agreement->bootstrap_replicates(), 500);
  EXPECT_EQ(agreement->seed(), 18446744073709551615u);
  EXPECT_THAT(ErrorOf(ParseRemoteAgreementArgs({"--review", "3", "--seed", "-1"}).status()),
              HasSubstr("--seed: expected a non-negative integer"));
  EXPECT_THAT(ErrorOf(ParseRemoteAgreementArgs({"--review", "3", "ratings.csv"}).status()),
              HasSubstr("unexpected argument 'ratings.csv'"));
  EXPECT_THAT(ErrorOf(ParseRemoteAgreementArgs({"--review", "3", "--threads", "2"}).status()),
              HasSubstr("unknown flag --threads"));
}

TEST_F(ConsensusArgsTest, Export) {
  absl::StatusOr<ExportArgs> args = ParseExportArgs({"--review", "3", "--format", "long"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->request.format(), v1::EXPORT_FORMAT_LONG_CSV);
  EXPECT_FALSE(args->output.has_value());
  args = ParseExportArgs({"--review", "3", "--format", "wide", "-o", "out/wide.csv"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->request.format(), v1::EXPORT_FORMAT_WIDE_CSV);
  EXPECT_EQ(args->output, "out/wide.csv");
  args = ParseExportArgs({"3", "--format=JSON", "--output", "-"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->request.review_id(), 3);
  EXPECT_EQ(args->request.format(), v1::EXPORT_FORMAT_JSON);
  EXPECT_FALSE(args->output.has_value());
  EXPECT_THAT(ErrorOf(ParseExportArgs({"--review", "3"}).status()), HasSubstr("missing --format"));
  EXPECT_THAT(ErrorOf(ParseExportArgs({"--review", "3", "--format", "xlsx"}).status()),
              HasSubstr("unknown format 'xlsx' (long, wide, json)"));
  EXPECT_THAT(ErrorOf(ParseExportArgs({"--review", "3", "--format", "long", "-o"}).status()),
              HasSubstr("--output needs a value"));
}

TEST_F(ConsensusArgsTest, ReportAndWatch) {
  const absl::StatusOr<ReportArgs> report = ParseReportArgs({"--review", "3", "--html", "r.html"});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->review_id, 3);
  EXPECT_EQ(report->html_path, "r.html");
  EXPECT_THAT(ErrorOf(ParseReportArgs({"--review", "3"}).status()), HasSubstr("missing --html"));

  absl::StatusOr<v1::WatchReviewRequest> watch = ParseWatchArgs({"--review", "3"});
  ASSERT_TRUE(watch.ok()) << watch.status();
  EXPECT_EQ(watch->after_event_id(), -1);
  watch = ParseWatchArgs({"--review", "3", "--after", "0"});
  ASSERT_TRUE(watch.ok()) << watch.status();
  EXPECT_EQ(watch->after_event_id(), 0);
  EXPECT_THAT(ErrorOf(ParseWatchArgs({"--review", "3", "--after", "-5"}).status()),
              HasSubstr("--after"));
}

TEST_F(ConsensusArgsTest, ReviewOnly) {
  EXPECT_EQ(ParseReviewOnlyArgs({"--review", "12"}, "progress").value(), 12);
  EXPECT_EQ(ParseReviewOnlyArgs({"12"}, "progress").value(), 12);
  EXPECT_THAT(ErrorOf(ParseReviewOnlyArgs({"12", "13"}, "progress").status()),
              HasSubstr("unexpected argument '13' (see 'rqs help progress')"));
}

}  // namespace
}  // namespace rqs::client
