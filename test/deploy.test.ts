import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const here = (path: string) => new URL(`../${path}`, import.meta.url).pathname;
const read = (path: string) => readFileSync(here(path), 'utf8');

// promtool comes from Debian's prometheus package (.ci/run installs it).
function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd: here('deploy/prometheus'), encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`promtool is not installed (apt-get install prometheus): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Every switchyard_* metric an expression names, without the histogram suffixes. */
function metricsIn(text: string): string[] {
  const names = text.match(/switchyard_[a-z_]+/g) ?? [];
  return [...new Set(names.map((n) => n.replace(/_(bucket|sum|count)$/, '')))].sort();
}
const documented = metricsIn(read('docs/metrics.md'));

describe('deploy/: Prometheus rules, Grafana dashboard, compose', () => {
  it('the alert rules pass promtool check rules and their unit tests', () => {
    const check = promtool('check', 'rules', 'alerts.yml');
    expect(check.output).toContain('SUCCESS: 5 rules found');
    expect(check.status).toBe(0);
    const test = promtool('test', 'rules', 'alerts.test.yml');
    expect(test.output).toContain('SUCCESS');
    expect(test.status).toBe(0);
    const config = promtool('check', 'config', 'prometheus.yml');
    expect(config.status, config.output).toBe(0);
  });

  it('alerts and dashboard use only metrics the server documents', () => {
    const dashboard = JSON.parse(read('deploy/grafana/switchyard-dashboard.json')) as { panels: { targets: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const name of [...metricsIn(exprs), ...metricsIn(read('deploy/prometheus/alerts.yml'))]) expect(documented).toContain(name);
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(8);
  });

  it('compose runs two instances on one PostgreSQL and Redis behind the proxy', () => {
    const compose = parse(read('deploy/compose.yml'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string>; build?: { dockerfile: string } }>;
    };
    expect(Object.keys(compose.services).sort()).toEqual(['postgres', 'prometheus', 'proxy', 'redis', 'switchyard-1', 'switchyard-2']);
    for (const name of ['switchyard-1', 'switchyard-2']) {
      const env = compose.services[name]?.environment ?? {};
      expect(env.SWITCHYARD_DATABASE_URL).toMatch(/^postgres:\/\/.*@postgres:5432\//);
      expect(env.SWITCHYARD_REDIS_URL).toBe('redis://redis:6379');
      expect(compose.services[name]?.build?.dockerfile).toBe('deploy/Dockerfile');
    }
    const caddy = read('deploy/Caddyfile');
    expect(caddy).toContain('switchyard-1:8787 switchyard-2:8787');
    expect(caddy).toContain('flush_interval -1');
    expect(read('deploy/Dockerfile')).toMatch(/ENTRYPOINT \["node", "dist\/cli.js"\]/);
  });
});
