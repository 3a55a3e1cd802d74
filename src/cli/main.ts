// `gatehouse <command>`: the one entry point. Exit codes follow README "Commands".
import { VERSION } from '../version.js';
import { EXIT_USAGE, UsageError, usageExit } from './usage.js';


const HELP = `gatehouse ${VERSION}: a TLS-terminating edge proxy

Usage:
  gatehouse run [-c FILE]                       start in the foreground
  gatehouse check [-c FILE]                     validate the config (like nginx -t)
  gatehouse adapt FILE.conf [-o FILE] [--acme [--acme-directory URL]]
                                                an nginx configuration as gatehouse YAML
  gatehouse renew [-c FILE] [--force] [--dry-run] [--name NAME]
                                                one ACME renewal pass, then exit (for cron)
  gatehouse certs [-c FILE] [--json]            list certificates and their renewal state
  gatehouse proxy --from NAME[:PORT] --to ADDR  a one-line proxy with no config file
  gatehouse --help | --version

The config file is -c FILE, else $GATEHOUSE_CONFIG, else ./gatehouse.yaml.
Exit codes: 0 ok, 1 cannot start (run) or a renewal failed (renew), 2 invalid config or usage.
`;

export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(HELP);
        return command === undefined ? EXIT_USAGE : 0;
      case '-v':
      case '--version':
      case 'version':
        process.stdout.write(`gatehouse ${VERSION}\n`);
        return 0;
      // Commands are imported on use (check and adapt usually run from the CommonJS bundle instead,
      // src/cli/short-commands.ts): `check` and `--version` should not pay for the proxy's modules.
      case 'run':
        return await (await import('./run.js')).runServe(rest);
      case 'check':
        return await (await import('./check.js')).runCheck(rest);
      case 'adapt':
        return await (await import('./adapt.js')).runAdapt(rest);
      case 'renew':
        return await (await import('./renew.js')).runRenew(rest);
      case 'certs':
        return await (await import('./certs.js')).runCerts(rest);
      case 'proxy':
        return await (await import('./proxy.js')).runProxy(rest);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    return usageExit(err);
  }
}
