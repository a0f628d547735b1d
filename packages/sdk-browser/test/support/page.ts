import type { Page } from 'playwright-core';
import type { BrowserClient, BrowserClientOptions, FlagDetail, LocalClientOptions } from '../../src/index';

/** What the test pages expose on `window`. */
export interface PageGlobals {
  Switchyard: {
    createBrowserClient(o: BrowserClientOptions): BrowserClient;
    createLocalClient(o: LocalClientOptions): BrowserClient;
  };
  client: BrowserClient;
  seen: { changes: string[][]; errors: string[]; ready: number };
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Window extends PageGlobals {}
}

/** Options as the page gets them (JSON: no storage objects). */
export type PageClientOptions = Omit<BrowserClientOptions, 'clientKey' | 'storage'> & {
  clientKey?: string;
  serverKey?: string;
  storage?: null;
};

/**
 * Creates `window.client` in the page with the bundle the page loaded (remote when a client key
 * is given, local for a server key) and records its events in `window.seen`. Returns what the
 * client served (and its status) synchronously right after creation, before any network answer
 * could arrive.
 */
export function createClientInPage(
  page: Page,
  options: PageClientOptions,
  probe: { key: string; default: unknown } | null = null,
): Promise<{ detail: FlagDetail; status: string } | null> {
  return page.evaluate(
    ({ options, probe }) => {
      window.seen = { changes: [], errors: [], ready: 0 };
      const c =
        options.serverKey !== undefined
          ? window.Switchyard.createLocalClient(options as LocalClientOptions)
          : window.Switchyard.createBrowserClient(options as BrowserClientOptions);
      c.on('change', ({ keys }) => window.seen.changes.push(keys));
      c.on('error', (e) => window.seen.errors.push(e.code));
      c.on('ready', () => window.seen.ready++);
      window.client = c;
      return probe === null ? null : { detail: c.detail(probe.key, probe.default), status: c.status };
    },
    { options, probe },
  );
}

/** `client.detail(key, default)` in the page. */
export function detailInPage<T>(page: Page, key: string, defaultValue: T): Promise<FlagDetail<T>> {
  return page.evaluate(({ key, defaultValue }) => window.client.detail(key, defaultValue), { key, defaultValue }) as Promise<FlagDetail<T>>;
}

/** Waits until the page's client serves `value` for `key`. */
export async function waitForValue(page: Page, key: string, value: unknown, timeout: number): Promise<void> {
  await page.waitForFunction(
    ({ key, value }) => JSON.stringify(window.client.detail(key, null).value) === JSON.stringify(value),
    { key, value },
    { timeout, polling: 20 },
  );
}

/**
 * Evaluates spec cases in the page: identifies each distinct context once, then evaluates its
 * cases with `detail()`. Returns the details in case order. The cases travel as JSON text and
 * are parsed in the page, so an own `__proto__` attribute arrives as it is in the file.
 */
export function evaluateCasesInPage(
  page: Page,
  cases: { flag: string; context: Record<string, unknown>; default: unknown }[],
): Promise<FlagDetail[]> {
  return page.evaluate(async (json) => {
    const cases = JSON.parse(json) as { flag: string; context: Record<string, unknown>; default: unknown }[];
    const out: FlagDetail[] = new Array(cases.length);
    const byContext = new Map<string, number[]>();
    cases.forEach((c, i) => {
      const id = JSON.stringify(c.context);
      byContext.set(id, [...(byContext.get(id) ?? []), i]);
    });
    for (const indexes of byContext.values()) {
      await window.client.identify(cases[indexes[0]!]!.context);
      for (const i of indexes) out[i] = window.client.detail(cases[i]!.flag, cases[i]!.default);
    }
    return out;
  }, JSON.stringify(cases));
}
