// nginx configuration errors as gatehouse ConfigErrors. nginx stops at the first emergency
// (ngx_conf_log_error + NGX_CONF_ERROR), and so does the parser: one positioned issue each.
import { ConfigError, type SourcePos } from '../types.js';

export function nginxError(pos: SourcePos, message: string): ConfigError {
  return new ConfigError([{ pos: { ...pos }, message, severity: 'error' }]);
}
