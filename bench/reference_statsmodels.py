#!/usr/bin/python3
"""Reference figures for `rqs agreement` from statsmodels (Debian python3-statsmodels).

  reference_statsmodels.py FILE.csv > reference.json

Reads the same long-format ratings file (study,rater,criterion,value; empty value =
missing), and for each criterion (plus the per-study, per-rater total when there are
several criteria, missing if any part is missing) computes over the complete subjects
(rated by every rater), as rqs does:
  - Fleiss' kappa: statsmodels.stats.inter_rater.fleiss_kappa(method="fleiss")
  - Cohen's kappa, unweighted/linear/quadratic (only with exactly two raters):
    statsmodels.stats.inter_rater.cohens_kappa, with its SE and CI
Prints {"criteria": [{"criterion": ..., "fleiss_kappa": ..., ...}]} as JSON. Used by
bench/agreement_compare.sh both to time a reference implementation and to cross-check
the figures. Run with Debian's /usr/bin/python3, which has statsmodels.
"""

import csv
import json
import math
import sys

import numpy as np
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa


def read_long(path):
    """Returns (criteria in order, studies in order, raters in order, {(c, s, r): value})."""
    criteria, studies, raters = {}, {}, {}
    values = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            c = criteria.setdefault(row["criterion"], len(criteria))
            s = studies.setdefault(row["study"], len(studies))
            r = raters.setdefault(row["rater"], len(raters))
            text = row["value"].strip()
            values[(c, s, r)] = float(text) if text else math.nan
    return list(criteria), len(studies), len(raters), values


def wide_tables(criteria, n_studies, n_raters, values):
    """One studies x raters array per criterion (NaN = missing), plus the total.

    Each criterion keeps only the studies and raters that appear in it, as rqs does.
    """
    n_criteria = len(criteria)
    cube = np.full((n_criteria, n_studies, n_raters), math.nan)
    present = np.zeros((n_criteria, n_studies, n_raters), dtype=bool)
    for (c, s, r), v in values.items():
        cube[c, s, r] = v
        present[c, s, r] = True
    tables = []
    for c, name in enumerate(criteria):
        rows = np.flatnonzero(present[c].any(axis=1))
        cols = np.flatnonzero(present[c].any(axis=0))
        tables.append((name, cube[c][np.ix_(rows, cols)]))
    if n_criteria > 1:
        tables.append(("total", cube.sum(axis=0)))  # NaN (missing or absent) propagates.
    return tables


def finite_or_none(x):
    x = float(x)
    return x if math.isfinite(x) else None


def analyse(name, table):
    complete = table[~np.isnan(table).any(axis=1)]
    entry = {"criterion": name, "subjects": int(table.shape[0]),
             "subjects_used": int(complete.shape[0]), "raters": int(table.shape[1])}
    counts, _ = aggregate_raters(complete)
    entry["fleiss_kappa"] = finite_or_none(fleiss_kappa(counts, method="fleiss"))
    if table.shape[1] == 2:
        # Category positions, as rqs weights them (values -> 0..q-1).
        categories = np.unique(complete)
        positions = np.searchsorted(categories, complete)
        square = np.zeros((len(categories), len(categories)))
        np.add.at(square, (positions[:, 0], positions[:, 1]), 1)
        for key, wt in (("cohen_kappa", None), ("weighted_kappa_linear", "linear"),
                        ("weighted_kappa_quadratic", "quadratic")):
            result = cohens_kappa(square, wt=wt)
            entry[key] = finite_or_none(result.kappa)
            entry[key + "_se"] = finite_or_none(result.std_kappa)
            entry[key + "_ci_low"] = finite_or_none(result.kappa_low)
            entry[key + "_ci_high"] = finite_or_none(result.kappa_upp)
    return entry


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    criteria, n_studies, n_raters, values = read_long(argv[0])
    tables = wide_tables(criteria, n_studies, n_raters, values)
    json.dump({"criteria": [analyse(name, table) for name, table in tables]}, sys.stdout,
              indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
