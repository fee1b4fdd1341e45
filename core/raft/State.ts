/**
 * The raft state value, the inputs `step` accepts and the output it returns.
 *
 * Runtime contract (etcd-io/raft Ready/Advance, flattened into one return value per step):
 *   1. persist  – start writing `output.persist` (if any). Records are written in `seq` order; within a
 *                 record: snapshotChunk, installSnapshot (drop the whole log, keep the snapshot),
 *                 entries (truncate at entries[0].index, then append), hardState, compactTo.
 *                 A record is atomic, or at least its entries are durable before its hardState.
 *   2. send     – send `output.messages` at once (they do not depend on this node's disk).
 *   3. fsync    – when record `seq` and every earlier one are durable, send `output.messagesAfterPersist`
 *                 of that output (vote grants, append/snapshot acks: thesis §3.8 "respond after persisting"),
 *                 then call step(state, { _tag: "Persisted", seq }).
 *   4. apply    – restore `applySnapshot` (if any) and then apply `committed` in order. The core only releases
 *                 entries that are already durable here, so this needs no wait.
 *   5. answer   – `proposals` map client ids to (index, term); a proposal is acknowledged when the entry with
 *                 that index *and term* is applied. `readStates` are safe to answer once applied ≥ index.
 *   6. serve    – for each `snapshotReads` request, read the chunk of that snapshot and step `SnapshotChunk`.
 * A synchronous runtime simply does 1–6 in order (and fsyncs in 1). Messages addressed to this node never
 * appear in the output.
 */
import type { ConfChange } from "./ConfChange.js"
import type { RaftConfig } from "./Config.js"
import type { Message } from "./Message.js"
import type { PrngState } from "./Prng.js"
import type { Progress } from "./Progress.js"
import type { RaftLog } from "./RaftLog.js"
import type { ConfState, Entry, HardState, Index, NodeId, SnapshotMeta, Term } from "./Types.js"

export type Role = "follower" | "precandidate" | "candidate" | "leader"

/** A write the runtime has not acknowledged yet: it replaces the disk log from `from` and ends at `to`. */
export interface PendingWrite {
  readonly seq: number
  readonly from: Index
  readonly to: Index
}

export interface PersistTracking {
  /** Last record sequence number emitted. */
  readonly seq: number
  /** Last record acknowledged by Persisted. */
  readonly durable: number
  readonly writes: ReadonlyArray<PendingWrite>
  /** Last hard state handed to the runtime (only changes are emitted). */
  readonly hardState: HardState
  /** A snapshot install whose write is not yet durable; released as `applySnapshot` when it is. */
  readonly install: { readonly seq: number; readonly meta: SnapshotMeta } | undefined
}

export interface PendingRead {
  readonly id: string
  /** Leader tick at which the read arrived: a quorum must acknowledge a message sent at or after it. */
  readonly tick: number
}

export interface Receiving {
  readonly meta: SnapshotMeta
  readonly nextOffset: number
}

export interface RaftState {
  readonly config: RaftConfig
  readonly prng: PrngState
  readonly role: Role
  readonly term: Term
  readonly vote: NodeId
  /** Known leader of `term`, or "" (None). */
  readonly lead: NodeId
  readonly log: RaftLog
  /** Latest snapshot this node holds (taken locally or installed); sent to followers that lag behind it. */
  readonly snapshot: SnapshotMeta | undefined
  /** Ticks since init. The lease and ReadIndex compare leader ticks only, never another node's. */
  readonly now: number
  readonly electionElapsed: number
  readonly heartbeatElapsed: number
  /**
   * Ticks since this node last heard from a leader of its term, or since it started or stopped leading.
   * While < electionTicks the node refuses (pre)votes that are not leadership transfers (thesis §4.2.3,
   * "leader stickiness"). It is NOT reset when becoming a candidate, and starts at 0 after a restart: a
   * restarted node cannot remember whom it heard from, so it waits a full election timeout before voting.
   * This is what makes the leader lease safe (see Lease.ts).
   */
  readonly contactElapsed: number
  readonly randomizedElectionTimeout: number
  readonly votes: ReadonlyMap<NodeId, boolean>
  /** Candidate: our own vote counts only once the record with this seq (term+vote) is durable. */
  readonly selfVoteSeq: number
  readonly progress: ReadonlyMap<NodeId, Progress>
  /** Leader: target of a leadership transfer in progress, or "". */
  readonly transferee: NodeId
  readonly transferElapsed: number
  /** Leader: set once a TimeoutNow was sent in this term; the lease is void for the rest of the term. */
  readonly leaseRevoked: boolean
  readonly pendingReads: ReadonlyArray<PendingRead>
  readonly persist: PersistTracking
  readonly receiving: Receiving | undefined
}

export type Input =
  /**
   * Time passed. `ticks` (default 1) is how many ticks of the node's monotonic clock elapsed since the last
   * Tick: a runtime whose event loop stalled, or whose process was stopped, delivers them all at once, so
   * `now` (what the lease is measured against) never falls behind real time.
   */
  | { readonly _tag: "Tick"; readonly ticks?: number }
  | { readonly _tag: "Receive"; readonly message: Message }
  | { readonly _tag: "Propose"; readonly id: string; readonly data: string }
  /**
   * Several proposals at once: the same as proposing them one after another, except that the new entries go
   * out together (one AppendEntries per follower for up to maxEntriesPerMsg of them, not one per proposal).
   */
  | { readonly _tag: "ProposeBatch"; readonly proposals: ReadonlyArray<{ readonly id: string; readonly data: string }> }
  | { readonly _tag: "ProposeConfChange"; readonly id: string; readonly change: ConfChange }
  | { readonly _tag: "ReadIndex"; readonly id: string }
  | { readonly _tag: "TransferLeadership"; readonly target: NodeId }
  /** The runtime durably saved a state-machine snapshot covering entries ≤ index (index ≤ applied). */
  | { readonly _tag: "SnapshotCreated"; readonly index: Index }
  | { readonly _tag: "Persisted"; readonly seq: number }
  /** Answer to a SnapshotRead: `data` starts at `offset`; `done` when it reaches the end of the snapshot. */
  | {
    readonly _tag: "SnapshotChunk"
    readonly to: NodeId
    readonly snapshotIndex: Index
    readonly offset: number
    readonly data: string
    readonly done: boolean
  }
  /** The runtime no longer has that snapshot; the leader restarts the transfer with its latest one. */
  | { readonly _tag: "SnapshotUnavailable"; readonly to: NodeId; readonly snapshotIndex: Index }

export interface Persist {
  readonly seq: number
  readonly hardState: HardState | undefined
  /** Truncate the disk log at entries[0].index, then append these. */
  readonly entries: ReadonlyArray<Entry>
  /** Store this received chunk of the snapshot `meta` at `offset` (characters). */
  readonly snapshotChunk:
    | { readonly meta: SnapshotMeta; readonly offset: number; readonly data: string; readonly done: boolean }
    | undefined
  /** The received snapshot is complete: make it the current snapshot and drop the whole log. */
  readonly installSnapshot: SnapshotMeta | undefined
  /** Entries ≤ compactTo may be deleted (they are covered by the latest snapshot). */
  readonly compactTo: Index | undefined
}

export type ProposalResult =
  | { readonly id: string; readonly ok: true; readonly index: Index; readonly term: Term }
  | { readonly id: string; readonly ok: false; readonly reason: string }

export type ReadState =
  | { readonly id: string; readonly ok: true; readonly index: Index }
  | { readonly id: string; readonly ok: false; readonly reason: string }

export interface SnapshotRead {
  readonly to: NodeId
  readonly snapshot: SnapshotMeta
  readonly offset: number
  readonly maxBytes: number
}

export type RaftEvent =
  | { readonly _tag: "StateChanged"; readonly role: Role; readonly term: Term; readonly leader: NodeId }
  | { readonly _tag: "ConfChanged"; readonly conf: ConfState }
  | { readonly _tag: "Refused"; readonly from: NodeId; readonly message: Message["_tag"]; readonly reason: string }
  | { readonly _tag: "SteppedDown"; readonly reason: "checkQuorum" | "removed" | "transferAborted" }
  | { readonly _tag: "TransferStarted"; readonly target: NodeId }

export interface Output {
  readonly persist: Persist | undefined
  readonly messages: ReadonlyArray<Message>
  readonly messagesAfterPersist: ReadonlyArray<Message>
  readonly applySnapshot: SnapshotMeta | undefined
  readonly committed: ReadonlyArray<Entry>
  readonly proposals: ReadonlyArray<ProposalResult>
  readonly readStates: ReadonlyArray<ReadState>
  readonly snapshotReads: ReadonlyArray<SnapshotRead>
  readonly events: ReadonlyArray<RaftEvent>
}

export interface StepResult {
  readonly state: RaftState
  readonly output: Output
}
