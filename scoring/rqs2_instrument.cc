// RQS 2.0 as data: Lambin P. et al., "Radiomics Quality Score 2.0: towards
// radiomics readiness levels and clinical translation for personalized
// medicine", Nat Rev Clin Oncol (2025). Points and applicability follow
// Table 2; descriptions paraphrase the definitions of Box 1 for raters.
#include "scoring/instrument.h"
#include "scoring/instrument_builders.h"

namespace rqs::scoring {
namespace {

using builders::Additive;
using builders::Exclusive;
using builders::MetOrNot;

constexpr Applicability kBoth = Applicability::kBoth;
constexpr Applicability kHcr = Applicability::kHandcraftedOnly;

Instrument BuildRqs2() {
  Instrument rqs2;
  rqs2.id = "rqs2";
  rqs2.name = "Radiomics Quality Score 2.0";
  rqs2.version = "2.0";
  rqs2.citation =
      "Lambin P, Woodruff HC, Mali SA, et al. Radiomics Quality Score 2.0: towards radiomics "
      "readiness levels and clinical translation for personalized medicine. Nat Rev Clin Oncol. "
      "2025.";
  rqs2.level_count = 9;
  rqs2.criteria = {
      // RRL1: foundational exploration.
      Exclusive(1, 1, "Unmet clinical need",
                {{"not_defined", "Not defined, or defined by a single centre", 0},
                 {"multicentre", "Agreed upon and defined by more than one centre", 1},
                 {"consensus_method", "Defined using an established consensus method (e.g. Delphi)",
                  2}},
                "The unmet clinical need the study addresses is stated and defined."),
      MetOrNot(2, 1, "Hardware description", kBoth, 1,
             "The imaging hardware is described in detail: model, manufacturer and technical "
             "specifications."),
      Exclusive(3, 1, "Image protocol quality",
                {{"level0", "Level 0: protocol not formally approved with a reference number", 0},
                 {"level1", "Level 1: approved with a reference number in the institution's archive",
                  1},
                 {"level2", "Level 2: approved with formal quality assurance", 1},
                 {"level3", "Level 3: internationally established, published in guidelines", 2},
                 {"level4", "Level 4: future-proof (level 3, FAIR principles, raw data retained)",
                  2}},
                "Rate the highest of five levels of image acquisition protocol quality that the "
                "study reports (level 0 to level 4)."),
      MetOrNot(4, 1, "Inclusion and exclusion criteria", kBoth, 1,
             "Patient selection criteria are given in detail, with the reasons for including and "
             "excluding patients."),
      MetOrNot(5, 1, "Diversity and distribution", kBoth, 1,
             "Before the project started, potential biases were identified: demographic (sex, "
             "gender, age, ethnicity), socioeconomic, geographic and medical (comorbidities, "
             "disabilities)."),
      // RRL2: data preparation.
      MetOrNot(6, 2, "Feature robustness", kHcr, 1,
             "Robustness and repeatability of the radiomics features is assessed, e.g. test-retest "
             "imaging at several time points, segmentation variations or perturbations, or phantom "
             "studies on all scanners."),
      MetOrNot(7, 2, "Preprocessing of images", kBoth, 1,
             "Images are standardised by preprocessing steps, each with a stated reason."),
      MetOrNot(8, 2, "Harmonization", kBoth, 1,
             "Image-level and/or feature-level harmonisation is explored to reduce variability "
             "across multicentre acquisitions."),
      MetOrNot(9, 2, "Compliance with international standards in radiomics", kHcr, 1,
             "Feature extraction and analysis use implementations that follow an international "
             "standard such as the Image Biomarker Standardisation Initiative (IBSI)."),
      MetOrNot(10, 2, "Automatic segmentation", kBoth, 1,
             "The region of interest is defined by an automated segmentation algorithm."),
      // RRL3: prototype model development.
      MetOrNot(11, 3, "Feature reduction", kHcr, 1,
             "Features are reduced to lower the risk of overfitting (likely when features outnumber "
             "samples), and checked for correlation with features such as volume."),
      MetOrNot(12, 3, "Feature robustness for feature selection", kHcr, 1,
             "Feature selection takes feature robustness into account, using prior test-retest, "
             "phantom or segmentation studies or the methods of criterion 6."),
      MetOrNot(13, 3, "Combination of HCR and DLR", kBoth, 1,
             "Handcrafted and deep-learning radiomics are compared and combined: each model type is "
             "evaluated, and so is their consensus."),
      MetOrNot(14, 3, "Multivariable analysis", kBoth, 2,
             "The model includes non-radiomics features such as clinical factors (TNM stage, age), "
             "genomics or proteomics."),
      // RRL4: internal validation.
      MetOrNot(15, 4, "Single-centre validation", kBoth, 1,
             "The model is validated on data from the same institute without retraining and without "
             "adapting the cut-off value."),
      MetOrNot(16, 4, "Cut-off analyses", kBoth, 1,
             "Optimal thresholds are determined, e.g. with Youden's index for classification or "
             "suitable cut-offs for risk stratification in survival analysis."),
      Additive(17, 4, "Discrimination statistics",
               {{"statistic", "Discrimination statistic and its significance reported", 1},
                {"resampling", "Resampling method (e.g. bootstrapping, cross-validation) applied",
                 1}},
               "Discrimination statistics (ROC curve, sensitivity, specificity) are reported with "
               "their statistical significance (p values, confidence intervals); a resampling "
               "method may also be applied."),
      MetOrNot(18, 4, "Calibration statistics", kBoth, 1,
             "Calibration statistics are reported (calibration-in-the-large, slope or calibration "
             "plots)."),
      MetOrNot(19, 4, "Failure mode analysis", kBoth, 1,
             "The model's limitations are documented with edge cases that illustrate failures."),
      Additive(20, 4, "Open science and data",
               {{"data", "Data (including scans) are open source", 1},
                {"segmentations", "ROI segmentations are open source", 1},
                {"code", "Code is open source", 1}},
               "Code and data are made publicly available."),
      // RRL5: capability testing.
      Exclusive(21, 5, "Multicentre validation",
                {{"none", "No external validation", 0},
                 {"one_external", "Data from one external institution", 1},
                 {"two_or_more_external", "Data from two or more external institutions", 2},
                 {"third_party", "Validated on a third-party platform with completely unseen data",
                  3}},
                "The model is validated on data from other institutes, with no overlap with the "
                "training data of those institutes."),
      MetOrNot(22, 5, "Comparison with current clinical standard", kBoth, 2,
             "The model is compared with the current clinical (gold) standard, e.g. TNM staging "
             "for survival prediction, showing the added value of radiomics."),
      MetOrNot(23, 5, "Comparison with previous work", kBoth, 1,
             "Performance is compared with previously published radiomics signatures or deep "
             "learning algorithms for the same use case on an identical dataset, where such work "
             "exists."),
      MetOrNot(24, 5, "Potential clinical utility", kBoth, 2,
             "The current and potential clinical application of the model is reported, e.g. with "
             "decision curve analysis."),
      // RRL6: assessment of trustworthiness.
      MetOrNot(25, 6, "Explainability", kBoth, 1,
             "Explainability tools are applied to understand the model's decisions, e.g. SHAP for "
             "handcrafted or Grad-CAM for deep-learning radiomics."),
      MetOrNot(26, 6, "Evaluation of explainability", kBoth, 1,
             "The explanations themselves are evaluated qualitatively and quantitatively, e.g. "
             "consistency under adversarial perturbations or agreement with clinical knowledge."),
      MetOrNot(27, 6, "Biological correlates", kBoth, 1,
             "Biological correlates are detected and discussed, e.g. phenotypic differences linked "
             "to gene or protein expression."),
      Additive(28, 6, "Evaluation of fairness and plan for mitigation of bias",
               {{"fairness", "Fairness evaluation", 1},
                {"bias_correction", "Appropriate bias correction methods applied, if necessary",
                 1}},
               "Model performance is evaluated with respect to the biases identified beforehand "
               "(criterion 5), and bias is corrected where needed."),
      // RRL7: prospective validation.
      MetOrNot(29, 7, "Usability for clinicians", kBoth, 1,
             "The tool's usability is evaluated: clinician interface, workflow integration and "
             "ease of use."),
      MetOrNot(30, 7, "Sample size calculation", kBoth, 1,
             "The sample size of the prospective validation is calculated before it starts."),
      MetOrNot(31, 7, "Clinical trial preregistration", kBoth, 1,
             "The prospective trial and its statistical plan are registered in a clinical trial "
             "database, and post hoc protocol changes are tracked."),
      MetOrNot(32, 7, "Prospective validation", kBoth, 3,
             "The radiomics biomarker is validated prospectively (in silico trials may count)."),
      MetOrNot(33, 7, "Real-world clinical assessment", kBoth, 1,
             "Human-in-the-loop assessments evaluate the model in real-world clinical settings."),
      // RRL8: applicability and sustainability.
      MetOrNot(34, 8, "Software traceability", kBoth, 1,
             "A software traceability process documents development, changes and version control "
             "of the software in the radiomics workflow."),
      MetOrNot(35, 8, "Software safeguards", kBoth, 1,
             "Software checks prevent out-of-scope use and unreliable input."),
      MetOrNot(36, 8, "Cost-effectiveness analysis", kBoth, 2,
             "The cost effectiveness of the clinical application is reported, e.g. quality-adjusted "
             "life years."),
      MetOrNot(37, 8, "Performance drift", kBoth, 1,
             "A strategy evaluates model performance periodically for data shifts."),
      MetOrNot(38, 8, "Continual learning", kBoth, 1,
             "A strategy for continual learning from errors is defined."),
      // RRL9: clinical deployment.
      MetOrNot(39, 9, "Define the level of automation in clinical practice", kBoth, 1,
             "The level of automation of the AI solution in clinical practice is defined (level 0, "
             "no automation, to level 5, full automation)."),
      MetOrNot(40, 9, "Quality management system", kBoth, 1,
             "A quality management system (e.g. ISO 9001) is implemented and maintained."),
      MetOrNot(41, 9, "Regulatory requirements", kBoth, 1,
             "Alignment with the chosen regulatory pathway is evaluated (e.g. FDA 510(k) or "
             "premarket approval, EU conformity assessment, EU AI Act)."),
      MetOrNot(42, 9, "Product on the market", kBoth, 1,
             "The radiomics product is on the market, with regulatory approval and clinical "
             "adoption."),
  };
  return rqs2;
}

}  // namespace

const Instrument& Rqs2() {
  static const Instrument* const kRqs2 = new Instrument(BuildRqs2());
  return *kRqs2;
}

}  // namespace rqs::scoring
