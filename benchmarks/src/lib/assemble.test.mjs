import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LATEST_RUN_MARKER, sectionNames, sectionText } from './assemble.mjs';

describe('RESULTS.md sections with hand-recorded notes', () => {
  /** @type {string} */
  let dir;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-assemble-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const write = (/** @type {string} */ file, /** @type {string} */ text) => fs.writeFileSync(path.join(dir, file), text);

  it('places notes without the marker after the latest run', () => {
    write('ingestion.md', '## Ingestion\n\nMeasured today.\n\n| run | events/s |\n');
    write('ingestion.notes.md', '### An older run\n\n100 events/s.\n');
    expect(sectionText(dir, 'ingestion')).toBe(
      '## Ingestion\n\nMeasured today.\n\n| run | events/s |\n\n### An older run\n\n100 events/s.',
    );
  });

  it('places the part above the marker under the heading and the rest after the latest run', () => {
    write('ingestion.md', '## Ingestion\n\nMeasured today.\n');
    write('ingestion.notes.md', `Current state: 2x.\n\n${LATEST_RUN_MARKER}\n\n### History\n\nOnce 1x.\n`);
    expect(sectionText(dir, 'ingestion')).toBe('## Ingestion\n\nCurrent state: 2x.\n\nMeasured today.\n\n### History\n\nOnce 1x.');
  });

  it('keeps the notes when a run rewrites its section file whole', () => {
    write('soak.md', '## Soak\n\nFirst run.\n');
    write('soak.notes.md', 'Read with the load in mind.\n');
    write('soak.md', '## Soak\n\nSecond run.\n');
    expect(sectionText(dir, 'soak')).toBe('## Soak\n\nSecond run.\n\nRead with the load in mind.');
  });

  it('gives a section without notes as written and a notes-only section alone', () => {
    write('evaluation.md', '## Evaluation\n\nns per evaluation.\n');
    write('new-bench.notes.md', 'Not run yet.\n');
    expect(sectionNames(dir).sort()).toEqual(['evaluation', 'new-bench']);
    expect(sectionText(dir, 'evaluation')).toBe('## Evaluation\n\nns per evaluation.');
    expect(sectionText(dir, 'new-bench')).toBe('Not run yet.');
  });
});
