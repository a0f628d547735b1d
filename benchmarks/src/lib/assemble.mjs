import fs from 'node:fs';
import path from 'node:path';

/**
 * Where a notes file's opening part ends: the lines above it go under the section's heading,
 * before the latest run's figures; the lines below it (or the whole file without it) after them.
 */
export const LATEST_RUN_MARKER = '<!-- latest run -->';

const NOTES_SUFFIX = '.notes.md';

/**
 * The section names in `resultsDir`: every `<name>.md` a benchmark wrote, and every
 * `<name>.notes.md` (hand-recorded notes) even without a generated part yet.
 * @param {string} resultsDir
 * @returns {string[]} unordered
 */
export function sectionNames(resultsDir) {
  if (!fs.existsSync(resultsDir)) return [];
  const names = new Set();
  for (const f of fs.readdirSync(resultsDir)) {
    if (f.endsWith(NOTES_SUFFIX)) names.add(f.slice(0, -NOTES_SUFFIX.length));
    else if (f.endsWith('.md')) names.add(f.slice(0, -3));
  }
  return [...names];
}

/**
 * One section of RESULTS.md: the benchmark's latest output (`<name>.md`, rewritten whole by each
 * run) with the hand-recorded notes (`<name>.notes.md`, never written by a benchmark) around it,
 * so re-running a benchmark or re-assembling keeps every note.
 *
 * @example
 * // results/ingestion.md: "## Event ingestion\n\nMeasured ...\n\n| run | ... |"
 * // results/ingestion.notes.md: "Current state: ...\n\n<!-- latest run -->\n\n### Older runs\n..."
 * sectionText('benchmarks/results', 'ingestion');
 * // "## Event ingestion\n\nCurrent state: ...\n\nMeasured ...\n\n| run | ... |\n\n### Older runs\n..."
 * @param {string} resultsDir
 * @param {string} name
 * @returns {string} without a trailing newline
 */
export function sectionText(resultsDir, name) {
  const read = (/** @type {string} */ file) => {
    const p = path.join(resultsDir, file);
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8').trim() : '';
  };
  const generated = read(`${name}.md`);
  const notes = read(`${name}${NOTES_SUFFIX}`);
  const at = notes.split('\n').findIndex((l) => l.trim() === LATEST_RUN_MARKER);
  const lines = notes.split('\n');
  const lead = at < 0 ? '' : lines.slice(0, at).join('\n').trim();
  const tail = (at < 0 ? notes : lines.slice(at + 1).join('\n')).trim();
  // The opening notes go under the section's own heading, so the section still starts with it.
  const headingEnd = generated.startsWith('## ') ? generated.indexOf('\n') : 0;
  const heading = headingEnd < 0 ? generated : generated.slice(0, headingEnd);
  const body = headingEnd < 0 ? '' : generated.slice(headingEnd).trim();
  return [heading, lead, body, tail].filter((part) => part !== '').join('\n\n');
}
