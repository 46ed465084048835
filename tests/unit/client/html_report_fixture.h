// Fixed inputs for the HTML report tests (unit and headless-browser): real
// score reports from scoring::ScoreStudy, the summary from
// scoring::SummariseReview, and hand-written agreement figures.
#ifndef RQS_TESTS_UNIT_CLIENT_HTML_REPORT_FIXTURE_H_
#define RQS_TESTS_UNIT_CLIENT_HTML_REPORT_FIXTURE_H_

#include "client/html_report.h"

namespace rqs::client::testing {

// The title of study 3, to check escaping.
inline constexpr char kHostileTitle[] = "<script>alert(\"x\")</script> & Co's study";

// Five RQS 2.0 studies, ids 1..5:
//   1 HCR "Lung CT radiomics": full marks at RRL1-2 -> 12/56, attained RRL2;
//   2 DLR: full RRL1 + criterion 14 -> 9/52, attained RRL1;
//   3 DLR kHostileTitle: nothing -> 0/52;
//   4 HCR: criteria 2 and 6 -> 2/56;
//   5 HCR: in round 2 (no report).
// Summary points mean 5.75, SD sqrt(32.25) = 5.68, median 5.5, range 0-12.
// Agreement (when `with_agreement`): every criterion with Fleiss' kappa
// 0.62 [0.41, 0.83] and Gwet's AC1 0.71 [0.55, 0.87], except criterion 42
// whose kappa and AC1 are undefined; total score ICC2 0.78 [0.61, 0.89];
// convergence 60 %, 85 %, 100 %; raters "Ann & Bob" and "Cleo".
HtmlReportInput SmallReviewInput(bool with_agreement);

// `studies` generated RQS 2.0 studies (alternately HCR and DLR, varied
// answers), all finalised, without agreement.
HtmlReportInput LargeReviewInput(int studies);

// Two finalised RQS 1.0 studies (no readiness levels, negative points).
HtmlReportInput Rqs1ReviewInput();

}  // namespace rqs::client::testing

#endif  // RQS_TESTS_UNIT_CLIENT_HTML_REPORT_FIXTURE_H_
