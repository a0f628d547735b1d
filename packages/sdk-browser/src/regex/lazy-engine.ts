import { importEngine } from './import-engine';

type Compile = (pattern: string) => ((subject: string) => boolean) | null;

let engine: Compile | undefined;
let loading: Promise<void> | undefined;
let wanted = false;

/**
 * Core's compiler of `matches` patterns as the local bundles see it: the RE2 engine is a tenth of
 * the local bundle and most configs never use `matches`, so it is fetched the first time a
 * compiled config holds a pattern ({@link regexEnginePending} tells the local source to wait
 * for {@link loadRegexEngine} before it evaluates). A test run before then throws, which core
 * reports as an `ERROR` detail with the default value, never as a wrong answer.
 *
 * @example
 * ```ts
 * const test = compileRegex('^beta-');
 * await loadRegexEngine();
 * test('beta-7'); // true
 * ```
 */
export function compileRegex(pattern: string): (subject: string) => boolean {
  wanted = true;
  let test: ((subject: string) => boolean) | undefined;
  return (subject) => {
    // A bare sentinel: core's evaluate catches it; an Error would cost bytes in the bundle.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (!engine) throw 0;
    // A pattern the engine refuses (too many states) never matches, as in core.
    test ??= engine(pattern) ?? (() => false);
    return test(subject);
  };
}

/** True when a compiled config holds a `matches` pattern and the engine has not arrived yet. */
export function regexEnginePending(): boolean {
  return wanted && !engine;
}

/** Fetches the engine once; a failed fetch is tried again by the next call. */
export function loadRegexEngine(): Promise<void> {
  return (loading ??= importEngine().then(
    (m) => {
      engine = m.compileRegex;
    },
    (e: unknown) => {
      loading = undefined;
      throw e;
    },
  ));
}
