/** A one-line progress bar with rate and ETA, redrawn in place on a terminal. */
export interface ProgressOptions {
  /** Where to write (default: stderr in Node, nothing elsewhere). */
  write?: (text: string) => void;
  /** Draw in place with carriage returns (default: when the stream is a TTY). */
  inPlace?: boolean;
  /** Minimum milliseconds between redraws. */
  intervalMs?: number;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class ProgressBar {
  private start = Date.now();
  private lastDraw = 0;
  private lastDone = -1;
  private readonly write: (text: string) => void;
  private readonly inPlace: boolean;
  private readonly interval: number;

  constructor(private label: string, private total: number, private unit = 'it', options: ProgressOptions = {}) {
    const stderr = typeof process !== 'undefined' ? process.stderr : undefined;
    this.write = options.write ?? ((t) => stderr?.write(t));
    this.inPlace = options.inPlace ?? !!stderr?.isTTY;
    this.interval = options.intervalMs ?? (this.inPlace ? 200 : 10_000);
  }

  /** The line for `done` items with an optional suffix (metrics). */
  line(done: number, suffix = ''): string {
    const elapsed = (Date.now() - this.start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = (this.total - done) / rate;
    const frac = Math.min(1, done / Math.max(this.total, 1));
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    return `${this.label} ${bar} ${done}/${this.total} ${rate.toFixed(2)} ${this.unit}/s ETA ${formatDuration(eta)}${suffix ? ' ' + suffix : ''}`;
  }

  update(done: number, suffix = '', force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < this.interval && done < this.total) return;
    this.lastDraw = now;
    this.lastDone = done;
    const text = this.line(done, suffix);
    this.write(this.inPlace ? `\r${text}\x1b[K` : `${text}\n`);
  }

  /** Draws the final state (unless the last update already showed it) and ends the line. */
  finish(suffix = ''): void {
    if (this.lastDone !== this.total || suffix) this.update(this.total, suffix, true);
    if (this.inPlace) this.write('\n');
  }
}
