#!/usr/bin/env python3
"""Compares `rqs agreement` JSON with the reference implementations' JSON.

  agreement_crosscheck.py RQS.json [--statsmodels SM.json] [--psych PSYCH.json]

For every criterion present in both, compares Fleiss' kappa (and Cohen's kappas, when
there are two raters) with statsmodels, and the six ICCs with their F, df1, df2, p and
confidence bounds with R psych. Prints the largest absolute difference per figure and
the criterion where it occurs; exits 1 if a criterion is missing on one side or a
figure is defined on one side only. Plain python3; no packages.
"""

import argparse
import json
import sys

ICC_FIELDS = ("value", "F", "df1", "df2", "p", "ci_low", "ci_high")
KAPPA_FIELDS = ("cohen_kappa", "cohen_kappa_se", "cohen_kappa_ci_low", "cohen_kappa_ci_high",
                "weighted_kappa_linear", "weighted_kappa_quadratic")


def by_criterion(path):
    with open(path) as handle:
        return {entry["criterion"]: entry for entry in json.load(handle)["criteria"]}


class Differences:
    def __init__(self):
        self.worst = {}  # figure -> (abs difference, criterion, rqs value, reference value)
        self.problems = []

    def add(self, figure, criterion, ours, theirs):
        if ours is None and theirs is None:
            return
        if ours is None or theirs is None:
            self.problems.append(f"{criterion}: {figure} is {ours} in rqs, {theirs} in reference")
            return
        diff = abs(ours - theirs)
        if figure not in self.worst or diff > self.worst[figure][0]:
            self.worst[figure] = (diff, criterion, ours, theirs)


def compare(rqs, reference, figures_of, label, out):
    diffs = Differences()
    for criterion, theirs in reference.items():
        ours = rqs.get(criterion)
        if ours is None:
            diffs.problems.append(f"criterion {criterion!r} missing from rqs output")
            continue
        if ours["subjects_used"] != theirs["subjects_used"]:
            diffs.problems.append(f"{criterion}: subjects_used {ours['subjects_used']} in rqs, "
                                  f"{theirs['subjects_used']} in reference")
        for figure, mine, other, *detail in figures_of(ours, theirs):
            diffs.add(figure, " ".join([criterion, *detail]), mine, other)
    out.write(f"\ncross-check vs {label} ({len(reference)} tables):\n")
    out.write(f"  {'figure':<16} {'max |rqs - ref|':>16}  where\n")
    for figure, (diff, criterion, mine, other) in diffs.worst.items():
        out.write(f"  {figure:<16} {diff:>16.3g}  {criterion} (rqs {mine:.17g}, ref {other:.17g})\n")
    overall = max((d[0] for d in diffs.worst.values()), default=0.0)
    out.write(f"  overall max abs difference: {overall:.3g}\n")
    for problem in diffs.problems:
        out.write(f"  PROBLEM: {problem}\n")
    return not diffs.problems


def statsmodels_figures(ours, theirs):
    yield "fleiss_kappa", ours["fleiss_kappa"], theirs["fleiss_kappa"]
    for key in KAPPA_FIELDS:
        if key in theirs:
            yield key, ours.get(key), theirs[key]


def psych_figures(ours, theirs):
    # One line per field over the six ICC types keeps the summary short; the
    # "where" column names the criterion and type of the largest difference.
    for icc_type, reference in theirs["icc"].items():
        for field in ICC_FIELDS:
            yield f"ICC*.{field}", ours["icc"][icc_type][field], reference[field], icc_type


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rqs_json")
    parser.add_argument("--statsmodels")
    parser.add_argument("--psych")
    args = parser.parse_args(argv)
    rqs = by_criterion(args.rqs_json)
    ok = True
    if args.statsmodels:
        ok &= compare(rqs, by_criterion(args.statsmodels), statsmodels_figures, "statsmodels",
                      sys.stdout)
    if args.psych:
        ok &= compare(rqs, by_criterion(args.psych), psych_figures, "R psych ICC()", sys.stdout)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
