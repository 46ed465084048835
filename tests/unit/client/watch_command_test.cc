#include "client/watch_command.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rqs::client {
namespace {

namespace v1 = ::rqs::v1;

v1::ReviewEvent Event(int64_t study, int round, v1::EventKind kind, int64_t rater = 0) {
  v1::ReviewEvent event;
  event.set_event_id(1);
  event.set_study_id(study);
  event.set_round(round);
  event.set_kind(kind);
  event.set_rater_id(rater);
  event.mutable_event_time()->set_seconds(1700000584);  // 2023-11-14 22:23:04 UTC
  return event;
}

TEST(WatchCommandTest, DescribesEachKindOfEvent) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  EXPECT_EQ(DescribeEvent(Event(7, 1, v1::EVENT_KIND_SUBMISSION_RECEIVED, 3), utc),
            "22:23:04 study 7 round 1: submission received (rater 3)");
  EXPECT_EQ(DescribeEvent(Event(7, 1, v1::EVENT_KIND_ROUND_CLOSED), utc),
            "22:23:04 study 7 round 1: round 1 closed");
  EXPECT_EQ(DescribeEvent(Event(7, 2, v1::EVENT_KIND_ADJUDICATION_REQUIRED), utc),
            "22:23:04 study 7 round 2: adjudication required");
  EXPECT_EQ(DescribeEvent(Event(7, 2, v1::EVENT_KIND_STUDY_FINALISED), utc),
            "22:23:04 study 7 round 2: finalised");
}

TEST(WatchCommandTest, TallyFollowsEachStudy) {
  WatchTally tally;
  tally.Add(Event(1, 1, v1::EVENT_KIND_SUBMISSION_RECEIVED, 2));
  tally.Add(Event(1, 1, v1::EVENT_KIND_SUBMISSION_RECEIVED, 3));
  tally.Add(Event(2, 1, v1::EVENT_KIND_SUBMISSION_RECEIVED, 2));
  tally.Add(Event(1, 1, v1::EVENT_KIND_ROUND_CLOSED));
  tally.Add(Event(1, 1, v1::EVENT_KIND_STUDY_FINALISED));
  tally.Add(Event(3, 2, v1::EVENT_KIND_ROUND_CLOSED));
  tally.Add(Event(3, 2, v1::EVENT_KIND_ADJUDICATION_REQUIRED));
  EXPECT_EQ(tally.Line(),
            "3 studies seen: 1 in round, 1 awaiting adjudication, 1 finalised; 3 submissions, "
            "2 rounds closed");
  tally.Add(Event(3, 2, v1::EVENT_KIND_STUDY_FINALISED));
  EXPECT_EQ(tally.Line(),
            "3 studies seen: 1 in round, 0 awaiting adjudication, 2 finalised; 3 submissions, "
            "2 rounds closed");
}

}  // namespace
}  // namespace rqs::client
