#!/usr/bin/env python3
"""Reference values for rollgate-analysis, computed independently with numpy and scipy.

Run from the repository root (any Python 3.10+ with numpy and scipy):

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy scipy
    /tmp/venv/bin/python tests/reference/make_reference.py

It writes one JSON file per test type next to itself. The Rust tests in
crates/analysis/tests/reference.rs recompute every case and require agreement within 1e-6
relative. The seed is fixed, so re-running reproduces the committed files exactly.

scipy has no always-valid sequential test, so the normal-mixture boundary is written out here
from its formula (docs/analysis.md). The always-valid p-value is found independently of the
closed form the Rust code uses: by root-finding (scipy.optimize.brentq) the false-alarm rate at
which the bound touches zero. The quantile bounds expand the bins into raw samples and index
the sorted array.
"""

import json
import math
import pathlib

import numpy as np
import scipy
from scipy import optimize, stats

SEED = 20240605
CASES = 60
HERE = pathlib.Path(__file__).resolve().parent
rng = np.random.default_rng(SEED)


def write(name, cases):
    header = {
        "generator": "tests/reference/make_reference.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "seed": SEED,
    }
    head = json.dumps(header)[:-1]
    body = ",\n".join(json.dumps(case) for case in cases)
    (HERE / f"{name}.json").write_text(f'{head},\n"cases": [\n{body}\n]}}\n')
    print(f"{name}: {len(cases)} cases")


# ── always-valid normal-mixture boundary (one-sided) ──────────────────────────────────────


def rho2(alpha, design):
    l = -2.0 * math.log(alpha)
    return (l + math.log(l + 1.0)) / design


def multiplier(alpha, design, t):
    v = t * rho2(alpha, design)
    return math.sqrt((v + 1.0) / v * 2.0 * math.log(1.0 + math.sqrt(v + 1.0) / (2.0 * alpha)))


def p_value(alpha, design, z, t):
    """The smallest level a at which z standard errors clear the boundary (mixture fixed)."""
    v = t * rho2(alpha, design)

    def excess(log_a):
        a = math.exp(log_a)
        return math.sqrt((v + 1.0) / v * 2.0 * math.log(1.0 + math.sqrt(v + 1.0) / (2.0 * a))) - z

    if z <= 0 or excess(0.0) >= 0:
        return 1.0
    if excess(-740.0) < 0:
        return 0.0
    return math.exp(optimize.brentq(excess, -740.0, 0.0, xtol=1e-15, rtol=1e-15))


def proportion(x, n):
    smoothed = (x + 0.5) / (n + 1.0)
    per_obs = smoothed * (1.0 - smoothed) if x <= n else smoothed
    return x / n, per_obs / n


def sequential(value, variance, t, alpha, design):
    se = math.sqrt(variance)
    z = value / se
    r = se * multiplier(alpha, design, t)
    return {
        "estimate": value,
        "lower": value - r,
        "upper": value + r,
        "p_above": p_value(alpha, design, z, t),
        "p_below": p_value(alpha, design, -z, t),
    }


def random_alpha_design():
    alpha = float(rng.choice([0.001, 0.005, 0.01, 0.05, 0.1]))
    design = float(rng.choice([100.0, 1000.0, 5000.0, 50000.0]))
    return alpha, design


def sequential_proportion_cases():
    """One proportion against a threshold p0: bounds on p, p-values for p - p0."""
    cases = []
    for _ in range(CASES):
        alpha, design = random_alpha_design()
        n = int(rng.integers(20, 200_000))
        p0 = float(rng.choice([0.001, 0.01, 0.05, 0.2, 0.5]))
        p = p0 * float(rng.choice([0.5, 0.9, 1.0, 1.1, 1.5]))
        x = int(rng.binomial(n, p))
        value, var = proportion(x, n)
        bounds = sequential(value, var, n, alpha, design)
        test = sequential(value - p0, var, n, alpha, design)
        cases.append({"successes": x, "trials": n, "threshold": p0, "alpha": alpha,
                      "design_samples": design, "estimate": value, "lower": bounds["lower"],
                      "upper": bounds["upper"], "p_above": test["p_above"],
                      "p_below": test["p_below"]})
    return cases


def sequential_linear_cases():
    """Canary vs baseline proportions: canary - k * baseline - c, the normal form of
    `error_rate > k * baseline.error_rate + c`."""
    cases = []
    for _ in range(CASES):
        alpha, design = random_alpha_design()
        nc, nb = (int(v) for v in rng.integers(50, 100_000, size=2))
        pb = float(rng.choice([0.005, 0.01, 0.05, 0.3]))
        pc = min(0.99, pb * float(rng.choice([0.5, 1.0, 1.5, 3.0, 6.0])))
        xc, xb = int(rng.binomial(nc, pc)), int(rng.binomial(nb, pb))
        k = float(rng.choice([1.0, 1.5, 2.0]))
        c = float(rng.choice([0.0, 0.01, -0.02]))
        vc, varc = proportion(xc, nc)
        vb, varb = proportion(xb, nb)
        value = vc - k * vb - c
        var = varc + k * k * varb
        cases.append({"canary": [xc, nc], "baseline": [xb, nb], "k": k, "c": c,
                      "alpha": alpha, "design_samples": design,
                      **sequential(value, var, nc + nb, alpha, design)})
    return cases


def sequential_mean_cases():
    cases = []
    for _ in range(CASES):
        alpha, design = random_alpha_design()
        n1, n2 = (int(v) for v in rng.integers(5, 5000, size=2))
        a = rng.lognormal(mean=4.0, sigma=0.6, size=n1)
        b = rng.lognormal(mean=4.0 + float(rng.choice([0.0, 0.1, 0.3])), sigma=0.6, size=n2)
        ma, mb = float(a.mean()), float(b.mean())
        m2a, m2b = float(((a - ma) ** 2).sum()), float(((b - mb) ** 2).sum())
        value = mb - ma
        if rng.integers(0, 2):
            value, (n1, ma, m2a), (n2, mb, m2b) = -value, (n2, mb, m2b), (n1, ma, m2a)
        var = m2a / (n1 - 1) / n1 + m2b / (n2 - 1) / n2
        cases.append({"a": [n1, ma, m2a], "b": [n2, mb, m2b], "alpha": alpha,
                      "design_samples": design, **sequential(value, var, n1 + n2, alpha, design)})
    return cases


# ── fixed-sample tests straight from scipy ────────────────────────────────────────────────


def welch_cases():
    cases = []
    for _ in range(CASES):
        n1, n2 = (int(v) for v in rng.integers(2, 3000, size=2))
        a = rng.normal(100.0, float(rng.uniform(5, 30)), size=n1)
        shift = float(rng.choice([-2.0, -0.5, 0.0, 0.5, 2.0]))
        b = rng.normal(100.0 + shift, float(rng.uniform(5, 30)), size=n2)
        out = {}
        for alt, key in [("two-sided", "p_two_sided"), ("greater", "p_greater"), ("less", "p_less")]:
            r = stats.ttest_ind(a, b, equal_var=False, alternative=alt)
            out[key] = float(r.pvalue)
            out["t"], out["df"] = float(r.statistic), float(r.df)
        ma, mb = float(a.mean()), float(b.mean())
        cases.append({"a": [n1, ma, float(((a - ma) ** 2).sum())],
                      "b": [n2, mb, float(((b - mb) ** 2).sum())], **out})
    return cases


def mwu(x, y):
    out = {}
    for alt, key in [("two-sided", "p_two_sided"), ("greater", "p_greater"), ("less", "p_less")]:
        r = stats.mannwhitneyu(x, y, alternative=alt, method="asymptotic", use_continuity=True)
        out[key] = float(r.pvalue)
        out["u1"] = float(r.statistic)
    return out


def mann_whitney_sample_cases():
    cases = []
    for _ in range(CASES):
        n1, n2 = (int(v) for v in rng.integers(3, 600, size=2))
        shift = float(rng.choice([0.0, 0.05, 0.2]))
        x = np.round(rng.lognormal(4.0 + shift, 0.5, size=n1), int(rng.integers(0, 3)))
        y = np.round(rng.lognormal(4.0, 0.5, size=n2), int(rng.integers(0, 3)))
        cases.append({"x": x.tolist(), "y": y.tolist(), **mwu(x, y)})
    return cases


def random_bins(scale):
    k = int(rng.integers(1, 40))
    values = np.unique(np.round(rng.lognormal(np.log(scale), 0.7, size=k), 1))
    counts = rng.integers(0, 300, size=len(values))
    counts[rng.integers(0, len(values))] += 1
    return [[float(v), int(c)] for v, c in zip(values, counts)]


def expand(bins):
    return np.repeat([v for v, _ in bins], [c for _, c in bins])


def mann_whitney_bin_cases():
    cases = []
    for _ in range(CASES):
        x = random_bins(float(rng.choice([90.0, 100.0, 105.0, 120.0])))
        y = random_bins(100.0)
        cases.append({"x": x, "y": y, **mwu(expand(x), expand(y))})
    return cases


def chi_square_cases():
    cases = []
    for _ in range(CASES):
        k = int(rng.integers(2, 5))
        shares = rng.uniform(0.05, 1.0, size=k)
        total = int(rng.integers(10, 1_000_000))
        skew = shares * rng.uniform(0.97, 1.03, size=k)
        observed = rng.multinomial(total, skew / skew.sum())
        expected = observed.sum() * shares / shares.sum()
        r = stats.chisquare(observed, expected)
        cases.append({"observed": observed.tolist(), "shares": shares.tolist(),
                      "statistic": float(r.statistic), "p_value": float(r.pvalue)})
    return cases


def quantile_cases():
    cases = []
    for _ in range(CASES):
        alpha, design = random_alpha_design()
        bins = random_bins(100.0)
        q = float(rng.choice([0.5, 0.9, 0.95, 0.99, 0.999]))
        sample = np.sort(expand(bins))
        n = len(sample)
        w = math.sqrt(q * (1 - q) / n) * multiplier(alpha, design, n)
        lo_rank = math.ceil(n * (q - w))
        hi_rank = math.floor(n * (q + w)) + 1
        cases.append({"bins": bins, "q": q, "alpha": alpha, "design_samples": design,
                      "lower": float(sample[lo_rank - 1]) if lo_rank >= 1 else None,
                      "upper": float(sample[hi_rank - 1]) if hi_rank <= n else None})
    return cases


if __name__ == "__main__":
    write("sequential_proportion", sequential_proportion_cases())
    write("sequential_two_proportion", sequential_linear_cases())
    write("sequential_mean", sequential_mean_cases())
    write("welch", welch_cases())
    write("mann_whitney_samples", mann_whitney_sample_cases())
    write("mann_whitney_bins", mann_whitney_bin_cases())
    write("chi_square", chi_square_cases())
    write("quantile_bounds", quantile_cases())
