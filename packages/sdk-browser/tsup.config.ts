import { fileURLToPath } from 'node:url';
import { defineConfig, type Options } from 'tsup';

/**
 * `@switchyard/core` reaches `murmurhash3js-revisited` for non-ASCII input only, through its
 * 32-bit function; the package also carries two 128-bit variants (5 kB minified). The local
 * entry bundles core with `src/murmur-x86-32.ts` in the package's place (checked against the
 * package and spec/hash.json in test/murmur-shim.test.ts).
 */
const murmurShim: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'murmur-x86-32',
  setup(build) {
    const path = fileURLToPath(new URL('./src/murmur-x86-32.ts', import.meta.url));
    build.onResolve({ filter: /^murmurhash3js-revisited$/ }, () => ({ path }));
  },
};

/**
 * `@switchyard/core/protocol` is bundled from core's source: its types are imported with
 * `import type` and vanish, so the remote entry takes the few protocol functions it calls and
 * nothing of core's evaluator (which shares chunks with the protocol in core's own build).
 */
const protocolSource: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'core-protocol-source',
  setup(build) {
    const path = fileURLToPath(new URL('../core/src/protocol/index.ts', import.meta.url));
    build.onResolve({ filter: /^@switchyard\/core\/protocol$/ }, () => ({ path }));
    const core = fileURLToPath(new URL('../core/src/index.ts', import.meta.url));
    build.onResolve({ filter: /^@switchyard\/core$/ }, () => ({ path: core }));
  },
};

/**
 * Core's RE2 engine is loaded on demand in local mode (`src/regex/lazy-engine.ts`): core's
 * operators get the lazy compiler in its place, and `switchyard:re2-engine` names the engine's
 * source for the module that is loaded. `script` swaps the chunk import for a URL import of
 * `switchyard-re2.min.js`, as a `<script>` build has no chunks.
 */
const lazyRegex = (script: boolean): NonNullable<Options['esbuildPlugins']>[number] => ({
  name: 'lazy-re2',
  setup(build) {
    const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));
    build.onResolve({ filter: /^\.\/re2\/engine$/ }, (args) =>
      /core[\\/]src[\\/]operators\.ts$/.test(args.importer) ? { path: src('./src/regex/lazy-engine.ts') } : undefined,
    );
    build.onResolve({ filter: /^switchyard:re2-engine$/ }, () => ({ path: src('../core/src/re2/engine.ts') }));
    if (script) build.onResolve({ filter: /^\.\/import-engine$/ }, () => ({ path: src('./src/regex/import-engine-script.ts') }));
  },
});

// `pnpm build` empties dist first, so neither config cleans (they build in parallel).
export default defineConfig([
  {
    // For bundlers. `./local` carries core (with the shim) so its size is what an app gets;
    // `.` and `./openfeature` never import core at run time.
    entry: { index: 'src/index.ts', local: 'src/local.ts', openfeature: 'src/openfeature/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2020',
    platform: 'browser',
    noExternal: ['@switchyard/core', 'murmurhash3js-revisited'],
    esbuildPlugins: [murmurShim, protocolSource, lazyRegex(false)],
    metafile: true,
  },
  {
    // For a <script> tag: everything inlined and minified, exposed as `window.Switchyard`.
    entry: { switchyard: 'src/index.ts', 'switchyard-local': 'src/local.ts' },
    format: ['iife'],
    globalName: 'Switchyard',
    outExtension: () => ({ js: '.min.js' }),
    noExternal: [/.*/],
    esbuildPlugins: [murmurShim, protocolSource, lazyRegex(true)],
    // esbuild minifies first and terser goes over its output: each finds what the other leaves
    // (about 180 B gzipped of the local entry, which sits at its budget).
    minify: 'terser',
    minifyWhitespace: true,
    minifyIdentifiers: true,
    minifySyntax: true,
    terserOptions: { ecma: 2020, compress: { passes: 5, keep_fargs: false } },
    sourcemap: true,
    target: 'es2022',
    platform: 'browser',
    metafile: true,
  },
  {
    // The RE2 engine the `<script>` local build fetches when a config uses `matches`.
    entry: { 'switchyard-re2': 'src/regex/engine.ts' },
    format: ['esm'],
    outExtension: () => ({ js: '.min.js' }),
    noExternal: [/.*/],
    esbuildPlugins: [lazyRegex(true)],
    minify: 'terser',
    sourcemap: true,
    target: 'es2022',
    platform: 'browser',
    // No metafile: it would replace the first config's metafile-esm.json.
    metafile: false,
  },
]);
