import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
let dir: string;
let server: ChildProcess;
let printed: { url: string; password: string; serverKey: string; clientKey: string };

/** The code blocks of one language in a Markdown file, in order. */
function codeBlocks(file: string, lang: string): string[] {
  const md = readFileSync(join(root, file), 'utf8');
  return [...md.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/** What the docs leave for the reader to fill in, filled in from the demo server's first start. */
function substitute(text: string): string {
  return text
    .replaceAll('http://127.0.0.1:8787', printed.url)
    .replaceAll('<printed password>', printed.password)
    .replaceAll('<server key>', printed.serverKey)
    .replaceAll('<server SDK key>', printed.serverKey)
    .replaceAll('<server or client key>', printed.clientKey)
    .replaceAll('<client key>', printed.clientKey);
}

/** Runs shell blocks in one bash (variables carry over, as for a reader); returns each block's output. */
function runShell(blocks: string[], prelude = ''): string[] {
  const marker = '@@block-end@@';
  const script = prelude + blocks.map((b) => `${substitute(b)}\necho; echo '${marker}'\n`).join('');
  const r = spawnSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  expect(r.error).toBeUndefined();
  return r.stdout.split(marker).slice(0, blocks.length);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-docs-'));
  const env = { ...process.env };
  delete env.SWITCHYARD_ADMIN_PASSWORD;
  server = spawn(
    process.execPath,
    [join(root, 'packages/server/dist/cli.js'), 'serve', '--demo', '--port', '0', '--db', join(dir, 'demo.db')],
    {
      env: { ...env, SWITCHYARD_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  server.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  server.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolve, reject) => {
    server.on('exit', (code) => reject(new Error(`the demo server exited (${code}): ${out}`)));
    const poll = setInterval(() => {
      if (/listening on http:\/\/\S+/.test(out)) {
        clearInterval(poll);
        resolve();
      }
    }, 50);
  });
  printed = {
    url: /listening on (http:\/\/[^\s)]+)/.exec(out)![1]!,
    password: /admin login\s+\S+ \/ (\S+)/.exec(out)![1]!,
    serverKey: /server SDK key\s+(sy_srv_\S+)/.exec(out)![1]!,
    clientKey: /client SDK key\s+(sy_cli_\S+)/.exec(out)![1]!,
  };
}, 120_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('docs run as written against a fresh demo server', () => {
  it('docs/api.md: every step of the walkthrough succeeds and answers as the text says', () => {
    const blocks = codeBlocks('docs/api.md', 'sh');
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    const outputs = runShell(blocks);
    outputs.forEach((o, i) => {
      if (blocks[i]!.includes('curl')) expect(o.trim(), `block ${i + 1} printed nothing:\n${blocks[i]}`).not.toBe('');
      expect(o, `block ${i + 1} got an error:\n${blocks[i]}\n${o}`).not.toMatch(/"error":\{"code"/);
    });
    // A comment showing an answer (`# {"data":...`, `# 202 {...}`) shows what the command printed,
    // up to a `...` or a ` -- ` remark.
    blocks.forEach((b, i) => {
      for (const m of b.matchAll(/^# (?:\d{3} )?(\{"data".*)$/gm)) {
        for (const part of m[1]!.split(' -- ')[0]!.split('...')) expect(outputs[i], `block ${i + 1}`).toContain(part.replace(/^,|,$/g, ''));
      }
    });
    const step = (text: string) => outputs[blocks.findIndex((b) => b.includes(text))]!;
    expect(step('/auth/login')).toContain('"email":"admin@switchyard.local"');
    expect(step('/api/v1/users')).toContain('"key":"sy_srv_');
    expect(step('"key": "dark-mode"')).toContain('"type":"feature-flag"');
    expect(step('/promote')).toContain('"key":"dark-mode"');
    expect(step('/evaluate?user_id=')).toContain('"key":"dark-mode"');
    expect(step('"key": "banner-cta"')).toContain('"status":"RUNNING"');
    expect(step('/sdk/v1/events')).toContain('{"data":{"accepted":2,"duplicates":0}}');
    expect(step('format=csv')).toContain('metric,role,variant,units');
    expect(readFileSync(join(dir, 'forest.svg'), 'utf8')).toMatch(/^<svg/);
    expect(step('/sdk/v1/config')).toMatch(/^etag: "v\d+"/im);
    expect(step('/sdk/v1/config')).toContain('event: put');
    expect(step('audit-log')).toContain('"action":"feature-flag.create"');
  });

  it('README: the curl snippets answer as shown, and the Node SDK snippet runs and exits', async () => {
    // The install and start blocks are what a reader runs first; the test runs against what they start.
    const curls = codeBlocks('README.md', 'sh').filter((b) => b.includes('curl'));
    expect(curls.length).toBeGreaterThanOrEqual(2);
    const token = JSON.parse(
      runShell([
        `curl -s -X POST ${printed.url}/api/v1/auth/login -H 'content-type: application/json' -d '{"email":"admin@switchyard.local","password":"${printed.password}"}'`,
      ])[0]!,
    ).data.access_token as string;
    const outputs = runShell(curls.map((b) => b.replaceAll('<token>', token)));
    const evaluate = outputs[curls.findIndex((b) => b.includes('/evaluate'))]!;
    // The comment under the command shows the start of the answer.
    const shown = /# (\{"data":\{[^}]*\})/.exec(curls.find((b) => b.includes('/evaluate'))!)![1]!;
    expect(evaluate.startsWith(shown), `${evaluate} vs ${shown}`).toBe(true);
    expect(readFileSync(join(dir, 'forest.svg'), 'utf8')).toMatch(/^<svg/);

    // The Node SDK snippet as a script of the SDK's own package (so its import resolves), with
    // the key it reads from the environment; it must finish by itself after close().
    const ts = codeBlocks('README.md', 'ts').find((b) => b.includes('@switchyard/sdk-node'))!;
    const js = substitute(ts).replace(/!([,)])/g, '$1');
    const file = join(root, 'packages/sdk-node', `.readme-snippet-${process.pid}.mjs`);
    writeFileSync(
      file,
      `${js}\nconsole.log(JSON.stringify({ value: client.boolean('new-checkout', { key: 'user-1' }, false), stats: client.stats().events }));\n`,
    );
    try {
      const r = spawnSync(process.execPath, [file], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, SWITCHYARD_SERVER_KEY: printed.serverKey },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim().split('\n').pop()!).stats.queued).toBe(0);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
