// Headless Chromium (the Debian package) driven by playwright-core: open a page, collect what the
// console and the page report as errors (CSP violations land there), take screenshots.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO } from './gatehouse.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.join(REPO, 'test-artifacts');

export interface OpenedPage {
  page: Page;
  /** Console messages of type error and uncaught page errors, in order. */
  errors: string[];
  status: number | undefined;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openPage(url: string): Promise<OpenedPage> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    const response = await page.goto(url, { waitUntil: 'load' });
    return {
      page,
      errors,
      status: response?.status(),
      async screenshot(name) {
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        const file = path.join(ARTIFACTS, name);
        await page.screenshot({ path: file, fullPage: true });
        return file;
      },
      close: () => browser.close(),
    };
  } catch (err) {
    await browser.close();
    throw err;
  }
}
