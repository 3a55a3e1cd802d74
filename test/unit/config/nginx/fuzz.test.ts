// Fuzzing: seeded random mutations of the corpus files and of the fixtures (characters deleted,
// duplicated, swapped; quotes, braces, semicolons, backslashes, `$`, `#` and newlines inserted). The parser
// must either return a tree or throw one positioned ConfigError with a message of its own, within a
// time bound per input: never another exception, never a hang. FUZZ_SEED=n replays another run.
import fs from 'node:fs';
import { expect } from 'chai';
import { parseNginx, type NginxParseOptions } from '../../../../src/config/nginx/index.js';
import { ConfigError } from '../../../../src/config/types.js';
import { parseConfig } from '../../../../src/config/index.js';
import { setNginxOptions } from '../../../../src/config/load.js';
import { confFiles, CORPUS, FIXTURES, hasNginx, NGINX, nginxTest, NO_CORPUS, skipBecause, tmpdir } from './helpers.js';

const SEED = Number(process.env.FUZZ_SEED ?? 18);
const MUTANTS_PER_FILE = 100;
/** The adapter runs the whole config pipeline (about a millisecond or more per input). */
const ADAPTER_MUTANTS_PER_FILE = 12;
/** Mutants also run through `nginx -t` (about 0.1 s each). */
const NGINX_MUTANTS = 100;

const TYPES_BODY = [
  'text/html html htm shtml;',
  '    image/svg+xml svg svgz; # comment ; { } " \'',
  '\t"quoted/type" \'single\' "a b" \'c\\\'d\' e\\ f;',
  'x/regex "^/x{8}$" ${var}z $v${w} a#b;',
  '"esc\\"aped" "\\t\\n\\r" trailing\\;',
  'application/x-long a b c d e f g h i j k l m n o p;',
  'if-like ($a ~ "^b") c;',
].join('\n') + '\n';
// Typical inputs take well under a millisecond. The bound is on the process' CPU time, not the wall
// clock, so a machine busy with other work does not make it flaky.
const MS_PER_INPUT = 250;
const MS_PER_HOSTILE_INPUT = 5000;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INSERTS = ['"', "'", '{', '}', ';', '\\', '$', '${', '#', '\n', ' ', '\r\n', '(', ')', '"^/x{8}$"', 'include x;', '}}', '{{'];

function mutate(text: string, random: () => number): string {
  let s = text;
  const count = 1 + Math.floor(random() * 5);
  for (let k = 0; k < count; k++) {
    const i = Math.floor(random() * (s.length + 1));
    switch (Math.floor(random() * 6)) {
      case 0: // delete a run
        s = s.slice(0, i) + s.slice(i + 1 + Math.floor(random() * 8));
        break;
      case 1: { // duplicate a run
        const run = s.slice(i, i + 1 + Math.floor(random() * 40));
        s = s.slice(0, i) + run + s.slice(i);
        break;
      }
      case 2: // swap two neighbours
        if (i + 1 < s.length) s = s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);
        break;
      case 3: // cut the file short
        if (random() < 0.3) s = s.slice(0, i);
        break;
      default: { // insert syntax
        const ins = INSERTS[Math.floor(random() * INSERTS.length)] as string;
        s = s.slice(0, i) + ins + s.slice(i);
      }
    }
  }
  return s;
}

const OWN_MESSAGES = [
  /^unexpected "[^]+"$/,
  /^unexpected end of file, expecting (";" or "}"|"}")$/,
  /^too long parameter/,
  /^directive "include" is not terminated by ";"$/,
  /^invalid number of arguments in "include" directive$/,
  /^(open|pread)\(\) ".*" failed \(\d+: .+\)$/s,
  /^include cycle: /,
  /^includes nested more than \d+ deep$/,
  /^more than \d+ included files read in all/,
  /is too large: the configuration with its includes may take \d+ bytes in all$/,
  /is not a regular file$/,
  /^blocks nested more than \d+ deep$/,
  /^more than \d+ words in the configuration$/,
];

interface Tally {
  inputs: number;
  parsed: number;
  refused: number;
  slowest: number;
}

function attempt(text: string, file: string, options: NginxParseOptions, tally: Tally, bound = MS_PER_INPUT): void {
  const lines = text.split('\n').length + 1;
  const cpu0 = process.cpuUsage();
  try {
    parseNginx(text, file, options);
    tally.parsed++;
  } catch (err) {
    if (!(err instanceof ConfigError)) {
      throw new Error(`not a ConfigError for input (seed ${SEED}):\n${text.slice(0, 2000)}`, { cause: err });
    }
    expect(err.issues).to.have.length(1);
    const [issue] = err.issues;
    expect(issue?.pos.line).to.be.within(1, issue?.pos.file === file ? lines : Infinity);
    expect(issue?.pos.col).to.be.at.least(1);
    expect(OWN_MESSAGES.some((re) => re.test(issue?.message ?? '')), issue?.message).to.equal(true);
    tally.refused++;
  }
  const { user, system } = process.cpuUsage(cpu0);
  const ms = (user + system) / 1000;
  tally.slowest = Math.max(tally.slowest, ms);
  tally.inputs++;
  expect(ms, `input took ${ms.toFixed(1)} ms (seed ${SEED})`).to.be.below(bound);
}

describe('config/nginx fuzz', function () {
  let prefix: string;
  let stockDir: string;
  before(() => {
    prefix = tmpdir();
    stockDir = tmpdir();
    fs.writeFileSync(`${prefix}/x`, 'listen 1;\n');
  });
  after(() => {
    fs.rmSync(prefix, { recursive: true, force: true });
    fs.rmSync(stockDir, { recursive: true, force: true });
  });

  const run = (files: string[]): Tally => {
    const random = rng(SEED);
    const tally: Tally = { inputs: 0, parsed: 0, refused: 0, slowest: 0 };
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      for (let n = 0; n < MUTANTS_PER_FILE; n++) {
        // One in four expands includes (against a scratch prefix; missing ones kept), the rest keep them.
        const options: NginxParseOptions =
          n % 4 === 0 ? { prefix, stockDir, missingIncludes: 'keep' } : { expandIncludes: false };
        attempt(mutate(text, random), `${prefix}/main.conf`, options, tally);
      }
    }
    console.log(`      seed ${SEED}: ${tally.inputs} inputs, ${tally.parsed} parsed, ${tally.refused} refused, slowest ${tally.slowest.toFixed(2)} ms of CPU`);
    return tally;
  };

  it('mutated fixtures: a tree or a positioned ConfigError, quickly', () => {
    const t = run(confFiles(FIXTURES));
    expect(t.inputs).to.be.at.least(500);
    expect(t.refused).to.be.greaterThan(0);
  });

  // Registered only where the corpus is (beside the repository, not in a clean clone): CI runs no
  // skipped tests, and the fixtures above stand in there.
  const corpus = confFiles(CORPUS);
  if (corpus.length > 0) {
    it('mutated corpus files: a tree or a positioned ConfigError, quickly', () => {
      expect(run(corpus).inputs).to.be.at.least(2000);
    });
  } else {
    console.log(`      ${NO_CORPUS}`);
  }

  // The adapter and the native pipeline behind it (what `check` runs) on mutants that may still
  // parse: a Config, or a ConfigError whose every issue has a position, never another exception.
  it('mutated fixtures and corpus files through the adapter: a Config or a positioned ConfigError', () => {
    const random = rng(SEED + 2);
    setNginxOptions({ prefix, allowMissingIncludes: true });
    let loaded = 0;
    let refused = 0;
    try {
      for (const file of [...confFiles(FIXTURES), ...confFiles(CORPUS)]) {
        const text = fs.readFileSync(file, 'utf8');
        for (let n = 0; n < ADAPTER_MUTANTS_PER_FILE; n++) {
          const mutant = n === 0 ? text : mutate(text, random);
          try {
            parseConfig(mutant, `${prefix}/main.conf`);
            loaded++;
          } catch (err) {
            if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError from the adapter (seed ${SEED}):\n${mutant.slice(0, 2000)}`, { cause: err });
            for (const issue of err.issues) {
              expect(issue.pos.line, issue.message).to.be.at.least(1);
              expect(issue.pos.col, issue.message).to.be.at.least(1);
            }
            refused++;
          }
        }
      }
    } finally {
      setNginxOptions({});
    }
    console.log(`      seed ${SEED}: ${loaded} loaded, ${refused} refused by the adapter`);
    expect(loaded).to.be.greaterThan(0);
    expect(refused).to.be.greaterThan(0);
  });

  it('mutants through nginx -t: the same syntax error on the same line, or none before nginx\'s own stop', function () {
    if (!hasNginx()) skipBecause(this, `${NGINX} is not installed: nothing to compare with`);
    const random = rng(SEED + 1);
    const fixtures = confFiles(FIXTURES).map((f) => `http {\n${fs.readFileSync(f, 'utf8')}\n}\n`);
    // Inside `types {}` nginx takes any line of words as data, so its only complaints are syntax ones:
    // the best ground for comparing tokenizers.
    const types = `http {\ntypes {\n${TYPES_BODY}}\n}\n`;
    const syntax = /^(unexpected|too long parameter)/;
    const file = `${prefix}/nginx.conf`;
    let compared = 0;
    let sameSyntaxError = 0;
    for (let n = 0; n < NGINX_MUTANTS; n++) {
      const text = `events {}\n${mutate(n % 4 === 0 ? (fixtures[n % fixtures.length] as string) : types, random)}`;
      fs.writeFileSync(file, text);
      const theirs = nginxTest(file);
      let mine: ConfigError | undefined;
      try {
        parseNginx(text, file, { prefix, stockDir, missingIncludes: 'keep' });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        mine = err;
      }
      const issue = mine?.issues[0];
      const context = `nginx: ${theirs.message ?? 'ok'} at ${theirs.line}; gatehouse: ${issue?.message ?? 'ok'} at ${issue?.pos.line} (seed ${SEED}, mutant ${n}):\n${text}`;
      if (theirs.message !== undefined && syntax.test(theirs.message) && theirs.file === file) {
        expect([issue?.message, issue?.pos.line], context).to.deep.equal([theirs.message, theirs.line]);
        sameSyntaxError++;
      } else if (theirs.ok) {
        expect(issue, context).to.equal(undefined);
      } else if (issue && theirs.line !== undefined && theirs.file === file) {
        expect(issue.pos.line, context).to.be.at.least(theirs.line);
      }
      compared++;
    }
    console.log(`      ${compared} mutants compared with nginx -t, ${sameSyntaxError} with the same syntax error`);
  });

  it('hostile inputs end in errors, not in a stack overflow, a hang or a huge heap', () => {
    const tally: Tally = { inputs: 0, parsed: 0, refused: 0, slowest: 0 };
    const file = `${prefix}/main.conf`;
    const hostile = [
      'a{'.repeat(100_000),
      `${'a {'.repeat(50)}${'}'.repeat(50)}`,
      '"'.repeat(1_000_001),
      `a ${'\\'.repeat(100_000)};`,
      'a b;'.repeat(300_000),
      `server_name ${'a '.repeat(300_000)};`,
      '}'.repeat(100_000),
      `#${'\n#'.repeat(100_000)}`,
    ];
    for (const text of hostile) attempt(text, file, {}, tally, MS_PER_HOSTILE_INPUT);
    expect(tally.refused).to.equal(hostile.length - 2);
  });
});
