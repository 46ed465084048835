#!/usr/bin/env python3
"""Generates the two benchmark ratings files for `rqs agreement`, deterministically.

  gen_ratings.py OUTDIR [--seed N]

writes
  OUTDIR/ratings_100000x5x1.csv   100,000 studies x 5 raters x 1 criterion (500,000 rows)
  OUTDIR/ratings_2000x3x42.csv    2,000 studies x 3 raters x 42 criteria (252,000 rows)

in the long format `study,rater,criterion,value`. Values follow the point scales of
Radiomics Quality Score items (binary 0/1 items, 0/1/2 items, -3/+3 feature reduction,
0/+7 prospective design, -5/+2..+5 validation, 0..4 open science), so the category
structure is realistic: few categories, skewed prevalence, ordinal disagreement. Some
ratings are missing (empty value): 1.5% in the first file, 0.2% in the second, where a
study's total needs all 42 of a rater's ratings.

Each study has a true category per criterion; a rater reports it with a rater- and
criterion-specific accuracy, otherwise an adjacent category (occasionally any category),
with a per-rater lean towards higher or lower scores. The same seed always gives
byte-identical files (Python's Mersenne Twister is stable across versions).

Plain python3; no packages.
"""

import argparse
import os
import random
import sys

# (name, point values, prevalence weights of the true category) in RQS order. The
# 42 criteria of the second file cycle through these, with varying accuracy.
SCALES = [
    ("image_protocol", [0, 1, 2], [0.3, 0.5, 0.2]),
    ("multiple_segmentations", [0, 1], [0.55, 0.45]),
    ("phantom_study", [0, 1], [0.9, 0.1]),
    ("multiple_time_points", [0, 1], [0.85, 0.15]),
    ("feature_reduction", [-3, 3], [0.2, 0.8]),
    ("non_radiomics_features", [0, 1], [0.5, 0.5]),
    ("biological_correlates", [0, 1], [0.8, 0.2]),
    ("cut_off_analyses", [0, 1], [0.6, 0.4]),
    ("discrimination", [0, 1, 2], [0.1, 0.35, 0.55]),
    ("calibration", [0, 1, 2], [0.7, 0.2, 0.1]),
    ("prospective_study", [0, 7], [0.95, 0.05]),
    ("validation", [-5, 2, 3, 4, 5], [0.15, 0.45, 0.25, 0.1, 0.05]),
    ("gold_standard", [0, 2], [0.6, 0.4]),
    ("clinical_utility", [0, 2], [0.5, 0.5]),
    ("cost_effectiveness", [0, 1], [0.97, 0.03]),
    ("open_science", [0, 1, 2, 3, 4], [0.4, 0.25, 0.15, 0.12, 0.08]),
]



def cumulative(weights):
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    out[-1] = 1.0
    return out


def pick(rng, cum):
    u = rng.random()
    for index, bound in enumerate(cum):
        if u < bound:
            return index
    return len(cum) - 1


def rate(rng, true_index, categories, accuracy, lean):
    """One rater's category index for a study whose true index is `true_index`."""
    u = rng.random()
    if u < accuracy:
        return true_index
    if u < accuracy + (1.0 - accuracy) * 0.8:
        # Adjacent category, leaning up or down per rater.
        step = 1 if rng.random() < 0.5 + lean else -1
        index = true_index + step
        if index < 0 or index >= categories:
            index = true_index - step
        return min(max(index, 0), categories - 1)
    return rng.randrange(categories)


def write_file(path, rng, studies, raters, criteria, missing_rate):
    """criteria: list of (criterion id, values, prevalence cumulative, accuracy)."""
    rater_ids = [f"R{r + 1}" for r in range(raters)]
    leans = [rng.uniform(-0.2, 0.2) for _ in range(raters)]
    rater_skill = [rng.uniform(-0.06, 0.06) for _ in range(raters)]
    lines = ["study,rater,criterion,value\n"]
    with open(path, "w", newline="") as out:
        for s in range(studies):
            study_id = f"S{s + 1:06d}"
            truths = [pick(rng, cum) for (_, _, cum, _) in criteria]
            for r, rater_id in enumerate(rater_ids):
                for (criterion_id, values, _, accuracy), truth in zip(criteria, truths):
                    if rng.random() < missing_rate:
                        value = ""
                    else:
                        index = rate(rng, truth, len(values),
                                     min(0.98, accuracy + rater_skill[r]), leans[r])
                        value = str(values[index])
                    lines.append(f"{study_id},{rater_id},{criterion_id},{value}\n")
            if len(lines) >= 65536:
                out.writelines(lines)
                lines.clear()
        out.writelines(lines)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir")
    parser.add_argument("--seed", type=int, default=20240229)
    args = parser.parse_args(argv)
    os.makedirs(args.outdir, exist_ok=True)

    rng = random.Random(args.seed)
    name, values, weights = SCALES[-1]
    write_file(os.path.join(args.outdir, "ratings_100000x5x1.csv"), rng, 100_000, 5,
               [(name, values, cumulative(weights), 0.7)], 0.015)

    rng = random.Random(args.seed + 1)
    criteria = []
    for c in range(42):
        name, values, weights = SCALES[c % len(SCALES)]
        accuracy = 0.55 + 0.4 * rng.random()
        criteria.append((f"q{c + 1:02d}_{name}", values, cumulative(weights), accuracy))
    write_file(os.path.join(args.outdir, "ratings_2000x3x42.csv"), rng, 2_000, 3, criteria, 0.002)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
