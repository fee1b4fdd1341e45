/**
 * Length-prefixed frames of the raft transport: [u32 BE payload length][payload]. The reader checks the
 * length as soon as the 4 header bytes arrive, so an oversized frame is refused before its body is
 * buffered, and it assembles a frame from many socket chunks with one copy (no quadratic concatenation).
 */

export const frameHeaderBytes = 4

export class FrameError extends Error {}

export const encodeFrame = (payload: Buffer): Buffer => {
  const buf = Buffer.allocUnsafe(frameHeaderBytes + payload.length)
  buf.writeUInt32BE(payload.length, 0)
  payload.copy(buf, frameHeaderBytes)
  return buf
}

/** Frames a JSON value (the payload is its UTF-8 text). */
export const jsonFrame = (value: unknown): Buffer => {
  const text = JSON.stringify(value)
  const len = Buffer.byteLength(text, "utf8")
  const buf = Buffer.allocUnsafe(frameHeaderBytes + len)
  buf.writeUInt32BE(len, 0)
  buf.write(text, frameHeaderBytes, "utf8")
  return buf
}

export class FrameReader {
  private chunks: Array<Buffer> = []
  private buffered = 0
  /** Payload length of the frame being read, or -1 while waiting for a header. */
  private need = -1

  constructor(public maxBytes: number) {}

  /** Adds received bytes; returns the frames completed by them. Throws FrameError on a bad header. */
  push(chunk: Buffer): Array<Buffer> {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    const out: Array<Buffer> = []
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < frameHeaderBytes) break
        const len = this.take(frameHeaderBytes).readUInt32BE(0)
        if (len === 0) throw new FrameError("empty frame")
        if (len > this.maxBytes) throw new FrameError(`frame of ${len} bytes exceeds the limit of ${this.maxBytes}`)
        this.need = len
      }
      if (this.buffered < this.need) break
      out.push(this.take(this.need))
      this.need = -1
    }
    return out
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!
    this.buffered -= n
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift()
      else this.chunks[0] = first.subarray(n)
      return first.subarray(0, n)
    }
    const out = Buffer.allocUnsafe(n)
    let at = 0
    while (at < n) {
      const c = this.chunks[0]!
      const k = Math.min(c.length, n - at)
      c.copy(out, at, 0, k)
      at += k
      if (k === c.length) this.chunks.shift()
      else this.chunks[0] = c.subarray(k)
    }
    return out
  }
}
