#!/usr/bin/env python3
"""The scikit-learn seed pipeline's model search, timed: 80/20 split (seed 42), KNNImputer(n_neighbors=3),
GridSearchCV(cv=3) over the seed's five grids, refit of the best. Prints one line per grid and the total.

Usage: seed_grid.py [CSV (default Network_Data/phisingData.csv)]
"""
import os
import sys
import time

import numpy as np
from sklearn.ensemble import AdaBoostClassifier, GradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import KNNImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.tree import DecisionTreeClassifier

# One optional CSV that exists: a second argument was ignored, and a missing file was a numpy traceback.
if len(sys.argv) > 2 or (len(sys.argv) == 2 and not os.path.isfile(sys.argv[1])):
    print(f"usage: seed_grid.py [CSV (default Network_Data/phisingData.csv)], not {' '.join(sys.argv[1:])!r}"
             + (f": {sys.argv[1]} is not a file" if len(sys.argv) == 2 else ""), file=sys.stderr)
    sys.exit(2)
path = sys.argv[1] if len(sys.argv) > 1 else "Network_Data/phisingData.csv"
data = np.genfromtxt(path, delimiter=",", skip_header=1)
x, y = data[:, :-1], np.where(data[:, -1] == -1, 0, 1)
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=42)
imputer = KNNImputer(n_neighbors=3).fit(x_train)
x_train, x_test = imputer.transform(x_train), imputer.transform(x_test)
n = [8, 16, 32, 64, 128, 256]
grids = {
    "Random Forest": (RandomForestClassifier(), {"n_estimators": [8, 16, 32, 128, 256]}),
    "Decision Tree": (DecisionTreeClassifier(), {"criterion": ["gini", "entropy", "log_loss"]}),
    "Gradient Boosting": (GradientBoostingClassifier(), {"learning_rate": [.1, .01, .05, .001], "subsample": [0.6, 0.7, 0.75, 0.85, 0.9], "n_estimators": n}),
    "Logistic Regression": (LogisticRegression(), {}),
    "AdaBoost": (AdaBoostClassifier(), {"learning_rate": [.1, .01, .001], "n_estimators": n}),
}
total = time.perf_counter()
best = None
for name, (model, grid) in grids.items():
    clock = time.perf_counter()
    search = GridSearchCV(model, grid, cv=3).fit(x_train, y_train)
    print(f"| {name} grid | {time.perf_counter() - clock:.1f} s |", flush=True)
    model.set_params(**search.best_params_).fit(x_train, y_train)  # the seed refits each model with its best parameters
    score = f1_score(y_test, model.predict(x_test))
    if best is None or score > best[1]:
        best = (name, score)
print(f"| whole seed search + refits | {time.perf_counter() - total:.1f} s (best on test: {best[0]}, F1 {best[1]:.4f}) |")
