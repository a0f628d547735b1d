/** Resolved by the build (tsup.config.ts) to core's RE2 engine source, which core does not export. */
declare module 'switchyard:re2-engine' {
  export function compileRegex(pattern: string): ((subject: string) => boolean) | null;
}
