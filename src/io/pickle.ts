/**
 * A restricted Python pickle reader (protocols 0-5, the opcodes that `torch.save` files and
 * ordinary data use). It never runs code: every GLOBAL must be in the caller's whitelist, which
 * maps `module.name` to a plain JS function; anything else is an error naming the global (or,
 * with `unknownGlobals: 'stub'`, an inert `PickleObject` record).
 *
 * Python values map to JS as: None -> null, bool -> boolean, int -> number (bigint beyond 2^53),
 * float -> number, str -> string, bytes/bytearray -> Uint8Array, list and tuple -> Array,
 * dict (and OrderedDict via the whitelist) -> Map, set/frozenset -> Set.
 */

/** Error raised for a malformed pickle or one that needs something this reader refuses. */
export class UnpicklingError extends Error {
  override name = 'UnpicklingError';
}

/** A whitelisted Python callable: receives the positional arguments of REDUCE/NEWOBJ. */
export type PickleGlobalFn = (args: unknown[]) => unknown;

/** Inert record of a call to a non-whitelisted global (only with `unknownGlobals: 'stub'`). */
export class PickleObject {
  /** State given by BUILD (the object's `__dict__` or `__setstate__` argument), if any. */
  state: unknown = undefined;
  /** Items added with SETITEM(S)/APPEND(S), if any. */
  items: unknown[] = [];
  constructor(readonly module: string, readonly name: string, readonly args: unknown[]) {}
}

/** Options of `unpickle`. */
export interface UnpickleOptions {
  /** Whitelisted globals, keyed `module.name`. */
  globals?: Record<string, PickleGlobalFn>;
  /** What to do with a global outside the whitelist: throw (default) or build PickleObject records. */
  unknownGlobals?: 'error' | 'stub';
  /** Resolves persistent ids (PERSID/BINPERSID); without it such ids are an error. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Byte offset at which the pickle starts (default 0). */
  offset?: number;
}

/** Result of `unpickle`: the value and the byte offset just after its STOP opcode. */
export interface UnpickleResult {
  value: unknown;
  end: number;
}

const attrs = new WeakMap<object, unknown>();
/** The BUILD state applied to a container (e.g. the `_metadata` of a PyTorch state_dict OrderedDict). */
export function pickleBuildState(obj: object): unknown {
  return attrs.get(obj);
}

/** A resolved GLOBAL as it sits on the stack or inside values (e.g. `torch.FloatStorage` in a persistent id). */
export class PickleGlobalRef {
  constructor(readonly module: string, readonly name: string, readonly fn: PickleGlobalFn) {}
  /** `module.name`. */
  get qualifiedName(): string { return `${this.module}.${this.name}`; }
}

function safeInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return safeInt(v);
}

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

/**
 * Reads one pickle from `bytes` (starting at `options.offset`) up to its STOP opcode.
 * Throws UnpicklingError on malformed input, unknown opcodes and non-whitelisted globals.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions = {}): UnpickleResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const globals = options.globals ?? {};
  let pos = options.offset ?? 0;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let opPos = pos;
  let op = 0;

  const fail = (msg: string): never => {
    throw new UnpicklingError(`pickle: ${msg} (opcode 0x${op.toString(16).padStart(2, '0')} at byte ${opPos})`);
  };
  const need = (n: number): void => {
    if (pos + n > bytes.byteLength) fail(`unexpected end of data, needed ${n} more bytes; file truncated?`);
  };
  const u8 = (): number => { need(1); return bytes[pos++]!; };
  const u16 = (): number => { need(2); const v = view.getUint16(pos, true); pos += 2; return v; };
  const i32 = (): number => { need(4); const v = view.getInt32(pos, true); pos += 4; return v; };
  const u32 = (): number => { need(4); const v = view.getUint32(pos, true); pos += 4; return v; };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true); pos += 8;
    if (v > BigInt(bytes.byteLength)) fail(`length ${v} exceeds the data`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => { if (n < 0) fail('negative length'); need(n); const b = bytes.subarray(pos, pos + n); pos += n; return b; };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated text line');
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = marks.pop();
    if (!prev) fail('MARK expected');
    stack = prev!;
    return items;
  };
  const resolveGlobal = (module: string, name: string): PickleGlobalRef => {
    const key = `${module}.${name}`;
    const fn = globals[key];
    if (fn) return new PickleGlobalRef(module, name, fn);
    if (options.unknownGlobals === 'stub') return new PickleGlobalRef(module, name, (args) => new PickleObject(module, name, args));
    return fail(`global '${key}' is not supported (not in the whitelist: ${Object.keys(globals).join(', ') || 'none'})`);
  };
  const call = (fnv: unknown, args: unknown): unknown => {
    if (!(fnv instanceof PickleGlobalRef)) fail('call of a value that is not a whitelisted global');
    if (!Array.isArray(args)) fail('call arguments are not a tuple');
    return (fnv as PickleGlobalRef).fn(args as unknown[]);
  };
  const setItems = (target: unknown, kv: unknown[]): void => {
    if (kv.length % 2) fail('odd number of items for SETITEMS');
    if (target instanceof Map) for (let i = 0; i < kv.length; i += 2) target.set(kv[i], kv[i + 1]);
    else if (target instanceof PickleObject) target.items.push(...kv);
    else fail('SETITEM(S) on a value that is not a dict');
  };
  const append = (target: unknown, items: unknown[]): void => {
    if (Array.isArray(target)) target.push(...items);
    else if (target instanceof PickleObject) target.items.push(...items);
    else fail('APPEND(S) on a value that is not a list');
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(`memo key ${i} not found`);
    return memo.get(i);
  };

  for (;;) {
    opPos = pos;
    if (pos >= bytes.byteLength) { op = 0; fail('unexpected end of data before STOP; file truncated?'); }
    op = bytes[pos++]!;
    switch (op) {
      case 0x80: { const proto = u8(); if (proto > 5) fail(`unsupported pickle protocol ${proto}`); break; } // PROTO
      case 0x95: u64(); break; // FRAME: framing is transparent when reading from memory
      case 0x2e: return { value: pop(), end: pos }; // STOP
      case 0x28: marks.push(stack); stack = []; break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(decodeLong(take(u8()))); break; // LONG1
      case 0x8b: stack.push(decodeLong(take(i32()))); break; // LONG4
      case 0x49: { // INT (text)
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : safeInt(BigInt(s)));
        break;
      }
      case 0x4c: stack.push(safeInt(BigInt(line().replace(/L$/, '')))); break; // LONG (text)
      case 0x47: need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; // BINFLOAT (big-endian)
      case 0x46: stack.push(parseFloat(line())); break; // FLOAT (text)
      case 0x58: stack.push(utf8.decode(take(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(utf8.decode(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(utf8.decode(take(u64()))); break; // BINUNICODE8
      case 0x54: stack.push(utf8.decode(take(i32()))); break; // BINSTRING (Python 2 str)
      case 0x55: stack.push(utf8.decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(take(u64()).slice()); break; // BINBYTES8
      case 0x96: stack.push(take(u64()).slice()); break; // BYTEARRAY8
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x64: { const m = new Map(); setItems(m, popMark()); stack.push(m); break; } // DICT
      case 0x6c: { const items = popMark(); stack.push(items); break; } // LIST
      case 0x74: { const items = popMark(); stack.push(items); break; } // TUPLE
      case 0x85: { const a = pop(); stack.push([a]); break; } // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x91: { const items = popMark(); stack.push(new Set(items)); break; } // FROZENSET
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail('ADDITEMS on a value that is not a set');
        for (const x of items) (s as Set<unknown>).add(x);
        break;
      }
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x61: { const v = pop(); append(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); append(top(), items); break; } // APPENDS
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x70: memo.set(Number(line()), top()); break; // PUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: stack.push(memoGet(u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(u32())); break; // LONG_BINGET
      case 0x67: stack.push(memoGet(Number(line()))); break; // GET
      case 0x63: { const module = line(); const name = line(); stack.push(resolveGlobal(module, name)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop(); const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: { const args = pop(); const fn = pop(); stack.push(call(fn, args)); break; } // REDUCE
      case 0x81: { const args = pop(); const cls = pop(); stack.push(call(cls, args)); break; } // NEWOBJ
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop(); const args = pop(); const cls = pop();
        if (kwargs instanceof Map && kwargs.size > 0) fail('NEWOBJ_EX with keyword arguments is not supported');
        stack.push(call(cls, args));
        break;
      }
      case 0x6f: { const items = popMark(); const cls = items.shift(); stack.push(call(cls, items)); break; } // OBJ
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PickleObject) obj.state = state;
        else if (typeof obj === 'object' && obj !== null) attrs.set(obj, state);
        else fail('BUILD on a value that is not an object');
        break;
      }
      case 0x50: case 0x51: { // PERSID, BINPERSID
        const pid = op === 0x50 ? line() : pop();
        if (!options.persistentLoad) fail('persistent id found but no persistent_load given');
        stack.push(options.persistentLoad!(pid));
        break;
      }
      default:
        fail(`unknown or unsupported opcode 0x${op.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(op))})`);
    }
  }
}

/** True where the value came out of a whitelisted/stub global call named `module.name`. */
export function isPickleObject(v: unknown, qualifiedName?: string): v is PickleObject {
  return v instanceof PickleObject && (qualifiedName === undefined || `${v.module}.${v.name}` === qualifiedName);
}
