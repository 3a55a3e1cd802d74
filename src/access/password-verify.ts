// Checks a password against one stored htpasswd hash: the schemes of nginx's ngx_crypt ({PLAIN},
// {SHA}, {SSHA}, $apr1$) and those Debian's crypt(3) adds for it (bcrypt, $1$, $5$, $6$), with
// maintained libraries (bcryptjs, apache-md5, unixcrypt). Every comparison is constant-time.
import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import apacheMd5 from 'apache-md5';
import { encrypt as shaCrypt } from 'unixcrypt';
import type { HashScheme } from '../config/htpasswd-lines.js';

/** Equal whatever the lengths, in time that does not depend on where they differ. */
export function sameSecret(a: Buffer | string, b: Buffer | string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * bcryptjs and unixcrypt take JS strings and hash their UTF-8. Bytes that are not UTF-8 have no
 * string that encodes back to them; replacing them (U+FFFD) would make different passwords equal,
 * so such a password fails these schemes.
 */
function asUtf8(password: Buffer): string | undefined {
  try {
    return utf8.decode(password);
  } catch {
    return undefined;
  }
}

/** `password` is the raw bytes the client sent after the first ":". */
export async function verifyPassword(scheme: HashScheme, hash: string, password: Buffer): Promise<boolean> {
  switch (scheme) {
    case 'bcrypt': {
      const text = asUtf8(password);
      // bcryptjs compares in constant time (its safeStringCompare).
      return text !== undefined && bcrypt.compare(text, hash);
    }
    case 'sha256-crypt':
    case 'sha512-crypt': {
      const text = asUtf8(password);
      if (text === undefined) return false;
      const salt = hash.slice(0, hash.lastIndexOf('$'));
      return sameSecret(shaCrypt(text, salt), hash);
    }
    case 'apr1':
    case 'md5-crypt':
      // apache-md5 hashes its string as 'ascii', which Node writes as latin1: one byte per char.
      return sameSecret(apacheMd5(password.toString('latin1'), hash), hash);
    case 'sha1':
      return sameSecret(`{SHA}${createHash('sha1').update(password).digest('base64')}`, hash);
    case 'ssha': {
      const raw = Buffer.from(hash.slice(6), 'base64');
      const digest = createHash('sha1').update(password).update(raw.subarray(20)).digest();
      return sameSecret(digest, raw.subarray(0, 20));
    }
    case 'plain':
      return sameSecret(password, Buffer.from(hash.slice(7), 'latin1'));
  }
}
