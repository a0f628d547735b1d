"""End-to-end reference cases for `analyze`, computed by an independent implementation of
GrowthBook's gbstats formulas in numpy/scipy (written from the formulas, not from the TypeScript).

Where a case comes from simulated per-unit data, means, variances and covariances are computed from
the data arrays (np.mean, np.var(ddof=1), np.cov), not from the sums the TypeScript receives.
"""

import math

import numpy as np
from scipy import stats

SRM_THRESHOLD = 0.001
DEFAULT_TUNING = 5000.0
CANCELLATION_TOLERANCE = 1e-10


# ----------------------------------------------------------------------------- arms


class Arm:
    """One arm of one metric: n plus either raw per-unit data or only sums."""

    def __init__(self, key, mtype, n, total, total_sq, covariate=None, data=None, pre=None):
        self.key, self.mtype, self.n = key, mtype, n
        self.total, self.total_sq = total, total_sq
        self.covariate = covariate  # dict(sum, sumSquares, sumProducts) or None
        self.data, self.pre = data, pre

    def mean(self):
        if self.n == 0:
            return None
        return float(np.mean(self.data)) if self.data is not None else self.total / self.n

    def variance(self):
        """gbstats: p(1-p) for proportions, n-1 sample variance for means (None when not estimable)."""
        if self.n == 0:
            return None
        m = self.mean()
        if self.mtype == "conversion":
            return m * (1 - m)
        if self.n < 2:
            return None
        if self.data is not None:
            return float(np.var(self.data, ddof=1))
        centred = self.total_sq - self.total * self.total / self.n
        return 0.0 if centred <= CANCELLATION_TOLERANCE * abs(self.total_sq) else centred / (self.n - 1)


def pooled_theta(mtype, c, t):
    """gbstats compute_theta: covariance / covariate variance over the pooled units of both arms."""
    n = c.n + t.n
    if c.data is not None:
        y = np.concatenate([c.data, t.data])
        x = np.concatenate([c.pre, t.pre])
        post_var = float(np.mean(y) * (1 - np.mean(y))) if mtype == "conversion" else float(np.var(y, ddof=1))
        pre_var = float(np.var(x, ddof=1))
        cov = float(np.cov(y, x, ddof=1)[0, 1])
    else:
        sy, syy = c.total + t.total, c.total_sq + t.total_sq
        sx = c.covariate["sum"] + t.covariate["sum"]
        sxx = c.covariate["sumSquares"] + t.covariate["sumSquares"]
        sxy = c.covariate["sumProducts"] + t.covariate["sumProducts"]
        post_var = (sy / n) * (1 - sy / n) if mtype == "conversion" else (syy - sy * sy / n) / (n - 1)
        pre_var = (sxx - sx * sx / n) / (n - 1)
        cov = (sxy - sx * sy / n) / (n - 1)
    if pre_var <= 0 or post_var <= 0:
        return 0.0
    return cov / pre_var


def adjusted(arm, theta):
    """gbstats RegressionAdjustedStatistic: mean - theta * pre mean; var + theta^2 var_x - 2 theta cov."""
    if arm.data is not None:
        x_mean = float(np.mean(arm.pre))
        x_var = float(np.var(arm.pre, ddof=1))
        cov = float(np.cov(arm.data, arm.pre, ddof=1)[0, 1])
    else:
        n = arm.n
        x_mean = arm.covariate["sum"] / n
        x_var = (arm.covariate["sumSquares"] - arm.covariate["sum"] ** 2 / n) / (n - 1)
        cov = (arm.covariate["sumProducts"] - arm.covariate["sum"] * arm.total / n) / (n - 1)
    var = (arm.variance() or 0.0) + theta**2 * x_var - 2 * theta * cov
    return arm.mean() - theta * x_mean, max(var, 0.0)


# ----------------------------------------------------------------------------- comparison


def t_test(estimate, var, dof, alpha):
    se = math.sqrt(var)
    half = stats.t.ppf(1 - alpha / 2, dof) * se
    p = min(1.0, 2 * stats.t.sf(abs(estimate / se), dof))
    return {"se": se, "dof": dof, "ci": [estimate - half, estimate + half], "pValue": float(p)}


def sequential(estimate, var, n, alpha, tuning):
    """GrowthBook SequentialTwoSidedTTest (Waudby-Smith et al. eq. 9 / 155)."""
    rho = math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)
    s2 = var * n
    half = math.sqrt(s2) * math.sqrt((2 * (n * rho**2 + 1) / (n**2 * rho**2)) * math.log(math.sqrt(n * rho**2 + 1) / alpha))
    st2 = estimate**2 * n / var
    tr2p1 = n * rho**2 + 1
    # p = 1 / e-value; written as exp(-x) * sqrt(.) because the e-value itself overflows for large effects
    p = math.exp(-(rho**2) * st2 / (2 * tr2p1)) * math.sqrt(tr2p1)
    return {"ci": [estimate - half, estimate + half], "pValue": min(1.0, p)}


NO_TEST = {"se": None, "dof": None, "ci": None, "pValue": None}


def compare(mtype, c, t, alpha, tuning, prior):
    cuped = None
    if c.covariate is not None and c.n > 0 and t.n > 0:
        theta = pooled_theta(mtype, c, t)
        mc, vc = adjusted(c, theta)
        mt, vt = adjusted(t, theta)
        cuped = {"theta": theta, "control": {"mean": mc, "variance": vc}, "treatment": {"mean": mt, "variance": vt}}
    else:
        mc, vc = c.mean(), c.variance() or 0.0
        mt, vt = t.mean(), t.variance() or 0.0
    out = {
        "variant": t.key, "absoluteLift": None, "relativeLift": None, "error": "ZERO_VARIANCE",
        "relative": dict(NO_TEST), "absolute": dict(NO_TEST),
        "chanceToBeatControl": None, "credibleInterval": None, "posterior": None, "cuped": cuped,
    }
    if tuning is not None:
        out["sequential"] = {"ci": None, "pValue": None, "absolute": {"ci": None, "pValue": None}}
    if mc is None or mt is None:
        return out
    raw_c, raw_t = c.mean(), t.mean()  # gbstats unadjusted_mean scales the relative lift
    out["absoluteLift"] = mt - mc
    if raw_c != 0:
        out["relativeLift"] = (mt - mc) / abs(raw_c)
    if not (vc > 0 and vt > 0):
        return out
    nc, nt = c.n, t.n
    dof = (vt / nt + vc / nc) ** 2 / ((vt / nt) ** 2 / (nt - 1) + (vc / nc) ** 2 / (nc - 1))
    abs_var = vt / nt + vc / nc
    out["error"] = None
    out["absolute"] = t_test(mt - mc, abs_var, dof, alpha)
    if tuning is not None:
        out["sequential"]["absolute"] = sequential(mt - mc, abs_var, nc + nt, alpha, tuning)
    if raw_c == 0:
        out["error"] = "BASELINE_ZERO"
        return out
    rel = out["relativeLift"]
    rel_var = vt / (nt * raw_c**2) + vc * raw_t**2 / (nc * raw_c**4)
    out["relative"] = t_test(rel, rel_var, dof, alpha)
    if tuning is not None:
        out["sequential"].update(sequential(rel, rel_var, nc + nt, alpha, tuning))
    post_mean, post_var = rel, rel_var
    if prior is not None:
        prec = 1 / rel_var + 1 / prior["variance"]
        post_mean = (rel / rel_var + prior["mean"] / prior["variance"]) / prec
        post_var = 1 / prec
    sd = math.sqrt(post_var)
    out["chanceToBeatControl"] = float(stats.norm.sf(0, post_mean, sd))
    out["credibleInterval"] = [float(stats.norm.ppf(alpha / 2, post_mean, sd)), float(stats.norm.ppf(1 - alpha / 2, post_mean, sd))]
    out["posterior"] = {"mean": post_mean, "se": sd}
    return out


def srm(units, weights):
    dof = sum(1 for w in weights if w > 0) - 1
    if any(u > 0 and w == 0 for u, w in zip(units, weights)):
        return {"chiSquare": None, "dof": dof, "pValue": 0.0, "mismatch": True}
    obs = np.array([u for u, w in zip(units, weights) if w > 0], dtype=float)
    w = np.array([w for w in weights if w > 0], dtype=float)
    if obs.sum() == 0 or dof < 1:
        return {"chiSquare": None, "dof": dof, "pValue": None, "mismatch": False}
    res = stats.chisquare(obs, obs.sum() * w / w.sum())
    return {"chiSquare": float(res.statistic), "dof": dof, "pValue": float(res.pvalue), "mismatch": bool(res.pvalue < SRM_THRESHOLD)}


# ----------------------------------------------------------------------------- analyze


def expected(case, arms):
    """arms[metric_key] = list of Arm in variant order."""
    alpha = case.get("alpha", 0.05)
    included = case.get("sequential", "sequentialTuning" in case)
    tuning = case.get("sequentialTuning", DEFAULT_TUNING) if included else None
    prior = case.get("prior")
    metrics = {}
    for m in case["metrics"]:
        a = arms[m["key"]]
        summaries = []
        for v, arm in zip(case["variants"], a):
            stats_ = v["stats"].get(m["key"]) or {}
            summaries.append({"key": v["key"], "units": v["units"], "count": stats_.get("count", v["units"]), "mean": arm.mean(), "variance": arm.variance()})
        metrics[m["key"]] = {
            "key": m["key"], "type": m["type"], "cuped": a[0].covariate is not None, "variants": summaries,
            "comparisons": [compare(m["type"], a[0], t, alpha, tuning, prior) for t in a[1:]],
        }
    return {
        "alpha": alpha,
        "sequential": {"included": included, "tuning": tuning},
        "prior": prior,
        "srm": srm([v["units"] for v in case["variants"]], [v["weight"] for v in case["variants"]]),
        "metrics": metrics,
    }
