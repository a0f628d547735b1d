import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// Each test spawns several Node processes (and hashes passwords with scrypt): generous under load.
const SLOW = { timeout: 180_000 };
import { loginStatus, runCli, startCli, type CliServer } from './cli-process';

const ADMIN = 'admin@switchyard.local';
let dir: string;
let db: string;
const running: CliServer[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));
  db = join(dir, 'data', 'switchyard.db');
});

afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

function serve(args: string[], env: Record<string, string> = {}): CliServer {
  const s = startCli(['serve', '--port', '0', '--db', db, ...args], { env });
  running.push(s);
  return s;
}

/** The first-start block: admin password and the two SDK keys. */
function credentialsOf(stdout: string): { password: string; serverKey: string; clientKey: string } {
  const password = /admin login\s+\S+ \/ (\S+)/.exec(stdout)?.[1];
  const serverKey = /server SDK key\s+(\S+)/.exec(stdout)?.[1];
  const clientKey = /client SDK key\s+(\S+)/.exec(stdout)?.[1];
  expect(password, stdout).toBeDefined();
  return { password: password as string, serverKey: serverKey as string, clientKey: clientKey as string };
}

describe('switchyard --version and help', SLOW, () => {
  it('prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(pkg.version);
    }
  });

  it('--help names the commands; serve --help lists every option with its variable', async () => {
    const main = await runCli(['--help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain('serve');
    expect(main.stdout).toContain('admin reset-password');
    const serveHelp = await runCli(['serve', '--help']);
    expect(serveHelp.code).toBe(0);
    for (const text of ['--port <port>', 'SWITCHYARD_PORT', '--db <file>', '--demo', 'SWITCHYARD_ADMIN_PASSWORD', '--database-url <url>'])
      expect(serveHelp.stdout).toContain(text);
    const reset = await runCli(['admin', 'reset-password', '--help']);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain('--email <email>');
  });

  it('help <option> explains one option, found by flag or variable', async () => {
    const byFlag = await runCli(['help', '--port']);
    expect(byFlag.code).toBe(0);
    expect(byFlag.stdout).toMatch(/--port <port>[\s\S]*SWITCHYARD_PORT[\s\S]*default: 8787/);
    const byVar = await runCli(['help', 'SWITCHYARD_JWT_SECRET']);
    expect(byVar.code).toBe(0);
    expect(byVar.stdout).toContain('no flag');
    const unknown = await runCli(['help', 'prot']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("did you mean 'port'?");
  });

  it('no command prints the help and exits 2', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: switchyard <command>');
  });
});

describe('usage mistakes: one line, the usage, exit 2, no database', SLOW, () => {
  const cases: { name: string; args: string[]; env?: Record<string, string>; message: RegExp }[] = [
    { name: 'unknown flag', args: ['serve', '--prot', '8080'], message: /unknown option '--prot' \(did you mean --port\?\)/ },
    { name: 'bad port flag', args: ['serve', '--port', 'abc'], message: /--port: 'abc' is not a port \(1-65535/ },
    { name: 'port out of range', args: ['serve', '--port', '70000'], message: /--port: '70000' is not a port/ },
    { name: 'missing value', args: ['serve', '--port'], message: /--port needs a value/ },
    { name: 'bad port variable', args: ['serve'], env: { SWITCHYARD_PORT: 'abc' }, message: /SWITCHYARD_PORT: 'abc' is not a port/ },
    {
      name: 'bad boolean variable',
      args: ['serve'],
      env: { SWITCHYARD_DEMO: 'maybe' },
      message: /SWITCHYARD_DEMO: 'maybe' is not a boolean/,
    },
    { name: 'bad log level', args: ['serve', '--log-level', 'loud'], message: /--log-level: 'loud' is not a log level/ },
    {
      name: 'bad database URL',
      args: ['serve'],
      env: { SWITCHYARD_DATABASE_URL: 'mysql://db/x' },
      message: /SWITCHYARD_DATABASE_URL: 'mysql:\/\/db\/x' is not a postgres:\/\//,
    },
    {
      name: 'bad number',
      args: ['serve', '--event-retention-days', '-3'],
      message: /--event-retention-days: '-3' is not a number greater than 0/,
    },
    {
      name: 'bad role map',
      args: ['serve'],
      env: { SWITCHYARD_OIDC_ROLE_MAP: 'admins:OWNER' },
      message: /SWITCHYARD_OIDC_ROLE_MAP: 'admins:OWNER'/,
    },
    { name: 'unknown command', args: ['serv'], message: /unknown command 'serv' \(did you mean 'serve'\?\)/ },
    { name: 'unknown admin command', args: ['admin', 'reset-pasword'], message: /did you mean reset-password\?/ },
    { name: 'stray argument', args: ['serve', 'now'], message: /serve takes no arguments/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await runCli(c.args[0] === 'serve' ? [...c.args, '--db', db] : c.args, { env: c.env ?? {} });
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(2);
      expect(lines[0]).toMatch(c.message);
      expect(lines[0]).toMatch(/^switchyard: /);
      expect(lines[1]).toMatch(/^Usage: switchyard/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
      expect(existsSync(join(dir, 'data')), 'a usage error must not create the database').toBe(false);
    });
  }

  it('a short SWITCHYARD_ADMIN_PASSWORD is refused without echoing it', async () => {
    const r = await runCli(['serve', '--db', db], { env: { SWITCHYARD_ADMIN_PASSWORD: 'hunter2' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SWITCHYARD_ADMIN_PASSWORD: the password must be at least 8 characters');
    expect(r.stderr).not.toContain('hunter2');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });
});

describe('a failed first start keeps the once-only secrets', SLOW, () => {
  let blocker: Server;
  beforeEach(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    await new Promise((resolve) => blocker.close(resolve));
  });
  const busyPort = () => String((blocker.address() as { port: number }).port);

  it('port busy: one line, exit 1, nothing printed; the next start prints working credentials', async () => {
    const failed = await runCli(['serve', '--port', busyPort(), '--db', db]);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim()).toBe(
      `switchyard: port ${busyPort()} on 127.0.0.1 is already in use; choose another with --port or SWITCHYARD_PORT (--debug shows the stack trace)`,
    );
    expect(failed.stdout).not.toContain('sy_srv_');
    expect(failed.stdout).not.toContain('admin login');

    const s = serve([]);
    const url = await s.url();
    const creds = credentialsOf(s.stdout());
    expect(creds.serverKey).toMatch(/^sy_srv_/);
    expect(creds.clientKey).toMatch(/^sy_cli_/);
    expect(await loginStatus(url, ADMIN, creds.password)).toBe(200);
    const config = await fetch(`${url}/sdk/v1/config`, { headers: { 'x-api-key': creds.serverKey } });
    expect(config.status).toBe(200);
    expect(await s.stop()).toBe(0);
  });

  it('--debug adds the stack trace', async () => {
    const r = await runCli(['serve', '--port', busyPort(), '--db', db, '--debug']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is already in use');
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('later starts and the admin password', SLOW, () => {
  it('says where the credentials went, warns about an ignored SWITCHYARD_ADMIN_PASSWORD, and reset-password works', async () => {
    const first = serve([]);
    const firstUrl = await first.url();
    const { password } = credentialsOf(first.stdout());
    expect(await first.stop(), first.stderr()).toBe(0);

    // No credential cache: a reset password ends the tokens issued before at once.
    const later = serve([], { SWITCHYARD_ADMIN_PASSWORD: 'ignored-password-1', SWITCHYARD_CREDENTIAL_CACHE_TTL_MS: '0' });
    const url = await later.url();
    expect(later.stdout()).not.toContain('admin login');
    expect(later.stdout()).toContain('already has users');
    expect(later.stdout()).toContain(`switchyard admin reset-password --db ${db}`);
    expect(later.stderr()).toContain('SWITCHYARD_ADMIN_PASSWORD is ignored');
    expect(await loginStatus(url, ADMIN, 'ignored-password-1')).toBe(401);
    expect(await loginStatus(url, ADMIN, password)).toBe(200);
    expect(firstUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const signedIn = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: ADMIN, password }),
    });
    const token = ((await signedIn.json()) as { data: { access_token: string } }).data.access_token;
    const me = () => fetch(`${url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect(await me()).toBe(200);

    // While the server runs: a generated password, printed once.
    const reset = await runCli(['admin', 'reset-password', '--db', db]);
    expect(reset.code, reset.stderr).toBe(0);
    const fresh = /shown once[^\n]*\n\s+(\S+)/.exec(reset.stdout)?.[1] as string;
    expect(fresh).toBeDefined();
    expect(await loginStatus(url, ADMIN, fresh)).toBe(200);
    expect(await loginStatus(url, ADMIN, password)).toBe(401);
    // The token issued under the old password is refused too.
    expect(await me()).toBe(401);

    // From the environment: nothing secret printed.
    const fromEnv = await runCli(['admin', 'reset-password', '--db', db], { env: { SWITCHYARD_ADMIN_PASSWORD: 'chosen-password-1' } });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(fromEnv.stdout).not.toContain('chosen-password-1');
    expect(await loginStatus(url, ADMIN, 'chosen-password-1')).toBe(200);
    expect(await later.stop()).toBe(0);
  });

  it('reset-password refuses an unknown user and a missing database, creating nothing', async () => {
    const first = serve([]);
    await first.url();
    await first.stop();
    const unknown = await runCli(['admin', 'reset-password', '--db', db, '--email', 'nobody@example.com']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`no user 'nobody@example.com' in this store (its local admins: ${ADMIN})`);
    const missing = join(dir, 'other', 'x.db');
    const none = await runCli(['admin', 'reset-password', '--db', missing]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`no database at '${missing}'`);
    expect(existsSync(join(dir, 'other'))).toBe(false);
  });
});

describe('a database the server cannot write', SLOW, () => {
  it('refuses to start with a clear message instead of answering 500 to every write', async () => {
    const first = serve([]);
    await first.url();
    await first.stop();
    // Root ignores file modes: run the CLI as an unprivileged user instead; otherwise drop write permission.
    const asRoot = process.getuid?.() === 0;
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'data'), asRoot ? 0o755 : 0o555);
    if (!asRoot) chmodSync(db, 0o444);
    const r = await runCli(['serve', '--port', '0', '--db', db], asRoot ? { uid: 65534 } : {});
    chmodSync(join(dir, 'data'), 0o755);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^switchyard: cannot write (the database file|in the directory)/);
    expect(r.stderr).toContain(db);
    expect(r.stdout).not.toContain('listening');
  });

  it('refuses a path that is a directory', async () => {
    writeFileSync(join(dir, 'placeholder'), '');
    const r = await runCli(['serve', '--port', '0', '--db', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('it is not a file');
  });
});
