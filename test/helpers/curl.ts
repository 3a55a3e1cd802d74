// curl as a real client: status, protocol, headers and body of one request.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CurlResult {
  status: number;
  httpVersion: string;
  headers: Record<string, string[]>;
  body: Buffer;
  stderr: string;
  exitCode: number;
}

export async function curl(args: string[], timeoutMs = 30_000): Promise<CurlResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-curl-'));
  const headerFile = path.join(dir, 'h');
  const bodyFile = path.join(dir, 'b');
  try {
    const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
      execFile(
        'curl',
        ['-sS', '--max-time', String(Math.ceil(timeoutMs / 1000)), '-D', headerFile, '-o', bodyFile, '-w', '%{http_code} %{http_version}', ...args],
        { timeout: timeoutMs + 5000, maxBuffer: 1 << 20 },
        (err, stdout, stderr) => resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 }),
      );
    });
    const [status, version] = stdout.trim().split(' ');
    const headers: Record<string, string[]> = {};
    const raw = fs.existsSync(headerFile) ? fs.readFileSync(headerFile, 'utf8') : '';
    // Only the last response block (after redirects / 100-continue).
    const blocks = raw.split(/\r?\n\r?\n/).filter((b) => b.trim() !== '');
    for (const line of (blocks[blocks.length - 1] ?? '').split(/\r?\n/).slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) (headers[line.slice(0, i).trim().toLowerCase()] ??= []).push(line.slice(i + 1).trim());
    }
    return {
      status: Number(status),
      httpVersion: version ?? '',
      headers,
      body: fs.existsSync(bodyFile) ? fs.readFileSync(bodyFile) : Buffer.alloc(0),
      stderr,
      exitCode: code,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
