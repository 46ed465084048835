#include "client/rubric_command.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rqs::client {
namespace {

TEST(InstrumentToJsonTest, CarriesTheWholeRubric) {
  const nlohmann::ordered_json rqs2 = InstrumentToJson(scoring::Rqs2());
  EXPECT_EQ(rqs2["id"], "rqs2");
  EXPECT_EQ(rqs2["levels"], 9);
  ASSERT_EQ(rqs2["criteria"].size(), 42u);
  const nlohmann::ordered_json& c3 = rqs2["criteria"][2];
  EXPECT_EQ(c3["number"], 3);
  EXPECT_EQ(c3["rrl"], 1);
  EXPECT_EQ(c3["kind"], "exclusive");
  EXPECT_EQ(c3["max_points"], 2);
  EXPECT_EQ(c3["options"].size(), 5u);
  EXPECT_EQ(rqs2["criteria"][5]["applies_to"], "HCR");
  const nlohmann::ordered_json rqs1 = InstrumentToJson(scoring::Rqs1());
  EXPECT_TRUE(rqs1["criteria"][0]["rrl"].is_null());
  EXPECT_EQ(rqs1["criteria"][11]["min_points"], -5);
}

TEST(RunRubricCommandTest, TableAndErrors) {
  std::istringstream in;
  std::ostringstream out, err;
  CommandIo io{in, out, err};
  EXPECT_EQ(RunRubricCommand({"--table", "rqs1"}, io), kExitOk);
  EXPECT_THAT(out.str(), testing::HasSubstr("12. Validation"));
  EXPECT_THAT(out.str(), testing::HasSubstr("none                      -5  Validation is missing"));
  EXPECT_EQ(RunRubricCommand({"rqs7"}, io), kExitBadInput);
  EXPECT_THAT(err.str(), testing::HasSubstr("unknown instrument 'rqs7'"));
}

}  // namespace
}  // namespace rqs::client
