import { compileRegex, MAX_STATES } from '../re2/engine';
import { checkRegexSyntax } from '../re2/syntax';

/** Longest pattern a `matches` condition may use. */
export const MAX_PATTERN_LENGTH = 256;

/**
 * Why a `matches` pattern cannot be saved, or `null` when it is fine. A pattern is accepted when
 * it is valid RE2 (in the subset Switchyard implements) and compiles in Switchyard's linear-time
 * engine, the one core (hence every SDK) and the server evaluate with; so no pattern makes
 * matching slower than linear in the attribute.
 *
 * @example
 * ```ts
 * unsafePatternReason('^[a-z]+@example\\.com$'); // null
 * unsafePatternReason('(a)\\1'); // 'invalid regular expression at offset 3: backreferences (\1) are not supported: ...'
 * ```
 */
export function unsafePatternReason(pattern: string): string | null {
  if (pattern.length > MAX_PATTERN_LENGTH) return `pattern is longer than ${MAX_PATTERN_LENGTH} characters`;
  const problem = checkRegexSyntax(pattern);
  if (problem !== null) return `invalid regular expression at offset ${problem.at}: ${problem.message}`;
  if (compileRegex(pattern) === null) {
    return `pattern too large: it compiles to more than ${MAX_STATES} states (lower its repeat counts; nested counts multiply)`;
  }
  return null;
}
