// Temporary folders for tests that write files (experiment folders, checkpoints): each is
// removed when the test process exits, whether its tests passed or failed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs: string[] = [];
process.on('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder `mg-<prefix>-XXXXXX` under the OS temp dir, removed at process exit. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mg-${prefix}-`));
  dirs.push(dir);
  return dir;
}
