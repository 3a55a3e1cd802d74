// The router room's public API: site by Host, location by path, URI normalisation and the
// upstream request-target. Everything is compiled per config snapshot; requests only look up.
export { compileSiteTable } from './site-table.js';
export { compileSite, type SiteCompileContext } from './site-locations.js';
export { normalizeRequestTarget, originForm, type NormalizedTarget } from './normalize.js';
export { upstreamPath, type UpstreamPathRequest } from './proxy-uri.js';
export { parseLocation } from './locations.js';
export { parseProxyTarget } from './proxy-target.js';
export { escapeUriPath, ESCAPE_URI, ESCAPE_WIRE, ESCAPE_NON_ASCII } from './uri-bytes.js';
export type {
  CompiledLocation,
  CompiledRoute,
  CompiledSite,
  LocationKind,
  LocationMatch,
  ProxyTarget,
  SiteTable,
} from './types.js';
