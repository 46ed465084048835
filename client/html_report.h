// A review's results as one self-contained HTML page.
//
// RenderHtmlReport turns what ConsensusService returns (GetSummary,
// GetConsensus and, for coordinators and observers, GetAgreement) into an
// HTML5 document that opens offline in any browser and can be archived with a
// review: UTF-8, inline CSS, inline SVG charts, no scripts, and no external
// requests of any kind (no URLs in src, href or CSS url(); a
// Content-Security-Policy meta tag forbids loading anything). It holds:
//   - the summary: studies, finalised, total score in points and in percent
//     (mean ± SD, median, range), the distribution of attained readiness
//     levels, the fulfilment of every criterion and the mean compliance per
//     level, with bar charts;
//   - a heatmap of criteria (rows) × finalised studies (columns), coloured by
//     points / max points, grey where a criterion does not apply;
//   - per finalised study, the two panels of the RQS 2.0 paper's Fig. 3:
//     cumulative score by RRL and the percent satisfied per RRL;
//   - if agreement figures are given, the agreement table per criterion, a
//     forest plot of Fleiss' kappa and Gwet's AC1 with their intervals, the
//     ICCs of the total score, convergence per round and each rater's
//     agreement with the consensus;
//   - a table of every study with its state and score.
// Every text from the input (review name, study titles, rater names, ...) is
// HTML-escaped.
//
// Large reviews: the heatmap shrinks its cells to fit about 1,000 pixels (1
// pixel at least, the page scrolls sideways beyond) and above
// kHeatmapDetailedStudies studies merges cells of equal colour and drops the
// per-cell tooltips, so 2,000 studies stay a few hundred kilobytes. The
// per-study charts are drawn for the first kMaxStudyCharts finalised studies
// (by the order of GetConsensus, i.e. study id), with a note saying so; the
// heatmap and the study table always cover every study.
//
// Example (the CLI or the server after the three calls):
//
//   HtmlReportInput input;
//   input.review_name = "Lung CT radiomics";
//   input.generated_at = "2025-03-01T12:00:00Z";
//   input.summary = summary_response;
//   input.consensus = consensus_response;  // GetConsensus with study_id 0
//   if (is_coordinator) input.agreement = agreement_response;
//   WriteFile("report.html", RenderHtmlReport(input));
#ifndef RQS_CLIENT_HTML_REPORT_H_
#define RQS_CLIENT_HTML_REPORT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "rqs/v1/consensus.pb.h"

namespace rqs::client {

// Per-study Fig. 3 charts drawn at most; the rest are summarised by a note.
inline constexpr int kMaxStudyCharts = 48;
// Above this many finalised studies the heatmap merges cells and has no
// per-cell tooltips.
inline constexpr int kHeatmapDetailedStudies = 120;

// Everything the report shows.
struct HtmlReportInput {
  // Shown as the page title; empty falls back to summary.review_name.
  std::string review_name;
  // Caller-supplied text shown as the generation time, e.g. an ISO 8601 time.
  std::string generated_at;
  // GetSummary of the review.
  rqs::v1::GetSummaryResponse summary;
  // GetConsensus of every study (study_id 0); studies that are FINALISED and
  // carry a report are charted, the others are listed in the study table.
  rqs::v1::GetConsensusResponse consensus;
  // GetAgreement; absent for raters. When absent, summary.agreement and
  // summary.consensus_share_by_round are shown if non-empty.
  std::optional<rqs::v1::GetAgreementResponse> agreement;
};

// Returns the report as one HTML5 document (UTF-8). Never fails: missing or
// undefined figures are shown as "–" or explained in a note, and an empty
// review gives a page that says there is nothing finalised yet.
std::string RenderHtmlReport(const HtmlReportInput& input);

// Returns `text` with &, <, >, " and ' replaced by character references, safe
// in HTML text and in quoted attribute values. Example:
//   EscapeHtml("<b> & \"x\"") == "&lt;b&gt; &amp; &quot;x&quot;"
std::string EscapeHtml(absl::string_view text);

}  // namespace rqs::client

#endif  // RQS_CLIENT_HTML_REPORT_H_
