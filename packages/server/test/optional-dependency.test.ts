import { describe, expect, it } from 'vitest';
import { loadOptional, MissingDependencyError } from '../src/optional-dependency';

describe('optional peer dependencies', () => {
  it('loads an installed package only when asked', async () => {
    const { default: pg } = await loadOptional('pg', 'PostgreSQL', () => import('pg'));
    expect(typeof pg.Pool).toBe('function');
  });

  it('turns a missing package into an install hint', async () => {
    const name = 'switchyard-package-that-is-not-installed';
    const load = loadOptional(name, 'SWITCHYARD_REDIS_URL', () => import(/* @vite-ignore */ name));
    await expect(load).rejects.toBeInstanceOf(MissingDependencyError);
    await expect(load).rejects.toThrow(
      `SWITCHYARD_REDIS_URL needs the '${name}' package, which is not installed: run 'npm install ${name}'`,
    );
  });

  it('passes other load failures on unchanged', async () => {
    const boom = new Error('broken build');
    await expect(loadOptional('pg', 'PostgreSQL', () => Promise.reject(boom))).rejects.toBe(boom);
  });

  it('the server bundle does not import pg or ioredis at load time', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const dist = new URL('../dist/', import.meta.url);
    for (const file of readdirSync(dist).filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(new URL(file, dist), 'utf8');
      expect(text, file).not.toMatch(/^import .* from ["'](pg|ioredis)["'];?$/m);
    }
  });
});
