"""The `analyze` scenarios: simulated data (seeded numpy generators) and hand-written edge cases."""

import numpy as np

from gen_analyze import Arm, expected

CONVERSION, MEAN = "conversion", "mean"


def from_data(key, mtype, values, pre=None):
    values = np.asarray(values, dtype=float)
    stats = {"count": int(np.count_nonzero(values)), "sum": float(values.sum()), "sumSquares": float((values**2).sum())}
    if pre is not None:
        pre = np.asarray(pre, dtype=float)
        stats["covariate"] = {"sum": float(pre.sum()), "sumSquares": float((pre**2).sum()), "sumProducts": float((values * pre).sum())}
    return stats, Arm(key, mtype, len(values), stats["sum"], stats["sumSquares"], stats.get("covariate"), data=values, pre=pre)


def from_sums(key, mtype, n, total, total_sq, count=None, covariate=None):
    stats = {"sum": total, "sumSquares": total_sq}
    if count is not None:
        stats["count"] = count
    if covariate is not None:
        stats["covariate"] = covariate
    return stats, Arm(key, mtype, n, total, total_sq, covariate)


def conversions(key, rng, n, p):
    return from_data(key, CONVERSION, (rng.random(n) < p).astype(float))


def revenue(key, rng, n, buy_rate, mu, sigma):
    bought = rng.random(n) < buy_rate
    return from_data(key, MEAN, np.where(bought, rng.lognormal(mu, sigma, n), 0.0))


def case(name, metrics, variants, **options):
    """variants: list of (key, weight, units, {metric: (stats, Arm)}); a metric may be missing (no events)."""
    inp = {**options, "metrics": [{"key": k, "type": t} for k, t in metrics], "variants": []}
    arms = {k: [] for k, _ in metrics}
    for key, weight, units, per_metric in variants:
        inp["variants"].append({"key": key, "weight": weight, "units": units, "stats": {m: s for m, (s, _) in per_metric.items()}})
        for m, t in metrics:
            arms[m].append(per_metric[m][1] if m in per_metric else Arm(key, t, units, 0.0, 0.0))
    return {"name": name, "input": inp, "expected": expected(inp, arms)}


def simulated_cases():
    out = []
    rng = np.random.default_rng(20240601)
    metrics = [("purchase", CONVERSION), ("revenue", MEAN)]
    # the example shape: 10k per arm, sequential on with the default N*
    out.append(case("spec-example", metrics, [
        ("control", 50, 10000, {"purchase": from_sums("control", CONVERSION, 10000, 1000.0, 1000.0, 10000), "revenue": revenue("control", rng, 10000, 0.1, 3.0, 0.8)}),
        ("treatment", 50, 10000, {"purchase": from_sums("treatment", CONVERSION, 10000, 1100.0, 1100.0, 10000), "revenue": revenue("treatment", rng, 10000, 0.11, 3.0, 0.8)}),
    ], alpha=0.05, sequentialTuning=5000))
    for seed in range(8):
        r = np.random.default_rng(1000 + seed)
        k = int(r.integers(2, 5))
        weights = [round(float(w), 2) for w in r.dirichlet(np.ones(k)) * 100]
        weights[-1] = round(100 - sum(weights[:-1]), 2)
        base_p = float(r.uniform(0.01, 0.6))
        variants = []
        for i in range(k):
            n = int(r.integers(20, 30000) * max(weights[i], 1) / 100) + 2
            key = "control" if i == 0 else f"v{i}"
            variants.append((key, weights[i], n, {
                "purchase": conversions(key, r, n, base_p * float(r.uniform(0.8, 1.25))),
                "revenue": revenue(key, r, n, base_p, float(r.uniform(0, 4)), float(r.uniform(0.2, 1.5))),
            }))
        opts = {"alpha": [0.05, 0.1, 0.01][seed % 3]}
        if seed % 2 == 0:
            opts["sequentialTuning"] = [5000, 1000, 50000, 5000][seed // 2]
        if seed % 4 == 1:
            opts["prior"] = {"mean": 0.0, "variance": 0.09}
        out.append(case(f"random-{seed}", metrics, variants, **opts))
    # small samples: low Welch dof, where t and normal quantiles differ most
    r = np.random.default_rng(7)
    out.append(case("small-samples", [("score", MEAN), ("click", CONVERSION)], [
        ("control", 50, 3, {"score": from_data("control", MEAN, r.normal(10, 2, 3)), "click": from_data("control", CONVERSION, [1, 0, 0])}),
        ("treatment", 50, 5, {"score": from_data("treatment", MEAN, r.normal(12, 5, 5)), "click": from_data("treatment", CONVERSION, [1, 1, 0, 1, 0])}),
    ], sequential=True))
    # CUPED: metric strongly correlated with its pre-exposure value
    r = np.random.default_rng(99)
    variants = []
    for key, n, lift in [("control", 4000, 0.0), ("treatment", 4100, 0.3), ("treatment-b", 3900, -0.1)]:
        pre = r.gamma(2.0, 5.0, n)
        post = 0.8 * pre + r.normal(2.0 + lift, 3.0, n)
        pre_conv = (r.random(n) < 0.2).astype(float)
        conv = np.where(pre_conv > 0, r.random(n) < 0.5, r.random(n) < 0.1 + lift / 10).astype(float)
        variants.append((key, 100 / 3, n, {"spend": from_data(key, MEAN, post, pre), "buy": from_data(key, CONVERSION, conv, pre_conv)}))
    out.append(case("cuped", [("spend", MEAN), ("buy", CONVERSION)], variants, sequentialTuning=2000))
    # many variants
    r = np.random.default_rng(12)
    keys = ["control"] + [f"arm-{i}" for i in range(1, 12)]
    out.append(case("many-variants", [("purchase", CONVERSION)], [
        (k, 100 / 12, 2000 + 10 * i, {"purchase": conversions(k, r, 2000 + 10 * i, 0.2 + 0.004 * i)}) for i, k in enumerate(keys)
    ]))
    return out


def edge_cases():
    out = []
    metrics = [("purchase", CONVERSION), ("revenue", MEAN)]
    out.append(case("srm-mismatch", metrics, [
        ("control", 50, 10000, {"purchase": from_sums("control", CONVERSION, 10000, 1000.0, 1000.0), "revenue": from_sums("control", MEAN, 10000, 25000.0, 900000.0)}),
        ("treatment", 50, 10500, {"purchase": from_sums("treatment", CONVERSION, 10500, 1090.0, 1090.0), "revenue": from_sums("treatment", MEAN, 10500, 27000.0, 980000.0)}),
    ]))
    out.append(case("zero-conversions-and-all-converted", [("purchase", CONVERSION)], [
        ("control", 34, 500, {"purchase": from_sums("control", CONVERSION, 500, 0.0, 0.0, 0)}),
        ("some", 33, 500, {"purchase": from_sums("some", CONVERSION, 500, 7.0, 7.0, 7)}),
        ("all", 33, 500, {"purchase": from_sums("all", CONVERSION, 500, 500.0, 500.0, 500)}),
    ], sequentialTuning=5000))
    out.append(case("treatment-zero-conversions", [("purchase", CONVERSION)], [
        ("control", 50, 800, {"purchase": from_sums("control", CONVERSION, 800, 12.0, 12.0)}),
        ("treatment", 50, 800, {"purchase": from_sums("treatment", CONVERSION, 800, 0.0, 0.0)}),
    ]))
    # a control mean of exactly 0 with spread (net revenue with refunds): relative undefined, absolute kept
    out.append(case("baseline-zero", [("net", MEAN)], [
        ("control", 50, 400, {"net": from_data("control", MEAN, np.tile([3.0, -3.0, 1.5, -1.5], 100))}),
        ("treatment", 50, 400, {"net": from_data("treatment", MEAN, np.tile([3.5, -2.0, 1.5, -1.0], 100))}),
    ], sequentialTuning=1000, prior={"mean": 0.0, "variance": 0.09}))
    out.append(case("negative-baseline", [("margin", MEAN)], [
        ("control", 50, 1000, {"margin": from_sums("control", MEAN, 1000, -2000.0, 29000.0)}),
        ("treatment", 50, 1000, {"margin": from_sums("treatment", MEAN, 1000, -1500.0, 26000.0)}),
    ], sequentialTuning=5000))
    out.append(case("single-unit-and-empty-holdout", metrics, [
        ("control", 50, 1, {"purchase": from_sums("control", CONVERSION, 1, 1.0, 1.0), "revenue": from_sums("control", MEAN, 1, 20.0, 400.0)}),
        ("treatment", 50, 2, {"purchase": from_sums("treatment", CONVERSION, 2, 1.0, 1.0), "revenue": from_sums("treatment", MEAN, 2, 30.0, 500.0)}),
        ("holdout", 0, 0, {}),
    ], sequentialTuning=5000))
    out.append(case("units-in-zero-weight-variant", [("purchase", CONVERSION)], [
        ("control", 50, 300, {"purchase": from_sums("control", CONVERSION, 300, 30.0, 30.0)}),
        ("treatment", 50, 310, {"purchase": from_sums("treatment", CONVERSION, 310, 40.0, 40.0)}),
        ("paused", 0, 5, {"purchase": from_sums("paused", CONVERSION, 5, 1.0, 1.0)}),
    ]))
    out.append(case("empty-control", [("purchase", CONVERSION)], [
        ("control", 50, 0, {}),
        ("treatment", 50, 0, {}),
    ]))
    # every unit has the same value (0.1): the sums leave a rounding residue that is not variance
    out.append(case("constant-values", [("revenue", MEAN)], [
        ("control", 50, 3, {"revenue": from_sums("control", MEAN, 3, 0.1 + 0.1 + 0.1, 0.01 + 0.01 + 0.01)}),
        ("treatment", 50, 3, {"revenue": from_sums("treatment", MEAN, 3, 0.6, 0.14)}),
    ]))
    out.append(case("very-large-n", metrics, [
        ("control", 50, 100_000_000, {"purchase": from_sums("control", CONVERSION, 100_000_000, 5_000_000.0, 5_000_000.0), "revenue": from_sums("control", MEAN, 100_000_000, 2.5e8, 4.1e10)}),
        ("treatment", 50, 100_010_000, {"purchase": from_sums("treatment", CONVERSION, 100_010_000, 5_004_000.0, 5_004_000.0), "revenue": from_sums("treatment", MEAN, 100_010_000, 2.5004e8, 4.1003e10)}),
    ], sequentialTuning=5000))
    out.append(case("metric-missing-in-control", [("signup", CONVERSION)], [
        ("control", 50, 200, {}),
        ("treatment", 50, 200, {"signup": from_sums("treatment", CONVERSION, 200, 4.0, 4.0)}),
    ]))
    return out


def analyze_reference():
    return {"cases": simulated_cases() + edge_cases()}
