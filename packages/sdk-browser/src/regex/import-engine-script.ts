/**
 * The `<script>` build's engine: `switchyard-re2.min.js` (an ES module), fetched from beside the
 * script that loaded the SDK. `document.currentScript` is only set while that script first runs,
 * hence read at module evaluation.
 */
const base = typeof document === 'undefined' ? '' : ((document.currentScript as HTMLScriptElement | null)?.src ?? '');

export const importEngine = (): Promise<{ compileRegex: (pattern: string) => ((subject: string) => boolean) | null }> =>
  import(new URL('switchyard-re2.min.js', base || location.href).href);
