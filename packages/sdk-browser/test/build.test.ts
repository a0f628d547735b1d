import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const dist = join(pkg, 'dist');
const check = (dir?: string) =>
  spawnSync(process.execPath, [join(pkg, 'scripts/check-size.mjs'), ...(dir ? [dir] : [])], { encoding: 'utf8' });
const gz = (file: string) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const temps: string[] = [];
const copyOfDist = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdk-browser-dist-'));
  temps.push(dir);
  cpSync(dist, dir, { recursive: true });
  return dir;
};

afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('builds', () => {
  it('keeps the remote entry within 6 kB and the local entry within 10 kB (min+gzip), the RE2 engine apart', () => {
    expect(gz('switchyard.min.js')).toBeLessThanOrEqual(6000);
    expect(gz('switchyard-local.min.js')).toBeLessThanOrEqual(10_000);
    expect(gz('switchyard-re2.min.js')).toBeLessThanOrEqual(1500);
    const r = check();
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('size check passed');
  });

  it('fails the size check over budget', () => {
    const dir = copyOfDist();
    const noise = Array.from({ length: 4000 }, (_, i) => ((i * 2654435761) >>> 0).toString(36)).join('');
    writeFileSync(join(dir, 'switchyard.min.js'), readFileSync(join(dir, 'switchyard.min.js'), 'utf8') + `;var __noise="${noise}";`);
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/switchyard\.min\.js: \d+ B min\+gzip is over the 6000 B budget/);
  });

  it('fails the size check when the remote entry pulls in core, or an entry a Node built-in', () => {
    const dir = copyOfDist();
    const iife = JSON.parse(readFileSync(join(dir, 'metafile-iife.json'), 'utf8'));
    iife.outputs['dist/switchyard.min.js'].inputs['../core/dist/index.js'] = { bytesInOutput: 1 };
    iife.outputs['dist/switchyard-local.min.js'].inputs['node:crypto'] = { bytesInOutput: 1 };
    writeFileSync(join(dir, 'metafile-iife.json'), JSON.stringify(iife));
    const esm = JSON.parse(readFileSync(join(dir, 'metafile-esm.json'), 'utf8'));
    esm.outputs['dist/index.js'].imports.push({ path: '@switchyard/core', kind: 'import-statement', external: true });
    // The RE2 engine made a static part of the local entry.
    const engine = esm.outputs['dist/local.js'].imports.find((i: { kind: string }) => i.kind === 'dynamic-import');
    engine.kind = 'import-statement';
    writeFileSync(join(dir, 'metafile-esm.json'), JSON.stringify(esm));
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('switchyard.min.js includes ../core/dist/index.js');
    expect(r.stderr).toContain('switchyard-local.min.js includes the Node built-in node:crypto');
    expect(r.stderr).toContain('dist/index.js imports @switchyard/core at run time');
    expect(r.stderr).toMatch(/dist\/local\.js loads \S*re2\/engine\.ts up front/);
  });

  it("ships ESM without core's evaluator in the remote entry (only its protocol), and an IIFE that defines window.Switchyard", () => {
    const esm = JSON.parse(readFileSync(join(dist, 'metafile-esm.json'), 'utf8'));
    const inputs = (out: string): string[] =>
      Object.keys(esm.outputs[out].inputs).concat(
        esm.outputs[out].imports.filter((i: { external: boolean }) => !i.external).flatMap((i: { path: string }) => inputs(i.path)),
      );
    expect(inputs('dist/index.js').filter((i) => i.includes('core/') && !i.includes('core/src/protocol/'))).toEqual([]);
    expect(inputs('dist/index.js').some((i) => i.includes('core/src/protocol/'))).toBe(true);
    // The local entry bundles core (from source, with its protocol); the RE2 engine is a chunk it loads on demand.
    expect(inputs('dist/local.js').some((i) => i.includes('core/src/evaluate.ts'))).toBe(true);
    expect(inputs('dist/local.js').some((i) => i.includes('core/src/re2/engine.ts'))).toBe(true);
    // A bare context with web globals only (core builds a TextEncoder at load): no require,
    // process or Buffer, so loading cannot touch Node.
    const run = (file: string) =>
      Object.keys(runInNewContext(`${readFileSync(join(dist, file), 'utf8')}\n;Switchyard`, { TextEncoder }))
        .sort()
        .join(',');
    expect(run('switchyard.min.js')).toBe('SwitchyardError,SwitchyardErrorCode,createBrowserClient');
    expect(run('switchyard-local.min.js')).toBe('SwitchyardError,SwitchyardErrorCode,createLocalClient');
  });
});
