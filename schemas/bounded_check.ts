// Checks that bytes can be an encoding of an Avro type before avsc decodes them. avsc trusts the
// counts it reads: an array or map block count of 2^31 in a 5-byte body makes it loop and allocate
// for seconds and gigabytes before it notices the bytes ran out. Here every count and length is
// bounded by the bytes actually present (an item takes at least its minimum encoded size), so a
// hostile body is refused after one cheap pass over the bytes it really has.
import type avro from 'avsc';

type Walker = (buf: Buffer, pos: number) => number;

/** Bytes that cannot be an encoding of the type: the position and what was wrong. */
export class EncodingError extends Error {}

interface AvroTypeInternals {
  typeName: string;
  fields?: { type: avro.Type }[];
  itemsType?: avro.Type;
  valuesType?: avro.Type;
  types?: avro.Type[];
  size?: number;
  symbols?: string[];
  underlyingType?: avro.Type;
}

const walkers = new WeakMap<avro.Type, Walker>();
const minSizes = new WeakMap<avro.Type, number>();

/** Checks one whole encoding at `buf[pos..]`; returns the position after it. Throws EncodingError. */
export function checkEncoding(type: avro.Type, buf: Buffer, pos = 0): number {
  const end = walkerOf(type)(buf, pos);
  if (end > buf.length) throw new EncodingError(`truncated: the encoding needs ${end - buf.length} more bytes than the ${buf.length} present`);
  return end;
}

/** A zigzag varint; -1 past the end is fine here: callers compare positions with the length. */
function readLong(buf: Buffer, at: { pos: number }): number {
  let n = 0;
  let shift = 1;
  for (let i = 0; i < 10; i++) {
    if (at.pos >= buf.length) throw new EncodingError(`truncated varint at byte ${at.pos}`);
    const b = buf[at.pos++]!;
    n += (b & 0x7f) * shift;
    if (!(b & 0x80)) return n % 2 ? -(n + 1) / 2 : n / 2;
    shift *= 128;
  }
  throw new EncodingError(`varint longer than 10 bytes at byte ${at.pos - 10}`);
}

function minSize(type: avro.Type): number {
  const known = minSizes.get(type);
  if (known !== undefined) return known;
  minSizes.set(type, 0); // a recursive reference counts as empty while its own size is computed
  const t = type as unknown as AvroTypeInternals;
  let size: number;
  switch (t.typeName) {
    case 'null':
      size = 0;
      break;
    case 'float':
      size = 4;
      break;
    case 'double':
      size = 8;
      break;
    case 'fixed':
      size = t.size!;
      break;
    case 'record':
    case 'error':
      size = t.fields!.reduce((sum, f) => sum + minSize(f.type), 0);
      break;
    default:
      size = t.typeName.startsWith('logical') ? minSize(t.underlyingType!) : 1; // varints, lengths, union branches: a byte at least
  }
  minSizes.set(type, size);
  return size;
}

/** Block counts of arrays and maps: bounded by the bytes left for their items. */
function checkCount(count: number, itemSize: number, buf: Buffer, pos: number): void {
  const left = buf.length - pos;
  if (count > (itemSize ? Math.floor(left / itemSize) : left)) {
    throw new EncodingError(`a block of ${count} items at byte ${pos} cannot fit in the ${left} bytes left`);
  }
}

function walkerOf(type: avro.Type): Walker {
  const cached = walkers.get(type);
  if (cached) return cached;
  let inner: Walker | null = null;
  const lazy: Walker = (buf, pos) => inner!(buf, pos);
  walkers.set(type, lazy); // recursive types resolve through the cache
  inner = buildWalker(type);
  walkers.set(type, inner);
  return inner;
}

function buildWalker(type: avro.Type): Walker {
  const t = type as unknown as AvroTypeInternals;
  const at = { pos: 0 };
  const long = (buf: Buffer, pos: number) => {
    at.pos = pos;
    readLong(buf, at);
    return at.pos;
  };
  const lengthPrefixed: Walker = (buf, pos) => {
    at.pos = pos;
    const len = readLong(buf, at);
    if (len < 0 || len > buf.length - at.pos) throw new EncodingError(`a length of ${len} at byte ${pos} exceeds the ${buf.length - at.pos} bytes left`);
    return at.pos + len;
  };
  switch (t.typeName) {
    case 'null':
      return (_buf, pos) => pos;
    case 'boolean':
      return (_buf, pos) => pos + 1;
    case 'int':
    case 'long':
      return long;
    case 'float':
      return (_buf, pos) => pos + 4;
    case 'double':
      return (_buf, pos) => pos + 8;
    case 'bytes':
    case 'string':
      return lengthPrefixed;
    case 'fixed': {
      const size = t.size!;
      return (_buf, pos) => pos + size;
    }
    case 'enum': {
      const symbols = t.symbols!.length;
      return (buf, pos) => {
        at.pos = pos;
        const index = readLong(buf, at);
        if (index < 0 || index >= symbols) throw new EncodingError(`enum index ${index} at byte ${pos} is not one of the ${symbols} symbols`);
        return at.pos;
      };
    }
    case 'record':
    case 'error': {
      const fields = t.fields!.map((f) => walkerOf(f.type));
      return (buf, pos) => {
        for (const field of fields) pos = field(buf, pos);
        return pos;
      };
    }
    case 'array':
    case 'map': {
      const isMap = t.typeName === 'map';
      const itemType = (isMap ? t.valuesType : t.itemsType)!;
      const item = walkerOf(itemType);
      const itemSize = minSize(itemType) + (isMap ? 1 : 0);
      return (buf, pos) => {
        for (;;) {
          at.pos = pos;
          let count = readLong(buf, at);
          if (count === 0) return at.pos;
          if (count < 0) {
            count = -count;
            readLong(buf, at); // the block's size in bytes, which only skipping readers use
          }
          pos = at.pos;
          checkCount(count, itemSize, buf, pos);
          for (let i = 0; i < count; i++) {
            if (isMap) pos = lengthPrefixed(buf, pos);
            pos = item(buf, pos);
            if (pos > buf.length) throw new EncodingError(`truncated inside a block of ${count} items`);
          }
        }
      };
    }
    case 'union:wrapped':
    case 'union:unwrapped': {
      const branches = t.types!.map((b) => walkerOf(b));
      return (buf, pos) => {
        at.pos = pos;
        const index = readLong(buf, at);
        if (index < 0 || index >= branches.length) throw new EncodingError(`union branch ${index} at byte ${pos} is not one of the ${branches.length} branches`);
        return branches[index]!(buf, at.pos);
      };
    }
    default:
      if (t.typeName.startsWith('logical')) return walkerOf(t.underlyingType!);
      throw new Error(`checkEncoding: Avro type ${t.typeName} is not supported`);
  }
}
