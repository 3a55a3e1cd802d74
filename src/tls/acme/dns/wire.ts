// Reading names and walking RRs in a raw DNS message, for what dns-packet does not expose: where a record
// starts (TSIG verification needs the message bytes before the TSIG RR, RFC 8945 §5.3.1) and the question of
// an answer before decoding it all. Bounded for hostile input: names ≤ 255 octets, pointers backward only.

/** Reads the (possibly compressed, RFC 1035 §4.1.4) name at `offset`; returns it and where it ends. */
export function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let at = offset;
  let end = -1;
  let total = 0;
  let lowest = offset;
  for (;;) {
    if (at >= msg.length) throw new Error('name runs past the message');
    const len = msg[at]!;
    if (len === 0) {
      if (end < 0) end = at + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= msg.length) throw new Error('name pointer runs past the message');
      const target = msg.readUInt16BE(at) & 0x3fff;
      // Only to earlier bytes than any visited so far: every jump goes strictly backward, so it ends.
      if (target >= lowest) throw new Error('name pointer does not point backward');
      if (end < 0) end = at + 2;
      lowest = target;
      at = target;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new Error('unknown label type');
    total += len + 1;
    if (total > 255 || at + 1 + len > msg.length) throw new Error('name too long');
    labels.push(msg.toString('latin1', at + 1, at + 1 + len));
    at += 1 + len;
  }
  return { name: labels.join('.'), end };
}

/** Offset just past the RR starting at `offset` (name, type, class, ttl, rdlength, rdata). */
export function skipRecord(msg: Buffer, offset: number): number {
  const { end } = readName(msg, offset);
  if (end + 10 > msg.length) throw new Error('record header runs past the message');
  const next = end + 10 + msg.readUInt16BE(end + 8);
  if (next > msg.length) throw new Error('record data runs past the message');
  return next;
}

/** Offset of the message's last RR (the TSIG RR must be last, RFC 8945 §5.1), or -1 when there is none. */
export function lastRecordOffset(msg: Buffer): number {
  if (msg.length < 12) throw new Error('shorter than a DNS header');
  let at = 12;
  for (let q = msg.readUInt16BE(4); q > 0; q--) {
    at = readName(msg, at).end + 4;
    if (at > msg.length) throw new Error('question runs past the message');
  }
  const records = msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10);
  let last = -1;
  for (let i = 0; i < records; i++) {
    last = at;
    at = skipRecord(msg, at);
  }
  return last;
}

/** A name in canonical wire form (RFC 4034 §6.2: lower case, uncompressed), as TSIG's MAC input wants it. */
export function canonicalName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').toLowerCase().split('.').filter((l) => l.length > 0);
  return Buffer.concat([...parts.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
}
