/**
 * Small synchronous file helpers for the raft storage. Synchronous on purpose for the rare durable steps
 * (stable-state slots, snapshots, segment creation, truncation): they need exact control over the order of
 * write → fsync → rename → directory fsync. The hot path, the log append's fdatasync, is the exception and
 * runs on libuv's pool (FileLogStore), so a busy node keeps serving while the disk flushes.
 */
import * as fs from "node:fs"
import * as path from "node:path"

/** fsync a directory, so that a create, rename or unlink inside it survives a crash. */
export const fsyncDir = (dir: string): void => {
  const fd = fs.openSync(dir, "r")
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/** Writes a whole file durably (write, fsync, close). The caller renames it into place and fsyncs the dir. */
export const writeFileDurable = (file: string, data: Uint8Array): void => {
  const fd = fs.openSync(file, "w")
  try {
    let at = 0
    while (at < data.length) at += fs.writeSync(fd, data, at, data.length - at, at)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/** Reads `length` bytes at `position` (fewer at the end of the file). */
export const readAt = (fd: number, position: number, length: number): Buffer => {
  const buf = Buffer.allocUnsafe(length)
  let got = 0
  while (got < length) {
    const n = fs.readSync(fd, buf, got, length - got, position + got)
    if (n === 0) break
    got += n
  }
  return got === length ? buf : buf.subarray(0, got)
}

/** Writes all of `data` at `position`. */
export const writeAt = (fd: number, data: Uint8Array, position: number): void => {
  let at = 0
  while (at < data.length) at += fs.writeSync(fd, data, at, data.length - at, position + at)
}

export const isEnoent = (cause: unknown): boolean =>
  typeof cause === "object" && cause !== null && (cause as { code?: unknown }).code === "ENOENT"

export const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

export const join = path.join
