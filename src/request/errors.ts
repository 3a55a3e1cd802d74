// The one "log it and answer 500" path, for a handler that threw (dispatch) and a cache fill that
// failed: the stack goes to the error log, the client gets a plain 500 (or a torn response).
import { sendStatus } from '../http/respond.js';
import { describeError } from '../log/describe-error.js';
import type { RequestContext } from './context.js';

export function internalError(ctx: RequestContext, err: unknown, what = 'request failed'): void {
  ctx.env.logger.error(`${what}: ${describeError(err)}`, { uri: ctx.ex.rawTarget });
  try {
    sendStatus(ctx, 500);
  } catch {
    ctx.ex.abort();
  }
}
