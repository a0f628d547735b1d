"""Reference values for the distribution and special functions, from scipy 1.17.

Every value is cross-checked against mpmath at 40 digits before it is written, so a point where
scipy itself is inaccurate is caught here rather than blamed on the TypeScript.
"""

import math

import mpmath as mp
from scipy import special, stats

mp.mp.dps = 40

# A tenth of the 1e-9 the tests demand: scipy is allowed small errors of its own (e.g. t.pdf at large dof).
CROSS_CHECK_RTOL = 1e-10


def check(name, value, exact):
    exact = float(exact)
    if value == exact:
        return
    rel = abs(value - exact) / abs(exact)
    if rel > CROSS_CHECK_RTOL:
        raise AssertionError(f"{name}: scipy {value!r} vs mpmath {exact!r} (rel {rel:.3g})")


def mp_norm_cdf(x):
    return mp.ncdf(mp.mpf(x))


def mp_t_sf(t, v):
    t = mp.mpf(t)
    v = mp.mpf(v)
    if t == 0:
        return mp.mpf(1) / 2
    tail = mp.betainc(v / 2, mp.mpf(1) / 2, 0, v / (v + t * t), regularized=True) / 2
    return tail if t > 0 else 1 - tail


def normal_cases():
    xs = [-37.0, -20.0, -10.0, -5.0, -3.0, -1.96, -1.0, -0.5, -1e-3, 0.0, 0.3, 1.0, 2.0, 3.5, 8.0, 20.0, 37.0]
    ps = [1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.01, 0.02425, 0.025, 0.1, 0.3, 0.5, 0.7, 0.9, 0.975, 0.99, 0.999999]
    out = []
    for x in xs:
        cdf, sf, pdf = float(stats.norm.cdf(x)), float(stats.norm.sf(x)), float(stats.norm.pdf(x))
        check(f"norm.cdf({x})", cdf, mp_norm_cdf(x))
        check(f"norm.sf({x})", sf, mp_norm_cdf(-x))
        check(f"norm.pdf({x})", pdf, mp.npdf(x))
        out.append({"x": x, "cdf": cdf, "sf": sf, "pdf": pdf})
    quantiles = []
    for p in ps:
        q = float(stats.norm.ppf(p))
        check(f"norm.ppf({p})", q, mp.sqrt(2) * mp.erfinv(2 * mp.mpf(p) - 1) if p != 0.5 else 0)
        quantiles.append({"p": p, "quantile": q})
    return {"points": out, "quantiles": quantiles}


def t_cases():
    dofs = [0.5, 1.0, 1.5, 2.0, 3.0, 4.7, 10.0, 30.0, 99.5, 1000.0, 12345.6, 1e6, 1e8, 1e9]
    ts = [-50.0, -7.0, -2.5, -1.7, -1.0, -0.1, 0.0, 0.05, 0.9, 1.7, 1.96, 3.0, 6.0, 12.0, 40.0, 1000.0]
    ps = [1e-12, 1e-6, 0.001, 0.025, 0.05, 0.2, 0.5, 0.6, 0.95, 0.975, 0.995, 1 - 1e-9]
    points, quantiles = [], []
    for v in dofs:
        for t in ts:
            cdf, sf, pdf = float(stats.t.cdf(t, v)), float(stats.t.sf(t, v)), float(stats.t.pdf(t, v))
            if min(cdf, sf, pdf) < 1e-290:
                continue  # below the range where a relative comparison means anything
            check(f"t.sf({t}, {v})", sf, mp_t_sf(t, v))
            check(f"t.cdf({t}, {v})", cdf, mp_t_sf(-t, v))
            exact_pdf = mp.gamma((mp.mpf(v) + 1) / 2) / (mp.sqrt(mp.mpf(v) * mp.pi) * mp.gamma(mp.mpf(v) / 2)) * (
                1 + mp.mpf(t) ** 2 / v
            ) ** (-(mp.mpf(v) + 1) / 2)
            check(f"t.pdf({t}, {v})", pdf, exact_pdf)
            points.append({"t": t, "dof": v, "cdf": cdf, "sf": sf, "pdf": pdf})
        for p in ps:
            q = float(stats.t.ppf(p, v))
            if not math.isfinite(q) or abs(q) > 1e100:
                continue
            # the defining equation, evaluated exactly: the CDF at scipy's quantile must be p
            check(f"t.ppf({p}, {v}) inverts", p, mp_t_sf(-q, v)) if p < 0.5 else check(
                f"t.ppf({p}, {v}) inverts", 1 - p, mp_t_sf(q, v)
            )
            quantiles.append({"p": p, "dof": v, "quantile": q})
    # Either side of the switch between the beta continued fraction and the large-dof expansion
    # (dof >= 1000 and t^2 < (e - 1) dof), and dof far beyond any experiment.
    boundary = [(1000.0, 41.4), (1000.0, 41.5), (999.0, 2.0), (2000.0, 58.0), (2000.0, 59.0), (1e5, 414.0), (1e5, 415.0), (1e12, 2.0), (1e12, 8.0), (1e15, 3.0)]
    for v, t in boundary:
        for s in (t, -t):
            cdf, sf = float(stats.t.cdf(s, v)), float(stats.t.sf(s, v))
            check(f"t.sf({s}, {v})", sf, mp_t_sf(s, v))
            check(f"t.cdf({s}, {v})", cdf, mp_t_sf(-s, v))
            points.append({"t": s, "dof": v, "cdf": cdf, "sf": sf, "pdf": float(stats.t.pdf(s, v))})
    return {"points": points, "quantiles": quantiles}


def chi_square_cases():
    dofs = [1, 2, 3, 4, 5, 9, 19, 50, 99]
    xs = [0.001, 0.5, 1.0, 3.841458820694124, 10.0, 25.0, 60.0, 100.0, 200.0, 500.0]
    out = []
    for k in dofs:
        for x in xs:
            cdf, sf, pdf = float(stats.chi2.cdf(x, k)), float(stats.chi2.sf(x, k)), float(stats.chi2.pdf(x, k))
            if min(cdf, sf, pdf) < 1e-290:
                continue
            check(f"chi2.sf({x}, {k})", sf, mp.gammainc(mp.mpf(k) / 2, mp.mpf(x) / 2, mp.inf, regularized=True))
            check(f"chi2.cdf({x}, {k})", cdf, mp.gammainc(mp.mpf(k) / 2, 0, mp.mpf(x) / 2, regularized=True))
            out.append({"x": x, "dof": k, "cdf": cdf, "sf": sf, "pdf": pdf})
    return {"points": out}


def special_cases():
    log_gamma = []
    for x in [1e-5, 0.1, 0.5, 1.5, 2.5, 3.7, 9.99, 10.0, 25.3, 171.0, 1e4, 1e10]:
        v = float(special.gammaln(x))
        check(f"gammaln({x})", v, mp.loggamma(x))
        log_gamma.append({"x": x, "value": v})
    log_beta = []
    for a, b in [(0.5, 0.5), (2.0, 3.0), (0.5, 12.0), (7.5, 9.5), (15.0, 40.0), (5e8, 0.5), (1e6, 1e6), (3.0, 1e12)]:
        v = float(special.betaln(a, b))
        check(f"betaln({a}, {b})", v, mp.log(mp.beta(a, b)))
        log_beta.append({"a": a, "b": b, "value": v})
    inc_beta = []
    for x, a, b in [(0.2, 2.0, 3.0), (0.5, 0.5, 0.5), (0.01, 5.0, 0.5), (0.99, 5.0, 0.5), (0.3, 40.0, 60.0), (0.7, 100.0, 20.0), (1e-4, 0.1, 10.0)]:
        v = float(special.betainc(a, b, x))
        check(f"betainc({a}, {b}, {x})", v, mp.betainc(a, b, 0, x, regularized=True))
        inc_beta.append({"x": x, "a": a, "b": b, "value": v})
    inc_gamma = []
    for a, x in [(0.5, 0.1), (1.0, 2.0), (2.5, 1.0), (3.0, 10.0), (10.0, 9.0), (25.0, 30.0), (0.5, 40.0), (49.5, 150.0)]:
        p, q = float(special.gammainc(a, x)), float(special.gammaincc(a, x))
        check(f"gammainc({a}, {x})", p, mp.gammainc(a, 0, x, regularized=True))
        check(f"gammaincc({a}, {x})", q, mp.gammainc(a, x, mp.inf, regularized=True))
        inc_gamma.append({"a": a, "x": x, "p": p, "q": q})
    erfc_values = []
    for x in [-3.0, -0.5, 0.0, 1e-8, 0.3, 0.49, 0.5, 1.0, 1.99, 2.0, 2.5, 5.0, 10.0, 26.0]:
        v = float(special.erfc(x))
        check(f"erfc({x})", v, mp.erfc(x))
        erfc_values.append({"x": x, "value": v})
    return {"logGamma": log_gamma, "logBeta": log_beta, "incompleteBeta": inc_beta, "incompleteGamma": inc_gamma, "erfc": erfc_values}


def distribution_reference():
    return {
        "normal": normal_cases(),
        "t": t_cases(),
        "chiSquare": chi_square_cases(),
        "special": special_cases(),
    }
