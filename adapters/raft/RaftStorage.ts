/**
 * The durable raft storage of one node in RaftDataDir: the segment log (`log/`), the stable state
 * (`stable`) and the snapshots (`snapshots/`), behind the LogStore, StableStore and SnapshotStore ports.
 * A `LOCK` file holding the pid keeps a second process off the same directory (two writers would corrupt
 * the log); a lock left by a dead process (kill -9) is taken over. See docs/raft-storage.md.
 */
import { Context, Effect, Layer } from "effect"
import * as fs from "node:fs"
import { LogStore } from "../../core/raft/ports/LogStore.js"
import { SnapshotStore } from "../../core/raft/ports/SnapshotStore.js"
import { StableStore } from "../../core/raft/ports/StableStore.js"
import { RaftStorageError } from "../../core/raft/ports/StorageError.js"
import * as FileLogStore from "./FileLogStore.js"
import * as FileSnapshotStore from "./FileSnapshotStore.js"
import * as FileStableStore from "./FileStableStore.js"
import { describe, fsyncDir, join } from "./Fs.js"

export interface RaftStorageOptions {
  /** RaftDataDir. Created if missing. */
  readonly dataDir: string
  /** RaftRetainSnapshots: complete snapshots kept (default 3). */
  readonly retainSnapshots?: number
  /** Segment size of the log (default 64 MiB). */
  readonly segmentBytes?: number
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (cause) {
    return (cause as { code?: unknown }).code === "EPERM"
  }
}

const acquireLock = (dataDir: string): string => {
  const file = join(dataDir, "LOCK")
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, "wx")
      fs.writeSync(fd, `${process.pid}\n`)
      fs.closeSync(fd)
      return file
    } catch (cause) {
      if ((cause as { code?: unknown }).code !== "EEXIST") throw cause
      const pid = Number(fs.readFileSync(file, "utf8").trim())
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new RaftStorageError({
          op: "open",
          reason: "Locked",
          message: `${dataDir} is in use by process ${pid} (remove ${file} if that is not an orchestrator)`
        })
      }
      fs.rmSync(file, { force: true })
    }
  }
  throw new RaftStorageError({ op: "open", reason: "Locked", message: `cannot take ${file}` })
}

const openAll = (options: RaftStorageOptions) =>
  Effect.try({
    try: () => {
      fs.mkdirSync(options.dataDir, { recursive: true })
      const lock = acquireLock(options.dataDir)
      const opened: Array<{ close: () => void }> = []
      try {
        const stable = FileStableStore.open(options.dataDir)
        opened.push(stable)
        const log = FileLogStore.open({
          dir: join(options.dataDir, "log"),
          ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes })
        })
        opened.push(log)
        const snapshots = FileSnapshotStore.open({
          dir: join(options.dataDir, "snapshots"),
          ...(options.retainSnapshots === undefined ? {} : { retain: options.retainSnapshots })
        })
        opened.push(snapshots)
        fsyncDir(options.dataDir)
        return { lock, stable, log, snapshots }
      } catch (cause) {
        for (const o of opened) o.close()
        fs.rmSync(lock, { force: true })
        throw cause
      }
    },
    catch: (cause) =>
      cause instanceof RaftStorageError
        ? cause
        : new RaftStorageError({ op: "open", reason: "Io", message: `cannot open raft data dir ${options.dataDir}: ${describe(cause)}`, cause })
  })

/** LogStore + StableStore + SnapshotStore on disk; closed (and unlocked) with the scope. */
export const layer = (options: RaftStorageOptions): Layer.Layer<LogStore | StableStore | SnapshotStore, RaftStorageError> =>
  Layer.scopedContext(Effect.gen(function*() {
    const s = yield* Effect.acquireRelease(openAll(options), (s) =>
      Effect.sync(() => {
        s.snapshots.close()
        s.log.close()
        s.stable.close()
        fs.rmSync(s.lock, { force: true })
      }))
    for (const note of [...s.stable.notes, ...s.log.notes, ...s.snapshots.notes]) {
      yield* Effect.logWarning(note).pipe(Effect.annotateLogs("raftDataDir", options.dataDir))
    }
    return Context.make(LogStore, s.log.store).pipe(
      Context.add(StableStore, s.stable.store),
      Context.add(SnapshotStore, s.snapshots.store)
    )
  }))
