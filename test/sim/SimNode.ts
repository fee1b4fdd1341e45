/**
 * One simulated server: the pure raft state plus what a runtime would own — a disk that keeps only what
 * was written and acknowledged (TigerBeetle storage.zig: a crash loses every write still in flight), a
 * volatile toy state machine (an append-only list of payloads) and the client bookkeeping of proposals.
 */
import type { Message } from "../../core/raft/Message.js"
import type { Persist, RaftState } from "../../core/raft/State.js"
import type { Entry, HardState, NodeId, SnapshotMeta } from "../../core/raft/Types.js"
import { None } from "../../core/raft/Types.js"

export interface Disk {
  hardState: HardState
  snapshot: { meta: SnapshotMeta; data: string } | undefined
  /** Older snapshots still kept: the newest ones, and any a transfer read recently (pinned while in use). */
  retained: Array<{ meta: SnapshotMeta; data: string; lastRead: number }>
  /** Contiguous durable log entries. */
  entries: Array<Entry>
  /** Chunks of a snapshot being received. */
  receiving: { meta: SnapshotMeta; data: string } | undefined
}

export interface InFlightWrite {
  readonly seq: number
  readonly persist: Persist
  readonly after: ReadonlyArray<Message>
  readonly readyAt: number
}

export const emptyDisk = (): Disk => ({
  hardState: { term: 0, vote: None, commit: 0 },
  snapshot: undefined,
  retained: [],
  entries: [],
  receiving: undefined
})

export class SimNode {
  up = false
  started = false
  state: RaftState | undefined = undefined
  disk: Disk = emptyDisk()
  writes: Array<InFlightWrite> = []
  items: Array<string> = []
  applied = 0
  sinceSnapshot = 0
  incarnation = 0
  /** Stopped since this simulator tick (undefined: running) until `resumeAt`; messages to it wait in `held`. */
  pausedAt: number | undefined = undefined
  resumeAt = 0
  held: Array<Message> = []

  /** Running again (resumed, restarted or crashed): no pause, nothing waiting. */
  clearPause(): void {
    this.pausedAt = undefined
    this.held = []
  }
  /** Proposals this node accepted as leader, by log index: acknowledged when applied with the same term. */
  proposals = new Map<number, { id: string; term: number; data: string }>()
  constructor(readonly id: NodeId, public bootVoters: ReadonlyArray<NodeId>) {}

  saveSnapshot(snap: { meta: SnapshotMeta; data: string }, now: number): void {
    this.disk.snapshot = snap
    this.disk.retained = [{ ...snap, lastRead: -1 }, ...this.disk.retained]
      .filter((r, k) => k < 2 || r.lastRead >= now - 200)
  }

  findSnapshot(index: number, now: number): { meta: SnapshotMeta; data: string } | undefined {
    const r = this.disk.retained.find((s) => s.meta.index === index)
    if (r !== undefined) r.lastRead = now
    return r
  }

  /** Applies a finished write to the disk, in the order State.ts documents. */
  writeToDisk(p: Persist, now: number): void {
    const d = this.disk
    if (p.snapshotChunk !== undefined) {
      const c = p.snapshotChunk
      if (c.offset === 0) d.receiving = { meta: c.meta, data: c.data }
      else if (d.receiving !== undefined && d.receiving.meta.index === c.meta.index && d.receiving.data.length === c.offset) {
        d.receiving = { meta: c.meta, data: d.receiving.data + c.data }
      } else {
        throw new Error(`${this.id}: snapshot chunk at ${c.offset} does not follow what is on disk`)
      }
      if (c.done && p.installSnapshot === undefined) d.receiving = undefined
    }
    if (p.installSnapshot !== undefined) {
      if (d.receiving === undefined || d.receiving.meta.index !== p.installSnapshot.index) {
        throw new Error(`${this.id}: install of snapshot ${p.installSnapshot.index} without its bytes`)
      }
      this.saveSnapshot({ meta: p.installSnapshot, data: d.receiving.data }, now)
      d.receiving = undefined
      d.entries = []
    }
    if (p.entries.length > 0) {
      const from = p.entries[0]!.index
      d.entries = d.entries.filter((e) => e.index < from).concat(p.entries)
    }
    if (p.hardState !== undefined) d.hardState = p.hardState
    if (p.compactTo !== undefined) {
      const upTo = p.compactTo
      d.entries = d.entries.filter((e) => e.index > upTo)
    }
  }
}
