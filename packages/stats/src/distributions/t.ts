import { StatsError, StatsErrorCode } from '../errors.js';
import { normalCdf, normalPdf, normalQuantile, normalSf } from './normal.js';
import { betaContinuedFraction, logBeta, logGamma, regularizedGammaQ } from './special-functions.js';

/**
 * From this many degrees of freedom on, and while t^2 < (e - 1) dof, the tail comes from the
 * large-a expansion below: the beta continued fraction is ill-conditioned there (its first partial
 * denominators cancel to ~t^2/dof), losing about log10(dof) digits.
 */
const LARGE_DOF = 1000;
const EXPANSION_TERMS = 30;

/**
 * Coefficients d_n of (sinh(s/2) / (s/2))^(-1/2) = sum d_n s^(2n), by J. C. P. Miller's recurrence
 * for a power of a series; sinh(s/2)/(s/2) = sum s^(2k) / (4^k (2k+1)!).
 */
const SINH_POWER_COEFFICIENTS: readonly number[] = (() => {
  const beta = -0.5;
  const g = [1];
  for (let k = 1; k < EXPANSION_TERMS; k++) g.push((g[k - 1] as number) / (4 * (2 * k) * (2 * k + 1)));
  const f = [1];
  for (let n = 1; n < EXPANSION_TERMS; n++) {
    let sum = 0;
    for (let k = 1; k <= n; k++) sum += ((beta + 1) * k - n) * (g[k] as number) * (f[n - k] as number);
    f.push(sum / n);
  }
  return f;
})();

/**
 * P(T > t) for large dof by the expansion of I_x(a, b) for large a and small b (Temme;
 * DiDonato and Morris's BGRAT): with a = dof/2, b = 1/2, nu = a + (b - 1)/2 and z = -nu ln x,
 * substituting x' = exp(-w/nu) in the beta integral gives
 *   I_x(a, b) = sum_n d_n nu^(-2n) Gamma(b + 2n, z) / (B(a, b) nu^b),
 * where Gamma(., .) is the upper incomplete gamma function. Every quantity is well conditioned.
 */
function largeDofUpperTail(logX: number, dof: number): number {
  const a = dof / 2;
  const b = 0.5;
  const nu = a - 0.25;
  const logNu = Math.log(nu);
  const z = -nu * logX;
  let sum = 0;
  for (let n = 0; n < EXPANSION_TERMS; n++) {
    const shape = b + 2 * n;
    const term = (SINH_POWER_COEFFICIENTS[n] as number) * Math.exp(logGamma(shape) - 2 * n * logNu) * regularizedGammaQ(shape, z);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return 0.5 * Math.exp(-logBeta(a, b) - b * logNu) * sum;
}

function assertDof(dof: number): void {
  if (!(dof > 0)) throw new StatsError(StatsErrorCode.INVALID_ARGUMENT, `degrees of freedom must be > 0, got ${dof}`);
}

function assertT(t: number): void {
  if (Number.isNaN(t)) throw new StatsError(StatsErrorCode.INVALID_ARGUMENT, 't must not be NaN');
}

/**
 * `x = dof / (dof + t^2)`, `y = 1 - x` and their logarithms, each formed without cancellation or
 * overflow: with dof in the millions, `dof/2 * ln x` needs `ln x` to full relative precision,
 * which `Math.log(x)` of a rounded `x` near 1 would not give.
 */
function betaArguments(t: number, dof: number): { x: number; y: number; logX: number; logY: number } {
  const t2 = t * t;
  if (t2 < dof) {
    const r = t2 / dof;
    const log1pR = Math.log1p(r);
    return { x: 1 / (1 + r), y: r / (1 + r), logX: -log1pR, logY: Math.log(r) - log1pR };
  }
  const r = dof / t2;
  const log1pR = Math.log1p(r);
  const logR = Math.log(dof) - 2 * Math.log(Math.abs(t));
  return { x: r / (1 + r), y: 1 / (1 + r), logX: logR - log1pR, logY: -log1pR };
}

/** P(T > t) for t >= 0, through I_x(dof/2, 1/2) with the expansion that converges on each side. */
function upperTail(t: number, dof: number): number {
  if (t === 0) return 0.5;
  if (t === Infinity) return 0;
  if (dof === Infinity) return normalSf(t);
  const a = dof / 2;
  const b = 0.5;
  const { x, y, logX, logY } = betaArguments(t, dof);
  if (dof >= LARGE_DOF && logX > -1) return largeDofUpperTail(logX, dof);
  const front = Math.exp(a * logX + b * logY - logBeta(a, b));
  if (x < (a + 1) / (a + b + 2)) return (0.5 * front * betaContinuedFraction(a, b, x)) / a;
  return 0.5 * (1 - (front * betaContinuedFraction(b, a, y)) / b);
}

/**
 * Density of Student's t distribution with `dof` degrees of freedom (`Infinity` gives the normal).
 *
 * @example
 * ```ts
 * studentTPdf(0, 1); // 0.318309886183791 = 1 / pi
 * ```
 */
export function studentTPdf(t: number, dof: number): number {
  assertT(t);
  assertDof(dof);
  if (dof === Infinity) return normalPdf(t);
  if (!Number.isFinite(t)) return 0;
  const { logX } = betaArguments(t, dof);
  // (1 + t^2/dof)^(-(dof+1)/2) / (sqrt(dof) B(dof/2, 1/2)), with -ln(1 + t^2/dof) = ln x.
  return Math.exp(((dof + 1) / 2) * logX - 0.5 * Math.log(dof) - logBeta(dof / 2, 0.5));
}

/**
 * CDF of Student's t distribution, `P(T <= t)`. Relative precision is kept in the lower tail.
 *
 * @example
 * ```ts
 * studentTCdf(2.0, 10); // 0.963305982614630
 * ```
 */
export function studentTCdf(t: number, dof: number): number {
  assertT(t);
  assertDof(dof);
  if (dof === Infinity) return normalCdf(t);
  return t < 0 ? upperTail(-t, dof) : 1 - upperTail(t, dof);
}

/**
 * Survival function of Student's t distribution, `P(T > t)`, precise in the upper tail.
 * A two-sided p-value is `2 * studentTSf(Math.abs(t), dof)`.
 *
 * @example
 * ```ts
 * 2 * studentTSf(2.5, 30); // 0.0181156490680667
 * ```
 */
export function studentTSf(t: number, dof: number): number {
  assertT(t);
  assertDof(dof);
  if (dof === Infinity) return normalSf(t);
  return t < 0 ? 1 - upperTail(-t, dof) : upperTail(t, dof);
}

/** A first guess for the t with upper tail q: Cornish-Fisher near the centre, the power-law tail beyond. */
function initialGuess(q: number, dof: number): number {
  const z = -normalQuantile(q);
  const z2 = z * z;
  const cornishFisher = z + (z * (z2 + 1)) / (4 * dof) + (z * (5 * z2 * z2 + 16 * z2 + 3)) / (96 * dof * dof);
  // P(T > t) ~ dof^(dof/2 - 1) t^-dof / B(dof/2, 1/2) for large t.
  const powerLaw = Math.exp((Math.log(dof) * (dof / 2 - 1) - logBeta(dof / 2, 0.5) - Math.log(q)) / dof);
  const guess = Math.max(cornishFisher, Number.isFinite(powerLaw) ? powerLaw : 0);
  return guess > 0 && Number.isFinite(guess) ? guess : 1;
}

/** Solves upperTail(t) = q for t > 0: Newton on (ln t, ln tail), kept inside a bracket that bisection shrinks. */
function solveUpperTail(q: number, dof: number): number {
  let lo = 0;
  let hi = Infinity;
  let t = initialGuess(q, dof);
  for (let i = 0; i < 200; i++) {
    const tail = upperTail(t, dof);
    if (tail === q) return t;
    if (tail > q) lo = t;
    else hi = t;
    const density = studentTPdf(t, dof);
    let next = density > 0 && tail > 0 ? t * Math.exp(((Math.log(tail) - Math.log(q)) * tail) / (t * density)) : NaN;
    if (!(next > lo && next < hi)) next = hi === Infinity ? 2 * t : lo === 0 ? hi / 2 : Math.sqrt(lo * hi);
    if (Math.abs(next - t) <= 1e-15 * t) return next;
    t = next;
  }
  return t;
}

/**
 * Quantile (inverse CDF) of Student's t distribution. `p = 0` and `p = 1` give `-Infinity` and `Infinity`.
 *
 * @example
 * ```ts
 * studentTQuantile(0.975, 10); // 2.22813885198627
 * ```
 */
export function studentTQuantile(p: number, dof: number): number {
  if (!(p >= 0 && p <= 1)) throw new StatsError(StatsErrorCode.INVALID_ARGUMENT, `p must be in [0, 1], got ${p}`);
  assertDof(dof);
  if (dof === Infinity) return normalQuantile(p);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  // 1 - p is exact for p >= 1/2, so solving in the smaller tail loses nothing.
  return p < 0.5 ? -solveUpperTail(p, dof) : solveUpperTail(1 - p, dof);
}
