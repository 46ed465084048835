// `rqs watch`: a live display of a review's events (ConsensusService
// .WatchReview). The command itself is declared in consensus_commands.h; this
// header holds its pure parts.
#ifndef RQS_CLIENT_WATCH_COMMAND_H_
#define RQS_CLIENT_WATCH_COMMAND_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "rqs/v1/consensus.pb.h"

namespace rqs::client {

// One display line for `event`, its time in `zone`, e.g.
//   "12:03:04 study 7 round 1: submission received (rater 3)"
//   "12:04:10 study 7 round 1: round 1 closed"
//   "12:04:10 study 7 round 2: adjudication required"
//   "12:09:55 study 7 round 2: finalised"
std::string DescribeEvent(const rqs::v1::ReviewEvent& event, absl::TimeZone zone);

// Counts what the events seen so far say about the review.
class WatchTally {
 public:
  // Takes one event into account.
  void Add(const rqs::v1::ReviewEvent& event);
  // e.g. "3 studies seen: 1 in round, 1 awaiting adjudication, 1 finalised;
  // 7 submissions, 4 rounds closed".
  std::string Line() const;

 private:
  // Each study's last known state.
  std::map<int64_t, rqs::v1::StudyState> studies_;
  int submissions_ = 0;
  int rounds_closed_ = 0;
};

}  // namespace rqs::client

#endif  // RQS_CLIENT_WATCH_COMMAND_H_
