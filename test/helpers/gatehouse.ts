// Starts the real `gatehouse run` (built CLI) on free loopback ports with a config written to a
// temp dir, and waits for its pm2-style `ready` message.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort } from './ports.js';
import { startPeer, type Peer } from './process.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(REPO, 'bin/gatehouse.js');

export interface Gatehouse {
  peer: Peer;
  dir: string;
  configFile: string;
  httpsPort: number;
  httpPort: number;
  /** PEM file of the internal CA root, once gatehouse has created it. */
  caFile: string;
  /** `https://NAME:PORT` with curl `--resolve` args that send NAME to 127.0.0.1. */
  curlArgs(name: string, pathAndQuery?: string): string[];
  writeConfig(config: unknown): void;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** Reuse a folder (and its storage) from an earlier run. */
  dir?: string;
  env?: NodeJS.ProcessEnv;
  /** Do not wait for `ready` (for tests of start-up failures). */
  noWait?: boolean;
  /** How long to wait for `ready`; default 15 s. */
  readyTimeoutMs?: number;
  /** Run this file as it is (its own listen and storage; `build` is not called, the port fields are unused). */
  configFile?: string;
}

export function tempDir(prefix = 'gh-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** `build(ports)` returns the config object; `listen` is filled in unless it sets one itself. */
export async function startGatehouse(
  build: (ports: { https: number; http: number; dir: string }) => Record<string, unknown>,
  options: StartOptions = {},
): Promise<Gatehouse> {
  const dir = options.dir ?? tempDir();
  const https = await freePort();
  const http = await freePort();
  const configFile = options.configFile ?? path.join(dir, 'gatehouse.yaml');
  const writeConfig = (config: unknown) => fs.writeFileSync(configFile, stringify(config));
  if (options.configFile === undefined) {
    writeConfig({ listen: { https: `127.0.0.1:${https}`, http: `127.0.0.1:${http}` }, storage: path.join(dir, 'certs'), ...build({ https, http, dir }) });
  }
  const peer = await runGatehouse(['run', '-c', configFile], dir, options);
  return {
    peer,
    dir,
    configFile,
    httpsPort: https,
    httpPort: http,
    caFile: path.join(dir, 'certs', 'internal-ca', 'root.crt'),
    curlArgs: (name, p = '/') => ['--cacert', path.join(dir, 'certs', 'internal-ca', 'root.crt'), '--resolve', `${name}:${https}:127.0.0.1`, `https://${name}:${https}${p}`],
    writeConfig,
    stop: (signal = 'SIGTERM') => peer.stop(signal),
  };
}

/** Starts the built CLI with `args` in `cwd` and, unless `noWait`, waits for its pm2-style `ready` message. */
export async function runGatehouse(args: string[], cwd: string, options: StartOptions = {}): Promise<Peer> {
  const peer = startPeer(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    cwd,
    env: { ...process.env, ...options.env },
  });
  if (!options.noWait) await waitReady(peer, options.readyTimeoutMs);
  return peer;
}

/** Waits for the pm2-style `ready` message; a peer that is not ready is stopped here. */
function waitReady(peer: Peer, waitMs = 15_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Not ready: stopped here, since the caller never gets the peer to stop (it would outlive the test run).
    const timer = setTimeout(() => {
      reject(new Error(`gatehouse not ready after ${waitMs} ms:\n${peer.output()}`));
      void peer.stop('SIGKILL');
    }, waitMs);
    peer.proc.on('message', (m) => {
      if (m === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
    void peer.exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`gatehouse exited with ${code} before ready:\n${peer.output()}`));
    });
  });
}

/**
 * `gatehouse run -c FILE [-p PREFIX]` on a config file the caller wrote (an nginx .conf, say), in
 * `cwd`; the ports are the file's business. Resolves once gatehouse says `ready`.
 */
export async function startGatehouseFile(file: string, options: { prefix?: string; cwd: string; env?: NodeJS.ProcessEnv }): Promise<Peer> {
  const peer = startPeer(process.execPath, [CLI, 'run', '-c', file, ...(options.prefix ? ['-p', options.prefix] : [])], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
  });
  await waitReady(peer);
  return peer;
}
