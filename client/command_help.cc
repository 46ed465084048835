#include "client/command_help.h"

#include <utility>

namespace rqs::client {
namespace {

// The offline `rubric` and `score` print their own help. Review-scoped
// commands read the review from --review N or RQS_REVIEW.
constexpr std::pair<std::string_view, std::string_view> kHelp[] = {
    {"agreement",
     "usage: rqs agreement --review N [--bootstrap B] [--seed S]\n"
     "       rqs agreement [--bootstrap B] [--seed S] [--threads T] FILE.csv\n"
     "\n"
     "With --review: the server's inter-rater agreement on the review's round-1\n"
     "(independent) answers; coordinators and observers. Prints per criterion the\n"
     "studies used, raters, percent agreement, Fleiss' kappa and Gwet's AC1 with\n"
     "95 % CIs, Krippendorff's alpha (ordinal) and the number of warnings; the\n"
     "total score's ICC2 and ICC2k (absolute agreement) with CIs; convergence per\n"
     "round; and, for coordinators, each rater's agreement with the consensus.\n"
     "--json prints every statistic the server computed.\n"
     "  --review N     the review (RQS_REVIEW is not read here: without --review\n"
     "                 the command is the offline one below)\n"
     "  --bootstrap B  add bootstrap percentile intervals from B resamples (0..10000)\n"
     "  --seed S       bootstrap seed; the same seed gives the same intervals\n"
     "\n"
     "Without --review: offline statistics of a long-format ratings CSV with the\n"
     "header study,rater,criterion,value ('-' reads standard input); prints JSON.\n"
     "  --threads T    worker threads (default 0: one per core)\n"},
    {"user", "usage: rqs user create NAME [--admin] | rqs user list | rqs user whoami\n"},
    {"token",
     "usage: rqs token issue USER_ID [--label L] [--expires-in-days N]\n"
     "       rqs token list [USER_ID] | rqs token revoke TOKEN_ID\n"},
    {"instruments", "usage: rqs instruments [ID]\n"},
    {"review",
     "usage: rqs review create NAME [--instrument rqs2] [--target-rrl N]\n"
     "       rqs review list | rqs review show ID\n"},
    {"member",
     "usage: rqs member add REVIEW USER_ID coordinator|rater|observer\n"
     "       rqs member remove REVIEW USER_ID | rqs member list REVIEW\n"},
    {"study",
     "usage: rqs study add REVIEW --title T [--authors A] [--year Y] [--doi D]\n"
     "                     [--type HCR|DLR|HYBRID] [--external-id X] [--notes N]\n"
     "       rqs study import REVIEW FILE [--type T] [--format csv|ris]\n"
     "       rqs study list REVIEW\n"},
    {"assign", "usage: rqs assign REVIEW --per-study K | rqs assign REVIEW STUDY:RATER...\n"},
    {"assignments",
     "usage: rqs assignments REVIEW [--all]\n"
     "\n"
     "Your assignments: each study's Delphi round, the state of your assessment,\n"
     "its total, and whether the study needs your answers (round 1: a full\n"
     "assessment; later rounds: the disputed criteria, see `rqs feedback`).\n"
     "--all: every rater's assignments (coordinators).\n"},
    {"template", "usage: rqs template STUDY --review R [--output FILE]\n"},
    {"submit",
     "usage: rqs submit STUDY FILE [--review R] [--round R] [--draft] [--idempotency-key K]\n"
     "\n"
     "Submits (or with --draft saves) an answer file. The round is --round, else the\n"
     "file's \"round\" (written by `rqs feedback --template`), else the study's open\n"
     "round (0 also means the open round). In round 2 and later the file must answer\n"
     "exactly the criteria disputed in the previous round.\n"},
    {"show",
     "usage: rqs show STUDY --review R [--round R]\n"
     "\n"
     "Your assessment of a study with its score report; --round picks a round\n"
     "(default 0: your latest).\n"},
    {"policy",
     "usage: rqs policy show --review N\n"
     "       rqs policy set --review N [--threshold X] [--max-rounds N]\n"
     "                      [--stop-when-stable yes|no] [--level-threshold P]\n"
     "                      [--share-rationales yes|no]\n"
     "\n"
     "The review's consensus policy. `set` (coordinators, before round 1 opens)\n"
     "reads the current policy and changes only the fields given:\n"
     "  --threshold X            share of raters who must give the same answer for a\n"
     "                           criterion to be agreed, in (0.5, 1]; default 0.75\n"
     "  --max-rounds N           highest Delphi round, 1..10; default 3\n"
     "  --stop-when-stable yes|no  end a study when a round changed no answer; default yes\n"
     "  --level-threshold P      percent of a level's points needed to attain it; default 50\n"
     "  --share-rationales yes|no  show the other raters' rationales (anonymised) in\n"
     "                           feedback; default yes\n"},
    {"progress",
     "usage: rqs progress --review N\n"
     "\n"
     "Where each study stands: state (and why it ended), round, raters who submitted\n"
     "in the open round of the panel, criteria agreed after each round, criteria\n"
     "awaiting adjudication; then the convergence per round (share of items agreed).\n"
     "Raters see their assigned studies.\n"},
    {"round",
     "usage: rqs round close --review N (--study S | --all) --round R\n"
     "\n"
     "Closes round R of one study, or of every study whose open round is R\n"
     "(coordinators); raters who had not submitted are recorded as missing. A round\n"
     "also closes by itself when every assigned rater has submitted. Prints per\n"
     "study the criteria agreed and disputed and what happens next.\n"},
    {"feedback",
     "usage: rqs feedback --review N --study S [--template FILE]\n"
     "\n"
     "The anonymised feedback for the study's open round (round 2 or later): per\n"
     "disputed criterion the previous round's answer distribution, your answer and\n"
     "the other raters' as \"Rater A: option:yes \xe2\x80\x94 rationale (evidence)\".\n"
     "  --template FILE  also write an answer file for the open round holding only\n"
     "                   the disputed criteria, pre-filled with your previous\n"
     "                   answers; edit it, then `rqs submit S FILE`\n"},
    {"adjudicate",
     "usage: rqs adjudicate --review N --study S --criterion C (--option ID... | --points P)\n"
     "                      --reason TEXT\n"
     "       rqs adjudicate --review N --study S --file FILE\n"
     "\n"
     "Sets the final answer of a criterion still disputed when the study ended\n"
     "(coordinators); the study is finalised once none is left. --option repeats or\n"
     "takes a comma-separated list (an empty one: no sub-item met). --file sends\n"
     "several decisions as one request, stored together or not at all: a JSON list\n"
     "  [{\"criterion\": 7, \"option_ids\": [\"yes\"], \"reason\": \"...\"},\n"
     "   {\"criterion\": 9, \"points\": 2, \"reason\": \"...\"}]\n"
     "('-' reads standard input).\n"},
    {"consensus",
     "usage: rqs consensus --review N [--study S]\n"
     "\n"
     "The consensus per study: state, rounds, total of max, percent and attained\n"
     "RRL. With --study: its score report and per criterion the answer, points and\n"
     "source (agreed in round r, or adjudicated with the reason). Raters see their\n"
     "assigned studies once finalised.\n"},
    {"summary",
     "usage: rqs summary --review N\n"
     "\n"
     "The review summary over finalised studies, as systematic reviews print it:\n"
     "studies and finalised; consensus score mean \xc2\xb1 SD, median and range in points\n"
     "and percent; attained RRL distribution; fulfilment per criterion; mean\n"
     "compliance per RRL; and (not for raters) agreement and convergence.\n"},
    {"export",
     "usage: rqs export --review N --format long|wide|json [-o FILE]\n"
     "\n"
     "  --format long   CSV, one row per (study, rater, round, criterion) answer plus\n"
     "                  the consensus rows\n"
     "  --format wide   CSV, one row per finalised study\n"
     "  --format json   everything you may see, as one JSON document\n"
     "  -o, --output FILE  write there (atomically: a failed export leaves no partial\n"
     "                  file) instead of standard output\n"
     "Blinded like every read: a rater's export holds only their own answers and\n"
     "the consensus of their finalised studies.\n"},
    {"report",
     "usage: rqs report --review N --html FILE\n"
     "\n"
     "Writes one self-contained HTML page (no external requests): the summary, the\n"
     "criteria-by-studies heatmap, per-study charts and, for coordinators and\n"
     "observers, the agreement figures. Written atomically.\n"},
    {"watch",
     "usage: rqs watch --review N [--after EVENT_ID]\n"
     "\n"
     "Shows the review's events live (coordinators), one line each:\n"
     "  12:03:04 study 7 round 1: submission received (rater 3)\n"
     "  12:04:10 study 7 round 1: round 1 closed\n"
     "  12:04:10 study 7 round 1: adjudication required | finalised\n"
     "with a running tally on a terminal; --json prints one JSON object per line.\n"
     "Runs until Ctrl-C or the server ends the stream; when the server goes away it\n"
     "reconnects (backing off up to 30 s) and resumes after the last event seen.\n"
     "  --after ID  first replay the events after ID (0: the whole history);\n"
     "              default -1: only new events\n"},
};

}  // namespace

std::optional<std::string_view> CommandHelp(std::string_view command) {
  for (const auto& [name, text] : kHelp) {
    if (name == command) return text;
  }
  return std::nullopt;
}

}  // namespace rqs::client
