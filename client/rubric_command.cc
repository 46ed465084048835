#include "client/rubric_command.h"

#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rqs::client {
namespace {

constexpr char kUsage[] =
    "usage: rqs rubric [--table] [INSTRUMENT]\n"
    "  Prints the rubric of INSTRUMENT (rqs2 or rqs1; default rqs2): criteria,\n"
    "  readiness levels, applicability and the option ids answer files use.\n";

void PrintTable(const scoring::Instrument& instrument, std::ostream& out) {
  out << instrument.name << " (" << instrument.id << ", version " << instrument.version << ")\n";
  for (const scoring::Criterion& criterion : instrument.criteria) {
    out << "\n" << criterion.number << ". " << criterion.name;
    if (criterion.level > 0) out << "  [RRL" << criterion.level << "]";
    out << "  [" << scoring::ApplicabilityName(criterion.applies_to) << ", "
        << scoring::OptionKindName(criterion.kind) << ", max " << criterion.MaxPoints() << "]\n";
    for (const scoring::Option& option : criterion.options) {
      const std::string points = absl::StrCat(option.points > 0 ? "+" : "", option.points);
      out << absl::StrFormat("    %-24s %3s  %s\n", option.id, points, option.label);
    }
  }
}

}  // namespace

nlohmann::ordered_json InstrumentToJson(const scoring::Instrument& instrument) {
  nlohmann::ordered_json criteria = nlohmann::ordered_json::array();
  for (const scoring::Criterion& criterion : instrument.criteria) {
    nlohmann::ordered_json options = nlohmann::ordered_json::array();
    for (const scoring::Option& option : criterion.options) {
      options.push_back({{"id", option.id}, {"label", option.label}, {"points", option.points}});
    }
    nlohmann::ordered_json entry = {{"number", criterion.number}, {"name", criterion.name}};
    entry["rrl"] = criterion.level > 0 ? nlohmann::ordered_json(criterion.level) : nullptr;
    entry["applies_to"] = std::string(scoring::ApplicabilityName(criterion.applies_to));
    entry["kind"] = std::string(scoring::OptionKindName(criterion.kind));
    entry["min_points"] = criterion.MinPoints();
    entry["max_points"] = criterion.MaxPoints();
    entry["description"] = criterion.description;
    entry["options"] = std::move(options);
    criteria.push_back(std::move(entry));
  }
  return {{"id", instrument.id},
          {"name", instrument.name},
          {"version", instrument.version},
          {"citation", instrument.citation},
          {"levels", instrument.level_count},
          {"criteria", std::move(criteria)}};
}

int RunRubricCommand(const std::vector<std::string>& args, CommandIo& io) {
  bool table = false;
  std::string id = "rqs2";
  bool id_given = false;
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      io.out << kUsage;
      return kExitOk;
    }
    if (arg == "--table") {
      table = true;
    } else if (!arg.empty() && arg[0] != '-' && !id_given) {
      id = arg;
      id_given = true;
    } else {
      io.err << "rqs rubric: unexpected argument '" << arg << "'\n" << kUsage;
      return kExitBadInput;
    }
  }
  absl::StatusOr<const scoring::Instrument*> instrument = scoring::FindInstrument(id);
  if (!instrument.ok()) {
    io.err << "rqs rubric: " << instrument.status().message() << "\n";
    return kExitBadInput;
  }
  if (table) {
    PrintTable(**instrument, io.out);
  } else {
    io.out << InstrumentToJson(**instrument).dump(2) << "\n";
  }
  return kExitOk;
}

}  // namespace rqs::client
