// The glob(3) that nginx's include uses: ngx_open_glob calls glob(pattern, 0, ...) with `test` set, so
//   - the result is sorted (no GLOB_NOSORT), by strcmp since nginx never calls setlocale: byte order;
//   - no match is not an error (GLOB_NOMATCH with gl->test is NGX_OK);
//   - a name starting with `.` is matched only by a pattern starting with `.` (glob's FNM_PERIOD);
//   - `\` escapes the next character (no GLOB_NOESCAPE); `[` without its `]` is an ordinary character;
//   - wildcards may be in any component (`/etc/nginx/*/site.conf`); directories match too, and reading
//     one then fails as it does in nginx.
import fs from 'node:fs';

/** ngx_conf_include's test: a name with any of `*?[` goes through glob, any other is opened as is. */
export function hasGlobMagic(name: string): boolean {
  return /[*?[]/.test(name);
}

const CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  xdigit: '0-9a-fA-F',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
};

function escapeRegex(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

/** Reads a bracket expression starting at pattern[i] === '['; undefined when it has no closing `]`. */
function bracket(pattern: string, i: number): { source: string; next: number } | undefined {
  let j = i + 1;
  let negate = false;
  if (pattern[j] === '!' || pattern[j] === '^') {
    negate = true;
    j++;
  }
  let body = '';
  let first = true;
  for (; j < pattern.length; j++) {
    const c = pattern[j] as string;
    if (c === ']' && !first) return { source: `[${negate ? '^' : ''}${body}]`, next: j + 1 };
    first = false;
    if (c === '[' && pattern[j + 1] === ':') {
      const end = pattern.indexOf(':]', j + 2);
      const cls = end < 0 ? undefined : CLASSES[pattern.slice(j + 2, end)];
      if (cls !== undefined) {
        body += cls;
        j = end + 1;
        continue;
      }
    }
    if (c === '\\' && j + 1 < pattern.length) {
      j++;
      body += escapeRegex(pattern[j] as string);
      continue;
    }
    // A `-` between two characters is a range; anywhere else it is itself.
    body += c === '-' && body !== '' && pattern[j + 1] !== ']' ? '-' : escapeRegex(c);
  }
  return undefined;
}

/** fnmatch(3) for one path component, as a RegExp. */
export function componentRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') source += '[\\s\\S]*';
    else if (c === '?') source += '[\\s\\S]';
    else if (c === '[') {
      const b = bracket(pattern, i);
      if (b) {
        source += b.source;
        i = b.next - 1;
      } else source += '\\[';
    } else if (c === '\\' && i + 1 < pattern.length) {
      i++;
      source += escapeRegex(pattern[i] as string);
    } else source += escapeRegex(c);
  }
  return new RegExp(`^${source}$`);
}

function unescapeLiteral(component: string): string {
  return component.replace(/\\([\s\S])/g, '$1');
}

function readdir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return []; // glob(3) without GLOB_ERR skips what it cannot read
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** `dir/name` as glob(3) builds it: no lexical `..` folding, the kernel resolves it (through symlinks). */
function child(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

/** The files an absolute glob pattern names, in glob(3)'s order; [] when nothing matches. */
export function globSync(pattern: string): string[] {
  const parts = pattern.split('/');
  let current = [parts[0] === '' ? '/' : '.'];
  const components = parts.slice(parts[0] === '' ? 1 : 0).filter((c) => c !== '');
  components.forEach((component, index) => {
    const last = index === components.length - 1;
    const next: string[] = [];
    if (!hasGlobMagic(component)) {
      const literal = unescapeLiteral(component);
      for (const dir of current) next.push(child(dir, literal));
    } else {
      const re = componentRegex(component);
      const dotOk = component.startsWith('.') || component.startsWith('\\.');
      for (const dir of current) {
        for (const name of readdir(dir)) {
          if (name.startsWith('.') && !dotOk) continue;
          if (!re.test(name)) continue;
          const full = child(dir, name);
          if (last || isDirectory(full)) next.push(full);
        }
      }
    }
    current = next;
  });
  return current.filter(exists).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
