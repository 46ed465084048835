#include "server/export.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace rqs::server {
namespace {

using Role = db::ReviewRole;

std::string StateName(StudyPhase phase) {
  switch (phase) {
    case StudyPhase::kInRound:
      return "IN_ROUND";
    case StudyPhase::kAwaitingAdjudication:
      return "AWAITING_ADJUDICATION";
    case StudyPhase::kFinalised:
      return "FINALISED";
  }
  return "UNSPECIFIED";
}

// Whether the caller may see this rater's own answers.
bool ShowsAnswersOf(const ExportInput& input, int64_t rater_id) {
  switch (input.role) {
    case Role::kCoordinator:
      return true;
    case Role::kRater:
      return rater_id == input.caller_id;
    case Role::kObserver:
      return false;
  }
  return false;
}

// Raters see a study's consensus only once it is final; so do the others
// (there is none before).
bool ShowsStudy(const ExportInput& input, const ExportStudy& study) {
  return input.role != Role::kRater || study.consensus.has_value();
}

std::string RaterName(const ExportInput& input, int64_t rater_id) {
  auto name = input.rater_names.find(rater_id);
  return name != input.rater_names.end() ? name->second : absl::StrCat("user ", rater_id);
}

std::string Number(double value) { return absl::StrFormat("%.4f", value); }

void AppendRow(std::string& out, const std::vector<std::string>& cells) {
  out += absl::StrJoin(cells, ",");
  out += "\n";
}

std::string OptionsCell(const std::vector<std::string>& option_ids) {
  return absl::StrJoin(option_ids, ";");
}

nlohmann::json AnswerJson(const db::Answer& answer) {
  return {{"criterion", answer.criterion},
          {"option_ids", answer.option_ids},
          {"points", answer.points},
          {"rationale", answer.rationale},
          {"evidence",
           {{"page", answer.evidence.page},
            {"section", answer.evidence.section},
            {"quote", answer.evidence.quote}}}};
}

}  // namespace

std::string CsvCell(const std::string& field, bool free_text) {
  std::string value = field;
  if (free_text && !value.empty() &&
      (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' ||
       value[0] == '\t' || value[0] == '\r')) {
    value.insert(0, "'");
  }
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string ExportLongCsv(const ExportInput& input) {
  std::string out;
  AppendRow(out, {"study_id", "external_id", "study_title", "rater", "round", "criterion",
                  "option_ids", "points", "source", "rationale", "evidence_page",
                  "evidence_section", "evidence_quote"});
  for (const ExportStudy& study : input.studies) {
    const db::Study& info = study.state->study;
    const std::vector<std::string> prefix = {absl::StrCat(info.id),
                                             CsvCell(info.external_id, true),
                                             CsvCell(info.title, true)};
    for (const db::Assessment& assessment : study.state->submissions) {
      if (!ShowsAnswersOf(input, assessment.rater_id)) continue;
      for (const db::Answer& answer : assessment.answers) {
        std::vector<std::string> row = prefix;
        row.insert(row.end(),
                   {CsvCell(RaterName(input, assessment.rater_id), true),
                    absl::StrCat(assessment.round), absl::StrCat(answer.criterion),
                    CsvCell(OptionsCell(answer.option_ids), false), absl::StrCat(answer.points),
                    "rater", CsvCell(answer.rationale, true), CsvCell(answer.evidence.page, true),
                    CsvCell(answer.evidence.section, true), CsvCell(answer.evidence.quote, true)});
        AppendRow(out, row);
      }
    }
    if (!study.consensus.has_value()) continue;
    for (const ConsensusAnswerSource& source : study.consensus->answers) {
      std::vector<std::string> row = prefix;
      row.insert(row.end(),
                 {"consensus", source.adjudicated ? "" : absl::StrCat(source.round),
                  absl::StrCat(source.answer.criterion),
                  CsvCell(OptionsCell(source.answer.option_ids.value_or(
                              std::vector<std::string>{})),
                          false),
                  absl::StrCat(source.points), source.adjudicated ? "adjudicated" : "agreed",
                  CsvCell(source.reason, true), "", "", ""});
      AppendRow(out, row);
    }
  }
  return out;
}

std::string ExportWideCsv(const ExportInput& input) {
  std::string out;
  std::vector<std::string> header = {"study_id", "external_id", "study_title",
                                     "study_type", "state",       "rounds"};
  for (const scoring::Criterion& criterion : input.instrument->criteria) {
    header.push_back(absl::StrCat("c", criterion.number));
  }
  header.insert(header.end(), {"total", "max_total", "percent", "attained_rrl"});
  AppendRow(out, header);
  for (const ExportStudy& study : input.studies) {
    if (!ShowsStudy(input, study)) continue;
    const db::Study& info = study.state->study;
    std::vector<std::string> row = {absl::StrCat(info.id),
                                    CsvCell(info.external_id, true),
                                    CsvCell(info.title, true),
                                    std::string(scoring::StudyTypeName(info.study_type)),
                                    StateName(study.status.phase),
                                    absl::StrCat(study.state->rounds.size())};
    std::map<int, int> points;
    if (study.consensus.has_value()) {
      for (const scoring::CriterionScore& score : study.consensus->report.criteria) {
        points[score.criterion] = score.points;
      }
    }
    for (const scoring::Criterion& criterion : input.instrument->criteria) {
      auto found = points.find(criterion.number);
      row.push_back(found != points.end() ? absl::StrCat(found->second) : "");
    }
    if (study.consensus.has_value()) {
      const scoring::ScoreReport& report = study.consensus->report;
      row.insert(row.end(), {absl::StrCat(report.total), absl::StrCat(report.max),
                             Number(report.percent), absl::StrCat(report.attained_level)});
    } else {
      row.insert(row.end(), {"", "", "", ""});
    }
    AppendRow(out, row);
  }
  return out;
}

std::string ExportJson(const ExportInput& input) {
  nlohmann::json document;
  document["review"] = {{"review_id", input.review.id},
                        {"name", input.review.name},
                        {"instrument_id", input.review.instrument_id},
                        {"instrument_version", input.instrument->version},
                        {"target_level", input.review.target_rrl}};
  document["policy"] = {{"agreement_threshold", input.policy.agreement_threshold},
                        {"max_rounds", input.policy.max_rounds},
                        {"stop_when_stable", input.policy.stop_when_stable},
                        {"level_threshold_percent", input.policy.level_threshold_percent},
                        {"share_rationales", input.policy.share_rationales}};
  nlohmann::json studies = nlohmann::json::array();
  for (const ExportStudy& study : input.studies) {
    const db::Study& info = study.state->study;
    nlohmann::json entry = {{"study_id", info.id},
                            {"external_id", info.external_id},
                            {"title", info.title},
                            {"study_type", std::string(scoring::StudyTypeName(info.study_type))},
                            {"state", StateName(study.status.phase)},
                            {"rounds", study.state->rounds.size()}};
    nlohmann::json assessments = nlohmann::json::array();
    for (const db::Assessment& assessment : study.state->submissions) {
      if (!ShowsAnswersOf(input, assessment.rater_id)) continue;
      nlohmann::json answers = nlohmann::json::array();
      for (const db::Answer& answer : assessment.answers) answers.push_back(AnswerJson(answer));
      assessments.push_back({{"rater", RaterName(input, assessment.rater_id)},
                             {"round", assessment.round},
                             {"answers", answers}});
    }
    entry["assessments"] = assessments;
    if (study.consensus.has_value()) {
      const scoring::ScoreReport& report = study.consensus->report;
      nlohmann::json answers = nlohmann::json::array();
      for (const ConsensusAnswerSource& source : study.consensus->answers) {
        answers.push_back(
            {{"criterion", source.answer.criterion},
             {"option_ids", source.answer.option_ids.value_or(std::vector<std::string>{})},
             {"points", source.points},
             {"source", source.adjudicated ? "adjudicated" : "agreed"},
             {"round", source.round},
             {"reason", source.reason}});
      }
      entry["consensus"] = {{"answers", answers},
                            {"total", report.total},
                            {"max_total", report.max},
                            {"percent", report.percent},
                            {"attained_level", report.attained_level}};
    } else {
      entry["consensus"] = nullptr;
    }
    studies.push_back(std::move(entry));
  }
  document["studies"] = std::move(studies);
  // Stored text is valid UTF-8 (checked on the way in); replace rather than
  // throw should that ever not hold.
  return document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace rqs::server
