// A route's own `params` (nginx fastcgi_param, uwsgi_param, scgi_param): compiled once per config,
// evaluated per request, as ngx_http_fastcgi_init_params and ngx_http_fastcgi_create_request do.
import type { CgiParamConfig } from '../config/types.js';
import { compileTemplate, type Template } from '../http/variables.js';
import type { VarSource } from '../http/vars-types.js';
import { utf8ByteString } from '../transport/cgi/bytes.js';
import type { CgiParams } from '../transport/cgi/params.js';

export interface CompiledUserParams {
  list: Array<{ name: string; template: Template; ifNotEmpty: boolean }>;
  /**
   * Request headers an `HTTP_*` param stands for, as nginx compares them: the name after HTTP_,
   * lower case; a header name is lower-cased with "-" read as "_".
   */
  hidden: ReadonlySet<string>;
}

export function compileUserParams(params: CgiParamConfig[] | undefined): CompiledUserParams | undefined {
  if (params === undefined || params.length === 0) return undefined;
  const list: CompiledUserParams['list'] = [];
  const hidden = new Set<string>();
  for (const p of params) {
    if (p.name.length > 5 && p.name.startsWith('HTTP_')) {
      hidden.add(p.name.slice(5).toLowerCase());
      // nginx: `fastcgi_param HTTP_PROXY ""` only hides the header (the httpoxy recipe).
      if (p.value === '') continue;
    }
    list.push({ name: p.name, template: compileTemplate(p.value), ifNotEmpty: p.ifNotEmpty });
  }
  return { list, hidden };
}

/**
 * The values of this request; an if_not_empty param that comes out empty is not sent. Values are
 * written as UTF-8 (utf8ByteString): the config's text and the path variables ($uri,
 * $fastcgi_script_name, $document_root...) are Unicode text, the bytes nginx would send for them.
 * (A header's byte above 0x7F read through $http_* is written as two bytes then; headers reach
 * the backend unchanged as HTTP_* params.)
 */
export function userParamValues(params: CompiledUserParams, vars: VarSource): CgiParams {
  const out: CgiParams = [];
  for (const p of params.list) {
    const value = p.template(vars);
    if (value === '' && p.ifNotEmpty) continue;
    out.push([p.name, utf8ByteString(value)]);
  }
  return out;
}

/** Whether a request header is one an HTTP_* param replaces (ngx_http_fastcgi_create_request). */
export function isHiddenHeader(params: CompiledUserParams | undefined, name: string): boolean {
  if (params === undefined || params.hidden.size === 0) return false;
  return params.hidden.has(name.toLowerCase().replaceAll('-', '_'));
}
