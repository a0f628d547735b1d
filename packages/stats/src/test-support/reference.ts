import { readFileSync } from 'node:fs';

/** Reads one of the JSON files written by `scripts/gen-reference.py`. */
export function loadReference<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../spec/${name}`, import.meta.url), 'utf8')) as T;
}
