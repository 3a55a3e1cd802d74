// The Content-Type of a static file. Native configs use the mime-types table (IANA + Apache) with
// its charset for text types. A `mimeTypes` section (what the nginx adapter writes from `types`
// and `default_type`) replaces that with nginx's rules: the extension, lower-cased, looked up in
// the config's table (ngx_http_set_content_type), else the default type, with no charset: the
// route's `charset` adds one to every kind of answer (http/charset.ts, request/response-filter.ts).
import mime from 'mime-types';
import type { MimeTypesConfig } from '../config/types.js';

export interface ContentTypes {
  /** Tells cached file lookups made with different tables apart. */
  readonly id: string;
  /** `ext` as path.extname gives it: ".js", or "" for none. */
  of(ext: string): string;
}

export const NATIVE_CONTENT_TYPES: ContentTypes = {
  id: 'native',
  of: (ext) => mime.contentType(ext) || 'application/octet-stream',
};

let tables = 0;

export function compileContentTypes(config: MimeTypesConfig | undefined): ContentTypes {
  if (!config) return NATIVE_CONTENT_TYPES;
  const { byExtension, defaultType } = config;
  return {
    id: `table${++tables}`,
    of(ext) {
      const name = ext.slice(1).toLowerCase();
      const type = name === '' ? undefined : byExtension ? byExtension.get(name) : mime.lookup(name) || undefined;
      return type ?? defaultType;
    },
  };
}
