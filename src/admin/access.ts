// Who may use the admin listener: loopback clients always (like Caddy's admin endpoint, which is
// meant for the local machine), plus the config's `admin.allow` CIDRs. Others get 403, whatever
// address the listener is bound to.
import { compileTrust, type TrustCheck } from '../middleware/trusted-proxies.js';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

export function compileAdminAccess(allow: readonly string[] = []): TrustCheck {
  return compileTrust([...LOOPBACK, ...allow]);
}
