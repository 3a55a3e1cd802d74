// nginx's r->add_uri_to_alias: after a try_files hit in a regex location with `alias`, the file is
// the alias followed by the URI that was found (ngx_http_try_files_handler), for the static
// handler and for $request_filename alike. Kept per request, for the URI it was set for: any later
// change of the URI (an index, an internal redirect) ends it.
const marked = new WeakMap<object, string>();

export function addUriToAlias(ctx: object, uri: string): void {
  marked.set(ctx, uri);
}

export function uriAddedToAlias(ctx: { readonly path: string }): boolean {
  return marked.get(ctx) === ctx.path;
}
