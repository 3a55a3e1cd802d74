// V8 settings for a long-running `gatehouse run` / `gatehouse proxy`, applied before the first request.
//
// Allocation-site pretenuring off: V8 watches which allocation sites' objects survive scavenges and, once
// a site's survival is high, allocates that site's objects straight into the old generation. Under many
// concurrent requests (512 connections or HTTP/2 streams in flight) a request's objects live about as long
// as one scavenge interval, so V8 pretenures the request path's sites; those objects then die in the old
// generation, which only a mark-compact frees. The proxy falls into a slow mode it does not leave:
// 6.7 KiB of each request's 18 KiB promoted, 18% of the core in GC pauses, a third fewer requests/s.
// Measured in docs/performance.md "GC under many concurrent requests (issue 20)".
//
// A flag the operator gave Node (`node --allocation-site-pretenuring bin/gatehouse.js run`, pm2's
// node_args) wins: only flags not named on the command line are set.
import v8 from 'node:v8';

export const SERVING_V8_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring'];

/** A flag's name without `--`, `no-` and value, with `_` read as `-` (V8 accepts both). */
function flagName(arg: string): string {
  return arg.split('=')[0]!.replaceAll('_', '-').replace(/^--?/, '').replace(/^no-/, '');
}

/** The serving flags that `execArgv` does not already name, either way. */
export function servingFlagsToSet(execArgv: readonly string[]): string[] {
  const named = new Set(execArgv.filter((a) => a.startsWith('-')).map(flagName));
  return SERVING_V8_FLAGS.filter((flag) => !named.has(flagName(flag)));
}

/** Sets the serving flags Node was not started with; returns those it set. */
export function tuneV8ForServing(execArgv: readonly string[] = process.execArgv): string[] {
  const flags = servingFlagsToSet(execArgv);
  // Read by V8 when it processes pretenuring feedback at each scavenge, so it takes effect from the next one.
  for (const flag of flags) v8.setFlagsFromString(flag);
  return flags;
}
