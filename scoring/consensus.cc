#include "scoring/consensus.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "scoring/status_macros.h"

namespace rqs::scoring {
namespace {

constexpr double kShareTolerance = 1e-9;

absl::Status CriterionError(int number, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("criterion ", number, ": ", reason));
}

std::string OptionIdList(const Criterion& criterion) {
  std::vector<absl::string_view> ids;
  for (const Option& option : criterion.options) ids.push_back(option.id);
  return absl::StrJoin(ids, ", ");
}

// Builds the canonical form of a set of option ids (already validated).
CanonicalAnswer FromOptionIds(const Criterion& criterion, std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  CanonicalAnswer canonical;
  for (const std::string& id : ids) canonical.points += criterion.FindOption(id)->points;
  canonical.key = criterion.kind == OptionKind::kExclusive
                      ? absl::StrCat("option:", ids.front())
                      : absl::StrCat("options:", absl::StrJoin(ids, ","));
  canonical.answer = Answer{criterion.number, std::move(ids), std::nullopt};
  return canonical;
}

// Every choice (one option, or a set of sub-items) awarding `points`. Additive
// criteria have a handful of sub-items, so enumerating subsets is cheap; the
// cap only guards against a malformed instrument.
std::vector<std::vector<std::string>> ChoicesWorth(const Criterion& criterion, int points) {
  std::vector<std::vector<std::string>> choices;
  if (criterion.kind == OptionKind::kExclusive) {
    for (const Option& option : criterion.options) {
      if (option.points == points) choices.push_back({option.id});
    }
    return choices;
  }
  const size_t count = criterion.options.size();
  if (count > 16) return choices;
  for (uint32_t mask = 0; mask < (uint32_t{1} << count); ++mask) {
    int sum = 0;
    std::vector<std::string> ids;
    for (size_t i = 0; i < count; ++i) {
      if ((mask >> i) & 1u) {
        sum += criterion.options[i].points;
        ids.push_back(criterion.options[i].id);
      }
    }
    if (sum == points) choices.push_back(std::move(ids));
  }
  return choices;
}

bool IsBlank(absl::string_view text) { return absl::StripAsciiWhitespace(text).empty(); }

// FNV-1a followed by the SplitMix64 finaliser: a fixed, portable hash (unlike
// std::hash) so labels do not change between builds or platforms.
uint64_t KeyedHash(absl::string_view seed, absl::string_view id) {
  uint64_t hash = 14695981039346656037ull;
  auto mix = [&hash](unsigned char byte) {
    hash ^= byte;
    hash *= 1099511628211ull;
  };
  for (char c : seed) mix(static_cast<unsigned char>(c));
  mix(0);  // Separator: ("ab", "c") and ("a", "bc") must differ.
  for (char c : id) mix(static_cast<unsigned char>(c));
  hash += 0x9e3779b97f4a7c15ull;
  hash = (hash ^ (hash >> 30)) * 0xbf58476d1ce4e5b9ull;
  hash = (hash ^ (hash >> 27)) * 0x94d049bb133111ebull;
  return hash ^ (hash >> 31);
}

// 0 -> "A", 25 -> "Z", 26 -> "AA" (bijective base 26, as spreadsheet columns).
std::string LetterLabel(size_t index) {
  std::string letters;
  size_t n = index + 1;
  while (n > 0) {
    --n;
    letters.insert(letters.begin(), static_cast<char>('A' + n % 26));
    n /= 26;
  }
  return absl::StrCat("Rater ", letters);
}

// The canonical answers of one submitted rater, keyed by open criterion.
using RaterAnswers = std::map<int, std::pair<CanonicalAnswer, const RoundAnswer*>>;

// Validates the round's open criteria and returns them resolved.
absl::StatusOr<std::vector<const Criterion*>> OpenCriteria(const Instrument& instrument,
                                                           const RoundInput& round) {
  if (round.round < 1) {
    return absl::InvalidArgumentError(absl::StrCat("round must be at least 1, got ", round.round));
  }
  std::vector<const Criterion*> open;
  open.reserve(round.open_criteria.size());
  for (int number : round.open_criteria) {
    const Criterion* criterion = instrument.FindCriterion(number);
    if (criterion == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("round ", round.round, ": unknown criterion ",
                                                     number, " in instrument ", instrument.id));
    }
    // An instrument's few dozen criteria: a scan, no set to allocate.
    if (std::find(open.begin(), open.end(), criterion) != open.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("round ", round.round, ": criterion ", number, " opened twice"));
    }
    open.push_back(criterion);
  }
  return open;
}

// Calls `visit(criterion, answer, given)` on each of one submitted rater's
// answers to the open criteria, in the order given, then on the lowest
// answer of each open criterion left out (given: nullptr). Stops at the
// first error: a criterion not open or answered twice, or an error of
// `visit`, prefixed with the rater for a given answer.
template <typename Visit>
absl::Status ForEachRaterAnswer(const std::vector<const Criterion*>& open, const RaterRound& rater,
                                Visit&& visit) {
  // By position in `open`, whose numbers are distinct (OpenCriteria).
  std::vector<bool> answered(open.size(), false);
  for (const RoundAnswer& given : rater.answers) {
    const int number = given.answer.criterion;
    auto it = std::find_if(open.begin(), open.end(),
                           [number](const Criterion* c) { return c->number == number; });
    if (it == open.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("rater ", rater.rater, ": criterion ", number, " is not open this round"));
    }
    const std::size_t position = static_cast<std::size_t>(it - open.begin());
    if (answered[position]) {
      return absl::InvalidArgumentError(
          absl::StrCat("rater ", rater.rater, ": criterion ", number, " answered twice"));
    }
    answered[position] = true;
    const absl::Status status = visit(**it, given.answer, &given);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("rater ", rater.rater, ": ", status.message()));
    }
  }
  for (std::size_t position = 0; position < open.size(); ++position) {
    if (answered[position]) continue;
    const Criterion& criterion = *open[position];
    RQS_RETURN_IF_ERROR(visit(criterion, Answer{criterion.number, {}, {}}, nullptr));
  }
  return absl::OkStatus();
}

// Calls `visit(rater)` on each submitted rater of `round`, after checking
// that rater ids are non-empty and listed once (the whole panel, missing
// raters included). Stops at the first error.
template <typename Visit>
absl::Status ForEachSubmittedRater(const RoundInput& round, Visit&& visit) {
  for (auto rater_it = round.raters.begin(); rater_it != round.raters.end(); ++rater_it) {
    const RaterRound& rater = *rater_it;
    if (rater.rater.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("round ", round.round, ": empty rater id"));
    }
    // A panel is a handful of raters: a scan, no set to allocate.
    if (std::any_of(round.raters.begin(), rater_it,
                    [&rater](const RaterRound& before) { return before.rater == rater.rater; })) {
      return absl::InvalidArgumentError(
          absl::StrCat("round ", round.round, ": rater ", rater.rater, " listed twice"));
    }
    if (rater.submitted) RQS_RETURN_IF_ERROR(visit(rater));
  }
  return absl::OkStatus();
}

// Canonicalises one submitted rater's answers to every open criterion,
// filling in the lowest answer for those left out.
absl::StatusOr<RaterAnswers> CanonicaliseRater(const std::vector<const Criterion*>& open,
                                               const RaterRound& rater) {
  RaterAnswers answers;
  RQS_RETURN_IF_ERROR(ForEachRaterAnswer(
      open, rater,
      [&answers](const Criterion& criterion, const Answer& answer, const RoundAnswer* given) {
        absl::StatusOr<CanonicalAnswer> canonical = CanonicaliseAnswer(criterion, answer);
        if (!canonical.ok()) return canonical.status();
        answers.emplace(criterion.number, std::make_pair(*std::move(canonical), given));
        return absl::OkStatus();
      }));
  return answers;
}

// Canonical answers of every submitted rater in `round`, keyed by rater id.
absl::StatusOr<std::map<std::string, RaterAnswers>> CanonicaliseRound(const Instrument& instrument,
                                                                      const RoundInput& round) {
  RQS_ASSIGN_OR_RETURN(const std::vector<const Criterion*> open, OpenCriteria(instrument, round));
  std::map<std::string, RaterAnswers> by_rater;
  RQS_RETURN_IF_ERROR(ForEachSubmittedRater(round, [&](const RaterRound& rater) {
    absl::StatusOr<RaterAnswers> answers = CanonicaliseRater(open, rater);
    if (!answers.ok()) return answers.status();
    by_rater.emplace(rater.rater, *std::move(answers));
    return absl::OkStatus();
  }));
  return by_rater;
}

// Checks that rounds are numbered 1, 2, ... and that each later round opens
// only criteria disputed in the one before.
absl::Status CheckRoundSequence(const std::vector<RoundResult>& rounds) {
  if (rounds.empty()) return absl::InvalidArgumentError("no rounds");
  for (size_t i = 0; i < rounds.size(); ++i) {
    const int expected = static_cast<int>(i) + 1;
    if (rounds[i].round != expected) {
      return absl::InvalidArgumentError(absl::StrCat("rounds must be numbered 1, 2, ...: round ",
                                                     expected, " is numbered ", rounds[i].round));
    }
    if (i == 0) continue;
    const std::vector<int> disputed = rounds[i - 1].Disputed();
    for (const CriterionResult& result : rounds[i].criteria) {
      if (std::find(disputed.begin(), disputed.end(), result.criterion) == disputed.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("round ", expected, " opens criterion ", result.criterion,
                         ", which was not disputed in round ", expected - 1));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePolicy(const ConsensusPolicy& policy) {
  if (!(policy.agreement_threshold > 0.5 && policy.agreement_threshold <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("agreement_threshold must be in (0.5, 1], got ", policy.agreement_threshold,
                     " (at 0.5 or below two different answers could both reach it)"));
  }
  if (policy.max_rounds < 1 || policy.max_rounds > kMaxConsensusRounds) {
    return absl::InvalidArgumentError(absl::StrCat("max_rounds must be in 1..", kMaxConsensusRounds,
                                                   ", got ", policy.max_rounds));
  }
  if (!(policy.level_threshold_percent >= 0.0 && policy.level_threshold_percent <= 100.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "level_threshold_percent must be in 0..100, got ", policy.level_threshold_percent));
  }
  return absl::OkStatus();
}

int RequiredAgreeingRaters(double threshold, int raters) {
  if (raters <= 0) return 0;
  const double needed = std::ceil(threshold * static_cast<double>(raters) - kShareTolerance);
  return std::clamp(static_cast<int>(needed), 1, raters);
}

absl::StatusOr<CanonicalAnswer> CanonicaliseAnswer(const Criterion& criterion,
                                                   const Answer& answer) {
  if (answer.option_ids.has_value() && answer.points.has_value()) {
    return CriterionError(criterion.number, "give either options or points, not both");
  }
  if (answer.points.has_value()) {
    const int points = *answer.points;
    const std::vector<int> possible = criterion.PossiblePoints();
    if (std::find(possible.begin(), possible.end(), points) == possible.end()) {
      return CriterionError(criterion.number,
                            absl::StrCat("points ", points, " cannot be awarded (possible: ",
                                         absl::StrJoin(possible, ", "), ")"));
    }
    std::vector<std::vector<std::string>> choices = ChoicesWorth(criterion, points);
    if (choices.size() == 1) return FromOptionIds(criterion, std::move(choices.front()));
    CanonicalAnswer canonical;
    canonical.key = absl::StrCat("points:", points);
    canonical.answer = Answer{criterion.number, std::nullopt, points};
    canonical.points = points;
    return canonical;
  }
  if (!answer.option_ids.has_value()) {
    // Unanswered: the lowest answer, as ScoreStudy scores it.
    std::vector<std::string> ids;
    if (criterion.kind == OptionKind::kExclusive) {
      const int min = criterion.MinPoints();
      for (const Option& option : criterion.options) {
        if (option.points == min) {
          ids.push_back(option.id);
          break;
        }
      }
    } else {
      for (const Option& option : criterion.options) {
        if (option.points < 0) ids.push_back(option.id);
      }
    }
    return FromOptionIds(criterion, std::move(ids));
  }
  const std::vector<std::string>& ids = *answer.option_ids;
  if (criterion.kind == OptionKind::kExclusive && ids.size() != 1) {
    return CriterionError(criterion.number,
                          absl::StrCat("choose exactly one option, got ", ids.size(),
                                       " (options: ", OptionIdList(criterion), ")"));
  }
  std::set<absl::string_view> seen;
  for (const std::string& id : ids) {
    if (criterion.FindOption(id) == nullptr) {
      return CriterionError(
          criterion.number,
          absl::StrCat("unknown option '", id, "' (options: ", OptionIdList(criterion), ")"));
    }
    if (!seen.insert(id).second) {
      return CriterionError(criterion.number, absl::StrCat("option '", id, "' given twice"));
    }
  }
  return FromOptionIds(criterion, ids);
}

absl::StatusOr<std::string> AnswerKey(const Criterion& criterion, const Answer& answer) {
  RQS_ASSIGN_OR_RETURN(CanonicalAnswer canonical, CanonicaliseAnswer(criterion, answer));
  return std::move(canonical.key);
}

absl::string_view CriterionOutcomeName(CriterionOutcome outcome) {
  return outcome == CriterionOutcome::kAgreed ? "AGREED" : "DISPUTED";
}

std::vector<int> RoundResult::Disputed() const {
  std::vector<int> disputed;
  for (const CriterionResult& result : criteria) {
    if (result.outcome == CriterionOutcome::kDisputed) disputed.push_back(result.criterion);
  }
  return disputed;
}

absl::StatusOr<RoundResult> CloseRound(const Instrument& instrument, const ConsensusPolicy& policy,
                                       const RoundInput& round) {
  RQS_RETURN_IF_ERROR(ValidatePolicy(policy));
  RQS_ASSIGN_OR_RETURN(const auto by_rater, CanonicaliseRound(instrument, round));

  RoundResult result;
  result.round = round.round;
  for (const RaterRound& rater : round.raters) {
    if (!rater.submitted) result.missing_raters.push_back(rater.rater);
  }
  const int answered = static_cast<int>(by_rater.size());
  for (int number : round.open_criteria) {
    CriterionResult criterion_result;
    criterion_result.criterion = number;
    criterion_result.raters_answered = answered;
    criterion_result.required = RequiredAgreeingRaters(policy.agreement_threshold, answered);
    std::map<std::string, const CanonicalAnswer*> by_key;
    for (const auto& [rater, answers] : by_rater) {
      const CanonicalAnswer& canonical = answers.at(number).first;
      ++criterion_result.distribution[canonical.key];
      by_key.emplace(canonical.key, &canonical);
    }
    // With a threshold above one half at most one answer can reach it.
    for (const auto& [key, count] : criterion_result.distribution) {
      if (answered >= kMinAnsweringRaters && count >= criterion_result.required) {
        criterion_result.outcome = CriterionOutcome::kAgreed;
        criterion_result.agreed = *by_key.at(key);
      }
    }
    result.criteria.push_back(std::move(criterion_result));
  }
  return result;
}

absl::StatusOr<bool> RoundChangedAnswers(const Instrument& instrument, const RoundInput& previous,
                                         const RoundInput& current) {
  if (current.round != previous.round + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("round ", current.round, " does not follow round ", previous.round));
  }
  for (int number : current.open_criteria) {
    if (std::find(previous.open_criteria.begin(), previous.open_criteria.end(), number) ==
        previous.open_criteria.end()) {
      return absl::InvalidArgumentError(absl::StrCat("criterion ", number, " is open in round ",
                                                     current.round, " but was not in round ",
                                                     previous.round));
    }
  }
  RQS_ASSIGN_OR_RETURN(const auto before, CanonicaliseRound(instrument, previous));
  RQS_ASSIGN_OR_RETURN(const auto after, CanonicaliseRound(instrument, current));
  for (const auto& [rater, answers] : after) {
    auto it = before.find(rater);
    if (it == before.end()) return true;
    for (int number : current.open_criteria) {
      if (answers.at(number).first.key != it->second.at(number).first.key) return true;
    }
  }
  return false;
}

absl::string_view StudyDecisionName(StudyDecision decision) {
  switch (decision) {
    case StudyDecision::kContinue:
      return "CONTINUE";
    case StudyDecision::kConsensus:
      return "CONSENSUS";
    case StudyDecision::kAdjudicate:
      return "ADJUDICATE";
  }
  return "UNKNOWN";
}

absl::string_view EndReasonName(EndReason reason) {
  switch (reason) {
    case EndReason::kNone:
      return "NONE";
    case EndReason::kAllAgreed:
      return "ALL_AGREED";
    case EndReason::kMaxRounds:
      return "MAX_ROUNDS";
    case EndReason::kStable:
      return "STABLE";
  }
  return "UNKNOWN";
}

absl::StatusOr<StudyStep> DecideNextStep(const ConsensusPolicy& policy, const RoundResult& result,
                                         bool changed) {
  RQS_RETURN_IF_ERROR(ValidatePolicy(policy));
  if (result.round < 1 || result.round > policy.max_rounds) {
    return absl::InvalidArgumentError(
        absl::StrCat("round must be in 1..", policy.max_rounds, ", got ", result.round));
  }
  StudyStep step;
  step.disputed = result.Disputed();
  if (step.disputed.empty()) {
    step.decision = StudyDecision::kConsensus;
    step.reason = EndReason::kAllAgreed;
  } else if (result.round == policy.max_rounds) {
    step.decision = StudyDecision::kAdjudicate;
    step.reason = EndReason::kMaxRounds;
  } else if (policy.stop_when_stable && result.round > 1 && !changed) {
    step.decision = StudyDecision::kAdjudicate;
    step.reason = EndReason::kStable;
  } else {
    step.decision = StudyDecision::kContinue;
    step.next_round = result.round + 1;
  }
  return step;
}

absl::StatusOr<std::map<std::string, std::string>> AssignRaterLabels(
    const std::vector<std::string>& raters, absl::string_view seed) {
  if (raters.empty()) return absl::InvalidArgumentError("no raters to label");
  if (seed.empty()) return absl::InvalidArgumentError("empty label seed");
  std::vector<std::pair<uint64_t, std::string>> order;
  std::set<absl::string_view> seen;
  for (const std::string& rater : raters) {
    if (rater.empty()) return absl::InvalidArgumentError("empty rater id");
    if (!seen.insert(rater).second) {
      return absl::InvalidArgumentError(absl::StrCat("rater ", rater, " listed twice"));
    }
    order.emplace_back(KeyedHash(seed, rater), rater);
  }
  // Ties in the hash are astronomically unlikely; the id breaks them.
  std::sort(order.begin(), order.end());
  std::map<std::string, std::string> labels;
  for (size_t i = 0; i < order.size(); ++i) labels.emplace(order[i].second, LetterLabel(i));
  return labels;
}

absl::StatusOr<CriterionFeedback> BuildFeedback(const Instrument& instrument,
                                                const ConsensusPolicy& policy,
                                                const RoundInput& previous,
                                                const RoundResult& previous_result,
                                                const std::map<std::string, std::string>& labels,
                                                absl::string_view rater, int criterion) {
  RQS_RETURN_IF_ERROR(ValidatePolicy(policy));
  if (previous_result.round != previous.round) {
    return absl::InvalidArgumentError(absl::StrCat("result of round ", previous_result.round,
                                                   " given for round ", previous.round));
  }
  auto own_label = labels.find(std::string(rater));
  if (own_label == labels.end()) {
    return absl::NotFoundError(absl::StrCat("rater ", rater, " has no label in this study"));
  }
  const CriterionResult* disputed = nullptr;
  for (const CriterionResult& result : previous_result.criteria) {
    if (result.criterion == criterion) disputed = &result;
  }
  if (disputed == nullptr || disputed->outcome != CriterionOutcome::kDisputed) {
    return absl::FailedPreconditionError(
        absl::StrCat("criterion ", criterion, " was not disputed in round ", previous.round));
  }
  RQS_ASSIGN_OR_RETURN(const auto by_rater, CanonicaliseRound(instrument, previous));

  CriterionFeedback feedback;
  feedback.criterion = criterion;
  feedback.previous_round = previous.round;
  feedback.distribution = disputed->distribution;
  feedback.raters_answered = disputed->raters_answered;
  feedback.own_label = own_label->second;
  for (const auto& [id, answers] : by_rater) {
    const auto& [canonical, given] = answers.at(criterion);
    if (id == rater) {
      feedback.own_answer_key = canonical.key;
      feedback.own_answer = given != nullptr ? *given : RoundAnswer{canonical.answer, "", ""};
      continue;
    }
    auto label = labels.find(id);
    if (label == labels.end()) {
      return absl::InvalidArgumentError(absl::StrCat("rater ", id, " has no label in this study"));
    }
    LabelledAnswer other;
    other.label = label->second;
    other.answer_key = canonical.key;
    if (policy.share_rationales && given != nullptr) {
      other.rationale = given->rationale;
      other.evidence = given->evidence;
    }
    feedback.others.push_back(std::move(other));
  }
  // Order by label, never by id, so the order reveals nothing.
  std::sort(feedback.others.begin(), feedback.others.end(),
            [](const LabelledAnswer& a, const LabelledAnswer& b) {
              return a.label.size() != b.label.size() ? a.label.size() < b.label.size()
                                                      : a.label < b.label;
            });
  return feedback;
}

absl::StatusOr<std::vector<Answer>> ConsensusAnswers(
    const Instrument& instrument, const std::vector<RoundResult>& rounds,
    const std::map<int, Adjudication>& adjudications) {
  RQS_RETURN_IF_ERROR(CheckRoundSequence(rounds));
  std::map<int, Answer> answers;
  for (const RoundResult& round : rounds) {
    for (const CriterionResult& result : round.criteria) {
      if (result.outcome != CriterionOutcome::kAgreed) continue;
      // Dropping it silently would let ScoreStudy score the lowest answer.
      if (!result.agreed.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat("criterion ", result.criterion,
                                                       " agreed in round ", round.round,
                                                       " without an agreed answer"));
      }
      answers.emplace(result.criterion, result.agreed->answer);
    }
  }
  // Outstanding: in scope (round 1) and never agreed. Computed from the scope
  // rather than the last round so that a disputed criterion the caller did not
  // carry into a later round still needs an adjudication.
  std::vector<int> disputed;
  for (const CriterionResult& result : rounds.front().criteria) {
    if (answers.count(result.criterion) == 0) disputed.push_back(result.criterion);
  }
  for (const auto& [number, adjudication] : adjudications) {
    if (std::find(disputed.begin(), disputed.end(), number) == disputed.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("criterion ", number, " is not disputed: it cannot be adjudicated"));
    }
    if (adjudication.answer.criterion != number) {
      return absl::InvalidArgumentError(absl::StrCat("adjudication of criterion ", number,
                                                     " answers criterion ",
                                                     adjudication.answer.criterion));
    }
    if (IsBlank(adjudication.reason)) {
      return absl::InvalidArgumentError(
          absl::StrCat("criterion ", number, ": an adjudication needs a reason"));
    }
    const Criterion* criterion = instrument.FindCriterion(number);
    if (criterion == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown criterion ", number, " in instrument ", instrument.id));
    }
    RQS_ASSIGN_OR_RETURN(CanonicalAnswer canonical,
                         CanonicaliseAnswer(*criterion, adjudication.answer));
    answers.emplace(number, std::move(canonical.answer));
  }
  std::vector<int> missing;
  for (int number : disputed) {
    if (adjudications.count(number) == 0) missing.push_back(number);
  }
  if (!missing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "criteria still disputed and not adjudicated: ", absl::StrJoin(missing, ", ")));
  }
  std::vector<Answer> result;
  result.reserve(answers.size());
  for (auto& [number, answer] : answers) result.push_back(std::move(answer));
  return result;
}

// CanonicaliseAnswer's keys, each distinct (criterion, answer) worked out
// once: a review's round-1 answers repeat a few answers per criterion
// hundreds of thousands of times. For the criteria of one instrument.
class ConvergenceMeasure::KeyMemo {
 public:
  explicit KeyMemo(const Instrument& instrument)
      : instrument_(instrument), by_position_(instrument.criteria.size()) {}

  // Returns CanonicaliseAnswer(criterion, answer)'s key, or its error.
  const absl::StatusOr<std::string>& Key(const Criterion& criterion, const Answer& answer) {
    // A criterion meets a handful of distinct answers: a scan beats hashing.
    std::deque<Entry>& entries = EntriesOf(criterion);
    for (const Entry& entry : entries) {
      if (entry.option_ids == answer.option_ids && entry.points == answer.points) {
        return entry.key;
      }
    }
    absl::StatusOr<CanonicalAnswer> canonical = CanonicaliseAnswer(criterion, answer);
    absl::StatusOr<std::string> key = canonical.ok()
                                          ? absl::StatusOr<std::string>(std::move(canonical->key))
                                          : canonical.status();
    entries.push_back(Entry{answer.option_ids, answer.points, std::move(key)});
    return entries.back().key;
  }

 private:
  struct Entry {
    std::optional<std::vector<std::string>> option_ids;
    std::optional<int> points;
    absl::StatusOr<std::string> key;
  };

  // The criteria come from the instrument (FindCriterion), so their place
  // in it finds their entries; others by number.
  std::deque<Entry>& EntriesOf(const Criterion& criterion) {
    const std::vector<Criterion>& criteria = instrument_.criteria;
    const std::less<const Criterion*> before;
    if (!criteria.empty() && !before(&criterion, criteria.data()) &&
        before(&criterion, criteria.data() + criteria.size())) {
      return by_position_[static_cast<std::size_t>(&criterion - criteria.data())];
    }
    return others_[criterion.number];
  }

  const Instrument& instrument_;
  // Deques keep the keys handed out in place as entries are added.
  std::vector<std::deque<Entry>> by_position_;
  std::map<int, std::deque<Entry>> others_;
};

ConvergenceMeasure::ConvergenceMeasure(const Instrument& instrument)
    : instrument_(instrument), keys_(std::make_unique<KeyMemo>(instrument)) {}

ConvergenceMeasure::~ConvergenceMeasure() = default;

absl::Status ConvergenceMeasure::Add(const StudyConsensusRecord& study) {
  RQS_RETURN_IF_ERROR(CheckRoundSequence(study.rounds));
  // The study's counts, merged once all of it checked out.
  std::vector<int> agreed_in(study.rounds.size(), 0);
  for (size_t r = 0; r < study.rounds.size(); ++r) {
    for (const CriterionResult& result : study.rounds[r].criteria) {
      if (result.outcome == CriterionOutcome::kAgreed) ++agreed_in[r];
    }
  }
  // Per rater of the study (ForEachSubmittedRater lists each once).
  std::vector<std::pair<const std::string*, RaterConsensusAgreement>> raters;
  if (!study.consensus.empty()) {
    // The consensus key of each criterion, by its place in the instrument
    // (FindCriterion's criteria are the instrument's own); the first answer
    // to a criterion counts.
    const Criterion* const first = instrument_.criteria.data();
    std::vector<const std::string*> consensus_keys(instrument_.criteria.size(), nullptr);
    for (const Answer& answer : study.consensus) {
      const Criterion* criterion = instrument_.FindCriterion(answer.criterion);
      if (criterion == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("consensus: unknown criterion ", answer.criterion));
      }
      const absl::StatusOr<std::string>& key = keys_->Key(*criterion, answer);
      if (!key.ok()) return key.status();
      const std::string*& place = consensus_keys[static_cast<std::size_t>(criterion - first)];
      if (place == nullptr) place = &*key;
    }
    RQS_ASSIGN_OR_RETURN(const std::vector<const Criterion*> open,
                         OpenCriteria(instrument_, study.first_round));
    // As CanonicaliseRound checks and canonicalises every submitted rater's
    // round-1 answers, counting those that meet the consensus.
    RQS_RETURN_IF_ERROR(ForEachSubmittedRater(study.first_round, [&](const RaterRound& rater) {
      RaterConsensusAgreement& agreement =
          raters.emplace_back(&rater.rater, RaterConsensusAgreement()).second;
      return ForEachRaterAnswer(
          open, rater, [&](const Criterion& criterion, const Answer& answer, const RoundAnswer*) {
            const absl::StatusOr<std::string>& key = keys_->Key(criterion, answer);
            if (!key.ok()) return key.status();
            const std::string* consensus =
                consensus_keys[static_cast<std::size_t>(&criterion - first)];
            if (consensus == nullptr) return absl::OkStatus();
            ++agreement.compared;
            if (*key == *consensus) ++agreement.matching;
            return absl::OkStatus();
          });
    }));
  }
  items_ += static_cast<int>(study.rounds.front().criteria.size());
  if (agreed_in_.size() < agreed_in.size()) agreed_in_.resize(agreed_in.size(), 0);
  for (size_t r = 0; r < agreed_in.size(); ++r) agreed_in_[r] += agreed_in[r];
  for (const auto& [id, agreement] : raters) {
    RaterConsensusAgreement& total = raters_[*id];
    total.rater = *id;
    total.matching += agreement.matching;
    total.compared += agreement.compared;
  }
  return absl::OkStatus();
}

ConvergenceReport ConvergenceMeasure::Report() const {
  ConvergenceReport report;
  report.items = items_;
  int cumulative = 0;
  for (int agreed : agreed_in_) {
    cumulative += agreed;
    report.consensus_share_by_round.push_back(
        report.items == 0 ? 0.0
                          : static_cast<double>(cumulative) / static_cast<double>(report.items));
  }
  for (const auto& [id, total] : raters_) {
    RaterConsensusAgreement agreement = total;
    agreement.share = agreement.compared == 0 ? 0.0
                                              : static_cast<double>(agreement.matching) /
                                                    static_cast<double>(agreement.compared);
    report.raters.push_back(std::move(agreement));
  }
  return report;
}

absl::StatusOr<ConvergenceReport> MeasureConvergence(
    const Instrument& instrument, const std::vector<StudyConsensusRecord>& studies) {
  // Every study's rounds are checked before any answer, as ever, so the
  // same error is reported first.
  for (const StudyConsensusRecord& study : studies) {
    RQS_RETURN_IF_ERROR(CheckRoundSequence(study.rounds));
  }
  ConvergenceMeasure measure(instrument);
  for (const StudyConsensusRecord& study : studies) RQS_RETURN_IF_ERROR(measure.Add(study));
  return measure.Report();
}

}  // namespace rqs::scoring
