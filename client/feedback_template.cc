#include "client/feedback_template.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/session.h"

namespace rqs::client {
namespace {

namespace v1 = ::rqs::v1;

const v1::Criterion* FindCriterion(const v1::Instrument& instrument, int number) {
  for (const v1::Criterion& criterion : instrument.criteria()) {
    if (criterion.number() == number) return &criterion;
  }
  return nullptr;
}

}  // namespace

std::string DescribePreviousRound(const v1::CriterionFeedback& feedback) {
  // Most frequent answer first; ties in key order (the map's order).
  std::vector<std::pair<std::string, int>> counts(feedback.distribution().begin(),
                                                  feedback.distribution().end());
  std::stable_sort(counts.begin(), counts.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> parts;
  for (const auto& [key, count] : counts) {
    parts.push_back(absl::StrCat(key, " ", count));
  }
  std::string text =
      absl::StrCat("Round ", feedback.previous_round(), " (", feedback.raters_answered(),
                   " raters): ", absl::StrJoin(parts, ", "), ".");
  if (!feedback.own_label().empty() || !feedback.own_answer_key().empty()) {
    absl::StrAppend(&text, " You", feedback.own_label().empty() ? "" : " (", feedback.own_label(),
                    feedback.own_label().empty() ? "" : ")", ": ",
                    feedback.own_answer_key().empty() ? "no answer" : feedback.own_answer_key(),
                    ".");
  }
  return text;
}

nlohmann::ordered_json BuildFeedbackTemplate(const FeedbackTemplateInput& input) {
  const int64_t study_id = input.study.study_id();
  const int target = input.review.target_level();
  nlohmann::ordered_json file;
  file["instrument"] = input.review.instrument_id();
  file["study_type"] = StudyTypeName(input.study.study_type());
  if (input.instrument.summary().level_count() > 0 && target > 0) file["target_rrl"] = target;
  file["review_id"] = input.review.review_id();
  file["study_id"] = study_id;
  file["round"] = input.feedback.round();
  file["study"] = input.study.title();
  file["comment"] = absl::StrCat(
      "Round ", input.feedback.round(), ": answer exactly these ", input.feedback.criteria_size(),
      " disputed criteria. Your previous answers are filled in; keep or change each. Then run: "
      "rqs submit ",
      study_id, " FILE");
  nlohmann::ordered_json answers = nlohmann::ordered_json::array();
  for (const v1::CriterionFeedback& feedback : input.feedback.criteria()) {
    const v1::Criterion* criterion = FindCriterion(input.instrument, feedback.criterion());
    const bool additive = criterion != nullptr && criterion->kind() == v1::OPTION_KIND_ADDITIVE;
    nlohmann::ordered_json answer;
    answer["criterion"] = feedback.criterion();
    answer["name"] = criterion != nullptr ? criterion->name() : feedback.title();
    if (criterion != nullptr && criterion->level() > 0) answer["rrl"] = criterion->level();
    answer["hint"] = absl::StrCat(criterion != nullptr ? OptionHint(*criterion) + " " : "",
                                  DescribePreviousRound(feedback));
    const v1::Answer& own = feedback.own_answer();
    const bool answered = feedback.has_own_answer();
    if (answered && own.has_points()) {
      answer["points"] = own.points();
    } else if (additive || own.option_ids_size() > 1) {
      answer["options"] = answered ? nlohmann::ordered_json(std::vector<std::string>(
                                         own.option_ids().begin(), own.option_ids().end()))
                                   : nlohmann::ordered_json(nullptr);
    } else {
      answer["option"] = answered && own.option_ids_size() == 1
                             ? nlohmann::ordered_json(own.option_ids(0))
                             : nlohmann::ordered_json(nullptr);
    }
    answer["rationale"] = answered ? own.rationale() : "";
    answer["evidence"] = {{"page", answered ? own.evidence().page() : ""},
                          {"section", answered ? own.evidence().section() : ""},
                          {"quote", answered ? own.evidence().quote() : ""}};
    answers.push_back(std::move(answer));
  }
  file["answers"] = std::move(answers);
  return file;
}

}  // namespace rqs::client
