"""XGBoost's exact TreeSHAP (pred_contribs) on a model the size of one of NetworkSecurity's explain benchmark models.

Usage: explain_xgboost.py DATA.csv KEY TREES LEAVES ETA SUBSAMPLE, e.g. `... 100x32 100 32 0.2 1.0` (the earlier default model's
shape) or `... 600x64 600 64 0.05 0.8`. Leaf-wise (lossguide) trees on the stratified 80/20 split of the bundled data
(seed 42, by numpy: not the product's exact rows; sizes and shapes are what matter here).
Prints key=value lines (xgb_KEY_...) that scripts/bench/explain.sh pairs with the .NET numbers.
"""
import os
import sys
import time

import numpy as np
import xgboost as xgb

args = sys.argv[1:] + ["Network_Data/phisingData.csv", "600x64", "600", "64", "0.05", "0.8"][len(sys.argv) - 1:]
# Checked: a seventh argument was ignored, and a bad number or a missing file was a traceback.
try:
    if len(args) != 6 or not os.path.isfile(args[0]):
        raise ValueError
    path, key, n_trees, n_leaves, eta, subsample = args[0], args[1], int(args[2]), int(args[3]), float(args[4]), float(args[5])
    if n_trees < 1 or n_leaves < 2 or not 0 < eta <= 1 or not 0 < subsample <= 1:
        raise ValueError
except ValueError:
    print(f"usage: explain_xgboost.py DATA.csv KEY TREES LEAVES ETA SUBSAMPLE (an existing file, a name, whole numbers from 1 and 2, "
             f"numbers in (0, 1]), not {' '.join(sys.argv[1:])!r}", file=sys.stderr)
    sys.exit(2)
data = np.loadtxt(path, delimiter=",", skiprows=1)
x, y = data[:, :30], (data[:, 30] > 0).astype(int)
rng = np.random.default_rng(42)
test = np.concatenate([rng.permutation(np.flatnonzero(y == c))[: int(round(0.2 * np.sum(y == c)))] for c in (0, 1)])
train = np.setdiff1d(np.arange(len(y)), test)
params = {"objective": "binary:logistic", "tree_method": "hist", "grow_policy": "lossguide", "max_leaves": n_leaves, "max_depth": 0,
          "eta": eta, "subsample": subsample, "min_child_weight": 1e-3, "lambda": 1.0, "nthread": 2, "seed": 42}
booster = xgb.train(params, xgb.DMatrix(x[train], label=y[train]), num_boost_round=n_trees)
print(f"xgb_version={xgb.__version__}")
# Leaves counted in the text dump: trees_to_dataframe needs pandas, which Debian's python3-xgboost does not bring
# (an ImportError on a machine with only what explain.sh installs).
print(f"xgb_{key}_leaves_mean={np.mean([tree.count('leaf=') for tree in booster.get_dump()]):.1f}")

row = xgb.DMatrix(x[:1])
booster.predict(row, pred_contribs=True)
calls = 50
start = time.perf_counter()
for _ in range(calls):
    contributions = xgb.DMatrix(x[:1])
    booster.predict(contributions, pred_contribs=True)
print(f"xgb_{key}_single_us={(time.perf_counter() - start) / calls * 1e6:.0f}")

first = xgb.DMatrix(x[:2000])
start = time.perf_counter()
phi = booster.predict(first, pred_contribs=True)
print(f"xgb_{key}_batch2000_s={time.perf_counter() - start:.3f}")
margin = booster.predict(first, output_margin=True)
print(f"xgb_{key}_sum_error={np.max(np.abs(phi.sum(axis=1) - margin)):.1e}")
