// The same nginx .conf run by nginx 1.22 and by `gatehouse run -c FILE.conf` (the nginx adapter,
// `defaults: nginx`), side by side on loopback: where the adapter claims nginx's behaviour, this is
// the proof. Only the listen port differs between the two copies.
import fs from 'node:fs';
import path from 'node:path';
import { startNginx } from './cgi-peers.js';
import { exchange, type Answer, type PairRequest } from './differential.js';
import { runGatehouse, tempDir } from './gatehouse.js';
import { freePort } from './ports.js';
import type { Peer } from './process.js';

export interface ConfPairSetup {
  /** The body of the http block; every server listens on `127.0.0.1:${port}`. */
  http(p: { port: number; dir: string }): string;
  /** Files written under the shared folder before both start (path relative to it → content). */
  files?: Record<string, string | Buffer>;
  /** Folders created under the shared folder. */
  dirs?: string[];
}

export interface ConfPair {
  dir: string;
  nginxPort: number;
  ghPort: number;
  nginx: Peer;
  gatehouse: Peer;
  both(req: PairRequest): Promise<{ nginx: Answer; gatehouse: Answer }>;
  close(): Promise<void>;
}

export async function startConfPair(setup: ConfPairSetup): Promise<ConfPair> {
  const dir = tempDir('gh-conf-pair-');
  for (const d of setup.dirs ?? []) fs.mkdirSync(path.join(dir, d), { recursive: true });
  for (const [name, content] of Object.entries(setup.files ?? {})) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  const nginxPort = await freePort();
  const ghPort = await freePort();
  const ghDir = path.join(dir, 'gatehouse');
  fs.mkdirSync(ghDir);
  const confFile = path.join(ghDir, 'site.conf');
  fs.writeFileSync(confFile, `events {}\nhttp {\n${setup.http({ port: ghPort, dir })}\n}\n`);
  const nginx = await startNginx(dir, setup.http({ port: nginxPort, dir }), nginxPort);
  let gatehouse: Peer;
  try {
    gatehouse = await runGatehouse(['run', '-c', confFile], ghDir);
  } catch (err) {
    await nginx.stop('SIGQUIT');
    throw err;
  }
  return {
    dir,
    nginxPort,
    ghPort,
    nginx,
    gatehouse,
    async both(req) {
      const [n, g] = await Promise.all([exchange(nginxPort, req), exchange(ghPort, req)]);
      return { nginx: n, gatehouse: g };
    },
    async close() {
      await gatehouse.stop();
      await nginx.stop('SIGQUIT');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
