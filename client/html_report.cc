#include "client/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace rqs::client {
namespace {

namespace v1 = ::rqs::v1;

constexpr absl::string_view kDash = "\xE2\x80\x93";  // "–", for a figure that is not defined.

// Everything is in one <style>: the Content-Security-Policy allows inline
// styles and nothing else, so the page cannot load or run anything.
constexpr absl::string_view kStyle = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:24px auto;max-width:1240px;padding:0 16px;color:#1f2933;background:#fff;line-height:1.4}
h1{font-size:1.6em;margin-bottom:4px}h2{font-size:1.25em;margin-top:32px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:1.05em;margin:20px 0 6px}
.meta{color:#52606d;margin-top:0}.note{color:#52606d;font-size:.9em}
table{border-collapse:collapse;margin:8px 0 16px;font-size:.9em}
th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.bar{display:inline-block;height:9px;background:#2b6cb0;vertical-align:middle;margin-right:6px}
.scroll{overflow-x:auto;max-width:100%}
.charts,.row{display:flex;flex-wrap:wrap;gap:16px}.row{gap:32px;align-items:flex-start}
figure{margin:0;border:1px solid #d0d7de;border-radius:4px;padding:6px}
figcaption{font-size:.82em;max-width:440px;overflow-wrap:anywhere}
svg text{font-family:inherit}
)css";

// ---------------------------------------------------------------------------
// Formatting

std::string Num(double value, int digits) {
  if (!std::isfinite(value)) return std::string(kDash);
  std::string text = absl::StrFormat("%.*f", digits, value);
  // "-0.0" reads like a negative score; print the zero it is.
  if (text[0] == '-' && text.find_first_not_of("-0.") == std::string::npos) text.erase(0, 1);
  return text;
}

// Truncates to at most `max_bytes` bytes of UTF-8 without splitting a
// character, adding "…" when something was cut.
std::string Shorten(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return absl::StrCat(text.substr(0, end), "\xE2\x80\xA6");
}

absl::string_view StudyTypeLabel(v1::StudyType type) {
  switch (type) {
    case v1::STUDY_TYPE_HANDCRAFTED:
      return "HCR";
    case v1::STUDY_TYPE_DEEP_LEARNING:
      return "DLR";
    case v1::STUDY_TYPE_HYBRID:
      return "HYBRID";
    default:
      return kDash;
  }
}

absl::string_view StudyStateLabel(v1::StudyState state) {
  switch (state) {
    case v1::STUDY_STATE_IN_ROUND:
      return "in round";
    case v1::STUDY_STATE_AWAITING_ADJUDICATION:
      return "awaiting adjudication";
    case v1::STUDY_STATE_FINALISED:
      return "finalised";
    default:
      return kDash;
  }
}

bool IsCharted(const v1::StudyConsensus& study) {
  return study.state() == v1::STUDY_STATE_FINALISED && study.has_report();
}

// ---------------------------------------------------------------------------
// Colours of the heatmap: points / max points in 11 steps from pale to dark
// blue, grey where a criterion does not apply, red for negative points (RQS
// 1.0).

constexpr int kSteps = 10;
constexpr int kNotApplicable = kSteps + 1;
constexpr int kNegative = kSteps + 2;

std::string StepColour(int step) {
  if (step == kNotApplicable) return "#a0a7b0";
  if (step == kNegative) return "#c53030";
  const double t = static_cast<double>(step) / kSteps;
  const auto mix = [t](int from, int to) {
    return static_cast<int>(std::lround(from + (to - from) * t));
  };
  return absl::StrFormat("#%02x%02x%02x", mix(0xfd, 0x08), mix(0xf3, 0x45), mix(0xe1, 0x94));
}

int StepOf(int points, int max_points) {
  if (points < 0) return kNegative;
  if (max_points <= 0) return 0;
  const double ratio = std::min(1.0, static_cast<double>(points) / max_points);
  return static_cast<int>(std::lround(ratio * kSteps));
}

// ---------------------------------------------------------------------------
// Small SVG helpers. Inline <svg> in HTML5 needs no xmlns attribute.

void OpenSvg(std::string& out, int width, int height, absl::string_view label) {
  absl::StrAppend(&out, "<svg width=\"", width, "\" height=\"", height, "\" viewBox=\"0 0 ", width,
                  " ", height, "\" role=\"img\" aria-label=\"", EscapeHtml(label), "\"><title>",
                  EscapeHtml(label), "</title>");
}

void SvgText(std::string& out, double x, double y, absl::string_view text,
             absl::string_view anchor = "start", int size = 11,
             absl::string_view fill = "#1f2933") {
  absl::StrAppend(&out, "<text x=\"", Num(x, 1), "\" y=\"", Num(y, 1), "\" font-size=\"", size,
                  "\" text-anchor=\"", anchor, "\" fill=\"", fill, "\">", EscapeHtml(text),
                  "</text>");
}

void SvgRect(std::string& out, double x, double y, double w, double h, absl::string_view fill,
             absl::string_view tooltip = "") {
  absl::StrAppend(&out, "<rect x=\"", Num(x, 1), "\" y=\"", Num(y, 1), "\" width=\"",
                  Num(std::max(w, 0.0), 1), "\" height=\"", Num(std::max(h, 0.0), 1), "\" fill=\"",
                  fill, "\"");
  if (tooltip.empty()) {
    out += "/>";
  } else {
    absl::StrAppend(&out, "><title>", EscapeHtml(tooltip), "</title></rect>");
  }
}

void SvgLine(std::string& out, double x1, double y1, double x2, double y2, absl::string_view stroke,
             absl::string_view extra = "") {
  absl::StrAppend(&out, "<line x1=\"", Num(x1, 1), "\" y1=\"", Num(y1, 1), "\" x2=\"", Num(x2, 1),
                  "\" y2=\"", Num(y2, 1), "\" stroke=\"", stroke, "\"", extra, "/>");
}

// A vertical bar chart of `values` (one bar per label) on 0..y_max.
void BarChart(std::string& out, absl::string_view label, const std::vector<std::string>& labels,
              const std::vector<double>& values, double y_max, int value_digits,
              absl::string_view unit) {
  const int bar_w = 36, gap = 10, left = 40, top = 16, plot_h = 150;
  const int width = left + static_cast<int>(labels.size()) * (bar_w + gap) + 10;
  const int height = top + plot_h + 34;
  OpenSvg(out, width, height, label);
  const double scale = y_max > 0 ? plot_h / y_max : 0;
  SvgLine(out, left, top + plot_h, width - 6, top + plot_h, "#52606d");
  SvgText(out, left - 4, top + 4, Num(y_max, 0), "end", 10, "#52606d");
  SvgText(out, left - 4, top + plot_h, "0", "end", 10, "#52606d");
  for (size_t i = 0; i < labels.size(); ++i) {
    const double x = left + static_cast<double>(i) * (bar_w + gap) + gap / 2.0;
    const double h = std::max(0.0, values[i]) * scale;
    const std::string value_text = absl::StrCat(Num(values[i], value_digits), unit);
    SvgRect(out, x, top + plot_h - h, bar_w, h, "#2b6cb0",
            absl::StrCat(labels[i], ": ", value_text));
    SvgText(out, x + bar_w / 2.0, top + plot_h - h - 3, value_text, "middle", 10);
    SvgText(out, x + bar_w / 2.0, top + plot_h + 14, labels[i], "middle", 11);
  }
  out += "</svg>";
}

// ---------------------------------------------------------------------------
// Sections

void Summary(std::string& out, const v1::GetSummaryResponse& summary) {
  out += "<h2 id=\"summary\">Summary</h2>\n";
  const bool any = summary.finalised() > 0;
  const auto distribution_row = [&](absl::string_view name, const v1::ScoreDistribution& d,
                                    int digits, absl::string_view unit) {
    absl::StrAppend(&out, "<tr><th>", name, "</th>");
    if (!any) {
      absl::StrAppend(&out, "<td class=\"n\">", kDash, "</td><td class=\"n\">", kDash,
                      "</td><td class=\"n\">", kDash, "</td></tr>\n");
      return;
    }
    absl::StrAppend(&out, "<td class=\"n\">", Num(d.mean(), digits), unit, " \xC2\xB1 ",
                    Num(d.sd(), digits), unit, "</td><td class=\"n\">", Num(d.median(), digits),
                    unit, "</td><td class=\"n\">", Num(d.min(), digits), unit, " \xE2\x80\x93 ",
                    Num(d.max(), digits), unit, "</td></tr>\n");
  };
  absl::StrAppend(
      &out, "<table class=\"summary\"><tr><th>Studies</th><td class=\"n\" colspan=\"3\">",
      summary.studies(), "</td></tr>\n<tr><th>Finalised</th><td class=\"n\" colspan=\"3\">",
      summary.finalised(),
      "</td></tr>\n<tr><th>Total score over finalised studies</th><th>Mean \xC2\xB1 "
      "SD</th><th>Median</th><th>Range</th></tr>\n");
  distribution_row("Points", summary.points(), 1, "");
  distribution_row("Percent of the study's maximum", summary.percent(), 1, " %");
  out += "</table>\n";
  if (!any)
    out += "<p class=\"note\">No study is finalised yet: there are no scores to summarise.</p>\n";

  // Attained readiness levels.
  if (summary.attained_levels_size() > 0) {
    out += "<h3>Attained readiness level</h3>\n<table><tr><th>Attained RRL</th>";
    for (const v1::LevelCount& count : summary.attained_levels()) {
      absl::StrAppend(&out, "<th>",
                      count.level() == 0 ? std::string("none") : absl::StrCat("RRL", count.level()),
                      "</th>");
    }
    out += "</tr><tr><th>Studies</th>";
    for (const v1::LevelCount& count : summary.attained_levels()) {
      absl::StrAppend(&out, "<td class=\"n\">", count.studies(), "</td>");
    }
    out += "</tr></table>\n";
    if (any) {
      std::vector<std::string> labels;
      std::vector<double> values;
      double top = 1;
      for (const v1::LevelCount& count : summary.attained_levels()) {
        labels.push_back(count.level() == 0 ? "none" : absl::StrCat("RRL", count.level()));
        values.push_back(count.studies());
        top = std::max(top, static_cast<double>(count.studies()));
      }
      out += "<div class=\"scroll\">";
      BarChart(out, "Studies by attained readiness level", labels, values, top, 0, "");
      out += "</div>\n";
    }
  }

  // Mean compliance per level.
  if (summary.levels_size() > 0) {
    out +=
        "<h3>Mean compliance per readiness level</h3>\n<div class=\"row\"><table><tr><th>RRL</th>"
        "<th>Mean compliance</th><th>Studies that attained it</th></tr>\n";
    std::vector<std::string> labels;
    std::vector<double> values;
    for (const v1::LevelCompliance& level : summary.levels()) {
      absl::StrAppend(&out, "<tr><td>RRL", level.level(), "</td><td class=\"n\">",
                      any ? absl::StrCat(Num(level.mean_percent(), 1), " %") : std::string(kDash),
                      "</td><td class=\"n\">", level.attained(), "</td></tr>\n");
      labels.push_back(absl::StrCat("RRL", level.level()));
      values.push_back(level.mean_percent());
    }
    out += "</table>\n";
    if (any) {
      out += "<div class=\"scroll\">";
      BarChart(out, "Mean compliance per readiness level (%)", labels, values, 100, 0, "");
      out += "</div>";
    }
    out += "</div>\n";
  }

  // Fulfilment of every criterion.
  if (summary.criteria_size() > 0) {
    out +=
        "<h3>Fulfilment per criterion</h3>\n<p class=\"note\">Fulfilled: more than 0 points, "
        "over the finalised studies the criterion applies to.</p>\n<table><tr><th>#</th>"
        "<th>Criterion</th><th>RRL</th><th>Max points</th><th>Fulfilled</th>"
        "<th>Fulfilled %</th><th>Mean points</th></tr>\n";
    for (const v1::CriterionFulfilment& row : summary.criteria()) {
      const double pct = std::clamp(row.fulfilled_percent(), 0.0, 100.0);
      absl::StrAppend(
          &out, "<tr><td class=\"n\">", row.criterion(), "</td><td>", EscapeHtml(row.title()),
          "</td><td class=\"n\">", row.level() > 0 ? absl::StrCat(row.level()) : std::string(kDash),
          "</td><td class=\"n\">", row.max_points(), "</td><td class=\"n\">", row.fulfilled(),
          "</td><td class=\"n\"><span class=\"bar\" style=\"width:", Num(pct * 0.8, 1),
          "px\"></span>", Num(row.fulfilled_percent(), 1), " %</td><td class=\"n\">",
          Num(row.mean_points(), 2), "</td></tr>\n");
    }
    out += "</table>\n";
  }
}

// One heatmap row: a criterion.
struct HeatmapRow {
  int criterion = 0;
  int level = 0;
  std::string title;
};

std::vector<HeatmapRow> HeatmapRows(const v1::GetSummaryResponse& summary,
                                    const std::vector<const v1::StudyConsensus*>& studies) {
  std::vector<HeatmapRow> rows;
  for (const v1::CriterionFulfilment& c : summary.criteria()) {
    rows.push_back({c.criterion(), c.level(), c.title()});
  }
  if (!rows.empty()) return rows;
  // No summary rows (e.g. a hand-built input): take the criteria the reports score.
  absl::flat_hash_map<int, int> level_of;
  for (const v1::StudyConsensus* study : studies) {
    for (const v1::CriterionScore& score : study->report().criteria()) {
      level_of[score.criterion()] = score.level();
    }
  }
  for (const auto& [criterion, level] : level_of) {
    rows.push_back({criterion, level, absl::StrCat("Criterion ", criterion)});
  }
  std::sort(rows.begin(), rows.end(),
            [](const HeatmapRow& a, const HeatmapRow& b) { return a.criterion < b.criterion; });
  return rows;
}

void Heatmap(std::string& out, const v1::GetSummaryResponse& summary,
             const std::vector<const v1::StudyConsensus*>& studies) {
  out += "<h2 id=\"heatmap\">Criteria \xC3\x97 studies</h2>\n";
  const std::vector<HeatmapRow> rows = HeatmapRows(summary, studies);
  if (studies.empty() || rows.empty()) {
    out += "<p class=\"note\">No finalised study to show.</p>\n";
    return;
  }
  const int n = static_cast<int>(studies.size());
  const int cell_w = std::clamp(960 / n, 1, 18);
  const int cell_h = 14, label_w = 250;
  const bool detailed = n <= kHeatmapDetailedStudies;
  const bool column_labels = detailed && cell_w >= 12;
  const int top = column_labels ? 44 : 18;
  const int width = label_w + n * cell_w + 12;
  const int height = top + static_cast<int>(rows.size()) * cell_h + 8;

  absl::StrAppend(&out, "<p class=\"note\">Rows: criteria; columns: the ", n,
                  " finalised studies in study-id order. Colour: points / max points.",
                  detailed ? " Hover over a cell for the study and its points."
                           : " Cells of equal colour are merged; see the study table for titles.",
                  "</p>\n");
  // Legend.
  out += "<div>";
  OpenSvg(out, 560, 22, "Heatmap colour legend");
  for (int step = 0; step <= kSteps; ++step) {
    SvgRect(out, 40 + step * 16, 4, 16, 12, StepColour(step));
  }
  SvgText(out, 36, 14, "0 %", "end", 10);
  SvgText(out, 40 + (kSteps + 1) * 16 + 4, 14, "100 % of max points", "start", 10);
  SvgRect(out, 330, 4, 16, 12, StepColour(kNotApplicable));
  SvgText(out, 350, 14, "not applicable", "start", 10);
  SvgRect(out, 440, 4, 16, 12, StepColour(kNegative));
  SvgText(out, 460, 14, "negative points", "start", 10);
  out += "</svg></div>\n<div class=\"scroll\">";

  OpenSvg(out, width, height, "Heatmap of criteria by finalised studies");
  absl::flat_hash_map<int, size_t> row_of;
  for (size_t r = 0; r < rows.size(); ++r) {
    row_of[rows[r].criterion] = r;
    const double y = top + static_cast<double>(r) * cell_h;
    const std::string label = rows[r].level > 0
                                  ? absl::StrCat("RRL", rows[r].level, " \xC2\xB7 ",
                                                 rows[r].criterion, ". ", rows[r].title)
                                  : absl::StrCat(rows[r].criterion, ". ", rows[r].title);
    SvgText(out, label_w - 6, y + cell_h - 3, Shorten(label, 40), "end", 10);
    if (r > 0 && rows[r].level != rows[r - 1].level) {
      SvgLine(out, label_w - 240, y, width - 4, y, "#52606d", " stroke-width=\"0.6\"");
    }
  }
  if (!column_labels) SvgText(out, label_w, 12, "studies \xE2\x86\x92", "start", 10, "#52606d");

  // cells[s][r]: the colour step of study s at row r.
  std::vector<std::vector<int>> cells(studies.size(),
                                      std::vector<int>(rows.size(), kNotApplicable));
  std::vector<std::vector<const v1::CriterionScore*>> scores(
      studies.size(), std::vector<const v1::CriterionScore*>(rows.size(), nullptr));
  for (size_t s = 0; s < studies.size(); ++s) {
    for (const v1::CriterionScore& score : studies[s]->report().criteria()) {
      const auto it = row_of.find(score.criterion());
      if (it == row_of.end()) continue;
      cells[s][it->second] = StepOf(score.points(), score.max_points());
      scores[s][it->second] = &score;
    }
  }

  if (detailed) {
    for (size_t s = 0; s < studies.size(); ++s) {
      const double x = label_w + static_cast<double>(s) * cell_w;
      if (column_labels) {
        absl::StrAppend(&out, "<text x=\"", Num(x + cell_w - 3, 1), "\" y=\"", top - 4,
                        "\" font-size=\"9\" transform=\"rotate(-90 ", Num(x + cell_w - 3, 1), " ",
                        top - 4, ")\">", studies[s]->study_id(), "</text>");
      }
      for (size_t r = 0; r < rows.size(); ++r) {
        const v1::CriterionScore* score = scores[s][r];
        const std::string tip = absl::StrCat(
            "Study ", studies[s]->study_id(), ": ", studies[s]->title(), "\nCriterion ",
            rows[r].criterion, ": ",
            score == nullptr
                ? std::string("not applicable")
                : absl::StrCat(score->points(), " of ", score->max_points(), " points"));
        SvgRect(out, x, top + static_cast<double>(r) * cell_h, cell_w - (cell_w > 4 ? 1 : 0),
                cell_h - 1, StepColour(cells[s][r]), tip);
      }
    }
  } else {
    // One <path> per colour, with each horizontal run of equal cells as one
    // rectangle: far fewer elements than one <rect> per cell.
    std::vector<std::string> paths(kNegative + 1);
    for (size_t r = 0; r < rows.size(); ++r) {
      const int y = top + static_cast<int>(r) * cell_h;
      size_t s = 0;
      while (s < studies.size()) {
        size_t end = s + 1;
        while (end < studies.size() && cells[end][r] == cells[s][r]) ++end;
        const int x = label_w + static_cast<int>(s) * cell_w;
        const int w = static_cast<int>(end - s) * cell_w;
        absl::StrAppend(&paths[static_cast<size_t>(cells[s][r])], "M", x, " ", y, "h", w, "v",
                        cell_h - 1, "h", -w, "z");
        s = end;
      }
    }
    for (size_t step = 0; step < paths.size(); ++step) {
      if (paths[step].empty()) continue;
      absl::StrAppend(&out, "<path fill=\"", StepColour(static_cast<int>(step)), "\" d=\"",
                      paths[step], "\"/>");
    }
  }
  out += "</svg></div>\n";
}

// The two panels of the paper's Fig. 3 for one study: (a) cumulative score by
// RRL against the cumulative maximum, (b) percent satisfied per RRL with the
// attainment threshold.
void StudyChart(std::string& out, const v1::StudyConsensus& study) {
  const v1::ScoreReport& report = study.report();
  const int levels = report.levels_size();
  const int panel_w = 190, plot_h = 110, top = 22, gap = 44, left = 34;
  const int width = left + panel_w + gap + panel_w + 8;
  const int height = top + plot_h + 30;
  const double slot = static_cast<double>(panel_w) / std::max(levels, 1);
  const double bar_w = std::max(2.0, slot * 0.7);

  out += "<figure>";
  OpenSvg(
      out, width, height,
      absl::StrCat("Study ", study.study_id(), ": cumulative score and percent satisfied per RRL"));
  double cumulative_top = report.max_total();
  for (const v1::LevelScore& level : report.levels()) {
    cumulative_top = std::max(cumulative_top, static_cast<double>(level.cumulative_max_points()));
  }
  cumulative_top = std::max(cumulative_top, 1.0);

  // Panel a.
  const int ax = left, bx = left + panel_w + gap;
  SvgText(out, ax, 12, "a  Cumulative score (points)", "start", 10);
  SvgText(out, bx, 12, "b  Satisfied per RRL (%)", "start", 10);
  for (int panel_x : {ax, bx}) {
    SvgLine(out, panel_x, top + plot_h, panel_x + panel_w, top + plot_h, "#52606d");
    SvgLine(out, panel_x, top, panel_x, top + plot_h, "#52606d");
  }
  SvgText(out, ax - 3, top + 4, Num(cumulative_top, 0), "end", 9, "#52606d");
  SvgText(out, ax - 3, top + plot_h, "0", "end", 9, "#52606d");
  SvgText(out, bx - 3, top + 4, "100", "end", 9, "#52606d");
  SvgText(out, bx - 3, top + plot_h, "0", "end", 9, "#52606d");

  std::string polyline;
  for (int i = 0; i < levels; ++i) {
    const v1::LevelScore& level = report.levels(i);
    const double x = ax + i * slot + (slot - bar_w) / 2;
    const double max_h = level.cumulative_max_points() * plot_h / cumulative_top;
    const double pts_h = std::max(0, level.cumulative_points()) * plot_h / cumulative_top;
    SvgRect(out, x, top + plot_h - max_h, bar_w, max_h, "#dde3ea",
            absl::StrCat("RRL", level.level(), ": maximum ", level.cumulative_max_points()));
    SvgRect(out, x, top + plot_h - pts_h, bar_w, pts_h, "#2b6cb0",
            absl::StrCat("RRL1-", level.level(), ": ", level.cumulative_points(), " of ",
                         level.cumulative_max_points(), " points (",
                         Num(level.cumulative_percent(), 1), " %)"));
    absl::StrAppend(&polyline, i == 0 ? "" : " ", Num(x + bar_w / 2, 1), ",",
                    Num(top + plot_h - pts_h, 1));
    SvgText(out, x + bar_w / 2, top + plot_h + 12, absl::StrCat(level.level()), "middle", 9);

    const double pct = std::clamp(level.percent(), 0.0, 100.0);
    const double bxx = bx + i * slot + (slot - bar_w) / 2;
    const double h = pct * plot_h / 100;
    SvgRect(out, bxx, top + plot_h - h, bar_w, h, level.attained() ? "#2f855a" : "#dd6b20",
            absl::StrCat("RRL", level.level(), ": ", level.points(), " of ", level.max_points(),
                         " points (", Num(level.percent(), 1), " %)",
                         level.attained() ? ", attained" : ""));
    SvgText(out, bxx + bar_w / 2, top + plot_h + 12, absl::StrCat(level.level()), "middle", 9);
  }
  if (levels > 1) {
    absl::StrAppend(&out, "<polyline points=\"", polyline,
                    "\" fill=\"none\" stroke=\"#1a365d\" stroke-width=\"1.5\"/>");
  }
  const double threshold_y =
      top + plot_h - std::clamp(report.level_threshold_percent(), 0.0, 100.0) * plot_h / 100;
  SvgLine(out, bx, threshold_y, bx + panel_w, threshold_y, "#52606d", " stroke-dasharray=\"4 3\"");
  SvgText(out, ax + panel_w / 2.0, top + plot_h + 26, "RRL", "middle", 9, "#52606d");
  SvgText(out, bx + panel_w / 2.0, top + plot_h + 26, "RRL", "middle", 9, "#52606d");
  out += "</svg>";
  absl::StrAppend(&out, "<figcaption><b>#", study.study_id(), "</b> ", EscapeHtml(study.title()),
                  " \xC2\xB7 ", StudyTypeLabel(study.study_type()), " \xC2\xB7 ", report.total(),
                  "/", report.max_total(), " points (", Num(report.percent(), 1), " %) \xC2\xB7 ",
                  report.attained_level() > 0
                      ? absl::StrCat("RRL", report.attained_level(), " attained")
                      : std::string("no RRL attained"),
                  "</figcaption></figure>\n");
}

void StudyCharts(std::string& out, const std::vector<const v1::StudyConsensus*>& studies) {
  out += "<h2 id=\"studies-charts\">Score by readiness level, per study</h2>\n";
  std::vector<const v1::StudyConsensus*> with_levels;
  for (const v1::StudyConsensus* study : studies) {
    if (study->report().levels_size() > 0) with_levels.push_back(study);
  }
  if (with_levels.empty()) {
    out += studies.empty()
               ? "<p class=\"note\">No finalised study to show.</p>\n"
               : "<p class=\"note\">The instrument has no readiness levels: nothing to chart per "
                 "level.</p>\n";
    return;
  }
  const size_t shown = std::min(with_levels.size(), static_cast<size_t>(kMaxStudyCharts));
  out +=
      "<p class=\"note\">As in the RQS 2.0 paper's Fig. 3: (a) the cumulative score up to "
      "each RRL against its maximum (grey), (b) the share of each RRL's points satisfied (green: "
      "attained, orange: not attained, dashed: the attainment threshold).";
  if (shown < with_levels.size()) {
    absl::StrAppend(&out, " Showing the first ", shown, " of ", with_levels.size(),
                    " finalised studies by study id; the heatmap and the study table cover all.");
  }
  out += "</p>\n<div class=\"charts\">\n";
  for (size_t i = 0; i < shown; ++i) StudyChart(out, *with_levels[i]);
  out += "</div>\n";
}

const v1::AgreementStatistic* FindStatistic(const v1::CriterionAgreement& criterion,
                                            absl::string_view key) {
  for (const v1::AgreementStatistic& statistic : criterion.statistics()) {
    if (statistic.key() == key) return &statistic;
  }
  return nullptr;
}

// The interval to show: analytic if defined, else bootstrap.
bool Interval(const v1::AgreementStatistic& s, double& lower, double& upper) {
  if (s.has_ci_lower() && s.has_ci_upper()) {
    lower = s.ci_lower();
    upper = s.ci_upper();
    return true;
  }
  if (s.has_bootstrap_ci_lower() && s.has_bootstrap_ci_upper()) {
    lower = s.bootstrap_ci_lower();
    upper = s.bootstrap_ci_upper();
    return true;
  }
  return false;
}

// "0.62 [0.41, 0.83]", "0.62" or "–".
std::string WithInterval(const v1::AgreementStatistic* s) {
  if (s == nullptr || !s->has_value()) return std::string(kDash);
  std::string text = Num(s->value(), 2);
  double lower = 0, upper = 0;
  if (Interval(*s, lower, upper))
    absl::StrAppend(&text, " [", Num(lower, 2), ", ", Num(upper, 2), "]");
  return text;
}

std::string ValueOf(const v1::AgreementStatistic* s, double factor, int digits) {
  return s != nullptr && s->has_value() ? Num(s->value() * factor, digits) : std::string(kDash);
}

// Forest plot: per criterion, Fleiss' kappa (circle) and Gwet's AC1 (square)
// on -1..1 with their intervals.
void ForestPlot(std::string& out, const std::vector<const v1::CriterionAgreement*>& criteria) {
  const int label_w = 250, plot_w = 420, row_h = 18, top = 26;
  const int width = label_w + plot_w + 30;
  const int height = top + static_cast<int>(criteria.size()) * row_h + 26;
  const auto x_of = [&](double v) { return label_w + (std::clamp(v, -1.0, 1.0) + 1) / 2 * plot_w; };
  std::vector<std::string> undefined_kappa, undefined_ac1;

  OpenSvg(out, width, height,
          "Agreement per criterion: Fleiss' kappa and Gwet's AC1 with intervals");
  SvgText(out, label_w, 12, "\xE2\x97\x8F Fleiss' \xCE\xBA", "start", 10, "#2b6cb0");
  SvgText(out, label_w + 90, 12, "\xE2\x96\xA0 Gwet's AC1", "start", 10, "#c05621");
  for (double tick : {-1.0, -0.5, 0.0, 0.5, 1.0}) {
    SvgLine(out, x_of(tick), top - 4, x_of(tick), height - 22, tick == 0 ? "#52606d" : "#dde3ea");
    SvgText(out, x_of(tick), height - 8, Num(tick, 1), "middle", 9, "#52606d");
  }
  for (size_t i = 0; i < criteria.size(); ++i) {
    const v1::CriterionAgreement& c = *criteria[i];
    const double y = top + static_cast<double>(i) * row_h + row_h / 2.0;
    SvgText(out, label_w - 8, y + 4, Shorten(absl::StrCat(c.criterion(), ". ", c.title()), 40),
            "end", 10);
    struct Series {
      absl::string_view key;
      double offset;
      absl::string_view colour;
      bool square;
      std::vector<std::string>* undefined;
    };
    for (const Series& series : {Series{"fleiss_kappa", -3, "#2b6cb0", false, &undefined_kappa},
                                 Series{"gwet_ac1", 3, "#c05621", true, &undefined_ac1}}) {
      const v1::AgreementStatistic* s = FindStatistic(c, series.key);
      if (s == nullptr || !s->has_value() || !std::isfinite(s->value())) {
        series.undefined->push_back(absl::StrCat(c.criterion()));
        continue;
      }
      const double yy = y + series.offset;
      double lower = 0, upper = 0;
      if (Interval(*s, lower, upper) && std::isfinite(lower) && std::isfinite(upper)) {
        SvgLine(out, x_of(lower), yy, x_of(upper), yy, series.colour);
      }
      const double x = x_of(s->value());
      if (series.square) {
        SvgRect(out, x - 3, yy - 3, 6, 6, series.colour,
                absl::StrCat("Criterion ", c.criterion(), ": AC1 ", WithInterval(s)));
      } else {
        absl::StrAppend(
            &out, "<circle cx=\"", Num(x, 1), "\" cy=\"", Num(yy, 1), "\" r=\"3.2\" fill=\"",
            series.colour, "\"><title>",
            EscapeHtml(absl::StrCat("Criterion ", c.criterion(), ": kappa ", WithInterval(s))),
            "</title></circle>");
      }
    }
  }
  out += "</svg>\n";
  if (!undefined_kappa.empty() || !undefined_ac1.empty()) {
    out += "<p class=\"note\">Not drawn where undefined for the data (e.g. every rating the same";
    if (!undefined_kappa.empty()) {
      absl::StrAppend(&out, "): Fleiss' \xCE\xBA for criteria ",
                      absl::StrJoin(undefined_kappa, ", "));
    } else {
      out += ")";
    }
    if (!undefined_ac1.empty()) {
      absl::StrAppend(&out, undefined_kappa.empty() ? ": " : "; ", "Gwet's AC1 for criteria ",
                      absl::StrJoin(undefined_ac1, ", "));
    }
    out += ".</p>\n";
  }
}

void Agreement(std::string& out, const HtmlReportInput& input) {
  std::vector<const v1::CriterionAgreement*> criteria;
  const v1::CriterionAgreement* total = nullptr;
  const google::protobuf::RepeatedField<double>* shares = nullptr;
  const google::protobuf::RepeatedPtrField<v1::RaterAgreement>* raters = nullptr;
  if (input.agreement.has_value()) {
    for (const v1::CriterionAgreement& c : input.agreement->criteria()) criteria.push_back(&c);
    if (input.agreement->has_total_score()) total = &input.agreement->total_score();
    shares = &input.agreement->consensus_share_by_round();
    raters = &input.agreement->raters();
  } else {
    for (const v1::CriterionAgreement& c : input.summary.agreement()) {
      if (c.criterion() == 0) {
        total = &c;
      } else {
        criteria.push_back(&c);
      }
    }
    shares = &input.summary.consensus_share_by_round();
  }
  if (criteria.empty() && total == nullptr && shares->empty()) return;

  out += "<h2 id=\"agreement\">Inter-rater agreement (round 1, independent)</h2>\n";
  if (input.agreement.has_value()) {
    absl::StrAppend(
        &out, "<p class=\"note\">Studies with round-1 submissions: ", input.agreement->studies(),
        ". Intervals are analytic where defined, else bootstrap percentile.</p>\n");
  }
  if (!criteria.empty()) {
    // A warning every criterion carries (e.g. too few subjects) is said once.
    std::vector<std::string> common(criteria.front()->warnings().begin(),
                                    criteria.front()->warnings().end());
    for (const v1::CriterionAgreement* c : criteria) {
      common.erase(std::remove_if(common.begin(), common.end(),
                                  [c](const std::string& w) {
                                    return std::find(c->warnings().begin(), c->warnings().end(),
                                                     w) == c->warnings().end();
                                  }),
                   common.end());
    }
    if (criteria.size() > 1) {
      for (const std::string& warning : common) {
        absl::StrAppend(&out, "<p class=\"note\">Every criterion: ", EscapeHtml(warning), "</p>\n");
      }
    } else {
      common.clear();
    }
    out +=
        "<table><tr><th>#</th><th>Criterion</th><th>Studies used</th><th>Raters</th>"
        "<th>Agreement %</th><th>Fleiss' \xCE\xBA [CI]</th><th>Gwet's AC1 [CI]</th>"
        "<th>Krippendorff's \xCE\xB1 (ordinal)</th><th>Notes</th></tr>\n";
    for (const v1::CriterionAgreement* c : criteria) {
      const v1::AgreementStatistic* kappa = FindStatistic(*c, "fleiss_kappa");
      const v1::AgreementStatistic* ac1 = FindStatistic(*c, "gwet_ac1");
      absl::StrAppend(&out, "<tr><td class=\"n\">", c->criterion(), "</td><td>",
                      EscapeHtml(c->title()), "</td><td class=\"n\">", c->subjects_used(), "/",
                      c->subjects(), "</td><td class=\"n\">", c->raters(), "</td><td class=\"n\">",
                      ValueOf(FindStatistic(*c, "percent_agreement"), 100, 1),
                      "</td><td class=\"n\">", WithInterval(kappa), "</td><td class=\"n\">",
                      WithInterval(ac1), "</td><td class=\"n\">",
                      ValueOf(FindStatistic(*c, "krippendorff_alpha_ordinal"), 1, 2), "</td><td>");
      std::vector<std::string> notes;
      if (ac1 != nullptr && !ac1->interpretation().empty()) {
        notes.push_back(EscapeHtml(absl::StrCat("AC1: ", ac1->interpretation())));
      }
      for (const std::string& warning : c->warnings()) {
        if (std::find(common.begin(), common.end(), warning) == common.end()) {
          notes.push_back(EscapeHtml(warning));
        }
      }
      absl::StrAppend(&out, absl::StrJoin(notes, "<br>"), "</td></tr>\n");
    }
    out +=
        "</table>\n<h3>Fleiss' \xCE\xBA and Gwet's AC1 per criterion</h3>\n<div class=\"scroll\">";
    ForestPlot(out, criteria);
    out += "</div>\n";
  }
  if (total != nullptr) {
    out +=
        "<h3>Total score</h3>\n<table><tr><th>Statistic</th><th>Value [CI]</th>"
        "<th>Interpretation</th></tr>\n";
    for (absl::string_view key : {"icc2", "icc2k"}) {
      const v1::AgreementStatistic* s = FindStatistic(*total, key);
      absl::StrAppend(&out, "<tr><td>", key == "icc2" ? "ICC2 (single rater)" : "ICC2k (mean of k)",
                      "</td><td class=\"n\">", WithInterval(s), "</td><td>",
                      s != nullptr ? EscapeHtml(s->interpretation()) : std::string(),
                      "</td></tr>\n");
    }
    out += "</table>\n";
    for (const std::string& warning : total->warnings()) {
      absl::StrAppend(&out, "<p class=\"note\">", EscapeHtml(warning), "</p>\n");
    }
  }
  if (!shares->empty()) {
    out += "<h3>Convergence</h3>\n<table><tr><th>Round</th><th>Items agreed by its end</th></tr>\n";
    for (int r = 0; r < shares->size(); ++r) {
      absl::StrAppend(&out, "<tr><td class=\"n\">", r + 1, "</td><td class=\"n\">",
                      Num(shares->Get(r) * 100, 1), " %</td></tr>\n");
    }
    out += "</table>\n";
  }
  if (raters != nullptr && !raters->empty()) {
    out +=
        "<h3>Raters against the consensus</h3>\n<table><tr><th>Rater</th><th>Matching</th>"
        "<th>Compared</th><th>Share</th></tr>\n";
    for (const v1::RaterAgreement& rater : *raters) {
      absl::StrAppend(&out, "<tr><td>", EscapeHtml(rater.rater_name()), "</td><td class=\"n\">",
                      rater.matching(), "</td><td class=\"n\">", rater.compared(),
                      "</td><td class=\"n\">", Num(rater.share() * 100, 1), " %</td></tr>\n");
    }
    out += "</table>\n";
  }
}

void StudyTable(std::string& out, const v1::GetConsensusResponse& consensus) {
  out += "<h2 id=\"studies\">Studies</h2>\n";
  if (consensus.studies().empty()) {
    out += "<p class=\"note\">No studies.</p>\n";
    return;
  }
  out +=
      "<table><tr><th>Id</th><th>Title</th><th>Type</th><th>State</th><th>Rounds</th>"
      "<th>Points</th><th>Max</th><th>Percent</th><th>Attained RRL</th></tr>\n";
  for (const v1::StudyConsensus& study : consensus.studies()) {
    absl::StrAppend(&out, "<tr><td class=\"n\">", study.study_id(), "</td><td>",
                    EscapeHtml(study.title()), "</td><td>", StudyTypeLabel(study.study_type()),
                    "</td><td>", StudyStateLabel(study.state()), "</td><td class=\"n\">",
                    study.rounds(), "</td>");
    if (IsCharted(study)) {
      const v1::ScoreReport& report = study.report();
      absl::StrAppend(&out, "<td class=\"n\">", report.total(), "</td><td class=\"n\">",
                      report.max_total(), "</td><td class=\"n\">", Num(report.percent(), 1),
                      " %</td><td class=\"n\">", report.attained_level(), "</td></tr>\n");
    } else {
      absl::StrAppend(&out, "<td class=\"n\">", kDash, "</td><td class=\"n\">", kDash,
                      "</td><td class=\"n\">", kDash, "</td><td class=\"n\">", kDash,
                      "</td></tr>\n");
    }
  }
  out += "</table>\n";
}

}  // namespace

std::string EscapeHtml(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderHtmlReport(const HtmlReportInput& input) {
  const std::string name =
      input.review_name.empty() ? input.summary.review_name() : input.review_name;
  std::vector<const v1::StudyConsensus*> finalised;
  for (const v1::StudyConsensus& study : input.consensus.studies()) {
    if (IsCharted(study)) finalised.push_back(&study);
  }

  std::string out;
  out.reserve(64 * 1024 + finalised.size() * 2048);
  absl::StrAppend(
      &out,
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
      EscapeHtml(name.empty() ? "RQS review report" : absl::StrCat("RQS review report: ", name)),
      "</title>\n<style>", kStyle, "</style>\n</head>\n<body>\n<h1>RQS review report",
      name.empty() ? "" : ": ", EscapeHtml(name), "</h1>\n<p class=\"meta\">");
  std::vector<std::string> meta;
  if (!input.generated_at.empty()) {
    meta.push_back(absl::StrCat("Generated ", EscapeHtml(input.generated_at)));
  }
  if (!finalised.empty()) {
    const v1::ScoreReport& report = finalised.front()->report();
    meta.push_back(absl::StrCat("Instrument ", EscapeHtml(report.instrument_id()), " ",
                                EscapeHtml(report.instrument_version())));
  }
  meta.push_back(absl::StrCat(input.summary.finalised(), " of ", input.summary.studies(),
                              " studies finalised"));
  absl::StrAppend(&out, absl::StrJoin(meta, " \xC2\xB7 "), "</p>\n");

  Summary(out, input.summary);
  Heatmap(out, input.summary, finalised);
  StudyCharts(out, finalised);
  Agreement(out, input);
  StudyTable(out, input.consensus);
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace rqs::client
