// nginx's FastCGI path split, the one rule both the FastCGI parameters (SCRIPT_NAME, PATH_INFO)
// and the variables of any template ($fastcgi_script_name, $fastcgi_path_info) follow.

/**
 * nginx's `fastcgi_split_path_info ^(.+?\.php)(/.*)$` as PCRE runs it on $uri's bytes: `.` matches
 * any byte but LF (JS's `.` would also refuse CR), and `$` also matches before a final LF.
 */
export const PHP_PATH_INFO = /^([^\n]+?\.php)(\/[^\n]*)(?=\n?$)/;

/** How a FastCGI route splits its paths; compiled into the route (router CompiledRoute.fastcgi). */
export interface FastCgiPathRule {
  /** true: PHP_PATH_INFO; a RegExp: the route's own fastcgi_split_path_info. */
  splitPathInfo: boolean | RegExp;
  /** nginx's fastcgi_index. */
  index: string | undefined;
}

/**
 * $fastcgi_script_name and $fastcgi_path_info (ngx_http_fastcgi_split): no regex or no match → the
 * whole $uri is the script name and PATH_INFO is empty; fastcgi_index is appended to a script name
 * that ends with "/".
 */
export function fastcgiScript(uri: string, split: boolean | RegExp | undefined, index: string | undefined): { scriptName: string; pathInfo: string } {
  const re = split === true ? PHP_PATH_INFO : split instanceof RegExp ? split : undefined;
  let scriptName = uri;
  let pathInfo = '';
  if (re) {
    re.lastIndex = 0;
    const m = re.exec(uri);
    if (m) {
      scriptName = m[1] ?? '';
      pathInfo = m[2] ?? '';
    }
  }
  if (index && scriptName.endsWith('/')) scriptName += index;
  return { scriptName, pathInfo };
}

/**
 * $fastcgi_script_name and $fastcgi_path_info of a request: split as its FastCGI route splits them;
 * on any other route the script name is $uri and the path info is empty, as in nginx without
 * fastcgi_split_path_info.
 */
export function fastcgiPathVars(path: string, rule: FastCgiPathRule | undefined): { scriptName: string; pathInfo: string } {
  return rule ? fastcgiScript(path, rule.splitPathInfo, rule.index) : { scriptName: path, pathInfo: '' };
}
