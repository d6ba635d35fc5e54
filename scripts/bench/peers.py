#!/usr/bin/env python3
"""Train the peers on exactly the splits `evaluate --write-splits DIR` wrote, and print the paired table.

For each DIR/<split>/seed<N>/ (train.csv, test.csv, product.csv) it fits
  - RF-500: sklearn RandomForestClassifier(n_estimators=500, random_state=seed)
  - XGBoost 1.7: tree_method=hist, grow_policy=lossguide, max_leaves=64, max_depth=0 (leaf limit only),
    learning_rate=0.05, n_estimators=600, subsample=0.9, colsample_bytree=0.6, random_state=seed
on train.csv, scores test.csv, and reads the product's test probabilities from product.csv, whose class column says
which label is legitimate (1 in the data set; a schema may label phishing 1). Missing cells are filled by
KNNImputer(n_neighbors=3) fitted on train.csv, as the product's pipeline does. Every model is scored by
the same code and the product's decision rule: legitimate only when P(legitimate) > 0.5. F1 and precision/recall
use legitimate as the positive class, as the seed reports; Brier is on P(legitimate).

Usage: /usr/bin/python3 scripts/bench/peers.py DIR [--seeds 100-107|1,3,7] [--xgb-max-depth N]
One thread per model (n_jobs=1): with OpenMP on a shared, busy 2-core machine two threads were 30x slower.
"""
import argparse
import csv
import os
import re
import statistics
import sys
from fractions import Fraction

try:
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import KNNImputer
    from sklearn.metrics import brier_score_loss, f1_score, roc_auc_score
    from xgboost import XGBClassifier
except ImportError as missing:
    # `python3` is often a pyenv or venv interpreter without Debian's packages: it was a ModuleNotFoundError traceback.
    debian = "install Debian's python3-sklearn and python3-xgboost (bash scripts/bench/accuracy.sh does)"
    sys.exit(f"peers.py: {missing} in {sys.executable}; "
             + (debian if sys.executable == "/usr/bin/python3" else f"run it with /usr/bin/python3 and {debian}, or install numpy, scikit-learn and xgboost for this interpreter"))


def load(path, legitimate):
    """Labels as written, features, and 1 for a legitimate row; `legitimate` maps each label as written to whether it
    is legitimate."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    body = rows[1:]
    unknown = sorted({r[-1] for r in body} - legitimate.keys())
    if unknown:
        sys.exit(f"{path}: label(s) {', '.join(unknown)} are not among product.csv's labels {', '.join(sorted(legitimate))}")
    data = np.array([[float(v) if v != "" else np.nan for v in r[:-1]] for r in body])
    return [r[-1] for r in body], data, np.array([int(legitimate[r[-1]]) for r in body])


def product_probabilities(path):
    """The product's P(legitimate), and which label is legitimate: product.csv's class names it (a schema may label
    phishing 1); splits written before that column have the data set's labels, -1 phishing and 1 legitimate."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    if "class" in (reader.fieldnames or []):
        legitimate = {r["label"]: r["class"] == "legitimate" for r in rows}
    else:
        legitimate = {"-1": False, "1": True}
    return np.array([float(r["legitimate_probability"]) for r in rows]), [r["label"] for r in rows], legitimate


def scores(y, p):
    """F1, Brier, AUC, and the F1 as an exact fraction for the paired wins: scikit-learn's F1s of equal fractions reached
    by different errors (1 of 2 legitimate rows found with 3 false alarms, or both with 8) differ in the last bit, so a
    tie was counted as a win or a loss."""
    predicted = (p > 0.5).astype(int)  # the product's DecisionRule: a tie is phishing
    found = int(((predicted == 1) & (y == 1)).sum())
    exact = Fraction(2 * found, 2 * found + int((predicted != y).sum())) if found else Fraction(0)
    return f1_score(y, predicted, pos_label=1), brier_score_loss(y, p), roc_auc_score(y, p), exact


def seed_set(text):
    """A range like 100-107 or a list like 1,3,7 (as evaluate's --seeds): `1,3` was a ValueError traceback."""
    try:
        if "-" in text and "," not in text:
            low, high = (int(p) for p in text.split("-"))
            if 0 <= low <= high:
                return range(low, high + 1)
        else:
            seeds = frozenset(int(p) for p in text.split(","))
            if min(seeds) >= 0:
                return seeds
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"'{text}' is not a range like 100-107 or a list like 1,3,7 of seeds 0 or more")


def depth(text):
    """XGBoost's max_depth, 0 for no limit: a negative one was an XGBoostError traceback after the data was read."""
    if text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"'{text}' is not a whole number 0 or more (0: no depth limit)")


class Once(argparse.Action):
    """A single-value option given twice is refused: argparse took the last one without a word (--seeds 7 --seeds 8 ran 8)."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = getattr(namespace, "_given", set())
        if self.dest in given:
            parser.error(f"argument {'/'.join(self.option_strings)}: given more than once; give it once")
        namespace._given = given | {self.dest}
        setattr(namespace, self.dest, values)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--xgb-max-depth", type=depth, default=0, action=Once)
    parser.add_argument("--seeds", type=seed_set, action=Once, help="only these seeds, e.g. 100-107 or 1,3,7 (default: every seed folder)")
    args = parser.parse_args()
    kinds = [k for k in ("stratified", "grouped") if os.path.isdir(os.path.join(args.dir, k))]
    if not kinds:
        sys.exit(f"{args.dir}: no stratified/ or grouped/ folder; run evaluate --write-splits {args.dir} first")

    # Every folder checked before any fit: an empty grouped/ (an evaluate stopped before its first seed) or a seed folder
    # without product.csv ended the run after minutes of fitting the stratified splits, with no summary.
    plan = []
    for kind in kinds:
        folder = os.path.join(args.dir, kind)
        seeds = sorted(int(d[4:]) for d in os.listdir(folder) if re.fullmatch(r"seed[0-9]+", d))
        if args.seeds is not None:
            seeds = [s for s in seeds if s in args.seeds]
        if not seeds:  # the summary's mean of nothing was an IndexError traceback
            sys.exit(f"{folder}: no seed<N>/ folder{' of the seeds asked for' if args.seeds is not None else ''}; run evaluate --write-splits {args.dir} first")
        for seed in seeds:
            d = os.path.join(folder, f"seed{seed}")
            for name in ("train.csv", "test.csv", "product.csv"):
                if not os.path.isfile(os.path.join(d, name)):
                    sys.exit(f"{d}: no {name}; evaluate --write-splits writes train.csv, test.csv and product.csv in each seed folder")
        plan.append((kind, folder, seeds))

    print("| split | seed | train / test rows | product F1 | XGBoost F1 | RF-500 F1 | product Brier | XGBoost Brier | RF-500 Brier | product AUC | XGBoost AUC |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    summary = []
    for kind, folder, seeds in plan:
        results = {"product": [], "xgboost": [], "rf500": []}
        for seed in seeds:
            d = os.path.join(folder, f"seed{seed}")
            p_product, product_labels, legitimate = product_probabilities(os.path.join(d, "product.csv"))
            _, x_train, y_train = load(os.path.join(d, "train.csv"), legitimate)
            test_labels, x_test, y_test = load(os.path.join(d, "test.csv"), legitimate)
            if product_labels != test_labels:
                sys.exit(f"{d}: product.csv rows do not match test.csv")
            if np.isnan(x_train).any() or np.isnan(x_test).any():
                # Missing cells: the peers get what the product's pipeline gives its model, KNNImputer(n_neighbors=3)
                # fitted on the training rows (RF cannot take NaN; XGBoost would route it its own way).
                imputer = KNNImputer(n_neighbors=3).fit(x_train)
                x_train, x_test = imputer.transform(x_train), imputer.transform(x_test)
            xgb = XGBClassifier(tree_method="hist", grow_policy="lossguide", max_leaves=64, max_depth=args.xgb_max_depth,
                                learning_rate=0.05, n_estimators=600, subsample=0.9, colsample_bytree=0.6,
                                random_state=seed, n_jobs=1)
            xgb.fit(x_train, y_train)
            p_xgb = xgb.predict_proba(x_test)[:, 1]
            rf = RandomForestClassifier(n_estimators=500, random_state=seed, n_jobs=1)
            rf.fit(x_train, y_train)
            p_rf = rf.predict_proba(x_test)[:, 1]
            for name, p in (("xgboost", p_xgb), ("rf500", p_rf)):  # kept beside the split for paired analyses
                np.savetxt(os.path.join(d, f"{name}.csv"), p, fmt="%.17g", header="legitimate_probability", comments="")
            row = {name: scores(y_test, p) for name, p in (("product", p_product), ("xgboost", p_xgb), ("rf500", p_rf))}
            for name in results:
                results[name].append(row[name])
            print(f"| {kind} | {seed} | {len(y_train)} / {len(y_test)} | {row['product'][0]:.4f} | {row['xgboost'][0]:.4f} | {row['rf500'][0]:.4f} | "
                  f"{row['product'][1]:.5f} | {row['xgboost'][1]:.5f} | {row['rf500'][1]:.5f} | {row['product'][2]:.4f} | {row['xgboost'][2]:.4f} |", flush=True)
        summary.append((kind, seeds, results))

    print()
    print("| split (seeds) | | product | XGBoost 1.7 | RF-500 | product wins vs XGBoost |")
    print("|---|---|---|---|---|---|")
    for kind, seeds, results in summary:
        def stat(name, i, digits):
            values = [r[i] for r in results[name]]
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            return f"{statistics.mean(values):.{digits}f} ± {sd:.{digits}f}"

        f1_wins = sum(p[3] > x[3] for p, x in zip(results["product"], results["xgboost"]))
        f1_ties = sum(p[3] == x[3] for p, x in zip(results["product"], results["xgboost"]))
        brier_wins = sum(p[1] < x[1] for p, x in zip(results["product"], results["xgboost"]))
        label = f"{kind} ({seeds[0]}–{seeds[-1]})" if seeds == list(range(seeds[0], seeds[-1] + 1)) else f"{kind} ({','.join(map(str, seeds))})"
        print(f"| {label} | mean test F1 (legitimate) ± sd | {stat('product', 0, 4)} | {stat('xgboost', 0, 4)} | {stat('rf500', 0, 4)} | {f1_wins} of {len(seeds)} ({f1_ties} ties) |")
        print(f"| {label} | mean test Brier ± sd | {stat('product', 1, 5)} | {stat('xgboost', 1, 5)} | {stat('rf500', 1, 5)} | {brier_wins} of {len(seeds)} |")
        print(f"| {label} | mean test ROC AUC | {stat('product', 2, 4)} | {stat('xgboost', 2, 4)} | {stat('rf500', 2, 4)} | |")


if __name__ == "__main__":
    main()
