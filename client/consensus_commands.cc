#include "client/consensus_commands.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/agreement_command.h"
#include "client/atomic_file.h"
#include "client/consensus_args.h"
#include "client/feedback_template.h"
#include "client/html_report.h"
#include "client/session.h"
#include "rqs/v1/consensus.grpc.pb.h"
#include "rqs/v1/instrument.grpc.pb.h"
#include "rqs/v1/review.grpc.pb.h"
#include "scoring/agreement.h"

namespace rqs::client {
namespace {

namespace v1 = ::rqs::v1;

// Exports can be large: a long CSV of a big review runs to many megabytes.
constexpr int kExportMaxReceiveBytes = 256 << 20;

std::string YesNo(bool value) { return value ? "yes" : "no"; }

std::string Percent(double share) { return absl::StrFormat("%.1f %%", 100 * share); }

std::string StudyStateName(v1::StudyState state) {
  switch (state) {
    case v1::STUDY_STATE_IN_ROUND:
      return "in round";
    case v1::STUDY_STATE_AWAITING_ADJUDICATION:
      return "awaiting adjudication";
    case v1::STUDY_STATE_FINALISED:
      return "finalised";
    default:
      return "-";
  }
}

std::string EndReasonName(v1::EndReason reason) {
  switch (reason) {
    case v1::END_REASON_ALL_AGREED:
      return "all agreed";
    case v1::END_REASON_MAX_ROUNDS:
      return "max rounds";
    case v1::END_REASON_STABLE:
      return "stable";
    default:
      return "";
  }
}

std::string StateWithReason(v1::StudyState state, v1::EndReason reason) {
  const std::string why = EndReasonName(reason);
  return why.empty() ? StudyStateName(state) : absl::StrCat(StudyStateName(state), " (", why, ")");
}

std::string JoinInts(const google::protobuf::RepeatedField<int32_t>& values) {
  return values.empty() ? "-" : absl::StrJoin(values, ", ");
}

// "Convergence (items agreed): after round 1 62.5 %, after round 2 85.0 %".
void PrintConvergence(Session& session, const google::protobuf::RepeatedField<double>& shares) {
  if (shares.empty()) return;
  std::vector<std::string> parts;
  for (int i = 0; i < shares.size(); ++i) {
    parts.push_back(absl::StrCat("after round ", i + 1, " ", Percent(shares[i])));
  }
  session.out() << "Convergence (items agreed): " << absl::StrJoin(parts, ", ") << "\n";
}

std::string Truncate(const std::string& text, size_t width) {
  if (text.size() <= width) return text;
  // Cut at a UTF-8 character boundary.
  size_t end = width - 3;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "...";
}

// Runs `rqs CMD` with a review-only argument list: parses, connects. Returns
// false (with the exit code set in `code`) on failure.
bool StartReviewCommand(Session& session, const std::vector<std::string>& args,
                        absl::string_view usage, int64_t& review, int& code) {
  absl::StatusOr<int64_t> parsed = ParseReviewOnlyArgs(args, usage);
  if (!parsed.ok()) {
    code = session.BadInput(parsed.status().message());
    return false;
  }
  review = *parsed;
  if (!session.Connect()) {
    code = session.exit_code();
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Agreement figures, shared by `agreement` and `summary`.

const v1::AgreementStatistic* FindStatistic(const v1::CriterionAgreement& agreement,
                                            scoring::StatisticId id) {
  const std::string_view key = scoring::StatisticKey(id);
  for (const v1::AgreementStatistic& statistic : agreement.statistics()) {
    if (statistic.key() == key) return &statistic;
  }
  return nullptr;
}

std::string Number(const v1::AgreementStatistic* statistic) {
  if (statistic == nullptr || !statistic->has_value()) return "-";
  return absl::StrFormat("%.2f", statistic->value());
}

// "0.62 [0.41, 0.83]", with the bootstrap interval when there is one.
std::string WithInterval(const v1::AgreementStatistic* statistic) {
  std::string text = Number(statistic);
  if (statistic == nullptr || !statistic->has_value()) return text;
  if (statistic->has_ci_lower() && statistic->has_ci_upper()) {
    absl::StrAppendFormat(&text, " [%.2f, %.2f]", statistic->ci_lower(), statistic->ci_upper());
  }
  if (statistic->has_bootstrap_ci_lower() && statistic->has_bootstrap_ci_upper()) {
    absl::StrAppendFormat(&text, " boot [%.2f, %.2f]", statistic->bootstrap_ci_lower(),
                          statistic->bootstrap_ci_upper());
  }
  return text;
}

void PrintAgreementTable(Session& session,
                         const google::protobuf::RepeatedPtrField<v1::CriterionAgreement>& rows) {
  Table table({"criterion", "studies", "raters", "% agree", "Fleiss kappa [95% CI]",
               "Gwet AC1 [95% CI]", "alpha ord.", "warnings", "title"});
  for (const v1::CriterionAgreement& row : rows) {
    const v1::AgreementStatistic* percent =
        FindStatistic(row, scoring::StatisticId::kPercentAgreement);
    table.Add({row.criterion() == 0 ? "total" : absl::StrCat(row.criterion()),
               absl::StrCat(row.subjects_used(), "/", row.subjects()), absl::StrCat(row.raters()),
               percent != nullptr && percent->has_value() ? Percent(percent->value()) : "-",
               WithInterval(FindStatistic(row, scoring::StatisticId::kFleissKappa)),
               WithInterval(FindStatistic(row, scoring::StatisticId::kGwetAc1)),
               Number(FindStatistic(row, scoring::StatisticId::kKrippendorffAlphaOrdinal)),
               absl::StrCat(row.warnings_size()), Truncate(row.title(), 40)});
  }
  table.Print(session.out());
}

// "ICC2 0.81 [0.52, 0.95] good; ICC2k 0.93 [0.76, 0.98] excellent".
void PrintTotalScoreIcc(Session& session, const v1::CriterionAgreement& total) {
  std::vector<std::string> parts;
  for (const auto& [id, name] : {std::pair{scoring::StatisticId::kIcc2, "ICC2"},
                                 std::pair{scoring::StatisticId::kIcc2k, "ICC2k"}}) {
    const v1::AgreementStatistic* statistic = FindStatistic(total, id);
    std::string part = absl::StrCat(name, " ", WithInterval(statistic));
    if (statistic != nullptr && !statistic->interpretation().empty()) {
      absl::StrAppend(&part, " ", statistic->interpretation());
    }
    parts.push_back(std::move(part));
  }
  session.out() << "Total score (absolute agreement, " << total.subjects_used() << " studies, "
                << total.raters() << " raters): " << absl::StrJoin(parts, "; ") << "\n";
}

}  // namespace

// ---------------------------------------------------------------------------
// policy

int RunPolicyCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                     CommandIo& io) {
  Session session(options, io, "policy");
  absl::StatusOr<PolicyArgs> parsed = ParsePolicyArgs(args);
  if (!parsed.ok()) return session.BadInput(parsed.status().message());
  if (!session.Connect()) return session.exit_code();
  auto stub = session.Stub<v1::ConsensusService>();
  v1::GetPolicyRequest get_request;
  get_request.set_review_id(parsed->review_id);
  v1::GetPolicyResponse current;
  if (!session.Call(*stub, &v1::ConsensusService::Stub::GetPolicy, get_request, current)) {
    return session.exit_code();
  }
  v1::Policy policy = current.policy();
  bool locked = current.locked();
  if (parsed->set) {
    // The server takes the whole policy: change only the fields given.
    v1::SetPolicyRequest set_request;
    set_request.set_review_id(parsed->review_id);
    *set_request.mutable_policy() = ApplyPolicyChanges(*parsed, current.policy());
    v1::SetPolicyResponse stored;
    if (!session.Call(*stub, &v1::ConsensusService::Stub::SetPolicy, set_request, stored)) {
      return session.exit_code();
    }
    if (session.json()) {
      session.PrintJson(stored);
      return kExitOk;
    }
    policy = stored.policy();
  } else if (session.json()) {
    session.PrintJson(current);
    return kExitOk;
  }
  Table table({"setting", "value"});
  table.Add({"agreement threshold", absl::StrFormat("%g", policy.agreement_threshold())});
  table.Add({"max rounds", absl::StrCat(policy.max_rounds())});
  table.Add({"stop when stable", YesNo(policy.stop_when_stable())});
  table.Add({"level threshold", absl::StrFormat("%g %%", policy.level_threshold_percent())});
  table.Add({"share rationales", YesNo(policy.share_rationales())});
  if (!parsed->set) {
    table.Add({"locked", locked ? "yes (round 1 has opened)" : "no"});
  }
  table.Print(session.out());
  if (parsed->set) session.err() << "policy of review " << parsed->review_id << " updated\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------
// progress

int RunProgressCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                       CommandIo& io) {
  Session session(options, io, "progress");
  int64_t review = 0;
  int code = kExitOk;
  if (!StartReviewCommand(session, args, "progress", review, code)) {
    return code;
  }
  auto stub = session.Stub<v1::ConsensusService>();
  v1::GetProgressRequest request;
  request.set_review_id(review);
  v1::GetProgressResponse response;
  if (!session.Call(*stub, &v1::ConsensusService::Stub::GetProgress, request, response)) {
    return session.exit_code();
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  Table table(
      {"study", "state", "round", "submitted", "agreed after round", "adjudication", "title"});
  std::map<v1::StudyState, int> by_state;
  for (const v1::StudyProgress& study : response.studies()) {
    ++by_state[study.state()];
    std::vector<std::string> agreed;
    for (const int32_t count : study.agreed_after_round()) {
      agreed.push_back(absl::StrCat(count, "/", study.criteria_count()));
    }
    std::string adjudication = "-";
    if (study.awaiting_adjudication_size() > 0) {
      adjudication = absl::StrCat("awaiting ", absl::StrJoin(study.awaiting_adjudication(), ", "));
    } else if (study.adjudicated_count() > 0) {
      adjudication = absl::StrCat(study.adjudicated_count(), " adjudicated");
    }
    table.Add({absl::StrCat(study.study_id()), StateWithReason(study.state(), study.end_reason()),
               absl::StrCat(study.current_round()),
               study.state() == v1::STUDY_STATE_IN_ROUND
                   ? absl::StrCat(study.submitted_in_round(), "/", study.panel_size())
                   : "-",
               agreed.empty() ? "-" : absl::StrJoin(agreed, ", "), adjudication,
               Truncate(study.title(), 50)});
  }
  table.Print(session.out());
  session.out() << response.studies_size() << " studies: " << by_state[v1::STUDY_STATE_IN_ROUND]
                << " in round, " << by_state[v1::STUDY_STATE_AWAITING_ADJUDICATION]
                << " awaiting adjudication, " << by_state[v1::STUDY_STATE_FINALISED]
                << " finalised\n";
  PrintConvergence(session, response.consensus_share_by_round());
  return kExitOk;
}

// ---------------------------------------------------------------------------
// round close

int RunRoundCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                    CommandIo& io) {
  Session session(options, io, "round");
  absl::StatusOr<v1::CloseRoundRequest> request = ParseRoundArgs(args);
  if (!request.ok()) return session.BadInput(request.status().message());
  if (!session.Connect()) return session.exit_code();
  auto stub = session.Stub<v1::ConsensusService>();
  v1::CloseRoundResponse response;
  if (!session.Call(*stub, &v1::ConsensusService::Stub::CloseRound, *request, response)) {
    return session.exit_code();
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  Table table({"study", "round", "agreed", "disputed", "missing raters", "now"});
  for (const v1::RoundOutcome& outcome : response.outcomes()) {
    table.Add({absl::StrCat(outcome.study_id()), absl::StrCat(outcome.round()),
               absl::StrCat(outcome.agreed_size()), JoinInts(outcome.disputed()),
               outcome.missing_rater_ids().empty()
                   ? "-"
                   : absl::StrJoin(outcome.missing_rater_ids(), ", "),
               outcome.next_round() > 0 ? absl::StrCat("round ", outcome.next_round(), " open")
                                        : StateWithReason(outcome.state(), outcome.end_reason())});
  }
  table.Print(session.out());
  session.err() << response.outcomes_size() << " round(s) closed\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------
// feedback

namespace {

// "Methods, p. 4, "quoted text"": the non-empty parts of a rater's evidence,
// as the server writes the other raters' evidence in feedback.
std::string DescribeEvidence(const v1::Evidence& evidence) {
  std::vector<std::string> parts;
  if (!evidence.section().empty()) parts.push_back(evidence.section());
  if (!evidence.page().empty()) parts.push_back(absl::StrCat("p. ", evidence.page()));
  if (!evidence.quote().empty()) parts.push_back(absl::StrCat("\"", evidence.quote(), "\""));
  return absl::StrJoin(parts, ", ");
}

// "option:yes — rationale (evidence)", leaving out what is empty.
std::string DescribeAnswer(const std::string& key, const std::string& rationale,
                           const std::string& evidence) {
  std::string text = key.empty() ? "(no answer)" : key;
  if (!rationale.empty()) absl::StrAppend(&text, " \u2014 ", rationale);
  if (!evidence.empty()) absl::StrAppend(&text, " (", evidence, ")");
  return text;
}

// Reads what the answer-file skeleton needs besides the feedback.
bool LoadTemplateInput(Session& session, int64_t review_id, int64_t study_id,
                       FeedbackTemplateInput& input) {
  auto reviews = session.Stub<v1::ReviewService>();
  v1::GetReviewRequest review_request;
  review_request.set_review_id(review_id);
  v1::GetReviewResponse review;
  if (!session.Call(*reviews, &v1::ReviewService::Stub::GetReview, review_request, review)) {
    return false;
  }
  input.review = review.review();
  if (!FindStudy(session, review_id, study_id, input.study)) return false;
  auto instruments = session.Stub<v1::InstrumentService>();
  v1::GetInstrumentRequest instrument_request;
  instrument_request.set_instrument_id(input.review.instrument_id());
  v1::GetInstrumentResponse instrument;
  if (!session.Call(*instruments, &v1::InstrumentService::Stub::GetInstrument, instrument_request,
                    instrument)) {
    return false;
  }
  input.instrument = instrument.instrument();
  return true;
}

}  // namespace

int RunFeedbackCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                       CommandIo& io) {
  Session session(options, io, "feedback");
  absl::StatusOr<FeedbackArgs> parsed = ParseFeedbackArgs(args);
  if (!parsed.ok()) return session.BadInput(parsed.status().message());
  if (!session.Connect()) return session.exit_code();
  auto stub = session.Stub<v1::ConsensusService>();
  v1::GetFeedbackResponse response;
  if (!session.Call(*stub, &v1::ConsensusService::Stub::GetFeedback, parsed->request, response)) {
    return session.exit_code();
  }
  if (parsed->template_path.has_value()) {
    FeedbackTemplateInput input;
    if (!LoadTemplateInput(session, parsed->request.review_id(), parsed->request.study_id(),
                           input)) {
      return session.exit_code();
    }
    input.feedback = response;
    const std::string text = BuildFeedbackTemplate(input).dump(2) + "\n";
    if (absl::Status written = WriteFileAtomically(*parsed->template_path, text); !written.ok()) {
      session.Fail(written.message());
      return session.exit_code();
    }
    session.err() << "wrote " << *parsed->template_path << ": " << response.criteria_size()
                  << " disputed criteria for round " << response.round()
                  << "; then run: rqs submit " << parsed->request.study_id() << " "
                  << *parsed->template_path << "\n";
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  std::ostream& out = session.out();
  const std::string own_label = response.criteria().empty() ? "" : response.criteria(0).own_label();
  out << "Study " << parsed->request.study_id() << ", round " << response.round() << ": "
      << response.criteria_size() << " disputed criteria to answer again"
      << (own_label.empty() ? "" : absl::StrCat(" (you are ", own_label, ")")) << "\n";
  for (const v1::CriterionFeedback& criterion : response.criteria()) {
    out << "\nCriterion " << criterion.criterion() << ": " << criterion.title() << "\n";
    out << "  " << DescribePreviousRound(criterion) << "\n";
    out << "  You: "
        << (criterion.has_own_answer()
                ? DescribeAnswer(criterion.own_answer_key(), criterion.own_answer().rationale(),
                                 DescribeEvidence(criterion.own_answer().evidence()))
                : "did not submit")
        << "\n";
    for (const v1::LabelledAnswer& other : criterion.others()) {
      out << "  " << other.label() << ": "
          << DescribeAnswer(other.answer_key(), other.rationale(), other.evidence()) << "\n";
    }
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------
// adjudicate

int RunAdjudicateCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                         CommandIo& io) {
  Session session(options, io, "adjudicate");
  absl::StatusOr<v1::AdjudicateRequest> request = ParseAdjudicateArgs(args, io.in);
  if (!request.ok()) return session.BadInput(request.status().message());
  if (!session.Connect()) return session.exit_code();
  auto stub = session.Stub<v1::ConsensusService>();
  v1::AdjudicateResponse response;
  if (!session.Call(*stub, &v1::ConsensusService::Stub::Adjudicate, *request, response)) {
    return session.exit_code();
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  session.out() << "study " << request->study_id() << ": " << request->decisions_size()
                << " decision(s) stored; " << StudyStateName(response.state());
  if (response.awaiting_adjudication_size() > 0) {
    session.out() << ", still awaiting criteria "
                  << absl::StrJoin(response.awaiting_adjudication(), ", ");
  }
  session.out() << "\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------
// consensus

int RunConsensusCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                        CommandIo& io) {
  Session session(options, io, "consensus");
  absl::StatusOr<v1::GetConsensusRequest> request = ParseConsensusArgs(args);
  if (!request.ok()) return session.BadInput(request.status().message());
  if (!session.Connect()) return session.exit_code();
  auto stub = session.Stub<v1::ConsensusService>();
  v1::GetConsensusResponse response;
  if (!session.Call(*stub, &v1::ConsensusService::Stub::GetConsensus, *request, response)) {
    return session.exit_code();
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  if (request->study_id() == 0) {
    Table table({"study", "type", "state", "rounds", "total", "percent", "RRL", "title"});
    for (const v1::StudyConsensus& study : response.studies()) {
      const bool final = study.state() == v1::STUDY_STATE_FINALISED;
      const v1::ScoreReport& report = study.report();
      table.Add({absl::StrCat(study.study_id()), StudyTypeName(study.study_type()),
                 StudyStateName(study.state()), absl::StrCat(study.rounds()),
                 final ? absl::StrCat(report.total(), "/", report.max_total()) : "-",
                 final ? absl::StrFormat("%.1f", report.percent()) : "-",
                 final && report.target_level() > 0 ? absl::StrCat(report.attained_level()) : "-",
                 Truncate(study.title(), 50)});
    }
    table.Print(session.out());
    return kExitOk;
  }
  for (const v1::StudyConsensus& study : response.studies()) {
    session.out() << "Study " << study.study_id() << " (" << StudyTypeName(study.study_type())
                  << "): " << study.title() << "\n"
                  << StudyStateName(study.state()) << " after " << study.rounds() << " round(s)\n";
    if (study.state() != v1::STUDY_STATE_FINALISED) continue;
    PrintReport(session, study.report());
    std::map<int, const v1::CriterionScore*> scores;
    for (const v1::CriterionScore& score : study.report().criteria()) {
      scores[score.criterion()] = &score;
    }
    Table table({"criterion", "answer", "points", "source"});
    for (const v1::ConsensusAnswer& answer : study.answers()) {
      const auto score = scores.find(answer.criterion());
      table.Add({absl::StrCat(answer.criterion()),
                 answer.option_ids().empty() ? "-" : absl::StrJoin(answer.option_ids(), "+"),
                 score == scores.end()
                     ? absl::StrCat(answer.points())
                     : absl::StrCat(answer.points(), "/", score->second->max_points()),
                 answer.source() == v1::ANSWER_SOURCE_ADJUDICATED
                     ? absl::StrCat("adjudicated: ", Truncate(answer.reason(), 70))
                     : absl::StrCat("agreed in round ", answer.round())});
    }
    table.Print(session.out());
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------
// agreement

namespace {

int RunRemoteAgreement(const std::vector<std::string>& args, const GlobalOptions& options,
                       CommandIo& io) {
  Session session(options, io, "agreement");
  absl::StatusOr<v1::GetAgreementRequest> request = ParseRemoteAgreementArgs(args);
  if (!request.ok()) return session.BadInput(request.status().message());
  if (!session.Connect()) return session.exit_code();
  auto stub = session.Stub<v1::ConsensusService>();
  v1::GetAgreementResponse response;
  if (!session.Call(*stub, &v1::ConsensusService::Stub::GetAgreement, *request, response)) {
    return session.exit_code();
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  std::ostream& out = session.out();
  out << "Agreement on round-1 (independent) answers of " << response.studies()
      << " studies; ratings are the points awarded\n";
  PrintAgreementTable(session, response.criteria());
  PrintTotalScoreIcc(session, response.total_score());
  PrintConvergence(session, response.consensus_share_by_round());
  if (response.raters_size() > 0) {
    out << "Agreement of each rater's round-1 answers with the consensus:\n";
    Table table({"rater", "name", "matching", "share"});
    for (const v1::RaterAgreement& rater : response.raters()) {
      table.Add({absl::StrCat(rater.rater_id()), rater.rater_name(),
                 absl::StrCat(rater.matching(), "/", rater.compared()),
                 rater.compared() > 0 ? Percent(rater.share()) : "-"});
    }
    table.Print(out);
  }
  return kExitOk;
}

}  // namespace

int RunAgreementDispatch(const std::vector<std::string>& args, const GlobalOptions& options,
                         CommandIo& io) {
  if (IsRemoteAgreement(args)) return RunRemoteAgreement(args, options, io);
  return RunAgreementCommand(args, io);
}

// ---------------------------------------------------------------------------
// summary

namespace {

std::string Distribution(const v1::ScoreDistribution& d, absl::string_view unit) {
  return absl::StrFormat("mean %.1f \u00b1 %.1f%s, median %.1f, range %.1f to %.1f", d.mean(),
                         d.sd(), unit, d.median(), d.min(), d.max());
}

}  // namespace

int RunSummaryCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                      CommandIo& io) {
  Session session(options, io, "summary");
  int64_t review = 0;
  int code = kExitOk;
  if (!StartReviewCommand(session, args, "summary", review, code)) {
    return code;
  }
  auto stub = session.Stub<v1::ConsensusService>();
  v1::GetSummaryRequest request;
  request.set_review_id(review);
  v1::GetSummaryResponse response;
  if (!session.Call(*stub, &v1::ConsensusService::Stub::GetSummary, request, response)) {
    return session.exit_code();
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  std::ostream& out = session.out();
  out << response.review_name() << "\n"
      << "Studies " << response.studies() << ", finalised " << response.finalised() << "\n";
  if (response.finalised() == 0) {
    out << "No study is finalised yet.\n";
    return kExitOk;
  }
  out << "Consensus score, points:  " << Distribution(response.points(), "") << "\n"
      << "Consensus score, percent: " << Distribution(response.percent(), " %") << "\n";
  if (response.attained_levels_size() > 0) {
    out << "\nAttained RRL\n";
    Table table({"RRL", "studies", "share"});
    for (const v1::LevelCount& level : response.attained_levels()) {
      table.Add({absl::StrCat(level.level()), absl::StrCat(level.studies()),
                 Percent(static_cast<double>(level.studies()) / response.finalised())});
    }
    table.Print(out);
  }
  if (response.criteria_size() > 0) {
    out << "\nFulfilment per criterion\n";
    Table table({"criterion", "RRL", "max", "fulfilled", "%", "mean points", "title"});
    for (const v1::CriterionFulfilment& criterion : response.criteria()) {
      table.Add({absl::StrCat(criterion.criterion()),
                 criterion.level() > 0 ? absl::StrCat(criterion.level()) : "-",
                 absl::StrCat(criterion.max_points()), absl::StrCat(criterion.fulfilled()),
                 absl::StrFormat("%.1f", criterion.fulfilled_percent()),
                 absl::StrFormat("%.2f", criterion.mean_points()),
                 Truncate(criterion.title(), 50)});
    }
    table.Print(out);
  }
  if (response.levels_size() > 0) {
    out << "\nCompliance per RRL\n";
    Table table({"RRL", "mean compliance", "attained"});
    for (const v1::LevelCompliance& level : response.levels()) {
      table.Add({absl::StrCat(level.level()), absl::StrFormat("%.1f %%", level.mean_percent()),
                 absl::StrCat(level.attained())});
    }
    table.Print(out);
  }
  if (response.agreement_size() > 0) {
    out << "\nAgreement on round-1 answers\n";
    PrintAgreementTable(session, response.agreement());
    for (const v1::CriterionAgreement& row : response.agreement()) {
      if (row.criterion() == 0) PrintTotalScoreIcc(session, row);
    }
  }
  PrintConvergence(session, response.consensus_share_by_round());
  return kExitOk;
}

// ---------------------------------------------------------------------------
// export

int RunExportCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                     CommandIo& io) {
  Session session(options, io, "export");
  absl::StatusOr<ExportArgs> parsed = ParseExportArgs(args);
  if (!parsed.ok()) return session.BadInput(parsed.status().message());
  ChannelSettings settings;
  settings.max_receive_message_bytes = kExportMaxReceiveBytes;
  if (!session.Connect(settings)) return session.exit_code();
  auto stub = session.Stub<v1::ConsensusService>();
  v1::ExportResponse response;
  if (!session.Call(*stub, &v1::ConsensusService::Stub::Export, parsed->request, response)) {
    return session.exit_code();
  }
  const std::string& content = response.content();
  if (!parsed->output.has_value()) {
    session.out().write(content.data(), static_cast<std::streamsize>(content.size()));
    session.out().flush();
    return kExitOk;
  }
  if (absl::Status written = WriteFileAtomically(*parsed->output, content); !written.ok()) {
    session.Fail(written.message());
    return session.exit_code();
  }
  session.err() << "wrote " << *parsed->output << " (" << content.size() << " bytes, "
                << response.content_type() << ")\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------
// report

int RunReportCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                     CommandIo& io) {
  Session session(options, io, "report");
  absl::StatusOr<ReportArgs> parsed = ParseReportArgs(args);
  if (!parsed.ok()) return session.BadInput(parsed.status().message());
  ChannelSettings settings;
  settings.max_receive_message_bytes = kExportMaxReceiveBytes;
  if (!session.Connect(settings)) return session.exit_code();
  auto stub = session.Stub<v1::ConsensusService>();
  HtmlReportInput input;
  v1::GetSummaryRequest summary_request;
  summary_request.set_review_id(parsed->review_id);
  if (!session.Call(*stub, &v1::ConsensusService::Stub::GetSummary, summary_request,
                    input.summary)) {
    return session.exit_code();
  }
  v1::GetConsensusRequest consensus_request;
  consensus_request.set_review_id(parsed->review_id);  // study 0: every visible study.
  if (!session.Call(*stub, &v1::ConsensusService::Stub::GetConsensus, consensus_request,
                    input.consensus)) {
    return session.exit_code();
  }
  // Agreement is for coordinators and observers; a rater's report goes
  // without it, as their summary does.
  v1::GetAgreementRequest agreement_request;
  agreement_request.set_review_id(parsed->review_id);
  v1::GetAgreementResponse agreement;
  const grpc::Status status = session.TryCall(*stub, &v1::ConsensusService::Stub::GetAgreement,
                                              agreement_request, agreement);
  if (status.ok()) {
    input.agreement = std::move(agreement);
  } else if (status.error_code() != grpc::StatusCode::PERMISSION_DENIED) {
    session.Fail(DescribeRpcError(status, options));
    return session.exit_code();
  }
  input.review_name = input.summary.review_name();
  input.generated_at = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  const std::string html = RenderHtmlReport(input);
  if (absl::Status written = WriteFileAtomically(parsed->html_path, html); !written.ok()) {
    session.Fail(written.message());
    return session.exit_code();
  }
  session.err() << "wrote " << parsed->html_path << " (" << html.size() << " bytes"
                << (input.agreement.has_value() ? "" : ", without agreement figures") << ")\n";
  return kExitOk;
}

}  // namespace rqs::client
