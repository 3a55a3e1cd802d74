// `check` and `adapt` run from one CommonJS bundle with a V8 code cache (scripts/bundle.mjs,
// src/cli/code-cache.ts): the cache the build wrote must be accepted, or every check compiles the
// config pipeline again (docs/performance.md "Start-up"); a rejected cache and a missing bundle must
// still give the same answers. `npm test` builds first.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadShortCommands } from '../../src/cli/code-cache.js';
import { REPO, tempDir } from '../helpers/gatehouse.js';

const DIST = path.join(REPO, 'dist');
const BUNDLE = path.join(DIST, 'short-commands.script.js');

function run(bin: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A copy of the built package (bin/, dist/, package.json) with only the dist/ files `keep` accepts. */
function install(keep: (distFile: string) => boolean): string {
  const dir = tempDir('gh-short-');
  fs.cpSync(path.join(REPO, 'bin'), path.join(dir, 'bin'), { recursive: true });
  fs.cpSync(DIST, path.join(dir, 'dist'), { recursive: true, filter: (src) => fs.statSync(src).isDirectory() || keep(path.relative(DIST, src)) });
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** Just what the bundle needs: no dist/main.js, so an answer proves the bundle gave it. */
const BUNDLE_ONLY = (f: string): boolean => ['cli/code-cache.js', 'short-commands.script.js', 'short-commands.cache', 'schema-validator.script.js', 'schema-validator.cache'].includes(f);

function writeConfigs(dir: string): { good: string; bad: string; conf: string } {
  const good = path.join(dir, 'good.yaml');
  fs.writeFileSync(good, 'listen:\n  https: 8443\nsites:\n  - hosts: [a.test]\n    tls: acme\n    routes:\n      - location: /\n        proxy: http://127.0.0.1:3000\n');
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, 'listen:\n  https: 8443\nsites:\n  - hosts: [a.test]\n    tls: acm\n');
  const conf = path.join(dir, 'site.conf');
  fs.writeFileSync(conf, 'events {}\nhttp {\n  server {\n    listen 80;\n    server_name a.test;\n    location / { proxy_pass http://127.0.0.1:3000; }\n  }\n}\n');
  return { good, bad, conf };
}

async function expectAnswers(dir: string): Promise<void> {
  const bin = path.join(dir, 'bin/gatehouse.js');
  const { good, bad, conf } = writeConfigs(dir);
  const ok = await run(bin, ['check', '-c', good], dir);
  expect(ok.stdout + ok.stderr).to.contain('syntax is ok');
  expect(ok.code).to.equal(0);
  const failed = await run(bin, ['check', '-c', bad], dir);
  expect(failed.stderr).to.match(new RegExp(`${bad}:5:10: tls must be`));
  expect(failed.code).to.equal(2);
  const adapted = await run(bin, ['adapt', conf], dir);
  expect(adapted.stdout).to.contain('proxy: http://127.0.0.1:3000');
  expect(adapted.code).to.equal(0);
  const usage = await run(bin, ['check', '--bogus'], dir);
  expect(usage.stderr).to.contain('Run "gatehouse --help" for usage.');
  expect(usage.code).to.equal(2);
}

describe('check and adapt from the CommonJS bundle with its code cache (integration)', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('is loaded with its code cache: V8 accepts the cache the build wrote', async () => {
    expect(fs.existsSync(BUNDLE), `${BUNDLE} is missing: npm run build`).to.equal(true);
    // In a fresh Node, as `gatehouse check` runs: V8 ties a cache to its flags, and a test earlier in this
    // process may have changed them (loop-cost.test.ts sets --expose-gc), which would reject any cache.
    const probe = `import { loadShortCommands } from ${JSON.stringify(path.join(DIST, 'cli/code-cache.js'))};
const loaded = loadShortCommands(${JSON.stringify(BUNDLE)});
process.stdout.write(JSON.stringify({ rejected: loaded?.script.cachedDataRejected, cached: loaded?.cached }));`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', probe], { timeout: 20_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    expect(JSON.parse(out)).to.deep.equal({ rejected: false, cached: true });
  });

  it('answers check and adapt with no ES module build beside it (bin/gatehouse.js runs the bundle)', async () => {
    const dir = install(BUNDLE_ONLY);
    dirs.push(dir);
    expect(fs.existsSync(path.join(dir, 'dist/main.js'))).to.equal(false);
    await expectAnswers(dir);
  });

  it('gives the same answers when V8 rejects the cache (a cache of other code), only slower', async () => {
    const dir = install(BUNDLE_ONLY);
    dirs.push(dir);
    fs.copyFileSync(path.join(DIST, 'schema-validator.cache'), path.join(dir, 'dist/short-commands.cache'));
    const loaded = loadShortCommands(path.join(dir, 'dist/short-commands.script.js'));
    expect(loaded?.script.cachedDataRejected).to.equal(true);
    expect(loaded?.cached).to.equal(false);
    await expectAnswers(dir);
  });

  it('without the bundle, check and adapt run from the ES modules (dist/main.js) as before', async () => {
    const dir = install((f) => !f.startsWith('short-commands.'));
    dirs.push(dir);
    expect(fs.existsSync(path.join(dir, 'dist/short-commands.script.js'))).to.equal(false);
    await expectAnswers(dir);
  });
});
