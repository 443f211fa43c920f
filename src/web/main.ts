/**
 * The MultiGrain page: Status, Train, Classify and Search tabs over the library, which it also
 * exposes as `window.multigrain` for automated tests. Test contract: once started (or once it
 * knows WebGPU is missing), the page sets `window.multigrainReady = true` and dispatches a
 * `multigrain-ready` event on window; where it can't run, `window.multigrainError` says why.
 */
import * as lib from '../index.js';
import { NO_WEBGPU_MESSAGE, gpuStatus, webgpuProblem, type GpuStatus } from './status.js';
import { benchmark } from './benchmark.js';
import { byId, errorText } from './dom.js';
import { createPageApi, type PageApi } from './page-api.js';
import { setupStatusTab } from './status-tab.js';
import { setupClassifyTab } from './classify-tab.js';
import { setupSearchTab } from './search-tab.js';
import { setupTrainTab } from './train-tab.js';

/** `window.multigrain`: the library, the benchmark, and the page's own operations. */
export type MultiGrainGlobal = typeof lib & { benchmark: typeof benchmark; page: PageApi; NO_WEBGPU_MESSAGE: string };

declare global {
  interface Window {
    multigrain?: MultiGrainGlobal;
    multigrainReady?: boolean;
    multigrainError?: string;
  }
}

/**
 * The tabs, as the WAI-ARIA tabs pattern: one tab in the Tab order (the selected one), arrow
 * keys, Home and End move between tabs and show them.
 */
function setupTabs(): void {
  const buttons = Array.from(document.querySelectorAll<HTMLButtonElement>('#tabs [role=tab]'));
  const select = (b: HTMLButtonElement): void => {
    for (const x of buttons) {
      x.classList.toggle('active', x === b);
      x.setAttribute('aria-selected', String(x === b));
      x.tabIndex = x === b ? 0 : -1;
    }
    document.querySelectorAll('.tab').forEach((s) => s.classList.toggle('active', s.id === b.dataset.tab));
  };
  const moves: Record<string, (i: number) => number> = {
    ArrowRight: (i) => (i + 1) % buttons.length,
    ArrowLeft: (i) => (i - 1 + buttons.length) % buttons.length,
    Home: () => 0,
    End: () => buttons.length - 1,
  };
  for (const [i, b] of buttons.entries()) {
    b.addEventListener('click', () => select(b));
    b.addEventListener('keydown', (e) => {
      const move = moves[e.key];
      if (!move) return;
      e.preventDefault();
      const next = buttons[move(i)]!;
      select(next);
      next.focus();
    });
  }
}

function ready(error?: string): void {
  if (error !== undefined) window.multigrainError = error;
  window.multigrainReady = true;
  window.dispatchEvent(new Event('multigrain-ready'));
}

async function start(): Promise<void> {
  setupTabs();
  const api = createPageApi();
  window.multigrain = { ...lib, benchmark, page: api, NO_WEBGPU_MESSAGE };
  const problem = await webgpuProblem();
  if (problem) {
    const msg = byId('status-message');
    msg.textContent = problem;
    msg.className = 'error';
    document.querySelectorAll<HTMLButtonElement>('main button').forEach((b) => { b.disabled = true; });
    ready(problem);
    return;
  }
  let status: GpuStatus;
  try {
    status = gpuStatus(await lib.init());
  } catch (err) {
    const text = `WebGPU is present but the engine could not start: ${errorText(err)}`;
    byId('status-message').textContent = text;
    byId('status-message').className = 'error';
    ready(text);
    return;
  }
  api.status = status;
  await api.readServedConfig();
  setupStatusTab(status);
  setupClassifyTab(api);
  setupSearchTab(api);
  setupTrainTab(api);
  ready();
}

start().catch((err) => {
  console.error(err);
  ready(`the page failed to start: ${errorText(err)}`);
});
