// Key layout of the store.
//
// A logical key is (namespace, routing prefix, rest). The routing prefix is the part that decides
// placement: for n-gram data it is the context, so every follower of one context lands in one fork
// and forms one ordered range. The stored (wire) key is
//
//   routing(4) | u16be(len(ns) + 1 + len(prefix)) | ns | 0x00 | prefix | rest
//
// where routing = fmix32(FNV-1a-32(ns | 0x00 | prefix)) big-endian. The length field makes the range
// of one routing prefix exact even when two prefixes collide on the hash ("a" and "ab" never
// interleave). Fork ids are hex strings of a leading part of the routing bytes (see fork_map.ts).
//
// Textual form (CLI): `ns:prefix|rest`; without `|` the whole body is the routing prefix, without
// `:` the namespace is `kv` (as a key-value store's users expect plain keys to work). Prefix and
// rest are taken as UTF-8; `\xHH` escapes give raw bytes.
import { StoreError } from './errors.js';

export const ROUTING_BYTES = 4;
export const MAX_KEY_BYTES = 64 * 1024;

export interface KeyParts {
  ns: string;
  prefix: Uint8Array;
  rest: Uint8Array;
}

const enc = new TextEncoder();

/** FNV-1a 32 with the murmur3 finaliser: FNV alone spreads the high byte (the first fork byte) poorly. */
export function hash32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function routingPrefixBytes(ns: string, prefix: Uint8Array): Buffer {
  const nsb = enc.encode(ns);
  if (nsb.includes(0)) throw new Error(`key namespace ${JSON.stringify(ns)} contains a NUL byte; namespaces are NUL-free strings`);
  const out = Buffer.allocUnsafe(nsb.length + 1 + prefix.length);
  out.set(nsb, 0);
  out[nsb.length] = 0;
  out.set(prefix, nsb.length + 1);
  return out;
}

/** The 4 routing bytes of a routing prefix (namespace + prefix). */
export function routingBytes(ns: string, prefix: Uint8Array): Buffer {
  const rp = routingPrefixBytes(ns, prefix);
  const out = Buffer.allocUnsafe(ROUTING_BYTES);
  out.writeUInt32BE(hash32(rp), 0);
  return out;
}

/** The stored-key prefix shared by every key with this routing prefix: scan it to list them in order. */
export function rangePrefix(ns: string, prefix: Uint8Array): Buffer {
  const rp = routingPrefixBytes(ns, prefix);
  if (rp.length > 0xffff) throw new Error(`routing prefix is ${rp.length} bytes; the limit is 65535`);
  const out = Buffer.allocUnsafe(ROUTING_BYTES + 2 + rp.length);
  out.writeUInt32BE(hash32(rp), 0);
  out.writeUInt16BE(rp.length, ROUTING_BYTES);
  rp.copy(out, ROUTING_BYTES + 2);
  return out;
}

/** Build the stored key of (ns, prefix, rest). */
export function makeKey(ns: string, prefix: Uint8Array, rest: Uint8Array = new Uint8Array(0)): Buffer {
  const head = rangePrefix(ns, prefix);
  const out = Buffer.allocUnsafe(head.length + rest.length);
  head.copy(out, 0);
  out.set(rest, head.length);
  if (out.length > MAX_KEY_BYTES) throw new Error(`key is ${out.length} bytes; the limit is ${MAX_KEY_BYTES}`);
  return out;
}

/** Split a stored key back into its parts; throws on a key that does not follow the layout. */
export function parseKey(key: Uint8Array): KeyParts {
  if (key.length < ROUTING_BYTES + 2) throw new Error(`stored key of ${key.length} bytes is shorter than routing bytes + length`);
  const b = Buffer.from(key.buffer, key.byteOffset, key.length);
  const n = b.readUInt16BE(ROUTING_BYTES);
  const start = ROUTING_BYTES + 2;
  if (start + n > b.length) throw new Error(`stored key says its routing prefix has ${n} bytes but only ${b.length - start} follow`);
  const rp = b.subarray(start, start + n);
  const nul = rp.indexOf(0);
  if (nul < 0) throw new Error('stored key has no NUL after its namespace');
  if (hash32(rp) !== b.readUInt32BE(0)) throw new Error('stored key routing bytes do not match its routing prefix');
  return { ns: rp.subarray(0, nul).toString('utf8'), prefix: rp.subarray(nul + 1), rest: b.subarray(start + n) };
}

/**
 * The size check of every key a request carries: a key must hold its routing bytes (BAD_REQUEST) and
 * stay within `maxBytes` (TOO_LARGE). A key prefix (`prefixOf` names the command carrying it) may be
 * shorter, down to empty, but not longer.
 */
export function checkKeySize(bytes: Uint8Array, maxBytes: number, prefixOf?: string): void {
  const what = prefixOf ? `${prefixOf} prefix` : 'key';
  if (bytes.length > maxBytes) throw new StoreError('TOO_LARGE', `${what} of ${bytes.length} bytes exceeds the ${maxBytes}-byte key limit`);
  if (!prefixOf && bytes.length < ROUTING_BYTES) throw new StoreError('BAD_REQUEST', `key of ${bytes.length} bytes is shorter than the ${ROUTING_BYTES} routing bytes every stored key starts with`);
}

function unescapeText(s: string): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  const re = /\\x([0-9a-fA-F]{2})/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    parts.push(Buffer.from(s.slice(last, m.index), 'utf8'), Buffer.from([parseInt(m[1]!, 16)]));
    last = m.index + m[0].length;
  }
  parts.push(Buffer.from(s.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

/** The namespace of a textual key written without one (`user:42` is in `user`, `user-42` in `kv`). */
export const DEFAULT_NAMESPACE = 'kv';

/** Parse the textual form `ns:prefix|rest` (see the header). */
export function parseTextKey(text: string): KeyParts {
  const colon = text.indexOf(':');
  if (colon === 0) throw new Error(`key ${JSON.stringify(text)} has an empty namespace: write it as ns:prefix|rest (e.g. ng:the cat|sat), or without the colon for namespace ${DEFAULT_NAMESPACE}`);
  const ns = colon < 0 ? DEFAULT_NAMESPACE : text.slice(0, colon);
  const body = colon < 0 ? text : text.slice(colon + 1);
  const bar = body.indexOf('|');
  if (bar < 0) return { ns, prefix: unescapeText(body), rest: new Uint8Array(0) };
  return { ns, prefix: unescapeText(body.slice(0, bar)), rest: unescapeText(body.slice(bar + 1)) };
}

/** Stored key of a textual key. */
export function textKey(text: string): Buffer {
  const p = parseTextKey(text);
  return makeKey(p.ns, p.prefix, p.rest);
}

/** Readable form of a stored key (inverse of textKey for printable keys). */
export function formatKey(key: Uint8Array): string {
  try {
    const p = parseKey(key);
    const show = (b: Uint8Array) => Array.from(b, (c) => (c >= 0x20 && c < 0x7f && c !== 0x5c && c !== 0x7c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`)).join('');
    return p.rest.length ? `${p.ns}:${show(p.prefix)}|${show(p.rest)}` : `${p.ns}:${show(p.prefix)}`;
  } catch {
    return `0x${Buffer.from(key).toString('hex')}`;
  }
}

/** Smallest byte string greater than every string starting with `prefix`, or null if none (all 0xff). */
export function prefixEnd(prefix: Uint8Array): Buffer | null {
  const out = Buffer.from(prefix);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 0xff) {
      out[i] = out[i]! + 1;
      return out.subarray(0, i + 1);
    }
  }
  return null;
}
