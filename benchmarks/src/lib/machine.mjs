import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

/**
 * What every results section prints about where it ran.
 * @returns {{ cpu: string, cores: number, memoryGiB: number, node: string, v8: string, platform: string, date: string }}
 */
export function machine() {
  const cpus = os.cpus();
  return {
    cpu: (cpus[0]?.model ?? 'unknown').trim(),
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
  };
}

/** One line for a section header. */
export function machineLine(m = machine()) {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; Node ${m.node} (V8 ${m.v8}); ${m.date.slice(0, 19).replace('T', ' ')} UTC`;
}

const require = createRequire(import.meta.url);

/**
 * The installed version of a package, found by walking up from its resolved entry point (some
 * packages do not export `./package.json`).
 * @param {string} name
 * @returns {string}
 */
export function packageVersion(name) {
  let dir;
  try {
    dir = path.dirname(require.resolve(name));
  } catch {
    return 'not installed';
  }
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (pkg.name === name) return pkg.version;
    }
    const up = path.dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}
