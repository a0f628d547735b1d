/** The RE2 engine of `@switchyard/core`, the module the local bundles load on demand. */
export { compileRegex } from 'switchyard:re2-engine';
