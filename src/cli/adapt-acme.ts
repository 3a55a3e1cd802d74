// `adapt --acme`: certbot's current certificates into gatehouse's storage (placeholder until the import lands).
import type { Config } from '../config/types.js';
import type { CertbotLineage } from '../config/nginx/adapt/context.js';

export async function importCertbotLineages(_config: Config, lineages: CertbotLineage[]): Promise<boolean> {
  for (const l of lineages) process.stderr.write(`${l.pos.file}:${l.pos.line}:${l.pos.col}: certificate import from ${l.liveDir} is not available in this build\n`);
  return Promise.resolve(false);
}
