/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum the raft storage puts on every log
 * record, the stable-state record and every snapshot. Pure so the memory stores and the core can use it;
 * adapters may use `node:zlib` `crc32`, which computes the same function (checked in test/raft-io).
 * CRC-32 detects every burst error up to 32 bits and all torn writes we care about (a record whose tail
 * is zeros or stale bytes); it is not a MAC and does not need to be.
 */

const table: Uint32Array = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC-32 of `bytes`; pass a previous result as `previous` to continue over several buffers. */
export const crc32 = (bytes: Uint8Array, previous = 0): number => {
  let c = (previous ^ 0xffffffff) >>> 0
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

const encoder = new TextEncoder()

/** CRC-32 of the UTF-8 encoding of a string. */
export const crc32String = (s: string): number => crc32(encoder.encode(s))

/**
 * Snapshot chunks travel in `InstallSnapshot.data` as strings and the core counts offsets in characters
 * (core/raft/Message.ts). A latin1 "binary string" (one char per byte) keeps character offsets equal to
 * the byte offsets of the SnapshotStore; JSON carries it losslessly (chars ≥ 0x80 become 2 UTF-8 bytes).
 */
export const bytesToWire = (bytes: Uint8Array): string => {
  let s = ""
  const step = 0x8000
  for (let i = 0; i < bytes.length; i += step) {
    s += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + step)))
  }
  return s
}

/** Inverse of bytesToWire; undefined when a character is outside latin1 (the chunk is then malformed). */
export const wireToBytes = (s: string): Uint8Array | undefined => {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0xff) return undefined
    out[i] = c
  }
  return out
}
