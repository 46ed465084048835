#include "client/html_report.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/client/html_report_fixture.h"

namespace rqs::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// Tags that must open and close in pairs.
void ExpectBalanced(const std::string& html) {
  for (const char* tag : {"svg", "table", "figure", "p", "h2", "h3"}) {
    EXPECT_EQ(Count(html, absl::StrCat("<", tag, ">")) + Count(html, absl::StrCat("<", tag, " ")),
              Count(html, absl::StrCat("</", tag, ">")))
        << tag;
  }
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html, ::testing::EndsWith("</html>\n"));
}

void ExpectNoExternalReferences(const std::string& html) {
  for (const char* forbidden : {"http://", "https://", "src=", "href=", "url(", "<script", "<link",
                                "@import", "@font-face", "xmlns", "<img", "<iframe"}) {
    EXPECT_THAT(html, Not(HasSubstr(forbidden))) << forbidden;
  }
  EXPECT_THAT(html, HasSubstr("default-src 'none'"));
}

TEST(EscapeHtmlTest, ReplacesTheFiveSpecialCharacters) {
  EXPECT_EQ(EscapeHtml("<b> & \"x\" 'y'"), "&lt;b&gt; &amp; &quot;x&quot; &#39;y&#39;");
  EXPECT_EQ(EscapeHtml("Ünïcode – ok"), "Ünïcode – ok");
  EXPECT_EQ(EscapeHtml(""), "");
}

TEST(RenderHtmlReportTest, EscapesEveryUserText) {
  const std::string html = RenderHtmlReport(testing::SmallReviewInput(true));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<b>cancer")));
  // The study title in the table, the heatmap tooltip and the chart caption.
  const std::string escaped =
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co&#39;s study";
  EXPECT_GE(Count(html, escaped), 3u);
  EXPECT_THAT(html, HasSubstr("<title>RQS review report: Lung &lt;b&gt;cancer&lt;/b&gt; &amp; "
                              "radiomics</title>"));
  EXPECT_THAT(html, HasSubstr("<td>Ann &amp; Bob</td>"));
  EXPECT_THAT(html, HasSubstr("Generated 2025-03-01T12:00:00Z"));
  ExpectBalanced(html);
}

TEST(RenderHtmlReportTest, MakesNoExternalReferences) {
  ExpectNoExternalReferences(RenderHtmlReport(testing::SmallReviewInput(true)));
  ExpectNoExternalReferences(RenderHtmlReport(testing::LargeReviewInput(30)));
  ExpectNoExternalReferences(RenderHtmlReport(HtmlReportInput{}));
}

TEST(RenderHtmlReportTest, ShowsTheSummaryFigures) {
  const std::string html = RenderHtmlReport(testing::SmallReviewInput(false));
  EXPECT_THAT(html, HasSubstr("<th>Studies</th><td class=\"n\" colspan=\"3\">5</td>"));
  EXPECT_THAT(html, HasSubstr("<th>Finalised</th><td class=\"n\" colspan=\"3\">4</td>"));
  // Points {12, 9, 0, 2}: mean 5.75 -> "5.8", SD sqrt(32.25) = 5.68 -> "5.7",
  // median (2 + 9) / 2 = 5.5, range 0-12.
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">5.8 \xC2\xB1 5.7</td><td class=\"n\">5.5</td>"
                              "<td class=\"n\">0.0 \xE2\x80\x93 12.0</td>"));
  // Percent {21.43, 17.31, 0, 3.57}: mean 10.58 -> "10.6 %", median
  // (3.57 + 17.31) / 2 = 10.44 -> "10.4 %", max 21.4 %.
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">10.6 % \xC2\xB1 "));
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">10.4 %</td><td class=\"n\">0.0 % \xE2\x80\x93 "
                              "21.4 %</td>"));
  // Attained: none 2, RRL1 1, RRL2 1, RRL3..9 0.
  EXPECT_THAT(html, HasSubstr("<tr><th>Studies</th><td class=\"n\">2</td><td class=\"n\">1</td>"
                              "<td class=\"n\">1</td><td class=\"n\">0</td>"));
  // Mean compliance: RRL1 (100 + 100 + 0 + 14.29) / 4 = 53.6 %, attained by 2;
  // RRL2 (100 + 0 + 0 + 20) / 4 = 30.0 %; RRL3 (66.67 / 4) = 16.7 %.
  EXPECT_THAT(html,
              HasSubstr("<tr><td>RRL1</td><td class=\"n\">53.6 %</td><td class=\"n\">2</td>"));
  EXPECT_THAT(html,
              HasSubstr("<tr><td>RRL2</td><td class=\"n\">30.0 %</td><td class=\"n\">1</td>"));
  EXPECT_THAT(html,
              HasSubstr("<tr><td>RRL3</td><td class=\"n\">16.7 %</td><td class=\"n\">0</td>"));
  // Criterion 6 (HCR-only) met by both HCR studies; criterion 14 by one of four.
  EXPECT_THAT(html, HasSubstr("<td>Feature robustness</td><td class=\"n\">2</td><td "
                              "class=\"n\">1</td><td class=\"n\">2</td>"));
  EXPECT_THAT(html, HasSubstr("100.0 %</td><td class=\"n\">1.00</td>"));
  EXPECT_THAT(html, HasSubstr("25.0 %</td><td class=\"n\">0.50</td>"));
  // The study table: study 1 12/56 = 21.4 %, attained RRL2; study 5 in round.
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">12</td><td class=\"n\">56</td><td class=\"n\">21.4 "
                              "%</td><td class=\"n\">2</td>"));
  EXPECT_THAT(html, HasSubstr("<td>Still in round 2</td><td>HCR</td><td>in round</td>"));
}

TEST(RenderHtmlReportTest, DrawsTheCharts) {
  const std::string html = RenderHtmlReport(testing::SmallReviewInput(true));
  // Per finalised study one Fig. 3 chart (4), not for the study in round.
  EXPECT_EQ(Count(html, "<figure>"), 4u);
  EXPECT_THAT(html, HasSubstr("12/56 points (21.4 %) \xC2\xB7 RRL2 attained"));
  EXPECT_THAT(html, HasSubstr("RRL1-5: 12 of 34 points (35.3 %)"));  // Study 1, cumulative.
  // The heatmap has a tooltip per cell: 4 studies x 42 criteria.
  EXPECT_EQ(Count(html, "\nCriterion "), 4u * 42u);
  EXPECT_THAT(html, HasSubstr("Criterion 6: not applicable"));  // DLR studies.
  EXPECT_THAT(html, HasSubstr("Criterion 14: 2 of 2 points"));
  // Summary bar charts, legend, heatmap, 4 studies, forest plot.
  EXPECT_EQ(Count(html, "<svg "), 2u + 1u + 1u + 4u + 1u);
}

TEST(RenderHtmlReportTest, ShowsAgreementWhenGiven) {
  const std::string html = RenderHtmlReport(testing::SmallReviewInput(true));
  EXPECT_THAT(html, HasSubstr("Inter-rater agreement"));
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">75.0</td><td class=\"n\">0.62 [0.41, 0.83]</td>"
                              "<td class=\"n\">0.71 [0.55, 0.87]</td><td class=\"n\">0.58</td>"));
  EXPECT_THAT(html, HasSubstr("ICC2 (single rater)</td><td class=\"n\">0.78 [0.61, 0.89]</td>"));
  EXPECT_THAT(html, HasSubstr("ICC2k (mean of k)</td><td class=\"n\">0.91 [0.82, 0.96]</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">2</td><td class=\"n\">85.0 %</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">150</td><td class=\"n\">168</td>"
                              "<td class=\"n\">89.3 %</td>"));
  // Criterion 42's undefined kappa and AC1 are left out of the plot, with a note.
  EXPECT_THAT(html, HasSubstr("Fleiss' \xCE\xBA for criteria 42; Gwet's AC1 for criteria 42."));
  EXPECT_EQ(Count(html, "<circle"), 41u);
  // The warning every criterion carries is said once.
  EXPECT_EQ(Count(html, "fewer than 30 subjects"), 1u);
  EXPECT_THAT(html, HasSubstr("Every criterion: fewer than 30 subjects"));
}

TEST(RenderHtmlReportTest, WorksWithoutAgreement) {
  const std::string html = RenderHtmlReport(testing::SmallReviewInput(false));
  EXPECT_THAT(html, Not(HasSubstr("Inter-rater agreement")));
  EXPECT_THAT(html, Not(HasSubstr("<circle")));
  EXPECT_THAT(html, HasSubstr("Criteria \xC3\x97 studies"));
  ExpectBalanced(html);
}

TEST(RenderHtmlReportTest, FallsBackToTheSummaryAgreement) {
  HtmlReportInput input = testing::SmallReviewInput(false);
  rqs::v1::CriterionAgreement* c = input.summary.add_agreement();
  c->set_criterion(3);
  c->set_title("Image protocol quality");
  rqs::v1::AgreementStatistic* kappa = c->add_statistics();
  kappa->set_key("fleiss_kappa");
  kappa->set_value(0.4);
  rqs::v1::CriterionAgreement* total = input.summary.add_agreement();
  total->set_criterion(0);
  total->set_title("Total score");
  rqs::v1::AgreementStatistic* icc = total->add_statistics();
  icc->set_key("icc2");
  icc->set_value(0.5);
  input.summary.add_consensus_share_by_round(0.7);
  const std::string html = RenderHtmlReport(input);
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">0.40</td>"));
  EXPECT_THAT(html, HasSubstr("ICC2 (single rater)</td><td class=\"n\">0.50</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">1</td><td class=\"n\">70.0 %</td>"));
  EXPECT_THAT(html, Not(HasSubstr("Raters against the consensus")));
}

TEST(RenderHtmlReportTest, EmptyReview) {
  HtmlReportInput input;
  input.review_name = "Empty";
  input.summary.set_review_name("Empty");
  for (int level = 1; level <= 9; ++level) input.summary.add_levels()->set_level(level);
  const std::string html = RenderHtmlReport(input);
  EXPECT_THAT(html, HasSubstr("No study is finalised yet"));
  EXPECT_THAT(html, HasSubstr("No finalised study to show."));
  EXPECT_THAT(html, HasSubstr("No studies."));
  EXPECT_THAT(html, HasSubstr("<tr><td>RRL9</td><td class=\"n\">\xE2\x80\x93</td>"));
  EXPECT_THAT(html, Not(HasSubstr("<figure>")));
  ExpectBalanced(html);
  // Nothing at all still gives a page.
  ExpectBalanced(RenderHtmlReport(HtmlReportInput{}));
}

TEST(RenderHtmlReportTest, InstrumentWithoutLevels) {
  const std::string html = RenderHtmlReport(testing::Rqs1ReviewInput());
  EXPECT_THAT(html, HasSubstr("The instrument has no readiness levels"));
  EXPECT_THAT(html, Not(HasSubstr("<figure>")));
  // Points {-8, 36}: mean 14, range -8 to 36; negative points are red cells.
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">14.0 \xC2\xB1 "));
  EXPECT_THAT(html, HasSubstr("-8.0 \xE2\x80\x93 36.0"));
  EXPECT_THAT(html, HasSubstr("Criterion 12: -5 of"));
  ExpectBalanced(html);
}

TEST(RenderHtmlReportTest, ScalesToTwoThousandStudies) {
  const std::string html = RenderHtmlReport(testing::LargeReviewInput(2000));
  EXPECT_EQ(Count(html, "<figure>"), static_cast<size_t>(kMaxStudyCharts));
  EXPECT_THAT(html, HasSubstr(absl::StrCat("Showing the first ", kMaxStudyCharts,
                                           " of 2000 finalised studies")));
  EXPECT_THAT(html, HasSubstr("Cells of equal colour are merged"));
  EXPECT_EQ(Count(html, "\nCriterion "), 0u);  // No per-cell tooltips.
  EXPECT_EQ(Count(html, "<td>Generated study "), 2000u);
  EXPECT_LT(html.size(), 3u * 1024 * 1024) << html.size();
  ExpectBalanced(html);
  ExpectNoExternalReferences(html);
}

}  // namespace
}  // namespace rqs::client
