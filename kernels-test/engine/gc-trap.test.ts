// Dawn trap: if the object from webgpu's create() is garbage-collected while a device lives,
// the process segfaults in Dawn's event loop. Run work while forcing GC in a child process
// (--expose-gc), and check that it finishes cleanly and exits (device destroyed at the end).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

test('forced GC while GPU work is in flight neither crashes nor hangs', () => {
  const lib = resolve('dist/node/index.js');
  const script = `
    const mg = await import(${JSON.stringify(lib)});
    await mg.init();
    let total = 0;
    for (let i = 0; i < 40; i++) {
      const a = mg.tensor(new Float32Array(4096).fill(1), [64, 64]);
      const c = mg.matmul(a, a);
      globalThis.gc();
      const s = mg.sum(c);
      const pending = s.item();
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 1));
      globalThis.gc();
      total += await pending;
      a.dispose(); c.dispose(); s.dispose();
    }
    console.log('TOTAL ' + total);
    await mg.shutdown();
  `;
  const child = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.is(child.signal, null, `child was killed by ${child.signal} (stderr: ${child.stderr})`);
  assert.is(child.status, 0, `child exit code ${child.status} (stderr: ${child.stderr})`);
  assert.ok(child.stdout.includes(`TOTAL ${40 * 64 * 64 * 64}`), `unexpected output: ${child.stdout}`);
});

test.run();
