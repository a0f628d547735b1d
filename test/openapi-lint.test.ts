import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-openapi-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `redocly lint` with its recommended rules; warnings count as failures too. */
function lint(doc: unknown): { status: number | null; output: string } {
  const file = join(dir, `openapi-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(doc));
  const r = spawnSync(join(root, 'node_modules/.bin/redocly'), ['lint', file, '--max-problems', '50'], {
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('the OpenAPI document', () => {
  it('served by a live server passes Redocly lint with no errors or warnings', async () => {
    const { startServer } = (await import(join(root, 'packages/server/dist/index.js'))) as typeof import('../packages/server/src/index');
    const server = await startServer({ port: 0, dbPath: ':memory:', logLevel: 'silent', printCredentials: false, env: {} });
    try {
      const doc = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as Record<string, unknown>;
      const r = lint(doc);
      expect(r.output).toContain('Your API description is valid');
      expect(r.output).not.toMatch(/You have \d+ warning/);
      expect(r.status).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('the lint catches a nullable schema without a type (the check can fail)', () => {
    const doc = {
      openapi: '3.0.3',
      info: { title: 't', version: '1', license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' } },
      servers: [{ url: '/' }],
      paths: {},
      components: { schemas: { A: { type: 'object' }, B: { nullable: true, allOf: [{ $ref: '#/components/schemas/A' }] } } },
    };
    const r = lint(doc);
    expect(r.output).toContain('nullable-type-sibling');
    expect(r.status).not.toBe(0);
  });
});
