#include "tests/unit/client/html_report_fixture.h"

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "scoring/instrument.h"
#include "scoring/review_summary.h"
#include "scoring/score.h"

namespace rqs::client::testing {
namespace {

namespace v1 = ::rqs::v1;
using scoring::Answer;
using scoring::StudyType;

struct StudySpec {
  std::string title;
  StudyType type = StudyType::kHandcrafted;
  std::vector<Answer> answers;
  bool finalised = true;
};

Answer Points(int criterion, int points) { return Answer{criterion, std::nullopt, points}; }

std::vector<Answer> FullMarksUpTo(StudyType type, int up_to) {
  std::vector<Answer> answers;
  for (const scoring::Criterion& criterion : scoring::Rqs2().criteria) {
    if (criterion.level <= up_to && criterion.AppliesTo(type)) {
      answers.push_back(Points(criterion.number, criterion.MaxPoints()));
    }
  }
  return answers;
}

v1::StudyType ToProto(StudyType type) {
  switch (type) {
    case StudyType::kHandcrafted:
      return v1::STUDY_TYPE_HANDCRAFTED;
    case StudyType::kDeepLearning:
      return v1::STUDY_TYPE_DEEP_LEARNING;
    case StudyType::kHybrid:
      return v1::STUDY_TYPE_HYBRID;
  }
  return v1::STUDY_TYPE_UNSPECIFIED;
}

void ToProto(const scoring::ScoreReport& in, v1::ScoreReport* out) {
  out->set_instrument_id(in.instrument_id);
  out->set_instrument_version(in.instrument_version);
  out->set_study_type(ToProto(in.study_type));
  out->set_target_level(in.target_level);
  out->set_level_threshold_percent(in.level_threshold_percent);
  out->set_total(in.total);
  out->set_min_total(in.min);
  out->set_max_total(in.max);
  out->set_percent(in.percent);
  out->set_attained_level(in.attained_level);
  for (const scoring::LevelScore& level : in.levels) {
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
  for (const scoring::CriterionScore& score : in.criteria) {
    v1::CriterionScore* wire = out->add_criteria();
    wire->set_criterion(score.criterion);
    wire->set_level(score.level);
    wire->set_answered(score.answered);
    for (const std::string& id : score.option_ids) wire->add_option_ids(id);
    wire->set_points(score.points);
    wire->set_max_points(score.max);
  }
}

void ToProto(const scoring::Distribution& in, v1::ScoreDistribution* out) {
  out->set_mean(in.mean);
  out->set_sd(in.sd);
  out->set_median(in.median);
  out->set_min(in.min);
  out->set_max(in.max);
}

HtmlReportInput Assemble(const scoring::Instrument& instrument, std::string review_name,
                         const std::vector<StudySpec>& specs) {
  HtmlReportInput input;
  input.review_name = std::move(review_name);
  input.generated_at = "2025-03-01T12:00:00Z";
  std::vector<scoring::ScoreReport> reports;
  for (size_t i = 0; i < specs.size(); ++i) {
    const StudySpec& spec = specs[i];
    v1::StudyConsensus* study = input.consensus.add_studies();
    study->set_study_id(static_cast<int64_t>(i) + 1);
    study->set_title(spec.title);
    study->set_study_type(ToProto(spec.type));
    if (!spec.finalised) {
      study->set_state(v1::STUDY_STATE_IN_ROUND);
      study->set_rounds(2);
      continue;
    }
    study->set_state(v1::STUDY_STATE_FINALISED);
    study->set_rounds(1);
    scoring::ScoreRequest request;
    request.study_type = spec.type;
    request.answers = spec.answers;
    absl::StatusOr<scoring::ScoreReport> report = scoring::ScoreStudy(instrument, request);
    if (!report.ok()) std::abort();  // A broken fixture, not a test failure.
    ToProto(*report, study->mutable_report());
    reports.push_back(*std::move(report));
  }

  absl::StatusOr<scoring::ReviewSummary> summary = scoring::SummariseReview(instrument, reports);
  if (!summary.ok()) std::abort();
  v1::GetSummaryResponse& wire = input.summary;
  wire.set_review_name(input.review_name);
  wire.set_studies(static_cast<int32_t>(specs.size()));
  wire.set_finalised(summary->studies);
  ToProto(summary->points, wire.mutable_points());
  ToProto(summary->percent, wire.mutable_percent());
  for (size_t level = 0; level < summary->attained_level_counts.size(); ++level) {
    v1::LevelCount* count = wire.add_attained_levels();
    count->set_level(static_cast<int32_t>(level));
    count->set_studies(summary->attained_level_counts[level]);
  }
  for (const scoring::CriterionFulfilmentRow& row : summary->criteria) {
    v1::CriterionFulfilment* out = wire.add_criteria();
    out->set_criterion(row.criterion);
    out->set_title(row.title);
    out->set_level(row.level);
    out->set_max_points(row.max_points);
    out->set_fulfilled(row.fulfilled);
    out->set_fulfilled_percent(row.fulfilled_percent);
    out->set_mean_points(row.mean_points);
  }
  for (const scoring::LevelComplianceRow& row : summary->levels) {
    v1::LevelCompliance* out = wire.add_levels();
    out->set_level(row.level);
    out->set_mean_percent(row.mean_percent);
    out->set_attained(row.attained);
  }
  return input;
}

v1::AgreementStatistic* AddStatistic(v1::CriterionAgreement* criterion, const std::string& key,
                                     std::optional<double> value, double lower, double upper,
                                     const std::string& band) {
  v1::AgreementStatistic* s = criterion->add_statistics();
  s->set_key(key);
  if (value.has_value()) {
    s->set_value(*value);
    s->set_ci_lower(lower);
    s->set_ci_upper(upper);
    s->set_interpretation(band);
  }
  return s;
}

v1::GetAgreementResponse Agreement() {
  v1::GetAgreementResponse agreement;
  agreement.set_studies(4);
  for (const scoring::Criterion& criterion : scoring::Rqs2().criteria) {
    v1::CriterionAgreement* c = agreement.add_criteria();
    c->set_criterion(criterion.number);
    c->set_title(criterion.name);
    c->set_subjects(4);
    c->set_subjects_used(4);
    c->set_raters(3);
    const bool defined = criterion.number != 42;
    AddStatistic(c, "percent_agreement", 0.75, 0, 0, "");
    AddStatistic(c, "fleiss_kappa", defined ? std::optional<double>(0.62) : std::nullopt, 0.41,
                 0.83, "substantial");
    AddStatistic(c, "gwet_ac1", defined ? std::optional<double>(0.71) : std::nullopt, 0.55, 0.87,
                 "substantial");
    AddStatistic(c, "krippendorff_alpha_ordinal", 0.58, 0, 0, "moderate");
    c->add_warnings("fewer than 30 subjects");
  }
  v1::CriterionAgreement* total = agreement.mutable_total_score();
  total->set_title("Total score");
  AddStatistic(total, "icc2", 0.78, 0.61, 0.89, "good");
  AddStatistic(total, "icc2k", 0.91, 0.82, 0.96, "excellent");
  for (double share : {0.6, 0.85, 1.0}) agreement.add_consensus_share_by_round(share);
  v1::RaterAgreement* ann = agreement.add_raters();
  ann->set_rater_id(7);
  ann->set_rater_name("Ann & Bob");
  ann->set_matching(150);
  ann->set_compared(168);
  ann->set_share(150.0 / 168);
  v1::RaterAgreement* cleo = agreement.add_raters();
  cleo->set_rater_id(8);
  cleo->set_rater_name("Cleo");
  cleo->set_matching(160);
  cleo->set_compared(168);
  cleo->set_share(160.0 / 168);
  return agreement;
}

}  // namespace

HtmlReportInput SmallReviewInput(bool with_agreement) {
  std::vector<Answer> s2 = FullMarksUpTo(StudyType::kDeepLearning, 1);
  s2.push_back(Answer{14, std::vector<std::string>{"yes"}, std::nullopt});
  const std::vector<StudySpec> specs = {
      {"Lung CT radiomics", StudyType::kHandcrafted, FullMarksUpTo(StudyType::kHandcrafted, 2)},
      {"Deep learning for EGFR", StudyType::kDeepLearning, s2},
      {kHostileTitle, StudyType::kDeepLearning, {}},
      {"Liver MRI texture", StudyType::kHandcrafted, {Points(2, 1), Points(6, 1)}},
      {"Still in round 2", StudyType::kHandcrafted, {}, false}};
  HtmlReportInput input = Assemble(scoring::Rqs2(), "Lung <b>cancer</b> & radiomics", specs);
  if (with_agreement) input.agreement = Agreement();
  return input;
}

HtmlReportInput LargeReviewInput(int studies) {
  std::vector<StudySpec> specs;
  for (int i = 0; i < studies; ++i) {
    StudySpec spec;
    spec.title = absl::StrCat("Generated study ", i + 1);
    spec.type = i % 2 == 0 ? StudyType::kHandcrafted : StudyType::kDeepLearning;
    for (const scoring::Criterion& criterion : scoring::Rqs2().criteria) {
      if (!criterion.AppliesTo(spec.type)) continue;
      // Earlier levels are met more often, as in real reviews.
      if ((criterion.number * 7 + i * 3) % 10 < 10 - criterion.level) {
        spec.answers.push_back(Points(criterion.number, criterion.MaxPoints()));
      }
    }
    specs.push_back(std::move(spec));
  }
  return Assemble(scoring::Rqs2(), "Generated review", specs);
}

HtmlReportInput Rqs1ReviewInput() {
  std::vector<Answer> best;
  for (const scoring::Criterion& criterion : scoring::Rqs1().criteria) {
    best.push_back(Points(criterion.number, criterion.MaxPoints()));
  }
  return Assemble(scoring::Rqs1(), "RQS 1.0 review",
                  {{"Nothing reported", StudyType::kHandcrafted, {}},
                   {"Everything reported", StudyType::kHandcrafted, best}});
}

}  // namespace rqs::client::testing
