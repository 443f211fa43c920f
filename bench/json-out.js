// The benchmarks' machine-readable output (--json PATH): the rows as one JSON array, written
// to a temporary file and renamed, so that a reader (bench/gpu-check.sh) never sees half a file.
import { writeFileSync, renameSync } from 'node:fs';

export function writeJsonAtomic(path, value) {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}
