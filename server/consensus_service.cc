// rqs.v1.ConsensusService: policy, Delphi rounds, feedback, adjudication,
// consensus, agreement, summary and export. Roles and blinding: see
// proto/rqs/v1/consensus.proto. The rules live in server/consensus_engine.h
// and scoring/; these handlers authorise, load, call and encode.
#include <algorithm>
#include <future>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "scoring/review_summary.h"
#include "scoring/status_macros.h"
#include "server/consensus_engine.h"
#include "server/convert.h"
#include "server/export.h"
#include "server/limits.h"
#include "server/services.h"

namespace rqs::server {
namespace {

using Role = db::ReviewRole;

// Bootstrap replicates a caller may ask GetAgreement for.
constexpr int kMaxAgreementBootstrap = 10000;

// What most handlers need about the review.
struct ReviewContext {
  ReviewAccess access;
  const scoring::Instrument* instrument = nullptr;
  db::ReviewPolicy policy;
};

absl::StatusOr<ReviewContext> LoadReview(db::Store& store, const Caller& caller, int64_t review_id,
                                         std::initializer_list<Role> allowed) {
  ReviewContext context;
  RQS_ASSIGN_OR_RETURN(context.access, AuthorizeReview(store, caller, review_id, allowed));
  absl::StatusOr<const scoring::Instrument*> instrument =
      scoring::FindInstrument(context.access.review.instrument_id);
  if (!instrument.ok()) return absl::InternalError(instrument.status().message());
  context.instrument = *instrument;
  RQS_ASSIGN_OR_RETURN(context.policy, store.GetReviewPolicy(review_id));
  return context;
}

bool OnPanel(const db::StudyConsensusState& state, int64_t user_id) {
  return std::find(state.panel.begin(), state.panel.end(), user_id) != state.panel.end();
}

// The studies the caller may see: all for coordinators and observers, the
// assigned ones for raters.
std::vector<const db::StudyConsensusState*> Visible(
    const ReviewContext& context, const Caller& caller,
    const std::vector<db::StudyConsensusState>& states) {
  std::vector<const db::StudyConsensusState*> visible;
  for (const db::StudyConsensusState& state : states) {
    if (context.access.role != Role::kRater || OnPanel(state, caller.user.id)) {
      visible.push_back(&state);
    }
  }
  return visible;
}

void ToProto(const scoring::ConsensusPolicy& policy, v1::Policy* out) {
  out->set_agreement_threshold(policy.agreement_threshold);
  out->set_max_rounds(policy.max_rounds);
  out->set_stop_when_stable(policy.stop_when_stable);
  out->set_level_threshold_percent(policy.level_threshold_percent);
  out->set_share_rationales(policy.share_rationales);
}

absl::StatusOr<scoring::ConsensusPolicy> FromProto(const v1::Policy& policy) {
  scoring::ConsensusPolicy out;
  out.agreement_threshold = policy.agreement_threshold();
  out.max_rounds = policy.max_rounds();
  out.stop_when_stable = policy.stop_when_stable();
  out.level_threshold_percent = policy.level_threshold_percent();
  out.share_rationales = policy.share_rationales();
  absl::Status valid = scoring::ValidatePolicy(out);
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat("policy.", valid.message()));
  return out;
}

v1::StudyState ToProto(StudyPhase phase) {
  switch (phase) {
    case StudyPhase::kInRound:
      return v1::STUDY_STATE_IN_ROUND;
    case StudyPhase::kAwaitingAdjudication:
      return v1::STUDY_STATE_AWAITING_ADJUDICATION;
    case StudyPhase::kFinalised:
      return v1::STUDY_STATE_FINALISED;
  }
  return v1::STUDY_STATE_UNSPECIFIED;
}

v1::EndReason ToProto(scoring::EndReason reason) {
  switch (reason) {
    case scoring::EndReason::kNone:
      return v1::END_REASON_UNSPECIFIED;
    case scoring::EndReason::kAllAgreed:
      return v1::END_REASON_ALL_AGREED;
    case scoring::EndReason::kMaxRounds:
      return v1::END_REASON_MAX_ROUNDS;
    case scoring::EndReason::kStable:
      return v1::END_REASON_STABLE;
  }
  return v1::END_REASON_UNSPECIFIED;
}

void ToProto(const scoring::Statistic& statistic, std::string_view key,
             v1::AgreementStatistic* out) {
  out->set_key(std::string(key));
  if (statistic.value) out->set_value(*statistic.value);
  if (statistic.standard_error) out->set_standard_error(*statistic.standard_error);
  if (statistic.z) out->set_z(*statistic.z);
  if (statistic.f) out->set_f(*statistic.f);
  if (statistic.df1) out->set_df1(*statistic.df1);
  if (statistic.df2) out->set_df2(*statistic.df2);
  if (statistic.p_value) out->set_p_value(*statistic.p_value);
  if (statistic.ci_lower) out->set_ci_lower(*statistic.ci_lower);
  if (statistic.ci_upper) out->set_ci_upper(*statistic.ci_upper);
  if (statistic.bootstrap_ci_lower) out->set_bootstrap_ci_lower(*statistic.bootstrap_ci_lower);
  if (statistic.bootstrap_ci_upper) out->set_bootstrap_ci_upper(*statistic.bootstrap_ci_upper);
  out->set_interpretation(statistic.interpretation);
}

void ToProto(const scoring::AgreementResult& result, int criterion, const std::string& title,
             v1::CriterionAgreement* out) {
  out->set_criterion(criterion);
  out->set_title(title);
  out->set_subjects(result.subjects);
  out->set_subjects_used(result.subjects_used);
  out->set_raters(result.raters);
  for (scoring::StatisticId id : scoring::kAllStatistics) {
    ToProto(scoring::GetStatistic(result, id), scoring::StatisticKey(id),
            out->add_statistics());
  }
  for (const std::string& warning : result.warnings) out->add_warnings(warning);
}

// Fills agreement per criterion and on the total score.
void AgreementToProto(const scoring::Instrument& instrument, const ReviewAgreement& agreement,
                      google::protobuf::RepeatedPtrField<v1::CriterionAgreement>* criteria,
                      v1::CriterionAgreement* total) {
  for (const auto& [number, result] : agreement.criteria) {
    const scoring::Criterion* criterion = instrument.FindCriterion(number);
    ToProto(result, number, criterion != nullptr ? criterion->name : "", criteria->Add());
  }
  if (agreement.total_score.has_value() && total != nullptr) {
    ToProto(*agreement.total_score, 0, "Total score", total);
  }
}

void ToProto(const db::StudyConsensusState& state, const StudyStatus& status,
             v1::StudyProgress* out) {
  out->set_study_id(state.study.id);
  out->set_title(state.study.title);
  out->set_state(ToProto(status.phase));
  out->set_current_round(status.current_round);
  for (int criterion : status.open_criteria) out->add_open_criteria(criterion);
  out->set_panel_size(static_cast<int32_t>(state.panel.size()));
  out->set_submitted_in_round(status.submitted_in_round);
  out->set_criteria_count(static_cast<int32_t>(status.scope.size()));
  for (int agreed : status.agreed_after_round) out->add_agreed_after_round(agreed);
  out->set_adjudicated_count(static_cast<int32_t>(status.adjudicated.size()));
  for (int criterion : status.awaiting_adjudication) out->add_awaiting_adjudication(criterion);
  out->set_end_reason(ToProto(status.end_reason));
}

void ToProto(const db::StudyConsensusState& state, const StudyStatus& status,
             v1::RoundOutcome* out) {
  const db::ClosedRound& round = state.rounds.back();
  out->set_study_id(state.study.id);
  out->set_round(round.round);
  for (const db::RoundCriterionRecord& criterion : round.criteria) {
    if (criterion.agreed) {
      out->add_agreed(criterion.criterion);
    } else {
      out->add_disputed(criterion.criterion);
    }
  }
  for (int64_t id : round.missing_rater_ids) out->add_missing_rater_ids(id);
  out->set_state(ToProto(status.phase));
  out->set_end_reason(ToProto(status.end_reason));
  out->set_next_round(status.phase == StudyPhase::kInRound ? status.current_round : 0);
}

void ToProto(const db::Answer& answer, v1::Answer* out) {
  out->set_criterion(answer.criterion);
  if (answer.option_ids.empty()) {
    out->set_points(answer.points);
  } else {
    for (const std::string& id : answer.option_ids) out->add_option_ids(id);
  }
  out->set_rationale(answer.rationale);
  out->mutable_evidence()->set_page(answer.evidence.page);
  out->mutable_evidence()->set_section(answer.evidence.section);
  out->mutable_evidence()->set_quote(answer.evidence.quote);
}

// Encodes a study's consensus; the answers only once finalised, the
// adjudicator only for coordinators.
absl::Status ConsensusToProto(const ReviewContext& context, const db::StudyConsensusState& state,
                              v1::StudyConsensus* out) {
  RQS_ASSIGN_OR_RETURN(StudyStatus status,
                       DescribeStudy(*context.instrument, context.access.review, state));
  out->set_study_id(state.study.id);
  out->set_title(state.study.title);
  out->set_study_type(server::ToProto(state.study.study_type));
  out->set_state(ToProto(status.phase));
  out->set_rounds(static_cast<int32_t>(state.rounds.size()));
  if (!state.consensus.has_value()) return absl::OkStatus();
  RQS_ASSIGN_OR_RETURN(StudyConsensusView view, ConsensusOf(*context.instrument,
                                                            context.access.review,
                                                            context.policy, state));
  for (const ConsensusAnswerSource& source : view.answers) {
    v1::ConsensusAnswer* answer = out->add_answers();
    answer->set_criterion(source.answer.criterion);
    if (source.answer.option_ids.has_value()) {
      for (const std::string& id : *source.answer.option_ids) answer->add_option_ids(id);
    }
    answer->set_points(source.points);
    answer->set_source(source.adjudicated ? v1::ANSWER_SOURCE_ADJUDICATED
                                          : v1::ANSWER_SOURCE_AGREED);
    answer->set_round(source.round);
    answer->set_reason(source.reason);
    if (context.access.role == Role::kCoordinator) {
      answer->set_adjudicated_by(source.adjudicated_by);
    }
  }
  server::ToProto(view.report, out->mutable_report());
  server::ToProto(state.consensus->finalised_at, out->mutable_finalise_time());
  return absl::OkStatus();
}

void ToProto(const scoring::Distribution& distribution, v1::ScoreDistribution* out) {
  out->set_mean(distribution.mean);
  out->set_sd(distribution.sd);
  out->set_median(distribution.median);
  out->set_min(distribution.min);
  out->set_max(distribution.max);
}

// The summary over the finalised studies among `studies`, with agreement
// figures for coordinators and observers.
absl::Status SummaryToProto(const ReviewContext& context,
                            const std::vector<db::StudyConsensusState>& all_states,
                            const std::vector<const db::StudyConsensusState*>& studies,
                            v1::GetSummaryResponse* out) {
  out->set_review_name(context.access.review.name);
  out->set_studies(static_cast<int32_t>(studies.size()));
  // The agreement figures need nothing of the consensus reports: they are
  // computed meanwhile, on another core (whole-review reads run one at a
  // time, see server/rpc.h).
  std::future<absl::StatusOr<ReviewAgreement>> agreement;
  if (context.access.role != Role::kRater) {
    agreement = std::async(std::launch::async, [&context, &all_states] {
      scoring::AgreementOptions options;
      options.threads = 1;
      return ComputeReviewAgreement(*context.instrument, context.access.review, all_states,
                                    options);
    });
  }
  std::vector<scoring::ScoreReport> reports;
  for (const db::StudyConsensusState* state : studies) {
    if (!state->consensus.has_value()) continue;
    RQS_ASSIGN_OR_RETURN(
        scoring::ScoreReport report,
        ConsensusReportOf(*context.instrument, context.access.review, context.policy, *state));
    reports.push_back(std::move(report));
  }
  out->set_finalised(static_cast<int32_t>(reports.size()));
  RQS_ASSIGN_OR_RETURN(scoring::ReviewSummary summary,
                       scoring::SummariseReview(*context.instrument, reports));
  ToProto(summary.points, out->mutable_points());
  ToProto(summary.percent, out->mutable_percent());
  for (std::size_t level = 0; level < summary.attained_level_counts.size(); ++level) {
    v1::LevelCount* count = out->add_attained_levels();
    count->set_level(static_cast<int32_t>(level));
    count->set_studies(summary.attained_level_counts[level]);
  }
  for (const scoring::CriterionFulfilmentRow& row : summary.criteria) {
    v1::CriterionFulfilment* wire = out->add_criteria();
    wire->set_criterion(row.criterion);
    wire->set_title(row.title);
    wire->set_level(row.level);
    wire->set_max_points(row.max_points);
    wire->set_fulfilled(row.fulfilled);
    wire->set_fulfilled_percent(row.fulfilled_percent);
    wire->set_mean_points(row.mean_points);
  }
  for (const scoring::LevelComplianceRow& row : summary.levels) {
    v1::LevelCompliance* wire = out->add_levels();
    wire->set_level(row.level);
    wire->set_mean_percent(row.mean_percent);
    wire->set_attained(row.attained);
  }
  if (!agreement.valid()) return absl::OkStatus();  // Raters see no agreement.
  RQS_ASSIGN_OR_RETURN(ReviewAgreement figures, agreement.get());
  AgreementToProto(*context.instrument, figures, out->mutable_agreement(), nullptr);
  if (figures.total_score.has_value()) {
    ToProto(*figures.total_score, 0, "Total score", out->add_agreement());
  }
  for (double share : figures.convergence.consensus_share_by_round) {
    out->add_consensus_share_by_round(share);
  }
  return absl::OkStatus();
}

absl::Status CheckAdjudication(const v1::AdjudicationInput& decision, int index) {
  const std::string at = absl::StrCat("decisions[", index, "].");
  RQS_RETURN_IF_ERROR(CheckCount(at + "option_ids",
                                 static_cast<std::size_t>(decision.option_ids_size()),
                                 kMaxOptionsPerAnswer));
  for (const std::string& id : decision.option_ids()) {
    RQS_RETURN_IF_ERROR(CheckText(at + "option_ids", id, kMaxIdentifierChars));
  }
  if (decision.has_points() && decision.option_ids_size() > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, "give option_ids or points, not both"));
  }
  return CheckRequiredText(at + "reason", decision.reason(), kMaxRationaleChars);
}

}  // namespace

grpc::ServerUnaryReactor* ConsensusServiceImpl::GetPolicy(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request,
                                                          grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(env_, context, request, response,
                    [store](const Caller& caller, const v1::GetPolicyRequest& in,
                            v1::GetPolicyResponse* out) -> absl::Status {
                      RQS_ASSIGN_OR_RETURN(
                          ReviewContext review,
                          LoadReview(*store, caller, in.review_id(),
                                     {Role::kCoordinator, Role::kRater, Role::kObserver}));
                      ToProto(review.policy.policy, out->mutable_policy());
                      out->set_locked(review.policy.locked);
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* ConsensusServiceImpl::SetPolicy(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request,
                                                          grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(env_, context, request, response,
                    [store](const Caller& caller, const v1::SetPolicyRequest& in,
                            v1::SetPolicyResponse* out) -> absl::Status {
                      RQS_ASSIGN_OR_RETURN(
                          ReviewAccess access,
                          AuthorizeReview(*store, caller, in.review_id(), {Role::kCoordinator}));
                      if (!in.has_policy()) {
                        return absl::InvalidArgumentError("policy: required");
                      }
                      RQS_ASSIGN_OR_RETURN(scoring::ConsensusPolicy policy,
                                           FromProto(in.policy()));
                      RQS_ASSIGN_OR_RETURN(
                          db::ReviewPolicy stored,
                          store->SetReviewPolicy(access.review.id, policy, caller.user.id));
                      ToProto(stored.policy, out->mutable_policy());
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* ConsensusServiceImpl::GetProgress(grpc::CallbackServerContext* context,
                                                            const grpc::ByteBuffer* request,
                                                            grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::GetProgressRequest& in,
              v1::GetProgressResponse* out) -> absl::Status {
        RQS_ASSIGN_OR_RETURN(ReviewContext review,
                             LoadReview(*store, caller, in.review_id(),
                                        {Role::kCoordinator, Role::kRater, Role::kObserver}));
        RQS_ASSIGN_OR_RETURN(
            std::vector<db::StudyConsensusState> states,
            store->ListStudyConsensusStates(in.review_id(), db::StateDetail::kStatistics));
        for (const db::StudyConsensusState* state : Visible(review, caller, states)) {
          RQS_ASSIGN_OR_RETURN(StudyStatus status,
                               DescribeStudy(*review.instrument, review.access.review, *state));
          ToProto(*state, status, out->add_studies());
        }
        if (review.access.role == Role::kRater) return absl::OkStatus();
        RQS_ASSIGN_OR_RETURN(
            scoring::ConvergenceReport convergence,
            ComputeReviewConvergence(*review.instrument, review.access.review, states));
        for (double share : convergence.consensus_share_by_round) {
          out->add_consensus_share_by_round(share);
        }
        return absl::OkStatus();
      },
      Workers::kReviewWide);
}

grpc::ServerUnaryReactor* ConsensusServiceImpl::CloseRound(grpc::CallbackServerContext* context,
                                                           const grpc::ByteBuffer* request,
                                                           grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::CloseRoundRequest& in,
              v1::CloseRoundResponse* out) -> absl::Status {
        RQS_ASSIGN_OR_RETURN(ReviewContext review,
                             LoadReview(*store, caller, in.review_id(), {Role::kCoordinator}));
        if (in.round() < 1) return absl::InvalidArgumentError("round: must be >= 1");
        std::vector<int64_t> study_ids;
        if (in.study_id() != 0) {
          RQS_ASSIGN_OR_RETURN(db::Study study,
                               FindVisibleStudy(*store, caller, review.access, in.study_id()));
          study_ids.push_back(study.id);
        }
        const bool one_study = in.study_id() != 0;
        const int64_t closer = caller.user.id;
        // Studies whose round this call closed (the transition may run again
        // if the store retries on a fresh connection; the set stays right).
        std::set<int64_t> closed;
        const db::StudyTransition close =
            [&review, &in, &closed, one_study, closer](
                const db::ReviewPolicy& policy,
                const db::StudyConsensusState& state) -> absl::StatusOr<db::StudyTransitionWrite> {
          if (!one_study) {
            // Closing "every study at round r" leaves alone the studies
            // elsewhere and those nobody has submitted yet.
            RQS_ASSIGN_OR_RETURN(StudyStatus status,
                                 DescribeStudy(*review.instrument, review.access.review, state));
            if (status.phase != StudyPhase::kInRound || status.current_round != in.round() ||
                status.submitted_in_round == 0) {
              return db::StudyTransitionWrite{};
            }
          }
          RQS_ASSIGN_OR_RETURN(
              db::StudyTransitionWrite write,
              CloseStudyRound(*review.instrument, review.access.review, policy, state, in.round(),
                              db::RoundCloseReason::kCoordinator, closer));
          closed.insert(state.study.id);
          return write;
        };
        RQS_ASSIGN_OR_RETURN(std::vector<db::StudyConsensusState> after,
                             store->TransitionStudies(in.review_id(), study_ids, close,
                                                      "CloseRound", caller.user.id));
        for (const db::StudyConsensusState& state : after) {
          if (closed.count(state.study.id) == 0 || state.rounds.empty()) continue;
          RQS_ASSIGN_OR_RETURN(StudyStatus status,
                               DescribeStudy(*review.instrument, review.access.review, state));
          ToProto(state, status, out->add_outcomes());
        }
        if (!one_study && out->outcomes_size() == 0) {
          return absl::FailedPreconditionError(
              absl::StrCat("no study of review ", in.review_id(), " has round ", in.round(),
                           " open with a submission to close"));
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ConsensusServiceImpl::GetFeedback(grpc::CallbackServerContext* context,
                                                            const grpc::ByteBuffer* request,
                                                            grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::GetFeedbackRequest& in,
              v1::GetFeedbackResponse* out) -> absl::Status {
        RQS_ASSIGN_OR_RETURN(ReviewContext review,
                             LoadReview(*store, caller, in.review_id(), {Role::kRater}));
        RQS_ASSIGN_OR_RETURN(db::Study study,
                             FindVisibleStudy(*store, caller, review.access, in.study_id()));
        RQS_ASSIGN_OR_RETURN(db::StudyConsensusState state,
                             store->GetStudyConsensusState(study.id));
        RQS_ASSIGN_OR_RETURN(StudyFeedback feedback,
                             FeedbackForRater(*review.instrument, review.access.review,
                                              review.policy, state, caller.user.id));
        out->set_round(feedback.round);
        const db::Assessment* own_previous = nullptr;
        for (const db::Assessment& assessment : state.submissions) {
          if (assessment.rater_id == caller.user.id && assessment.round == feedback.round - 1) {
            own_previous = &assessment;
          }
        }
        for (const scoring::CriterionFeedback& criterion : feedback.criteria) {
          v1::CriterionFeedback* wire = out->add_criteria();
          wire->set_criterion(criterion.criterion);
          const scoring::Criterion* definition =
              review.instrument->FindCriterion(criterion.criterion);
          if (definition != nullptr) wire->set_title(definition->name);
          wire->set_previous_round(criterion.previous_round);
          for (const auto& [key, count] : criterion.distribution) {
            (*wire->mutable_distribution())[key] = count;
          }
          wire->set_raters_answered(criterion.raters_answered);
          wire->set_own_label(criterion.own_label);
          if (criterion.own_answer_key.has_value()) {
            wire->set_own_answer_key(*criterion.own_answer_key);
            db::Answer own;
            own.criterion = criterion.criterion;
            bool stored = false;
            if (own_previous != nullptr) {
              for (const db::Answer& answer : own_previous->answers) {
                if (answer.criterion != criterion.criterion) continue;
                own = answer;
                stored = true;
              }
            }
            if (!stored && criterion.own_answer.has_value()) {
              // Left unanswered in round 1: the lowest answer, as it was scored.
              const scoring::Answer& lowest = criterion.own_answer->answer;
              own.option_ids = lowest.option_ids.value_or(std::vector<std::string>{});
              own.points = lowest.points.value_or(0);
            }
            ToProto(own, wire->mutable_own_answer());
          }
          for (const scoring::LabelledAnswer& other : criterion.others) {
            v1::LabelledAnswer* labelled = wire->add_others();
            labelled->set_label(other.label);
            labelled->set_answer_key(other.answer_key);
            labelled->set_rationale(other.rationale);
            labelled->set_evidence(other.evidence);
          }
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ConsensusServiceImpl::Adjudicate(grpc::CallbackServerContext* context,
                                                           const grpc::ByteBuffer* request,
                                                           grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::AdjudicateRequest& in,
              v1::AdjudicateResponse* out) -> absl::Status {
        RQS_RETURN_IF_ERROR(CheckCount("decisions", static_cast<std::size_t>(in.decisions_size()),
                                       kMaxAnswers));
        for (int i = 0; i < in.decisions_size(); ++i) {
          RQS_RETURN_IF_ERROR(CheckAdjudication(in.decisions(i), i));
        }
        RQS_ASSIGN_OR_RETURN(ReviewContext review,
                             LoadReview(*store, caller, in.review_id(), {Role::kCoordinator}));
        RQS_ASSIGN_OR_RETURN(db::Study study,
                             FindVisibleStudy(*store, caller, review.access, in.study_id()));
        std::vector<AdjudicationDecision> decisions;
        for (const v1::AdjudicationInput& decision : in.decisions()) {
          AdjudicationDecision one;
          one.answer.criterion = decision.criterion();
          if (decision.has_points()) {
            one.answer.points = decision.points();
          } else {
            one.answer.option_ids =
                std::vector<std::string>(decision.option_ids().begin(), decision.option_ids().end());
          }
          one.reason = decision.reason();
          decisions.push_back(std::move(one));
        }
        const int64_t adjudicator = caller.user.id;
        const db::StudyTransition adjudicate =
            [&review, &decisions, adjudicator](
                const db::ReviewPolicy& policy,
                const db::StudyConsensusState& state) -> absl::StatusOr<db::StudyTransitionWrite> {
          return AdjudicateStudy(*review.instrument, review.access.review, policy, state, decisions,
                                 adjudicator);
        };
        RQS_ASSIGN_OR_RETURN(std::vector<db::StudyConsensusState> after,
                             store->TransitionStudies(in.review_id(), {study.id}, adjudicate,
                                                      "Adjudicate", caller.user.id));
        if (after.size() != 1) return absl::InternalError("adjudication returned no study");
        RQS_ASSIGN_OR_RETURN(StudyStatus status,
                             DescribeStudy(*review.instrument, review.access.review, after[0]));
        out->set_state(ToProto(status.phase));
        for (int criterion : status.awaiting_adjudication) out->add_awaiting_adjudication(criterion);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ConsensusServiceImpl::GetConsensus(grpc::CallbackServerContext* context,
                                                             const grpc::ByteBuffer* request,
                                                             grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::GetConsensusRequest& in,
              v1::GetConsensusResponse* out) -> absl::Status {
        RQS_ASSIGN_OR_RETURN(ReviewContext review,
                             LoadReview(*store, caller, in.review_id(),
                                        {Role::kCoordinator, Role::kRater, Role::kObserver}));
        const bool rater = review.access.role == Role::kRater;
        if (in.study_id() != 0) {
          RQS_ASSIGN_OR_RETURN(db::Study study,
                               FindVisibleStudy(*store, caller, review.access, in.study_id()));
          RQS_ASSIGN_OR_RETURN(db::StudyConsensusState state,
                               store->GetStudyConsensusState(study.id));
          if (rater && !state.consensus.has_value()) {
            return absl::FailedPreconditionError(absl::StrCat(
                "study ", study.id, " has no final consensus yet; it is shown once finalised"));
          }
          return ConsensusToProto(review, state, out->add_studies());
        }
        RQS_ASSIGN_OR_RETURN(
            std::vector<db::StudyConsensusState> states,
            store->ListStudyConsensusStates(in.review_id(), db::StateDetail::kStatistics));
        for (const db::StudyConsensusState* state : Visible(review, caller, states)) {
          if (rater && !state->consensus.has_value()) continue;
          RQS_RETURN_IF_ERROR(ConsensusToProto(review, *state, out->add_studies()));
        }
        return absl::OkStatus();
      },
      Workers::kReviewWide);
}

grpc::ServerUnaryReactor* ConsensusServiceImpl::GetAgreement(grpc::CallbackServerContext* context,
                                                             const grpc::ByteBuffer* request,
                                                             grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::GetAgreementRequest& in,
              v1::GetAgreementResponse* out) -> absl::Status {
        if (in.bootstrap_replicates() < 0 || in.bootstrap_replicates() > kMaxAgreementBootstrap) {
          return absl::InvalidArgumentError(absl::StrCat(
              "bootstrap_replicates must be 0..", kMaxAgreementBootstrap, ", got ",
              in.bootstrap_replicates()));
        }
        RQS_ASSIGN_OR_RETURN(ReviewContext review,
                             LoadReview(*store, caller, in.review_id(),
                                        {Role::kCoordinator, Role::kObserver}));
        RQS_ASSIGN_OR_RETURN(
            std::vector<db::StudyConsensusState> states,
            store->ListStudyConsensusStates(in.review_id(), db::StateDetail::kStatistics));
        scoring::AgreementOptions options;
        options.bootstrap_replicates = in.bootstrap_replicates();
        if (in.seed() != 0) options.seed = in.seed();
        // The worker pool already runs calls in parallel.
        options.threads = 1;
        RQS_ASSIGN_OR_RETURN(ReviewAgreement agreement,
                             ComputeReviewAgreement(*review.instrument, review.access.review,
                                                    states, options));
        out->set_studies(agreement.studies);
        AgreementToProto(*review.instrument, agreement, out->mutable_criteria(),
                         out->mutable_total_score());
        for (double share : agreement.convergence.consensus_share_by_round) {
          out->add_consensus_share_by_round(share);
        }
        if (review.access.role == Role::kCoordinator) {
          for (const scoring::RaterConsensusAgreement& rater : agreement.convergence.raters) {
            v1::RaterAgreement* wire = out->add_raters();
            int64_t id = 0;
            (void)absl::SimpleAtoi(rater.rater, &id);
            wire->set_rater_id(id);
            absl::StatusOr<db::User> user = store->GetUser(id);
            if (user.ok()) wire->set_rater_name(user->name);
            wire->set_matching(rater.matching);
            wire->set_compared(rater.compared);
            wire->set_share(rater.share);
          }
        }
        return absl::OkStatus();
      },
      Workers::kReviewWide);
}

grpc::ServerUnaryReactor* ConsensusServiceImpl::GetSummary(grpc::CallbackServerContext* context,
                                                           const grpc::ByteBuffer* request,
                                                           grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::GetSummaryRequest& in,
              v1::GetSummaryResponse* out) -> absl::Status {
        RQS_ASSIGN_OR_RETURN(ReviewContext review,
                             LoadReview(*store, caller, in.review_id(),
                                        {Role::kCoordinator, Role::kRater, Role::kObserver}));
        RQS_ASSIGN_OR_RETURN(
            std::vector<db::StudyConsensusState> states,
            store->ListStudyConsensusStates(in.review_id(), db::StateDetail::kStatistics));
        return SummaryToProto(review, states, Visible(review, caller, states), out);
      },
      Workers::kReviewWide);
}

grpc::ServerUnaryReactor* ConsensusServiceImpl::Export(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::ExportRequest& in,
              v1::ExportResponse* out) -> absl::Status {
        if (in.format() != v1::EXPORT_FORMAT_LONG_CSV &&
            in.format() != v1::EXPORT_FORMAT_WIDE_CSV && in.format() != v1::EXPORT_FORMAT_JSON) {
          return absl::InvalidArgumentError(
              "format: must be EXPORT_FORMAT_LONG_CSV, EXPORT_FORMAT_WIDE_CSV or "
              "EXPORT_FORMAT_JSON");
        }
        RQS_ASSIGN_OR_RETURN(ReviewContext review,
                             LoadReview(*store, caller, in.review_id(),
                                        {Role::kCoordinator, Role::kRater, Role::kObserver}));
        RQS_ASSIGN_OR_RETURN(std::vector<db::StudyConsensusState> states,
                             store->ListStudyConsensusStates(in.review_id()));
        ExportInput input;
        input.review = review.access.review;
        input.instrument = review.instrument;
        input.policy = review.policy.policy;
        input.role = review.access.role;
        input.caller_id = caller.user.id;
        for (const db::StudyConsensusState* state : Visible(review, caller, states)) {
          ExportStudy study;
          study.state = state;
          RQS_ASSIGN_OR_RETURN(study.status, DescribeStudy(*review.instrument,
                                                           review.access.review, *state));
          if (state->consensus.has_value()) {
            RQS_ASSIGN_OR_RETURN(study.consensus, ConsensusOf(*review.instrument,
                                                              review.access.review,
                                                              review.policy, *state));
          }
          input.studies.push_back(std::move(study));
        }
        if (review.access.role == Role::kCoordinator) {
          RQS_ASSIGN_OR_RETURN(std::vector<db::User> users, store->ListUsers());
          for (const db::User& user : users) input.rater_names[user.id] = user.name;
        } else {
          input.rater_names[caller.user.id] = caller.user.name;
        }
        switch (in.format()) {
          case v1::EXPORT_FORMAT_LONG_CSV:
            out->set_content_type("text/csv; charset=utf-8");
            out->set_content(ExportLongCsv(input));
            break;
          case v1::EXPORT_FORMAT_WIDE_CSV:
            out->set_content_type("text/csv; charset=utf-8");
            out->set_content(ExportWideCsv(input));
            break;
          default:
            out->set_content_type("application/json");
            out->set_content(ExportJson(input));
            break;
        }
        return absl::OkStatus();
      },
      Workers::kReviewWide);
}

}  // namespace rqs::server
