// pm2: `pm2 start ecosystem.config.js`. This package is ESM; pm2 require()s this file, which
// Node >= 20.19 allows for ES modules, and reads the named `apps` export from the namespace.
// GATEHOUSE_CONFIG passes through from the environment (default ./gatehouse.yaml). The proxy
// tells pm2 `ready` once it listens (wait_ready) and drains on SIGINT within drainTimeout (30 s
// by default), so kill_timeout is longer than that.
const env = { NODE_ENV: 'production' };
if (process.env.GATEHOUSE_CONFIG) env.GATEHOUSE_CONFIG = process.env.GATEHOUSE_CONFIG;

export const apps = [
  {
    name: 'gatehouse',
    script: './bin/gatehouse.js',
    args: 'run',
    exec_mode: 'cluster',
    instances: 'max',
    wait_ready: true,
    listen_timeout: 15000,
    kill_timeout: 35000,
    // Every core runs a worker, so V8's parallel GC helper threads can only run on time taken from
    // the other workers, and the main thread waits for them. With the GC on each worker's own
    // thread, a cluster of 2 on 2 cores served more HTTP/2 requests/s in 15 of 16 paired runs,
    // about 10% more at the median (docs/performance.md). A single `gatehouse run` keeps V8's
    // default: there the helpers use the spare core. GATEHOUSE_NODE_ARGS replaces these flags ("" for none).
    node_args: process.env.GATEHOUSE_NODE_ARGS ?? '--single-threaded-gc',
    env,
  },
  {
    // The cron side of ACME (SPEC §6): one renewal pass a day. The proxy's own loop normally keeps
    // certificates fresh, so this is quiet; it matters when the proxy was down. pm2 starts it once and
    // then at each cron_restart (pm2 7 re-runs a stopped app on schedule); autorestart off keeps pm2
    // from looping it after it exits. GATEHOUSE_RENEW_CRON picks another time (5 fields, or 6 with
    // seconds first), e.g. to spread many machines over the hour.
    name: 'gatehouse-renew',
    script: './bin/gatehouse.js',
    args: 'renew',
    exec_mode: 'fork',
    instances: 1,
    autorestart: false,
    cron_restart: process.env.GATEHOUSE_RENEW_CRON || '17 3 * * *',
    env,
  },
];
