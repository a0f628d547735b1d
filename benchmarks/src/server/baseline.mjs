/**
 * `BENCH_BASELINE_ROOT`: a built checkout of an earlier release (e.g. a `git worktree` of its
 * commit) whose server a benchmark measures beside this build's in the same run, so the two
 * meet the same machine load and only their ratio is reported.
 */
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The baseline build named by `BENCH_BASELINE_ROOT`, or null without it.
 *
 * @example
 * // BENCH_BASELINE_ROOT=/work/wt/baseline-r1 node --expose-gc src/run-all.mjs results
 * baselineBuild(); // { root: '/work/wt/baseline-r1', dist: '.../packages/server/dist/index.js', label: 'commit f4225b2' }
 * @returns {{ root: string, dist: string, label: string } | null}
 */
export function baselineBuild() {
  const env = process.env.BENCH_BASELINE_ROOT;
  if (env === undefined || env === '') return null;
  const root = path.resolve(env);
  const dist = path.join(root, 'packages/server/dist/index.js');
  if (!fs.existsSync(dist)) throw new Error(`BENCH_BASELINE_ROOT: ${dist} is missing (build that checkout first)`);
  let label = path.basename(root);
  try {
    label = `commit ${execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8' }).trim()}`;
  } catch {
    // not a git checkout: the folder name is the label
  }
  return { root, dist, label };
}
