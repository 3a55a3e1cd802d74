// The server room's contract: one configuration compiled, as the dispatcher, the listeners' glue
// (app.ts) and the admin pages read it.
import type { Config } from '../config/types.js';
import type { AccessLog } from '../log/access-log.js';
import type { Logger } from '../log/types.js';
import type { TrustCheck } from '../http/trust.js';
import type { RequestEnv, RouteHandler } from '../request/context.js';
import type { CompiledRoute, SiteTable } from '../router/types.js';
import type { UpstreamPool } from '../upstream/pool.js';

export interface Snapshot {
  readonly config: Config;
  readonly table: SiteTable;
  readonly logger: Logger;
  readonly accessLog: AccessLog;
  readonly trust: TrustCheck;
  /** What handlers may ask of this configuration (request/context.ts RequestEnv). */
  readonly env: RequestEnv;
  readonly handlers: ReadonlyMap<CompiledRoute, RouteHandler>;
  /** Upstream pools by key (`upstream:NAME` or `literal:URL`), for metrics and the status page. */
  readonly pools: ReadonlyMap<string, UpstreamPool>;
  /** The first https port, for redirects from the http listener (omitted from URLs when 443). */
  readonly httpsPort: number | undefined;
  dispose(): Promise<void>;
}
