/** The Status tab: the adapter, its features and limits, and the speed check's button. */
import { h, byId, errorText } from './dom.js';
import { benchmark } from './benchmark.js';
import type { GpuStatus } from './status.js';

export function setupStatusTab(status: GpuStatus): void {
  const a = status.adapter;
  byId('status-message').textContent = `WebGPU is running on ${status.name}${status.cpuAdapter ? ' (a CPU implementation: expect CPU speed)' : ''}.`;
  const row = (k: string, v: string): HTMLTableRowElement => h('tr', {}, h('th', {}, k), h('td', {}, v));
  byId('status-details').append(
    h('table', { id: 'adapter-table' },
      row('vendor', a.vendor || '—'), row('architecture', a.architecture || '—'), row('device', a.device || '—'),
      row('description', a.description || '—'), row('features', status.features.join(', ') || 'none')),
    h('h3', {}, 'Limits the kernels use'),
    h('table', { id: 'limits-table' }, ...Object.entries(status.limits).map(([k, v]) => row(k, v.toLocaleString('en-US')))),
  );
  const button = byId<HTMLButtonElement>('bench-run');
  const out = byId('bench-out');
  button.addEventListener('click', () => {
    button.disabled = true;
    out.textContent = `adapter: ${status.name}\n`;
    benchmark({ onRow: (r) => { out.textContent += `${r.model} ${r.size}x${r.size} batch 1: ${r.msPerImage.toFixed(1)} ms/image\n`; } })
      .catch((err) => { out.textContent += `failed: ${errorText(err)}\n`; })
      .finally(() => { button.disabled = false; });
  });
}
