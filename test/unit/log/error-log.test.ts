// The error log file: private to its owner, and never a query string (security review F13).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createErrorLogger } from '../../../src/log/error-log.js';

async function linesOf(file: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    if (lines.length >= count || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('error log', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-errlog-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates its file 0600 (the access log is 0640)', async () => {
    const file = path.join(dir, 'error.log');
    const logger = createErrorLogger({ error: { file }, level: 'info' });
    logger.warn('first line');
    await linesOf(file, 1);
    logger.close();
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
  });

  it('logs the uri field without its query, and leaves the caller\'s object as it was', async () => {
    const file = path.join(dir, 'error.log');
    const logger = createErrorLogger({ error: { file }, level: 'info' });
    const meta = { code: 'ECONNREFUSED', uri: '/dead/x?api_key=TOPSECRET' };
    logger.error('upstream failed', meta);
    logger.warn('absolute form', { uri: 'http://a.test/p/q?token=TOPSECRET#frag' });
    logger.warn('no query', { uri: '/plain/path' });
    logger.warn('not a string', { uri: 42 });
    const lines = await linesOf(file, 4);
    logger.close();
    expect(lines.join('\n')).to.not.include('TOPSECRET');
    expect(lines[0]).to.match(/\[error\] upstream failed \{"code":"ECONNREFUSED","uri":"\/dead\/x"\}$/);
    expect(lines[1]).to.include('"uri":"http://a.test/p/q"');
    expect(lines[2]).to.include('"uri":"/plain/path"');
    expect(lines[3]).to.include('"uri":42');
    expect(meta.uri).to.equal('/dead/x?api_key=TOPSECRET');
  });
});
