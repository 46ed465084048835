// The answer-file skeleton for a later Delphi round (`rqs feedback --template`).
//
// In round 2 and later a rater answers only the criteria disputed in the
// previous round. The skeleton is an answer file in the format `rqs submit`
// and `rqs score` read (client/answer_file.h) holding exactly those criteria,
// each pre-filled with the rater's own previous answer, rationale and
// evidence, its hint extended with the previous round's distribution, and
// the top-level "round" set so that `rqs submit` sends it to that round only.
#ifndef RQS_CLIENT_FEEDBACK_TEMPLATE_H_
#define RQS_CLIENT_FEEDBACK_TEMPLATE_H_

#include <cstdint>
#include <string>

#include "nlohmann/json.hpp"
#include "rqs/v1/consensus.pb.h"
#include "rqs/v1/instrument.pb.h"
#include "rqs/v1/review.pb.h"

namespace rqs::client {

// What the skeleton is made from: three reads the CLI does anyway.
struct FeedbackTemplateInput {
  rqs::v1::Review review;                 // GetReview: instrument and target level.
  rqs::v1::Study study;                   // The study: id, title, type.
  rqs::v1::Instrument instrument;         // GetInstrument: names, kinds, options.
  rqs::v1::GetFeedbackResponse feedback;  // The open round and its criteria.
};

// One line per criterion's previous round, e.g.
// "Round 1 (3 raters): option:yes 2, option:no 1. You (Rater B): option:no."
std::string DescribePreviousRound(const rqs::v1::CriterionFeedback& feedback);

// Builds the skeleton. A criterion the rater answered by options is written
// as "option" (exclusive) or "options" (additive, possibly empty), one
// answered by points as "points"; one the rater did not answer is null to
// fill in. Criteria appear in the order of the feedback.
nlohmann::ordered_json BuildFeedbackTemplate(const FeedbackTemplateInput& input);

}  // namespace rqs::client

#endif  // RQS_CLIENT_FEEDBACK_TEMPLATE_H_
