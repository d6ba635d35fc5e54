#!/usr/bin/env python3
"""Train the peers on exactly the splits `evaluate --write-splits DIR` wrote, and print evaluate's table for every model
(a row per seed and model, then each model's mean row) and the paired summary (F1, Brier, AUC, wins against XGBoost).

For each DIR/<split>/seed<N>/ (train.csv, test.csv, product.csv) it fits
  - RF-500: sklearn RandomForestClassifier(n_estimators=500, random_state=seed)
  - XGBoost 1.7: tree_method=hist, grow_policy=lossguide, max_leaves=64, max_depth=0 (leaf limit only),
    learning_rate=0.05, n_estimators=600, subsample=0.9, colsample_bytree=0.6, random_state=seed
on train.csv, scores test.csv, and reads the product's test probabilities from product.csv, whose class column says
which label is legitimate (1 in the data set; a schema may label phishing 1). Missing cells are filled by
KNNImputer fitted on train.csv, as the product's pipeline does, with the neighbours evaluate used (settings.json's
imputer_neighbors, Pipeline:ImputerNeighbors; 3, the product's default, for a folder without settings.json). Every model is scored by
the same code and the product's decision rule: legitimate only when P(legitimate) > 0.5. F1 and precision/recall
use legitimate as the positive class, as the seed reports; Brier is on P(legitimate).

Usage: /usr/bin/python3 scripts/bench/peers.py DIR [--seeds 100-107|1,3,7] [--xgb-max-depth N]
One thread per model (n_jobs=1): with OpenMP on a shared, busy 2-core machine two threads were 30x slower.
"""
import argparse
import csv
import json
import os
import re
import statistics
import sys
import time
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


def read_csv(path):
    """The header and rows of one of a split's files, or one line naming what is wrong with it (exit 1): an unreadable
    or empty file, text that is not UTF-8, or a row with another number of fields than the header was a traceback."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            rows = [(reader.line_num, r) for r in reader]
    except UnicodeDecodeError as bad:
        sys.exit(f"{path}: not UTF-8 text (byte {bad.start}); evaluate --write-splits writes UTF-8 CSV")
    except (OSError, csv.Error) as bad:
        sys.exit(f"{path}: cannot be read: {bad}")
    if not rows:
        sys.exit(f"{path}: empty, not even a header")
    header = rows[0][1]
    for line, row in rows[1:]:
        if len(row) != len(header):
            sys.exit(f"{path} line {line}: {len(row)} fields, where the header has {len(header)}")
    if len(rows) == 1:
        sys.exit(f"{path}: a header and no rows")
    return header, rows[1:]


def load(path, legitimate):
    """Header, labels as written, features (NaN for an empty cell), and 1 for a legitimate row; `legitimate` maps each
    label as written to whether it is legitimate. The label is the last column, as evaluate --write-splits writes it."""
    header, rows = read_csv(path)
    unknown = sorted({r[-1] for _, r in rows} - legitimate.keys())
    if unknown:
        sys.exit(f"{path}: label(s) {', '.join(unknown)} are not among product.csv's labels {', '.join(sorted(legitimate))}")
    data = np.empty((len(rows), len(header) - 1))
    for i, (line, row) in enumerate(rows):
        for c, cell in enumerate(row[:-1]):
            try:
                value = float(cell) if cell.strip() != "" else np.nan
            except ValueError:
                value = None
            if value is None or np.isinf(value) or (np.isnan(value) and cell.strip() != ""):
                sys.exit(f"{path} line {line}, column {header[c]}: '{cell}' is not a number (an empty cell is a missing value)")
            data[i, c] = value
    return header, [r[-1] for _, r in rows], data, np.array([int(legitimate[r[-1]]) for _, r in rows])


def product_probabilities(path):
    """The product's P(legitimate), the labels as written and which label is legitimate: product.csv's class names it (a
    schema may label phishing 1); splits written before that column have the data set's labels, -1 phishing and 1
    legitimate. A missing column or a probability that is not one was a KeyError or ValueError traceback."""
    header, rows = read_csv(path)
    for column in ("label", "legitimate_probability"):
        if column not in header:
            sys.exit(f"{path}: no {column} column; evaluate --write-splits writes location,class,label,legitimate_probability")
    label, probability = header.index("label"), header.index("legitimate_probability")
    role = header.index("class") if "class" in header else None
    legitimate = {} if role is not None else {"-1": False, "1": True}
    p = np.empty(len(rows))
    for i, (line, row) in enumerate(rows):
        if role is not None:
            if row[role] not in ("phishing", "legitimate"):
                sys.exit(f"{path} line {line}: class '{row[role]}' is neither phishing nor legitimate")
            if legitimate.setdefault(row[label], row[role] == "legitimate") != (row[role] == "legitimate"):
                sys.exit(f"{path} line {line}: label {row[label]} is {row[role]} here and not on an earlier line")
        try:
            p[i] = float(row[probability])
        except ValueError:
            p[i] = np.nan
        if not 0 <= p[i] <= 1:
            sys.exit(f"{path} line {line}: legitimate_probability '{row[probability]}' is not a probability from 0 to 1")
    if len(set(legitimate.values())) < 2:
        # Said of train.csv before ("label(s) -1 are not among product.csv's labels 1"), which holds both.
        sys.exit(f"{path}: every test row is {'legitimate' if any(legitimate.values()) else 'phishing'}; a split's test rows need both classes")
    return p, [r[label] for _, r in rows], legitimate


def imputer_neighbors(d):
    """The KNN imputer's neighbours evaluate used for this split (settings.json, which evaluate --write-splits writes), or
    3, the product's default, when the folder has none: peers.py imputed with 3 whatever Pipeline:ImputerNeighbors was."""
    path = os.path.join(d, "settings.json")
    if not os.path.isfile(path):
        return 3
    try:
        with open(path, encoding="utf-8") as f:
            neighbors = json.load(f).get("imputer_neighbors")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError) as bad:
        sys.exit(f"{path}: cannot be read as evaluate --write-splits writes it ({{\"imputer_neighbors\": N}}): {bad}")
    if type(neighbors) is not int or not 1 <= neighbors <= 50:
        sys.exit(f"{path}: imputer_neighbors {json.dumps(neighbors)} is not a whole number from 1 to 50 (Pipeline:ImputerNeighbors)")
    return neighbors


def read_split(d):
    """One seed folder's rows, checked before any model is fitted: train.csv and test.csv with the same columns, test.csv
    paired row by row with product.csv, and both classes in each (XGBoost refuses one class; AUC needs both)."""
    p_product, product_labels, legitimate = product_probabilities(os.path.join(d, "product.csv"))
    train_header, _, x_train, y_train = load(os.path.join(d, "train.csv"), legitimate)
    test_header, test_labels, x_test, y_test = load(os.path.join(d, "test.csv"), legitimate)
    if test_header != train_header:
        # Fitted on one column order and scored on another, the peers were scored silently on the wrong features.
        if len(test_header) != len(train_header):
            sys.exit(f"{d}: test.csv has {len(test_header)} columns and train.csv {len(train_header)}; they must be the same columns")
        c = next(c for c, (a, b) in enumerate(zip(test_header, train_header)) if a != b)
        sys.exit(f"{d}: column {c + 1} of test.csv is {test_header[c]} and of train.csv {train_header[c]}; they must be the same columns in the same order")
    if len(product_labels) != len(test_labels):
        sys.exit(f"{d}: product.csv has {len(product_labels)} rows and test.csv {len(test_labels)}; they pair row by row")
    for i, (ours, theirs) in enumerate(zip(product_labels, test_labels)):
        if ours != theirs:
            sys.exit(f"{d}: product.csv rows do not match test.csv: row {i + 1} is labelled {ours} in one and {theirs} in the other")
    for name, y in (("train.csv", y_train), ("test.csv", y_test)):
        if y.min() == y.max():
            sys.exit(f"{os.path.join(d, name)}: every row is {'legitimate' if y[0] else 'phishing'}; a split needs both classes")
    return p_product, x_train, y_train, x_test, y_test, imputer_neighbors(d)


def scores(y, p):
    """F1, Brier, AUC, and the F1 as an exact fraction for the paired wins: scikit-learn's F1s of equal fractions reached
    by different errors (1 of 2 legitimate rows found with 3 false alarms, or both with 8) differ in the last bit, so a
    tie was counted as a win or a loss."""
    predicted = (p > 0.5).astype(int)  # the product's DecisionRule: a tie is phishing
    found = int(((predicted == 1) & (y == 1)).sum())
    exact = Fraction(2 * found, 2 * found + int((predicted != y).sum())) if found else Fraction(0)
    return f1_score(y, predicted, pos_label=1), brier_score_loss(y, p), roc_auc_score(y, p), exact, f1_score(y, predicted, pos_label=0)


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


def sd(values):
    """Sample standard deviation (n - 1), 0 for one value, as evaluate reports it."""
    return statistics.stdev(values) if len(values) > 1 else 0.0


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
    # Every file read and checked too before any fit: a bad cell or a mismatched file in the last seed was a traceback
    # after minutes of fitting the others. Read again when its seed is fitted, so that the rows of one split at a time
    # are held (60 splits of the bundled data held at once were 300 MB).
    for kind, folder, seeds in plan:
        for seed in seeds:
            read_split(os.path.join(folder, f"seed{seed}"))

    # evaluate's table, one row per model: the same columns in the same order (seed, split, the model, then test F1
    # (legitimate), AUC, Brier, F1 (phishing) and seconds), so the product's rows can be laid beside evaluate's own.
    # The fourth column is the rows (evaluate's is the CV score, which the peers do not have).
    models = (("product", "product"), ("xgboost", "XGBoost 1.7"), ("rf500", "RF-500"))
    print("| seed | split | model | train / test rows | test F1 (legitimate) | test AUC | test Brier | test F1 (phishing) | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    summary = []
    for kind, folder, seeds in plan:
        results = {"product": [], "xgboost": [], "rf500": []}
        for seed in seeds:
            d = os.path.join(folder, f"seed{seed}")
            p_product, x_train, y_train, x_test, y_test, neighbors = read_split(d)
            if np.isnan(x_train).any() or np.isnan(x_test).any():
                # Missing cells: the peers get what the product's pipeline gives its model, a KNN imputer with evaluate's
                # neighbours fitted on the training rows (RF cannot take NaN; XGBoost would route it its own way).
                missing = int(np.isnan(x_train).sum() + np.isnan(x_test).sum())
                print(f"{d}: {missing} missing cell(s) imputed by KNN with {neighbors} neighbours, as evaluate did", file=sys.stderr)
                imputer = KNNImputer(n_neighbors=neighbors).fit(x_train)
                x_train, x_test = imputer.transform(x_train), imputer.transform(x_test)
            seconds = {"product": "—"}  # evaluate's table has the product's
            clock = time.perf_counter()
            xgb = XGBClassifier(tree_method="hist", grow_policy="lossguide", max_leaves=64, max_depth=args.xgb_max_depth,
                                learning_rate=0.05, n_estimators=600, subsample=0.9, colsample_bytree=0.6,
                                random_state=seed, n_jobs=1)
            xgb.fit(x_train, y_train)
            p_xgb = xgb.predict_proba(x_test)[:, 1]
            seconds["xgboost"] = f"{time.perf_counter() - clock:.1f}"
            clock = time.perf_counter()
            rf = RandomForestClassifier(n_estimators=500, random_state=seed, n_jobs=1)
            rf.fit(x_train, y_train)
            p_rf = rf.predict_proba(x_test)[:, 1]
            seconds["rf500"] = f"{time.perf_counter() - clock:.1f}"
            for name, p in (("xgboost", p_xgb), ("rf500", p_rf)):  # kept beside the split for paired analyses
                np.savetxt(os.path.join(d, f"{name}.csv"), p, fmt="%.17g", header="legitimate_probability", comments="")
            row = {name: scores(y_test, p) for name, p in (("product", p_product), ("xgboost", p_xgb), ("rf500", p_rf))}
            for name, title in models:
                results[name].append(row[name])
                f1, brier, auc, _, f1_phishing = row[name]
                print(f"| {seed} | {kind} | {title} | {len(y_train)} / {len(y_test)} | {f1:.4f} | {auc:.4f} | {brier:.5f} | {f1_phishing:.4f} | {seconds[name]} |", flush=True)
        for name, title in models:
            # evaluate's mean row: every metric with its sd.
            f1, brier, auc, _, f1_phishing = ([r[i] for r in results[name]] for i in range(5))
            print(f"| mean ± sd | {kind} | {title} | | {statistics.mean(f1):.4f} ± {sd(f1):.4f} | {statistics.mean(auc):.4f} ± {sd(auc):.4f} | "
                  f"{statistics.mean(brier):.5f} ± {sd(brier):.5f} | {statistics.mean(f1_phishing):.4f} ± {sd(f1_phishing):.4f} | |")
        summary.append((kind, seeds, results))

    print()
    print("| split (seeds) | | product | XGBoost 1.7 | RF-500 | product wins vs XGBoost |")
    print("|---|---|---|---|---|---|")
    for kind, seeds, results in summary:
        def stat(name, i, digits):
            values = [r[i] for r in results[name]]
            return f"{statistics.mean(values):.{digits}f} ± {sd(values):.{digits}f}"

        f1_wins = sum(p[3] > x[3] for p, x in zip(results["product"], results["xgboost"]))
        f1_ties = sum(p[3] == x[3] for p, x in zip(results["product"], results["xgboost"]))
        brier_wins = sum(p[1] < x[1] for p, x in zip(results["product"], results["xgboost"]))
        label = f"{kind} ({seeds[0]}–{seeds[-1]})" if seeds == list(range(seeds[0], seeds[-1] + 1)) else f"{kind} ({','.join(map(str, seeds))})"
        print(f"| {label} | mean test F1 (legitimate) ± sd | {stat('product', 0, 4)} | {stat('xgboost', 0, 4)} | {stat('rf500', 0, 4)} | {f1_wins} of {len(seeds)} ({f1_ties} ties) |")
        print(f"| {label} | mean test Brier ± sd | {stat('product', 1, 5)} | {stat('xgboost', 1, 5)} | {stat('rf500', 1, 5)} | {brier_wins} of {len(seeds)} |")
        print(f"| {label} | mean test ROC AUC ± sd | {stat('product', 2, 4)} | {stat('xgboost', 2, 4)} | {stat('rf500', 2, 4)} | |")


if __name__ == "__main__":
    main()
