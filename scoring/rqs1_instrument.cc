// RQS 1.0 as data: Lambin P. et al., "Radiomics: the bridge between medical
// imaging and personalized medicine", Nat Rev Clin Oncol 14, 749-762 (2017),
// Fig. 4. Sixteen items, total from -8 to +36; items 5 and 12 carry the only
// negative options. RQS 1.0 has no readiness levels.
#include "scoring/instrument.h"
#include "scoring/instrument_builders.h"

namespace rqs::scoring {
namespace {

using builders::Additive;
using builders::Exclusive;

// RQS 1.0 has no readiness levels (level 0) and every item applies to every study.
constexpr int kNoLevel = 0;

Criterion Single(int number, std::string name, int points, std::string description) {
  return builders::MetOrNot(number, kNoLevel, std::move(name), Applicability::kBoth, points,
                            std::move(description));
}

Instrument BuildRqs1() {
  Instrument rqs1;
  rqs1.id = "rqs1";
  rqs1.name = "Radiomics Quality Score 1.0";
  rqs1.version = "1.0";
  rqs1.citation =
      "Lambin P, Leijenaar RTH, Deist TM, et al. Radiomics: the bridge between medical imaging "
      "and personalized medicine. Nat Rev Clin Oncol. 2017;14(12):749-762.";
  rqs1.level_count = 0;
  rqs1.criteria = {
      Additive(1, kNoLevel, "Image protocol quality",
               {{"documented", "Protocols well documented (e.g. contrast, slice thickness)", 1},
                {"public", "A public image protocol is used", 1}},
               "The imaging protocol is documented well enough to reproduce, and/or a public "
               "protocol is used."),
      Single(2, "Multiple segmentations", 1,
             "Features are assessed for robustness to segmentation variability: several "
             "observers, perturbed segmentations or different algorithms."),
      Single(3, "Phantom study on all scanners", 1,
             "Inter-scanner and vendor-dependent feature differences are detected with phantom "
             "studies on every scanner."),
      Single(4, "Imaging at multiple time points", 1,
             "Images are acquired at additional time points (test-retest) to assess feature "
             "robustness to temporal variability."),
      Exclusive(5, kNoLevel, "Feature reduction or adjustment for multiple testing",
                {{"neither", "Neither feature reduction nor multiple-testing adjustment", -3},
                 {"either", "Feature reduction or multiple-testing adjustment applied", 3}},
                "The number of features is reduced, or multiple testing is corrected for, to limit "
                "the risk of overfitting."),
      Single(6, "Multivariable analysis with non-radiomics features", 1,
             "The model includes non-radiomics features, e.g. clinical, genomic or "
             "proteomic."),
      Single(7, "Detect and discuss biological correlates", 1,
             "Phenotypic differences are linked to underlying biology, e.g. gene or protein "
             "expression."),
      Single(8, "Cut-off analyses", 1,
             "Risk groups are defined by the median or a previously published cut-off, or a "
             "continuous risk variable is reported."),
      Additive(9, kNoLevel, "Discrimination statistics",
               {{"statistic", "Discrimination statistic and its significance reported", 1},
                {"resampling", "A resampling method technique is also applied", 1}},
               "Discrimination statistics (e.g. ROC AUC, C-index) are reported with their "
               "statistical significance; a resampling method may also be applied."),
      Additive(10, kNoLevel, "Calibration statistics",
               {{"statistic", "Calibration statistic and its significance reported", 1},
                {"resampling", "A resampling method technique is also applied", 1}},
               "Calibration statistics (e.g. calibration-in-the-large, slope, plots) are reported "
               "with their statistical significance; a resampling method may also be applied."),
      Single(11, "Prospective study registered in a trial database", 7,
             "The study is prospective and registered in a clinical trial database."),
      Exclusive(12, kNoLevel, "Validation",
                {{"none", "Validation is missing", -5},
                 {"same_institute", "Validated on a dataset from the same institute", 2},
                 {"one_external", "Validated on a dataset from another institute", 3},
                 {"two_external", "Validated on two datasets from two distinct institutes", 4},
                 {"published_signature", "The study validates a previously published signature",
                  4},
                 {"three_or_more_external",
                  "Validated on three or more datasets from distinct institutes", 5}},
                "The model is validated without retraining and without adapting the cut-off "
                "value."),
      Single(13, "Comparison to 'gold standard'", 2,
             "The model is compared with the current gold standard, e.g. TNM staging for "
             "survival prediction, showing the added value of radiomics."),
      Single(14, "Potential clinical utility", 2,
             "The current and potential clinical application of the model is reported, e.g. "
             "with decision curve analysis."),
      Single(15, "Cost-effectiveness analysis", 1,
             "The cost effectiveness of the clinical application is reported, e.g. quality-"
             "adjusted life years."),
      Additive(16, kNoLevel, "Open science and data",
               {{"scans", "Scans are open source", 1},
                {"segmentations", "Region-of-interest segmentations are open source", 1},
                {"code", "Code is open source", 1},
                {"features", "Features of representative ROIs and the ROIs are open source", 1}},
               "Code and data are made publicly available."),
  };
  return rqs1;
}

}  // namespace

const Instrument& Rqs1() {
  static const Instrument* const kRqs1 = new Instrument(BuildRqs1());
  return *kRqs1;
}

}  // namespace rqs::scoring
