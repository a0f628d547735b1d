export { StatsError, StatsErrorCode } from './errors.js';
export { chiSquareCdf, chiSquarePdf, chiSquareSf } from './distributions/chi-square.js';
export { normalCdf, normalPdf, normalQuantile, normalSf } from './distributions/normal.js';
export {
  betaContinuedFraction,
  erfc,
  logBeta,
  logGamma,
  regularizedGammaP,
  regularizedGammaQ,
  regularizedIncompleteBeta,
} from './distributions/special-functions.js';
export { studentTCdf, studentTPdf, studentTQuantile, studentTSf } from './distributions/t.js';
