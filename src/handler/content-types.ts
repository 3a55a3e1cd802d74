// The Content-Type of a static file. Native configs use the mime-types table (IANA + Apache) with
// its charset for text types. A `mimeTypes` section (what the nginx adapter writes from `types`,
// `default_type`, `charset` and `charset_types`) replaces that with nginx's rules: the extension,
// lower-cased, looked up in the config's table (ngx_http_set_content_type), else the default type;
// `; charset=X` only with `charset` set and only for the charset types (ngx_http_charset_filter).
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
  const { byExtension, defaultType, charset, charsetTypes } = config;
  const withCharset = (type: string) => (charset !== undefined && (charsetTypes.has(type) || charsetTypes.has('*')) ? `${type}; charset=${charset}` : type);
  return {
    id: `table${++tables}`,
    of(ext) {
      const name = ext.slice(1).toLowerCase();
      const type = name === '' ? undefined : byExtension ? byExtension.get(name) : mime.lookup(name) || undefined;
      return withCharset(type ?? defaultType);
    },
  };
}
