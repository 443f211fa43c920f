import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PickleObject, UnpicklingError, pickleBuildState, unpickle } from '../../src/index.js';

const enc = new TextEncoder();
function bytes(...parts: Array<number[] | string>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) out.push(...(typeof p === 'string' ? enc.encode(p) : p));
  return new Uint8Array(out);
}

// pickle.dumps({'a': [1, -2, 300, 70000, 2**70, 1.5, None, True], 'b': ('x', b'\x00')}, protocol=2)-like, hand-assembled.
test('protocol 2 containers and scalars', () => {
  const p = bytes(
    [0x80, 2, 0x7d, 0x71, 0, 0x28], // PROTO 2, EMPTY_DICT, BINPUT 0, MARK
    [0x58, 1, 0, 0, 0], 'a', // BINUNICODE 'a'
    [0x5d, 0x28, 0x4b, 1], [0x4a, 0xfe, 0xff, 0xff, 0xff], [0x4d, 0x2c, 0x01], [0x4a, 0x70, 0x11, 0x01, 0x00],
    [0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40], // LONG1 2**70
    [0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], [0x4e, 0x88, 0x65], // BINFLOAT 1.5, NONE, NEWTRUE, APPENDS
    [0x8c, 1], 'b', [0x8c, 1], 'x', [0x43, 1, 0x00, 0x86], // SHORT_BINUNICODE 'b', 'x', SHORT_BINBYTES, TUPLE2
    [0x75, 0x2e], // SETITEMS, STOP
  );
  const { value, end } = unpickle(p);
  assert.is(end, p.length);
  const m = value as Map<string, unknown>;
  assert.equal(m.get('a'), [1, -2, 300, 70000, 2n ** 70n, 1.5, null, true]);
  assert.equal(m.get('b'), ['x', new Uint8Array([0])]);
});

test('memo (BINPUT/BINGET, MEMOIZE) shares objects', () => {
  // [[], <same list>] with protocol 4 MEMOIZE
  const { value } = unpickle(bytes([0x80, 4, 0x5d, 0x94, 0x28, 0x5d, 0x94, 0x68, 1, 0x65, 0x2e]));
  const v = value as unknown[][];
  assert.is(v.length, 2);
  assert.ok(v[0] === v[1]);
});

test('unknown opcode names the byte and position', () => {
  try {
    unpickle(bytes([0x80, 2, 0xff]));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, UnpicklingError);
    assert.match((e as Error).message, /unknown or unsupported opcode 0xff .*at byte 2/);
  }
});

test('globals outside the whitelist are refused by name, or stubbed on request', () => {
  const p = bytes([0x80, 2, 0x63], 'os\nsystem\n', [0x8c, 2], 'ls', [0x85, 0x52, 0x2e]);
  assert.throws(() => unpickle(p), /global 'os\.system' is not supported/);
  const { value } = unpickle(p, { unknownGlobals: 'stub' });
  assert.ok(value instanceof PickleObject);
  assert.is((value as PickleObject).name, 'system');
  assert.equal((value as PickleObject).args, ['ls']);
  const called: unknown[] = [];
  const r = unpickle(p, { globals: { 'os.system': (a) => { called.push(...a); return 42; } } });
  assert.is(r.value, 42);
  assert.equal(called, ['ls']);
});

test('BUILD state on a dict is kept aside', () => {
  const p = bytes([0x80, 2, 0x7d, 0x7d, 0x8c, 1], 'v', [0x4b, 1, 0x73, 0x62, 0x2e]);
  const { value } = unpickle(p);
  assert.equal(pickleBuildState(value as object), new Map([['v', 1]]));
});

test('truncated input and missing persistent_load are errors', () => {
  assert.throws(() => unpickle(bytes([0x80, 2, 0x58, 10, 0, 0, 0], 'abc')), /unexpected end of data/);
  assert.throws(() => unpickle(bytes([0x80, 2, 0x5d])), /before STOP/);
  assert.throws(() => unpickle(bytes([0x80, 2, 0x4b, 1, 0x51, 0x2e])), /no persistent_load/);
  assert.throws(() => unpickle(bytes([0x80, 2, 0x68, 3, 0x2e])), /memo key 3 not found/);
});

test.run();
