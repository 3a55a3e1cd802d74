// A level's inherited directives as gatehouse keys. Only what the level writes itself is emitted:
// gatehouse inherits the rest from the site or parent route the same way nginx does. Two pairs of
// nginx directives inherit separately but are one gatehouse key, so the level's view decides them:
// auth_basic + auth_basic_user_file (`auth`), and auth_request + auth_request_set (`forwardAuth`).
import type { RawRoute } from '../../schema.js';
import type { NginxDirective } from '../ast.js';
import { AdaptCtx } from './context.js';
import type { Layer } from './settings.js';
import type { AdaptState } from './targets.js';

type Keys = Omit<RawRoute, 'location'> & { params?: Layer['params'] };

export function layerKeys(ctx: AdaptCtx, state: AdaptState, own: Layer, view: Layer, at: Array<string | number>, authTargets: Map<string, NginxDirective>): Keys {
  const out: Keys = {};
  const mark = (key: string, posKey: string = key) => {
    const pos = own.pos[posKey];
    if (pos) ctx.from([...at, key], pos);
  };
  if (own.root !== undefined) {
    out.root = ctx.rootPath(own.root);
    mark('root');
  }
  if (own.index !== undefined) {
    out.index = own.index;
    mark('index');
  }
  if (own.maxBody !== undefined) {
    out.maxBody = own.maxBody;
    mark('maxBody');
  }
  if (own.requestHeaders !== undefined || own.addHeaders !== undefined) {
    out.headers = {};
    if (own.requestHeaders !== undefined) out.headers.request = { set: own.requestHeaders };
    if (own.addHeaders !== undefined) out.headers.response = { add: own.addHeaders };
    mark('headers', own.pos.requestHeaders ? 'requestHeaders' : 'addHeaders');
  }
  if (own.errorPages !== undefined) {
    out.errorPages = own.errorPages;
    mark('errorPages');
  }
  if (own.interceptErrors !== undefined) {
    out.interceptErrors = own.interceptErrors;
    mark('interceptErrors');
  }
  if (own.retryStatuses !== undefined) {
    out.retryStatuses = own.retryStatuses;
    mark('retryStatuses');
  }
  if (own.access !== undefined) {
    out.access = own.access;
    mark('access');
  }
  if (own.authRealm !== undefined || own.authFile !== undefined) {
    // ngx_http_auth_basic_handler: no realm, `off`, or no user file: no authentication.
    if (view.authRealm === undefined || view.authRealm === false || view.authFile === undefined) out.auth = 'off';
    else out.auth = { realm: view.authRealm, htpasswd: ctx.confPath(view.authFile) };
    mark('auth', own.pos.authRealm ? 'authRealm' : 'authFile');
  }
  if (own.satisfy !== undefined) {
    out.satisfy = own.satisfy;
    mark('satisfy');
  }
  if (own.authRequest !== undefined || own.authRequestSet !== undefined) {
    const fa = forwardAuth(ctx, state, view, authTargets);
    if (fa !== undefined) {
      out.forwardAuth = fa;
      mark('forwardAuth', own.pos.authRequest ? 'authRequest' : 'authRequestSet');
    }
  }
  if (own.expires !== undefined) {
    out.expires = own.expires;
    mark('expires');
  }
  if (own.proxyRedirect !== undefined) {
    out.proxyRedirect = own.proxyRedirect;
    mark('proxyRedirect');
  }
  if (own.hide !== undefined) {
    out.proxyHideHeaders = own.hide;
    mark('proxyHideHeaders', 'hide');
  }
  if (own.pass !== undefined) {
    out.proxyPassHeaders = own.pass;
    mark('proxyPassHeaders', 'pass');
  }
  if (own.accessLog !== undefined) {
    out.accessLog = own.accessLog === 'off' ? 'off' : { ...own.accessLog, ...(own.accessLog.file ? { file: ctx.logPath(own.accessLog.file) } : {}) };
    mark('accessLog');
  }
  if (own.params !== undefined && Object.keys(own.params).length > 0) {
    out.params = own.params;
    mark('params');
  }
  if (own.charset !== undefined) {
    out.charset = own.charset;
    mark('charset');
  }
  if (own.charsetTypes !== undefined) {
    out.charsetTypes = [...own.charsetTypes];
    mark('charsetTypes');
  }
  if (own.symlinks !== undefined) {
    out.symlinks = own.symlinks;
    mark('symlinks');
  }
  return out;
}

/** auth_request's URI is a location of the server; its proxy_pass is what gatehouse asks directly. */
function forwardAuth(ctx: AdaptCtx, state: AdaptState, view: Layer, targets: Map<string, NginxDirective>): Keys['forwardAuth'] {
  const req = view.authRequest;
  if (req === undefined || req === false) return req === false ? 'off' : undefined;
  const target = targets.get(req.uri) ?? [...targets.entries()].find(([loc]) => !loc.startsWith('=') && !loc.startsWith('@') && req.uri.startsWith(loc))?.[1];
  const pass = target?.block?.find((x) => x.name === 'proxy_pass');
  if (!target || !pass) {
    ctx.error(req.pos, `auth_request "${req.uri}": no location of this server proxies that URI; gatehouse's forwardAuth needs the auth service's URL (a location = ${req.uri} { proxy_pass http://...; })`);
    return undefined;
  }
  const url = pass.args[0]?.text ?? '';
  const m = /^(https?:\/\/)([^/]+)(\/.*)?$/.exec(url);
  if (!m || state.upstreams.has(m[2]!) || url.includes('$')) {
    ctx.error(pass.pos, `auth_request's location proxies to "${url}": forwardAuth needs a literal http(s)://host:port URL`);
    return undefined;
  }
  const out: Exclude<Keys['forwardAuth'], 'off' | undefined> = { url: m[3] !== undefined ? url : `${url}${req.uri}` };
  const timeout = target.block?.find((x) => x.name === 'proxy_read_timeout');
  if (timeout?.args[0]) out.timeout = timeout.args[0].text;
  if (view.authRequestSet) out.set = { ...view.authRequestSet };
  return out;
}
