// Debian's haproxy 2.6 as a real L4 load balancer in front of gatehouse (mode tcp), started in the
// foreground (-db) on free loopback ports and stopped by its pid.
import fs from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';
import { startPeer, type Peer } from './process.js';

export const HAPROXY = '/usr/sbin/haproxy';

/** One frontend → one server: `send` is haproxy's `send-proxy` (v1), `send-proxy-v2`, or nothing. */
export interface HaproxyRoute {
  name: string;
  to: number;
  send: 'send-proxy' | 'send-proxy-v2' | '';
}

export interface Haproxy {
  peer: Peer;
  /** The frontend port of each route, by name. */
  ports: Record<string, number>;
  stop(): Promise<number | null>;
}

export async function startHaproxy(dir: string, routes: HaproxyRoute[]): Promise<Haproxy> {
  const ports: Record<string, number> = {};
  for (const r of routes) ports[r.name] = await freePort();
  const conf = [
    'global',
    '  maxconn 256',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    ...routes.flatMap((r) => [
      `listen ${r.name}`,
      `  bind 127.0.0.1:${ports[r.name]}`,
      // The server address is where gatehouse sees haproxy's connections come from: 127.0.0.1.
      `  server s 127.0.0.1:${r.to} ${r.send}`,
    ]),
    '',
  ].join('\n');
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, conf);
  const peer = startPeer(HAPROXY, ['-f', file, '-db']);
  for (const r of routes) {
    await Promise.race([
      waitForPort(ports[r.name]!),
      peer.exited.then(({ code }) => {
        throw new Error(`haproxy exited with ${code}:\n${peer.output().slice(-4000)}`);
      }),
    ]);
  }
  return { peer, ports, stop: () => peer.stop('SIGTERM') };
}
