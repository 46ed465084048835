// Published example datasets for the agreement statistics tests, and helpers
// that turn contingency tables and rater distributions into RatingsTables.
#ifndef RQS_TESTS_UNIT_SCORING_AGREEMENT_TEST_DATA_H_
#define RQS_TESTS_UNIT_SCORING_AGREEMENT_TEST_DATA_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "scoring/agreement.h"

namespace rqs::scoring::testing {

inline constexpr double kNA = -1e300;  // Marks a missing rating in literals below.

// Builds a table from rows of ratings; kNA cells become std::nullopt.
inline RatingsTable MakeTable(const std::vector<std::vector<double>>& rows) {
  RatingsTable table;
  const std::size_t raters = rows.empty() ? 2 : rows.front().size();
  for (std::size_t j = 0; j < raters; ++j)
    table.rater_labels.push_back("R" + std::to_string(j + 1));
  for (std::size_t s = 0; s < rows.size(); ++s) {
    table.subject_labels.push_back("S" + std::to_string(s + 1));
    std::vector<std::optional<double>> row;
    for (const double v : rows[s]) {
      row.push_back(v == kNA ? std::nullopt : std::optional<double>(v));
    }
    table.ratings.push_back(row);
  }
  return table;
}

// Two raters from a q x q contingency table: cell (i, j) holds the subjects
// that rater 1 put in category i + 1 and rater 2 in category j + 1.
inline RatingsTable FromContingency(const std::vector<std::vector<int>>& cells) {
  std::vector<std::vector<double>> rows;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    for (std::size_t j = 0; j < cells[i].size(); ++j) {
      for (int c = 0; c < cells[i][j]; ++c) {
        rows.push_back({static_cast<double>(i + 1), static_cast<double>(j + 1)});
      }
    }
  }
  return MakeTable(rows);
}

// Raters from a subjects x categories distribution: each subject gets
// counts[k] ratings of category k + 1, assigned to raters in order. Fleiss'
// kappa, Gwet's AC and Krippendorff's alpha do not depend on rater identity.
inline RatingsTable FromDistribution(const std::vector<std::vector<int>>& counts) {
  std::vector<std::vector<double>> rows;
  for (const auto& subject : counts) {
    std::vector<double> row;
    for (std::size_t k = 0; k < subject.size(); ++k) {
      for (int c = 0; c < subject[k]; ++c) row.push_back(static_cast<double>(k + 1));
    }
    rows.push_back(row);
  }
  return MakeTable(rows);
}

// Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges.
inline RatingsTable ShroutFleiss() {
  return MakeTable(
      {{9, 2, 5, 8}, {6, 1, 3, 2}, {8, 4, 6, 8}, {7, 1, 2, 6}, {10, 5, 6, 9}, {6, 2, 4, 7}});
}

// R irr `anxiety`: 20 subjects rated by 3 raters on 1..6 (also in the
// statsmodels 0.13.5 test suite, test_inter_rater.py).
inline std::vector<std::vector<double>> AnxietyRows() {
  return {{3, 3, 2}, {3, 6, 1}, {3, 4, 4}, {4, 6, 4}, {5, 2, 3}, {5, 4, 2}, {2, 2, 1},
          {3, 4, 6}, {5, 3, 1}, {2, 3, 1}, {2, 2, 1}, {6, 3, 2}, {1, 3, 3}, {5, 3, 3},
          {2, 2, 1}, {2, 2, 1}, {1, 1, 3}, {2, 3, 3}, {4, 3, 2}, {3, 4, 2}};
}

// irrCAC `cont3x3abstractors` (Gwet 2014): 100 pregnancies, 2 abstractors,
// categories Ectopic, AIU, NIU.
inline RatingsTable Abstractors() { return FromContingency({{13, 0, 0}, {0, 20, 7}, {0, 4, 56}}); }

// irrCAC `cont4x4diagnosis` (223 patients, clinical vs research diagnosis),
// as in the Python irrCAC port's datasets.
inline RatingsTable Diagnosis4x4() {
  return FromContingency({{40, 4, 4, 17}, {6, 25, 2, 13}, {4, 1, 21, 12}, {15, 5, 9, 45}});
}

// irrCAC `distrib.6raters`: 15 patients x 6 psychiatrists over 5 diagnoses,
// the first 15 subjects of Fleiss (1971).
inline RatingsTable SixRaters() {
  return FromDistribution({{0, 0, 0, 6, 0},
                           {0, 3, 0, 0, 3},
                           {0, 1, 4, 0, 1},
                           {0, 0, 0, 0, 6},
                           {0, 3, 0, 3, 0},
                           {2, 0, 4, 0, 0},
                           {0, 0, 4, 0, 2},
                           {2, 0, 3, 1, 0},
                           {2, 0, 0, 4, 0},
                           {0, 0, 0, 0, 6},
                           {1, 0, 0, 5, 0},
                           {1, 1, 0, 4, 0},
                           {0, 3, 3, 0, 0},
                           {1, 0, 0, 5, 0},
                           {0, 2, 0, 3, 1}});
}

// R irr `diagnoses`: Fleiss (1971), 30 patients x 6 psychiatrists, 5
// categories (as listed in the statsmodels 0.13.5 test suite).
inline RatingsTable FleissDiagnoses() {
  return MakeTable({{4, 4, 4, 4, 4, 4}, {2, 2, 2, 5, 5, 5}, {2, 3, 3, 3, 3, 5}, {5, 5, 5, 5, 5, 5},
                    {2, 2, 2, 4, 4, 4}, {1, 1, 3, 3, 3, 3}, {3, 3, 3, 3, 5, 5}, {1, 1, 3, 3, 3, 4},
                    {1, 1, 4, 4, 4, 4}, {5, 5, 5, 5, 5, 5}, {1, 4, 4, 4, 4, 4}, {1, 2, 4, 4, 4, 4},
                    {2, 2, 2, 3, 3, 3}, {1, 4, 4, 4, 4, 4}, {2, 2, 4, 4, 4, 5}, {3, 3, 3, 3, 3, 5},
                    {1, 1, 1, 4, 5, 5}, {1, 1, 1, 1, 1, 2}, {2, 2, 4, 4, 4, 4}, {1, 3, 3, 5, 5, 5},
                    {5, 5, 5, 5, 5, 5}, {2, 4, 4, 4, 4, 4}, {2, 2, 4, 5, 5, 5}, {1, 1, 4, 4, 4, 4},
                    {1, 4, 4, 4, 4, 5}, {2, 2, 2, 2, 2, 4}, {1, 1, 1, 1, 5, 5}, {2, 2, 4, 4, 4, 4},
                    {1, 3, 3, 3, 3, 3}, {5, 5, 5, 5, 5, 5}});
}

// Wikipedia "Fleiss' kappa" worked example: 10 subjects, 14 raters, 5
// categories (statsmodels 0.13.5 test_inter_rater.py table1).
inline RatingsTable WikipediaFleiss() {
  return FromDistribution({{0, 0, 0, 0, 14},
                           {0, 2, 6, 4, 2},
                           {0, 0, 3, 5, 6},
                           {0, 3, 9, 2, 0},
                           {2, 2, 8, 1, 1},
                           {7, 7, 0, 0, 0},
                           {3, 2, 6, 3, 0},
                           {2, 5, 3, 2, 2},
                           {6, 5, 2, 1, 0},
                           {0, 2, 2, 3, 7}});
}

// irrCAC `cac.raw.gender` (Gwet 2014): 15 subjects x 4 raters, categories
// a, b, c coded 1, 2, 3; complete.
inline RatingsTable Gender() {
  const std::string r1 = "aaaaabbbcaaaaab";
  const std::string r2 = "aaaababccaaaaba";
  const std::string r3 = "abbcaabbcabbcaa";
  const std::string r4 = "ccccaabbcccccaa";
  std::vector<std::vector<double>> rows;
  for (std::size_t s = 0; s < r1.size(); ++s) {
    rows.push_back({static_cast<double>(r1[s] - 'a' + 1), static_cast<double>(r2[s] - 'a' + 1),
                    static_cast<double>(r3[s] - 'a' + 1), static_cast<double>(r4[s] - 'a' + 1)});
  }
  return MakeTable(rows);
}

// Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section
// C: 4 observers x 12 units with missing values (= irrCAC cac.raw4raters).
inline RatingsTable Krippendorff2011() {
  return MakeTable({{1, 1, kNA, 1},
                    {2, 2, 3, 2},
                    {3, 3, 3, 3},
                    {3, 3, 3, 3},
                    {2, 2, 2, 2},
                    {1, 2, 3, 4},
                    {4, 4, 4, 4},
                    {1, 1, 2, 1},
                    {2, 2, 2, 2},
                    {kNA, 5, 5, 5},
                    {kNA, kNA, 1, 1},
                    {kNA, 3, kNA, kNA}});
}

// Wikipedia "Krippendorff's alpha" example: 3 coders x 15 units, missing
// values (fast-krippendorff test_krippendorff.py reliability data), as units.
inline RatingsTable WikipediaKrippendorff() {
  const std::vector<std::vector<double>> coders = {
      {kNA, kNA, kNA, kNA, kNA, 3, 4, 1, 2, 1, 1, 3, 3, kNA, 3},
      {1, kNA, 2, 1, 3, 3, 4, 3, kNA, kNA, kNA, kNA, kNA, kNA, kNA},
      {kNA, kNA, 2, 1, 3, 4, 4, kNA, 2, 1, 1, 3, 3, kNA, 4}};
  std::vector<std::vector<double>> rows(coders.front().size());
  for (std::size_t u = 0; u < rows.size(); ++u) {
    for (const auto& coder : coders) rows[u].push_back(coder[u]);
  }
  return MakeTable(rows);
}

}  // namespace rqs::scoring::testing

#endif  // RQS_TESTS_UNIT_SCORING_AGREEMENT_TEST_DATA_H_
