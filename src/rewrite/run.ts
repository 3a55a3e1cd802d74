// Runs a compiled rewrite list on a request, as nginx's script engine runs the rewrite module's
// codes: in order, until a return, a redirect, `break`, or a rewrite with `last`/`break`. The
// file tests of `if` need a stat: the steps are a generator that yields the path, so a list without
// file tests runs synchronously and one with them awaits fs.promises.stat, never blocking the loop.
import { promises as fsp, type Stats } from 'node:fs';
import { resolveSegments } from '../http/normalize.js';
import { escapeUriPath, ESCAPE_WIRE } from '../http/uri-bytes.js';
import { sendRedirect, sendStatus } from '../http/respond.js';
import type { RequestContext } from '../request/context.js';
import type { Op, Program } from './compile.js';
import { evaluate, fileTestResult, recordMatch } from './condition.js';
import { applyReplacement, quotedUri } from './replacement.js';

/** How a list ended: answered, stopped by last (search again) or break (stay), or ran through. */
export type Signal = 'done' | 'last' | 'break' | undefined;

export interface RunResult {
  signal: Signal;
  /** A rewrite changed the URI (nginx's r->uri_changed before break clears it). */
  uriChanged: boolean;
}

interface State {
  uriChanged: boolean;
}

/**
 * The rewritten path as the router will see it: slashes merged and dot segments resolved, so
 * what reaches a backend is what the location search matched (nginx keeps the replacement as
 * written; README "Coming from nginx"). Undefined when it is not a path or climbs above the root.
 */
export function normaliseRewritten(uri: string): string | undefined {
  if (uri.charCodeAt(0) !== 0x2f || uri.includes('\0')) return undefined;
  return resolveSegments(uri);
}

function* exec(ops: readonly Op[], ctx: RequestContext, st: State): Generator<string, Signal, Stats | undefined> {
  for (const op of ops) {
    switch (op.op) {
      case 'rewrite': {
        const m = op.re.exec(ctx.path);
        recordMatch(ctx, m);
        if (!m) break;
        const out = applyReplacement(op.replacement, ctx.vars, ctx.args, quotedUri(ctx.ex.rawTarget));
        if (op.replacement.redirect) {
          sendRedirect(ctx, op.status, out.uri);
          return 'done';
        }
        const path = normaliseRewritten(out.uri);
        if (path === undefined) {
          // nginx: "the rewritten URI has a zero length" is a 500; a URI that is not a path, or
          // climbs above the root, is refused the way such a request line would be.
          ctx.env.logger.error('rewritten URI is not a valid path', { uri: out.uri });
          sendStatus(ctx, out.uri === '' ? 500 : 400);
          return 'done';
        }
        ctx.path = path;
        ctx.args = out.args;
        ctx.internal = true;
        st.uriChanged = true;
        if (op.flag === 'last' || op.flag === 'break') return op.flag;
        break;
      }
      case 'set':
        ctx.vars.setUser(op.name, op.value(ctx.vars));
        break;
      case 'args':
        // `set $args`: the request goes on with these args, a proxy sends them (nginx does too);
        // the request-target as sent no longer describes it, as after a rewrite.
        ctx.args = escapeUriPath(op.value(ctx.vars), ESCAPE_WIRE);
        ctx.internal = true;
        break;
      case 'return':
        op.respond(ctx);
        return 'done';
      case 'break':
        return 'break';
      case 'if': {
        const c = op.condition;
        const yes = c.kind === 'file' ? fileTestResult(c.test, yield c.path(ctx.vars)) : evaluate(c, ctx);
        if (yes) {
          const signal = yield* exec(op.then, ctx, st);
          if (signal) return signal;
        }
        break;
      }
    }
  }
  return undefined;
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await fsp.stat(path);
  } catch {
    return undefined;
  }
}

export function runProgram(program: Program, ctx: RequestContext): RunResult | Promise<RunResult> {
  const st: State = { uriChanged: false };
  const gen = exec(program.ops, ctx, st);
  let step = gen.next();
  if (step.done) return { signal: step.value, uriChanged: st.uriChanged };
  return (async () => {
    while (!step.done) step = gen.next(await statOrUndefined(step.value));
    return { signal: step.value, uriChanged: st.uriChanged };
  })();
}
