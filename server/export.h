// The documents of ConsensusService.Export: long CSV, wide CSV and JSON.
//
// Blinding is decided here, once, from the caller's role:
//   - coordinators: every rater's submitted answers (by login name), every
//     round, and the consensus;
//   - observers: the consensus only, never an individual rater's answers;
//   - raters: their own answers and the consensus of their finalised
//     studies (the caller passes only the rater's assigned studies).
//
// CSV follows RFC 4180 (comma, double-quoted fields when needed, "\n" line
// ends, UTF-8 without byte-order mark) with one header row, so it opens in R
// (read.csv), pandas (read_csv) and spreadsheets alike. Free-text cells that
// a spreadsheet would run as a formula (starting with =, +, -, @, tab or
// carriage return) are prefixed with a single quote.
#ifndef RQS_SERVER_EXPORT_H_
#define RQS_SERVER_EXPORT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/store.h"
#include "scoring/consensus.h"
#include "scoring/instrument.h"
#include "server/consensus_engine.h"

namespace rqs::server {

// One study as exported.
struct ExportStudy {
  const db::StudyConsensusState* state = nullptr;
  StudyStatus status;
  std::optional<StudyConsensusView> consensus;  // Set once finalised.
};

// Everything an export may contain, already restricted to what the caller
// may see study by study.
struct ExportInput {
  db::Review review;
  const scoring::Instrument* instrument = nullptr;
  scoring::ConsensusPolicy policy;
  db::ReviewRole role = db::ReviewRole::kObserver;
  int64_t caller_id = 0;
  std::vector<ExportStudy> studies;         // By study id.
  std::map<int64_t, std::string> rater_names;  // Login names the caller may see.
};

// One row per answer: every visible (study, rater, round, criterion) answer,
// then the study's consensus answers with rater "consensus". Columns:
// study_id, external_id, study_title, rater, round, criterion, option_ids
// (";"-separated), points, source (rater|agreed|adjudicated), rationale,
// evidence_page, evidence_section, evidence_quote.
std::string ExportLongCsv(const ExportInput& input);

// One row per visible study: study_id, external_id, study_title,
// study_type, state, rounds, then one column per criterion of the
// instrument ("c1", "c2", ...: consensus points, empty when not finalised or
// not scored for the study), total, max_total, percent, attained_rrl.
// Raters get only their finalised studies.
std::string ExportWideCsv(const ExportInput& input);

// {"review": {...}, "policy": {...}, "studies": [{..., "assessments": [...],
// "consensus": {...}}]} with the same visibility as the long CSV.
std::string ExportJson(const ExportInput& input);

// Returns `field` as one RFC 4180 CSV cell (quoted when it holds a comma,
// quote or line break); with `free_text`, neutralises spreadsheet formulas.
std::string CsvCell(const std::string& field, bool free_text);

}  // namespace rqs::server

#endif  // RQS_SERVER_EXPORT_H_
