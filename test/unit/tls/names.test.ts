import { expect } from 'chai';
import {
  certNamesForSite,
  nameCovers,
  namesCover,
  normalizeName,
  parseSubjectAltName,
  wildcardFor,
} from '../../../src/tls/names.js';
import { renewalTime } from '../../../src/tls/renewal.js';

describe('tls names (RFC 6125)', () => {
  it('normalises case, a trailing dot and IPv6 forms', () => {
    expect(normalizeName('WWW.Example.COM.')).to.equal('www.example.com');
    expect(normalizeName('[0:0:0:0:0:0:0:1]')).to.equal('::1');
    expect(normalizeName('2001:DB8:0:0:0:0:0:5')).to.equal('2001:db8::5');
    expect(normalizeName('127.0.0.1')).to.equal('127.0.0.1');
  });

  it('a wildcard covers exactly one label, never the bare domain or two labels', () => {
    expect(nameCovers('*.example.com', 'a.example.com')).to.equal(true);
    expect(nameCovers('*.example.com', 'a.b.example.com')).to.equal(false);
    expect(nameCovers('*.example.com', 'example.com')).to.equal(false);
    expect(nameCovers('*.example.com', 'a.example.org')).to.equal(false);
    expect(nameCovers('*.example.com', '.example.com')).to.equal(false);
  });

  it('exact names match case-insensitively, with or without a trailing dot', () => {
    expect(namesCover(['example.com'], 'EXAMPLE.com.')).to.equal(true);
    expect(namesCover(['example.com'], 'www.example.com')).to.equal(false);
  });

  it('IP addresses match exactly, never through a wildcard', () => {
    expect(namesCover(['127.0.0.1'], '127.0.0.1')).to.equal(true);
    expect(namesCover(['127.0.0.1'], '127.0.0.2')).to.equal(false);
    expect(namesCover(['::1'], '[0:0::1]')).to.equal(true);
    expect(namesCover(['*.0.0.1'], '127.0.0.1')).to.equal(false);
    expect(wildcardFor('10.0.0.1')).to.equal(undefined);
  });

  it('wildcardFor gives the one-label wildcard, or nothing for single-label names', () => {
    expect(wildcardFor('a.b.example.com')).to.equal('*.b.example.com');
    expect(wildcardFor('localhost')).to.equal(undefined);
  });

  it('turns site hosts into certificate names, translating or skipping nginx forms', () => {
    expect(
      certNamesForSite({ hosts: ['Example.com', 'www.example.com', 'example.com', '.sub.example.com', '~^api\\d+', '_', 'www.example.*', '127.0.0.1'] }),
    ).to.deep.equal(['example.com', 'www.example.com', 'sub.example.com', '*.sub.example.com', '127.0.0.1']);
  });

  it('parses Node subjectAltName strings, including quoted values', () => {
    expect(
      parseSubjectAltName('DNS:a.example, DNS:*.Example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, email:x@y'),
    ).to.deep.equal(['a.example', '*.example.com', '127.0.0.1', '::1']);
    expect(parseSubjectAltName('DNS:"odd, name", DNS:b.example')).to.deep.equal(['odd, name', 'b.example']);
    expect(parseSubjectAltName(undefined)).to.deep.equal([]);
  });

  it('renewal is due with a third of the lifetime left, or half under 10 days', () => {
    const t0 = Date.UTC(2030, 0, 1);
    const day = 86400_000;
    expect(renewalTime(new Date(t0), new Date(t0 + 90 * day)).getTime()).to.equal(t0 + 60 * day);
    expect(renewalTime(new Date(t0), new Date(t0 + 6 * day)).getTime()).to.equal(t0 + 3 * day);
  });
});
