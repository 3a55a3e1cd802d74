import { expect } from 'chai';
import { parseDuration, parseRate, parseSize } from '../../../src/config/units.js';

describe('config/units', () => {
  describe('parseDuration', () => {
    it('reads the documented units into milliseconds', () => {
      expect(parseDuration('500ms')).to.equal(500);
      expect(parseDuration('30s')).to.equal(30_000);
      expect(parseDuration('5m')).to.equal(300_000);
      expect(parseDuration('12h')).to.equal(43_200_000);
      expect(parseDuration('30d')).to.equal(2_592_000_000);
      expect(parseDuration('1w')).to.equal(604_800_000);
    });

    it('adds up compound durations as nginx does', () => {
      expect(parseDuration('1h30m')).to.equal(5_400_000);
      expect(parseDuration('1m 30s')).to.equal(90_000);
      expect(parseDuration('1.5s')).to.equal(1500);
    });

    it('treats a bare number as seconds, like nginx', () => {
      expect(parseDuration(30)).to.equal(30_000);
      expect(parseDuration('30')).to.equal(30_000);
      expect(parseDuration(0.5)).to.equal(500);
    });

    it('rejects other spellings with a message that shows the right form', () => {
      expect(() => parseDuration('5x')).to.throw(/^invalid duration "5x".*like 30s/);
      expect(() => parseDuration('')).to.throw('invalid duration');
      expect(() => parseDuration('s')).to.throw('invalid duration');
      expect(() => parseDuration('10 s x')).to.throw('invalid duration');
      expect(() => parseDuration(-1)).to.throw('>= 0');
    });
  });

  describe('parseSize', () => {
    it('reads bytes and binary multiples', () => {
      expect(parseSize('512')).to.equal(512);
      expect(parseSize(512)).to.equal(512);
      expect(parseSize('64k')).to.equal(65_536);
      expect(parseSize('10m')).to.equal(10 * 1024 * 1024);
      expect(parseSize('1g')).to.equal(1024 ** 3);
      expect(parseSize('1G')).to.equal(1024 ** 3);
      expect(parseSize('10MB')).to.equal(10 * 1024 * 1024);
    });

    it('rejects other spellings', () => {
      expect(() => parseSize('10x')).to.throw(/^invalid size "10x".*64k/);
      expect(() => parseSize('512b')).to.throw('invalid size');
      expect(() => parseSize('k')).to.throw('invalid size');
      expect(() => parseSize(1.5)).to.throw('whole number');
    });
  });

  describe('parseRate', () => {
    it('reads requests per second or minute, per second', () => {
      expect(parseRate('10r/s')).to.equal(10);
      expect(parseRate('30r/m')).to.equal(0.5);
      expect(parseRate('10r/m')).to.be.closeTo(1 / 6, 1e-12);
    });

    it('rejects other spellings and zero', () => {
      expect(() => parseRate('10/s')).to.throw(/^invalid rate "10\/s".*10r\/s/);
      expect(() => parseRate('10r/h')).to.throw('invalid rate');
      expect(() => parseRate('0r/s')).to.throw('invalid rate');
    });
  });
});
