import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchBrowser, openPage, type WatchedPage } from './browser';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startConsoleServer, type ConsoleServer } from './server';
import { signIn } from './sign-in';

type ServerOptions = Parameters<typeof startConsoleServer>[0];

/** What a test file drives: a real server, one Chromium, and a first page. */
export interface ConsoleHarness {
  readonly server: ConsoleServer;
  readonly browser: Browser;
  /** The first person's page: signed in as the admin unless the harness was told otherwise. */
  readonly w: WatchedPage;
  /** Another person: a fresh browser context (own cookies), signed in as `email`. */
  open(email: string, password: string): Promise<WatchedPage>;
  /** A fresh browser context on the server, signed out, on no page yet. */
  blank(): Promise<WatchedPage>;
}

/** Options of {@link useConsoleHarness}. */
export interface HarnessOptions {
  /** Open a first page (default true). */
  page?: boolean;
  /** Who the first page signs in as (default the admin); false leaves it signed out on no page. */
  signIn?: false | { email: string; password: string };
  /** Extra server options (e.g. `oidc`), or a function giving them once earlier hooks ran. */
  serverOptions?: ServerOptions | (() => ServerOptions);
  /** Runs after the server starts and before the browser opens (seed data the first screen shows). */
  seed?: (server: ConsoleServer) => Promise<unknown>;
}

/**
 * Registers the `beforeAll`/`afterAll` every console test file needs: start a server on a fresh
 * database, launch Chromium, open (and sign in) a first page; close all of it afterwards. The
 * returned object's fields are read inside tests, after `beforeAll` ran.
 *
 * @example
 * ```ts
 * const h = useConsoleHarness();
 * it('shows the flags', async () => { await h.w.page.getByRole('heading', { name: 'Feature flags' }).waitFor(); });
 * ```
 */
export function useConsoleHarness(o: HarnessOptions = {}): ConsoleHarness {
  let server: ConsoleServer | undefined;
  let browser: Browser | undefined;
  let w: WatchedPage | undefined;
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`the console harness has no ${what} yet (read it inside a test or hook)`);
    return v;
  };
  beforeAll(async () => {
    server = await startConsoleServer(typeof o.serverOptions === 'function' ? o.serverOptions() : o.serverOptions);
    await o.seed?.(server);
    browser = await launchBrowser();
    if (o.page === false) return;
    w = await openPage(browser, server.url);
    const who = o.signIn ?? { email: ADMIN_EMAIL, password: ADMIN_PASSWORD };
    if (who !== false) await signIn(w.page, who.email, who.password);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });
  return {
    get server() {
      return ready(server, 'server');
    },
    get browser() {
      return ready(browser, 'browser');
    },
    get w() {
      return ready(w, 'page');
    },
    async open(email, password) {
      const other = await this.blank();
      await signIn(other.page, email, password);
      return other;
    },
    blank() {
      return openPage(ready(browser, 'browser'), ready(server, 'server').url);
    },
  };
}

/** A link of the main navigation, by its exact name. */
export function nav(page: Page, name: string): Locator {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
}
