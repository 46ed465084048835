#include "server/convert.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"

namespace rqs::server {

void ToProto(absl::Time time, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(time);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
}

v1::StudyType ToProto(scoring::StudyType type) {
  switch (type) {
    case scoring::StudyType::kHandcrafted:
      return v1::STUDY_TYPE_HANDCRAFTED;
    case scoring::StudyType::kDeepLearning:
      return v1::STUDY_TYPE_DEEP_LEARNING;
    case scoring::StudyType::kHybrid:
      return v1::STUDY_TYPE_HYBRID;
  }
  return v1::STUDY_TYPE_UNSPECIFIED;
}

absl::StatusOr<scoring::StudyType> FromProto(v1::StudyType type, absl::string_view field) {
  switch (type) {
    case v1::STUDY_TYPE_HANDCRAFTED:
      return scoring::StudyType::kHandcrafted;
    case v1::STUDY_TYPE_DEEP_LEARNING:
      return scoring::StudyType::kDeepLearning;
    case v1::STUDY_TYPE_HYBRID:
      return scoring::StudyType::kHybrid;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          field, " must be STUDY_TYPE_HANDCRAFTED, STUDY_TYPE_DEEP_LEARNING or STUDY_TYPE_HYBRID"));
  }
}

v1::Role ToProto(db::ReviewRole role) {
  switch (role) {
    case db::ReviewRole::kCoordinator:
      return v1::ROLE_COORDINATOR;
    case db::ReviewRole::kRater:
      return v1::ROLE_RATER;
    case db::ReviewRole::kObserver:
      return v1::ROLE_OBSERVER;
  }
  return v1::ROLE_UNSPECIFIED;
}

absl::StatusOr<db::ReviewRole> FromProto(v1::Role role, absl::string_view field) {
  switch (role) {
    case v1::ROLE_COORDINATOR:
      return db::ReviewRole::kCoordinator;
    case v1::ROLE_RATER:
      return db::ReviewRole::kRater;
    case v1::ROLE_OBSERVER:
      return db::ReviewRole::kObserver;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field, " must be ROLE_COORDINATOR, ROLE_RATER or ROLE_OBSERVER"));
  }
}

namespace {

v1::Applicability ToProto(scoring::Applicability applicability) {
  switch (applicability) {
    case scoring::Applicability::kBoth:
      return v1::APPLICABILITY_BOTH;
    case scoring::Applicability::kHandcraftedOnly:
      return v1::APPLICABILITY_HANDCRAFTED_ONLY;
    case scoring::Applicability::kDeepLearningOnly:
      return v1::APPLICABILITY_DEEP_LEARNING_ONLY;
  }
  return v1::APPLICABILITY_UNSPECIFIED;
}

v1::OptionKind ToProto(scoring::OptionKind kind) {
  switch (kind) {
    case scoring::OptionKind::kExclusive:
      return v1::OPTION_KIND_EXCLUSIVE;
    case scoring::OptionKind::kAdditive:
      return v1::OPTION_KIND_ADDITIVE;
  }
  return v1::OPTION_KIND_UNSPECIFIED;
}

}  // namespace

void ToProto(const scoring::Instrument& instrument, v1::InstrumentSummary* out) {
  out->set_id(instrument.id);
  out->set_name(instrument.name);
  out->set_version(instrument.version);
  out->set_citation(instrument.citation);
  out->set_level_count(instrument.level_count);
  out->set_criterion_count(static_cast<int32_t>(instrument.criteria.size()));
}

void ToProto(const scoring::Instrument& instrument, v1::Instrument* out) {
  ToProto(instrument, out->mutable_summary());
  for (const scoring::Criterion& criterion : instrument.criteria) {
    v1::Criterion* wire = out->add_criteria();
    wire->set_number(criterion.number);
    wire->set_name(criterion.name);
    wire->set_level(criterion.level);
    wire->set_applies_to(ToProto(criterion.applies_to));
    wire->set_kind(ToProto(criterion.kind));
    for (const scoring::Option& option : criterion.options) {
      v1::CriterionOption* wire_option = wire->add_options();
      wire_option->set_id(option.id);
      wire_option->set_label(option.label);
      wire_option->set_points(option.points);
    }
    wire->set_description(criterion.description);
    wire->set_min_points(criterion.MinPoints());
    wire->set_max_points(criterion.MaxPoints());
    for (int points : criterion.PossiblePoints()) wire->add_possible_points(points);
  }
}

void ToProto(const db::User& user, v1::User* out) {
  out->set_user_id(user.id);
  out->set_name(user.name);
  out->set_is_admin(user.is_admin);
  ToProto(user.created_at, out->mutable_create_time());
}

void ToProto(const db::ApiToken& token, v1::Token* out) {
  out->set_token_id(token.id);
  out->set_user_id(token.user_id);
  out->set_label(token.label);
  ToProto(token.created_at, out->mutable_create_time());
  if (token.revoked_at.has_value()) ToProto(*token.revoked_at, out->mutable_revoke_time());
  if (token.expires_at.has_value()) ToProto(*token.expires_at, out->mutable_expire_time());
}

void ToProto(const db::Review& review, db::ReviewRole caller_role, v1::Review* out) {
  out->set_review_id(review.id);
  out->set_name(review.name);
  out->set_instrument_id(review.instrument_id);
  out->set_target_level(review.target_rrl);
  out->set_status(review.status == db::ReviewStatus::kOpen ? v1::REVIEW_STATUS_OPEN
                                                           : v1::REVIEW_STATUS_CLOSED);
  out->set_created_by(review.created_by);
  ToProto(review.created_at, out->mutable_create_time());
  out->set_caller_role(ToProto(caller_role));
}

void ToProto(const db::Study& study, v1::Study* out) {
  out->set_study_id(study.id);
  out->set_review_id(study.review_id);
  out->set_title(study.title);
  out->set_authors(study.authors);
  out->set_year(study.year);
  out->set_doi(study.doi);
  out->set_study_type(ToProto(study.study_type));
  out->set_external_id(study.external_id);
  out->set_notes(study.notes);
  ToProto(study.created_at, out->mutable_create_time());
}

void ToProto(const db::Assignment& assignment, v1::Assignment* out) {
  out->set_study_id(assignment.study_id);
  out->set_rater_id(assignment.rater_id);
}

void ToProto(const scoring::ScoreReport& report, v1::ScoreReport* out) {
  out->set_instrument_id(report.instrument_id);
  out->set_instrument_version(report.instrument_version);
  out->set_study_type(ToProto(report.study_type));
  out->set_target_level(report.target_level);
  out->set_level_threshold_percent(report.level_threshold_percent);
  out->set_total(report.total);
  out->set_min_total(report.min);
  out->set_max_total(report.max);
  out->set_percent(report.percent);
  out->set_attained_level(report.attained_level);
  for (const scoring::LevelScore& level : report.levels) {
    v1::LevelScore* wire = out->add_levels();
    wire->set_level(level.level);
    wire->set_points(level.points);
    wire->set_max_points(level.max);
    wire->set_percent(level.percent);
    wire->set_cumulative_points(level.cumulative_points);
    wire->set_cumulative_max_points(level.cumulative_max);
    wire->set_cumulative_percent(level.cumulative_percent);
    wire->set_attained(level.attained);
  }
  for (const scoring::CriterionScore& criterion : report.criteria) {
    v1::CriterionScore* wire = out->add_criteria();
    wire->set_criterion(criterion.criterion);
    wire->set_level(criterion.level);
    wire->set_answered(criterion.answered);
    for (const std::string& id : criterion.option_ids) wire->add_option_ids(id);
    wire->set_points(criterion.points);
    wire->set_max_points(criterion.max);
  }
}

absl::StatusOr<scoring::ScoreReport> ScoreAnswers(const db::Review& review, const db::Study& study,
                                                  std::vector<scoring::Answer> answers) {
  absl::StatusOr<const scoring::Instrument*> instrument =
      scoring::FindInstrument(review.instrument_id);
  if (!instrument.ok()) {
    // CreateReview only stores known ids, so this is a server bug, not bad input.
    return absl::InternalError(instrument.status().message());
  }
  scoring::ScoreRequest request;
  request.study_type = study.study_type;
  if (review.target_rrl > 0) request.target_level = review.target_rrl;
  request.answers = std::move(answers);
  return scoring::ScoreStudy(**instrument, request);
}

v1::AssessmentState StateOf(const db::Assessment& assessment) {
  return assessment.status == db::AssessmentStatus::kSubmitted ? v1::ASSESSMENT_STATE_SUBMITTED
                                                               : v1::ASSESSMENT_STATE_DRAFT;
}

void ToProto(const db::Assessment& assessment, const scoring::ScoreReport& report,
             v1::Assessment* out) {
  out->set_assessment_id(assessment.id);
  out->set_review_id(assessment.review_id);
  out->set_study_id(assessment.study_id);
  out->set_rater_id(assessment.rater_id);
  out->set_round(assessment.round);
  out->set_state(StateOf(assessment));
  out->set_instrument_id(assessment.instrument_id);
  out->set_instrument_version(assessment.instrument_version);
  out->set_idempotency_key(assessment.idempotency_key);
  for (const db::Answer& answer : assessment.answers) {
    v1::Answer* wire = out->add_answers();
    wire->set_criterion(answer.criterion);
    for (const std::string& id : answer.option_ids) wire->add_option_ids(id);
    if (answer.option_ids.empty()) wire->set_points(answer.points);
    wire->set_rationale(answer.rationale);
    wire->mutable_evidence()->set_page(answer.evidence.page);
    wire->mutable_evidence()->set_section(answer.evidence.section);
    wire->mutable_evidence()->set_quote(answer.evidence.quote);
  }
  ToProto(report, out->mutable_report());
  ToProto(assessment.created_at, out->mutable_create_time());
  ToProto(assessment.updated_at, out->mutable_update_time());
  if (assessment.submitted_at.has_value()) {
    ToProto(*assessment.submitted_at, out->mutable_submit_time());
  }
}

std::vector<scoring::Answer> ToScoringAnswers(
    const google::protobuf::RepeatedPtrField<v1::Answer>& answers) {
  std::vector<scoring::Answer> result;
  result.reserve(static_cast<std::size_t>(answers.size()));
  for (const v1::Answer& wire : answers) {
    scoring::Answer answer;
    answer.criterion = wire.criterion();
    if (wire.has_points()) {
      answer.points = wire.points();
      // Both set is an error the engine reports with its own message.
      if (wire.option_ids_size() > 0) {
        answer.option_ids.emplace(wire.option_ids().begin(), wire.option_ids().end());
      }
    } else {
      answer.option_ids.emplace(wire.option_ids().begin(), wire.option_ids().end());
    }
    result.push_back(std::move(answer));
  }
  return result;
}

void AssignScoringAnswer(const db::Answer& stored, scoring::Answer& answer) {
  answer.criterion = stored.criterion;
  if (stored.option_ids.empty()) {
    answer.option_ids.reset();
    answer.points = stored.points;
  } else {
    answer.points.reset();
    if (answer.option_ids.has_value()) {
      *answer.option_ids = stored.option_ids;
    } else {
      answer.option_ids = stored.option_ids;
    }
  }
}

std::vector<scoring::Answer> ToScoringAnswers(const std::vector<db::Answer>& answers) {
  std::vector<scoring::Answer> result(answers.size());
  for (std::size_t i = 0; i < answers.size(); ++i) AssignScoringAnswer(answers[i], result[i]);
  return result;
}

std::vector<db::Answer> ToDbAnswers(const google::protobuf::RepeatedPtrField<v1::Answer>& answers,
                                    const scoring::ScoreReport& report) {
  std::map<int, int> points_by_criterion;
  for (const scoring::CriterionScore& score : report.criteria) {
    points_by_criterion[score.criterion] = score.points;
  }
  std::vector<db::Answer> result;
  result.reserve(static_cast<std::size_t>(answers.size()));
  for (const v1::Answer& wire : answers) {
    db::Answer answer;
    answer.criterion = wire.criterion();
    if (!wire.has_points()) {
      answer.option_ids.assign(wire.option_ids().begin(), wire.option_ids().end());
    }
    if (auto it = points_by_criterion.find(wire.criterion()); it != points_by_criterion.end()) {
      answer.points = it->second;
    }
    answer.rationale = wire.rationale();
    answer.evidence.page = wire.evidence().page();
    answer.evidence.section = wire.evidence().section();
    answer.evidence.quote = wire.evidence().quote();
    result.push_back(std::move(answer));
  }
  return result;
}

}  // namespace rqs::server
