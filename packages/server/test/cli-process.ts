import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';

/** The built CLI (tests spawn it the way an operator runs it). */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** A finished CLI run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running `switchyard serve`. */
export interface CliServer {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Waits for the "listening on" line and returns the URL it names. */
  url(): Promise<string>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** A clean environment: nothing of the caller's SWITCHYARD_* leaks into the child. */
function envOf(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', SWITCHYARD_LOG_LEVEL: 'warn', ...env };
}

/** Runs the CLI to completion. `uid` runs it as another user (tests of file permissions as root). */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string; uid?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: envOf(options.env ?? {}),
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `switchyard serve …` and keeps it running until `stop()`. */
export function startCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): CliServer {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: envOf(options.env ?? {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    async url() {
      return vi.waitFor(
        () => {
          if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}): ${stderr}`);
          const m = /listening on (http:\/\/\S+)/.exec(stdout);
          if (m === null) throw new Error('not listening yet');
          return m[1] as string;
        },
        { timeout: 120_000, interval: 50 },
      );
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Logs in over HTTP and returns the status. */
export async function loginStatus(url: string, email: string, password: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  await res.arrayBuffer();
  return res.status;
}
