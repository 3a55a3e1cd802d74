// `return: CODE [URL|text]` as nginx's return directive.
import type { ReturnConfig } from '../config/types.js';
import { compileTemplate } from '../http/variables.js';
import type { RequestContext } from '../request/context.js';
import { sendRedirect, sendStatus } from '../http/respond.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function compileReturn(config: ReturnConfig): (ctx: RequestContext) => void {
  const { status } = config;
  const template = config.text !== undefined ? compileTemplate(config.text) : undefined;
  if (!template) return (ctx) => sendStatus(ctx, status);
  // nginx sets the response status before it evaluates the text: `$status` in it is the code.
  if (REDIRECTS.has(status)) {
    return (ctx) => {
      ctx.vars.pendingStatus = status;
      sendRedirect(ctx, status, template(ctx.vars));
    };
  }
  return (ctx) => {
    ctx.vars.pendingStatus = status;
    ctx.ex.respond(status, { 'content-type': 'text/plain; charset=utf-8' }, template(ctx.vars));
  };
}
