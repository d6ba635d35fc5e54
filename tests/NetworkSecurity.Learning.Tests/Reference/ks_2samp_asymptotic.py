"""Writes ks_2samp_asymptotic.json: scipy 1.10 references for the asymptotic path of ks_2samp(method="auto").

Run with the system Python that has scipy 1.10.1:
    /usr/bin/python3 tests/NetworkSecurity.Learning.Tests/Reference/ks_2samp_asymptotic.py

Three tables:
  two_sample  ks_2samp(a, b) on ternary {-1, 0, 1} columns whose larger side exceeds 10,000 values. A sample is stored
              as its counts of -1, 0 and 1 (the test only depends on them); the arrays scipy saw are those counts
              shuffled with a seeded generator.
  kstwo_sf    kstwo.sf(x, n) directly, on a grid that reaches every branch of scipy.stats._ksstats._kolmogn.
  smirnov     scipy.special.smirnov(n, x) on a grid of n from 1 to 2,000,000.
Each kstwo row (and two-sample case) names the _kolmogn branch it takes, so the test can report errors per branch.
"""

import json
import os

import numpy as np
import scipy
import scipy.special
import scipy.stats as stats


def branch(n, x):
    """The branch of _kolmogn(n, x, cdf=False) (after kstwo's support check), mirroring _ksstats.py."""
    if x >= 1.0:
        return "at_or_above_1"
    if x <= 0.5 / n:
        return "below_support"
    t = n * x
    if t <= 1.0:
        return "ruben_gambino_low"
    if t >= n - 1:
        return "ruben_gambino_high"
    if x >= 0.5:
        return "smirnov_x_ge_half"
    nxsquared = t * x
    if n <= 140:
        if nxsquared <= 0.754693:
            return "n140_durbin"
        if nxsquared <= 4:
            return "n140_pomeranz"
        return "n140_smirnov"
    if nxsquared >= 370.0:
        return "zero"
    if nxsquared >= 2.2:
        return "smirnov"
    if n <= 100000 and n * x**1.5 <= 1.4:
        return "durbin"
    return "pelz_good"


def counts_for(n1, n2, b_cdf, shift):
    """Counts of (-1, 0, 1) for a and b: b has cumulative fractions b_cdf at -1 and 0; a has b's cumulative fraction
    at -1 (rounded to a count) moved by `shift` values, so D ≈ shift/n1, and b's at 0 (or a's at -1 if that is more)."""
    b1 = int(round(b_cdf[0] * n2))
    b2 = int(round(b_cdf[1] * n2))
    a1 = int(round(b1 * n1 / n2)) + shift
    a2 = max(int(round(b2 * n1 / n2)), a1)
    assert 0 <= a1 <= a2 <= n1 and 0 <= b1 <= b2 <= n2
    return [a1, a2 - a1, n1 - a2], [b1, b2 - b1, n2 - b2]


def sample(counts, rng):
    values = np.repeat([-1.0, 0.0, 1.0], counts)
    return rng.permutation(values)


def two_sample_cases():
    cases = []
    spec = [
        # name, n1, n2, cumulative fractions of b at -1 and 0, shift of a's count at -1
        ("product_17688_4422_equal", 17688, 4422, (0.3, 0.55), 0),
        ("product_17688_4422_below_support", 17688, 4422, (0.3, 0.55), 1),
        ("product_17688_4422_ruben_gambino_low", 17688, 4422, (0.3, 0.55), 3),
        ("product_17688_4422_durbin_p_near_1", 17688, 4422, (0.3, 0.55), 40),
        ("product_17688_4422_durbin_edge", 17688, 4422, (0.3, 0.55), 95),
        ("product_17688_4422_pelz_good_web_traffic_like", 17688, 4422, (0.3, 0.55), 223),  # D = 223/17688: the product's web_traffic column
        ("product_17688_4422_pelz_good_p_0_05", 17688, 4422, (0.3, 0.55), 403),
        ("product_17688_4422_smirnov", 17688, 4422, (0.3, 0.55), 530),
        ("product_17688_4422_smirnov_tiny", 17688, 4422, (0.1, 0.55), 5300),
        ("product_17688_4422_zero", 17688, 4422, (0.1, 0.55), 7000),
        ("statistical_report_like_p_1", 17688, 4422, (0.86, 0.86), 4),
        ("n40000_10000_durbin", 40000, 10000, (0.2, 0.7), 80),
        ("n40000_10000_pelz_good", 40000, 10000, (0.2, 0.7), 600),
        ("n40000_10000_smirnov", 40000, 10000, (0.2, 0.7), 800),
        ("n12000_11000_durbin", 12000, 11000, (0.45, 0.5), 30),
        ("n12000_11000_pelz_good", 12000, 11000, (0.45, 0.5), 215),
        ("n12000_11000_smirnov", 12000, 11000, (0.45, 0.5), 300),
        ("n10001_50_n140_durbin", 10001, 50, (0.4, 0.6), 600),
        ("n10001_50_n140_pomeranz", 10001, 50, (0.4, 0.6), 2000),
        ("n10001_50_n140_smirnov", 10001, 50, (0.4, 0.6), 3500),
        ("n10001_50_smirnov_x_ge_half", 10001, 50, (0.2, 0.8), 6000),
        ("n10001_50_ruben_gambino_high", 10001, 50, (0.0, 0.0), 9900),
        ("n20000_100_n140_durbin", 20000, 100, (0.3, 0.6), 1200),
        ("n20000_100_n140_pomeranz", 20000, 100, (0.3, 0.6), 3000),
        ("n20000_100_n140_smirnov", 20000, 100, (0.3, 0.6), 6000),
        ("n20000_100_smirnov_x_ge_half", 20000, 100, (0.3, 0.6), 11000),
        ("n10001_1000_smirnov_x_ge_half_tiny", 10001, 1000, (0.2, 0.8), 5010),
        ("n300000_150000_durbin_largest_n", 300000, 150000, (0.3, 0.5), 150),
        ("n250000_250000_pelz_good_n_above_100000", 250000, 250000, (0.3, 0.5), 200),
    ]
    for k, (name, n1, n2, b_cdf, shift) in enumerate(spec):
        rng = np.random.default_rng(1000 + k)
        a_counts, b_counts = counts_for(n1, n2, b_cdf, shift)
        a, b = sample(a_counts, rng), sample(b_counts, rng)
        res = stats.ks_2samp(a, b, method="auto")
        m, n = sorted([float(n1), float(n2)], reverse=True)
        en = int(np.round(m * n / (m + n)))
        cases.append({
            "name": name,
            "a_counts": a_counts,
            "b_counts": b_counts,
            "n": en,
            "branch": branch(en, float(res.statistic)),
            "statistic": float(res.statistic),
            "pvalue": float(res.pvalue),
        })
    return cases


def kstwo_grid():
    rows = []
    ns = [1, 2, 3, 5, 10, 26, 50, 100, 140, 141, 200, 500, 909, 1000, 3538, 5739, 8000, 10000, 40000, 100000, 100001,
          250000]
    for n in ns:
        xs = {0.3 / n, 0.5 / n, 0.75 / n, 1.0 / n, 1.5 / n, 2.5 / n, 0.3, 0.5, 0.6, 0.9, 1 - 1.5 / n, 1 - 1.0 / n,
              1 - 0.5 / n, 1.0}
        for c in [0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.87, 1.0, 1.1, 1.2, 1.36, 1.45, 1.49, 1.6, 2.0, 3.0, 5.0, 10.0, 13.0,
                  18.7, 19.3]:
            xs.add(c / np.sqrt(n))
        durbin_edge = (1.4 / n) ** (2.0 / 3.0)
        xs.update({0.97 * durbin_edge, 1.03 * durbin_edge})
        for x in sorted(xs):
            if 0.0 < x <= 1.0:
                x = float(x)
                rows.append({"n": n, "x": x, "branch": branch(n, x), "sf": float(stats.kstwo.sf(x, n))})
    return rows


def smirnov_grid():
    rows = []
    ns = [1, 2, 3, 5, 9, 10, 11, 50, 100, 140, 141, 500, 1000, 3538, 10000, 100000, 200000, 2000000]
    for n in ns:
        xs = {0.0, 0.5 / n, 1.0 / n, 1.5 / n, 2.0 / n, 2.5 / n, 3.5 / n, 0.1, 0.3, 0.5, 0.7, 0.9, 1 - 1.0 / n,
              1 - 0.5 / n, 1.0}
        for c in [0.1, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 13.0]:
            xs.add(c / np.sqrt(n))
        for x in sorted(xs):
            if 0.0 <= x <= 1.0:
                x = float(x)
                rows.append({"n": n, "x": x, "sf": float(scipy.special.smirnov(n, x))})
    return rows


def main():
    out = {
        "generator": f"scipy {scipy.__version__} ks_2samp(method='auto'), kstwo.sf, special.smirnov "
                     f"(Reference/ks_2samp_asymptotic.py)",
        "two_sample": two_sample_cases(),
        "kstwo_sf": kstwo_grid(),
        "smirnov": smirnov_grid(),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ks_2samp_asymptotic.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
