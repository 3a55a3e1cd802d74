// Private keys for new certificates (acme.key). Generated off the main thread (libuv's pool), so an RSA
// key does not stall handshakes.
import { generateKeyPair } from 'node:crypto';
import type { AcmeConfig } from '../../config/types.js';

function ec(namedCurve: string): Promise<string> {
  return new Promise((resolve, reject) =>
    generateKeyPair(
      'ec',
      { namedCurve, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } },
      (err, _pub, key) => (err ? reject(err) : resolve(key))),
  );
}

function rsa(modulusLength: number): Promise<string> {
  return new Promise((resolve, reject) =>
    generateKeyPair(
      'rsa',
      { modulusLength, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } },
      (err, _pub, key) => (err ? reject(err) : resolve(key))),
  );
}

export function newCertificateKey(type: AcmeConfig['key']): Promise<string> {
  switch (type) {
    case 'ecdsa-p384':
      return ec('P-384');
    case 'rsa-2048':
      return rsa(2048);
    case 'rsa-4096':
      return rsa(4096);
    default:
      return ec('P-256');
  }
}
