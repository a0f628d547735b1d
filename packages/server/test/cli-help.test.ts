import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAIN_HELP, USAGE_LINE } from '../src/cli-help';

describe('the one-line usage printed under a usage error', () => {
  // Each line of the main help's command list: the command, its arguments in brackets, two or
  // more spaces, then what it does.
  const section = MAIN_HELP.split('Commands:\n')[1]!.split('\n\n')[0]!;
  const commands = section.split('\n').map((line) =>
    line
      .trim()
      .split(/\s{2,}/)[0]!
      .replace(/ \[.*$/, ''),
  );

  it('names every command of the main help', () => {
    expect(commands).toEqual(['serve', 'admin reset-password', 'admin rotate-signing-key', 'help']);
    expect(/<([^>]+)>/.exec(USAGE_LINE)![1]!.split('|')).toEqual(commands);
  });

  it('is quoted verbatim in docs/configuration.md', () => {
    const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    expect(doc).toContain(USAGE_LINE);
  });
});
