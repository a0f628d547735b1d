/**
 * The RE2 engine as a chunk of its own (ESM and CommonJS builds: the bundler that takes the
 * package splits it off). The `<script>` build swaps this module for `import-engine-script.ts`.
 */
export const importEngine = (): Promise<{ compileRegex: (pattern: string) => ((subject: string) => boolean) | null }> => import('./engine');
