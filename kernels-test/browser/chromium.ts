// Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by
// playwright-core (never a downloaded browser), and a time limit for every await.
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Flags without WebGPU: Chromium on Linux then gives no adapter. */
export const CHROMIUM_BASE_ARGS = [
  '--headless', '--no-sandbox', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
/** With WebGPU on Chromium's built-in SwiftShader adapter. */
export const CHROMIUM_ARGS = [...CHROMIUM_BASE_ARGS, '--enable-unsafe-webgpu'];

/** Rejects after `ms` with a message naming the step, so that nothing can hang the runner. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`browser test: ${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Launches Chromium (a fresh temporary profile each time) with these flags. */
export async function launchChromium(args: readonly string[]): Promise<Browser> {
  const { chromium } = await withTimeout(import('playwright-core'), 10_000, 'loading playwright-core');
  return withTimeout(chromium.launch({ executablePath: CHROMIUM, args: [...args], timeout: 20_000 }), 25_000, 'launching Chromium');
}

/** Collects the page's console, errors and failed requests, for failure messages. */
export function pageLog(page: Page): () => string {
  const log: string[] = [];
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => log.push(`requestfailed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('crash', () => log.push('the page crashed'));
  return () => (log.length ? `\npage log:\n  ${log.slice(-20).join('\n  ')}` : '');
}
