/**
 * The leader's view of one follower (thesis §3.5 nextIndex/matchIndex; flow control as in etcd's
 * tracker/progress.go and tracker/inflights.go). Immutable values; every function returns a new one.
 *
 * States:
 *   probe     – we do not know where the follower's log matches; send one AppendEntries at a time and
 *               wait for its reply (or a heartbeat reply) before sending another.
 *   replicate – the follower is caught up to `match`; pipeline up to maxInflight messages optimistically
 *               (thesis §10.2.2 "pipelining").
 *   snapshot  – the entries the follower needs are compacted; stream a snapshot in chunks (thesis §5.1).
 */
import type { Index, SnapshotMeta } from "./Types.js"

export type ProgressState = "probe" | "replicate" | "snapshot"

export interface SnapshotSend {
  readonly meta: SnapshotMeta
  /** Invariant: every byte before ackedOffset is durable at the follower; sending resumes here. */
  readonly ackedOffset: number
  /** A chunk is being read by the runtime or is on the wire. */
  readonly inflight: boolean
  /** Leader tick when the current chunk was requested/sent (to retry a lost chunk). */
  readonly sentTick: number
}

export interface Progress {
  /** Invariant: match < next. Highest index known to be replicated on the follower. */
  readonly match: Index
  readonly next: Index
  readonly state: ProgressState
  /** probe: an AppendEntries is outstanding. */
  readonly probeSent: boolean
  /** replicate: last index of each AppendEntries in flight, ascending. */
  readonly inflight: ReadonlyArray<Index>
  /** Heard from the follower since the last CheckQuorum round (thesis §6.2). */
  readonly recentActive: boolean
  /** Highest leader tick (`ctx`) the follower echoed back in this term: a lease/ReadIndex acknowledgement. */
  readonly ackTick: number
  /** `ctx` of the newest successful AppendEntries reply: tells a late rejection from a follower that lost its log. */
  readonly matchCtx: number
  /** Leader tick of the last AppendEntries/snapshot reply; detects a pipeline whose messages were all lost. */
  readonly respTick: number
  readonly snapshot: SnapshotSend | undefined
}

export const make = (next: Index, now: number): Progress => ({
  match: 0,
  next,
  state: "probe",
  probeSent: false,
  inflight: [],
  recentActive: false,
  ackTick: -1,
  matchCtx: -1,
  respTick: now,
  snapshot: undefined
})

export const becomeProbe = (p: Progress): Progress => ({
  ...p,
  state: "probe",
  // After a snapshot the follower has at least the snapshot index.
  next: p.snapshot !== undefined && p.state === "snapshot" ? Math.max(p.match, p.snapshot.meta.index) + 1 : p.match + 1,
  probeSent: false,
  inflight: [],
  snapshot: undefined
})

export const becomeReplicate = (p: Progress): Progress => ({
  ...p,
  state: "replicate",
  next: p.match + 1,
  probeSent: false,
  inflight: [],
  snapshot: undefined
})

export const becomeSnapshot = (p: Progress, meta: SnapshotMeta, now: number): Progress => ({
  ...p,
  state: "snapshot",
  probeSent: false,
  inflight: [],
  snapshot: { meta, ackedOffset: 0, inflight: false, sentTick: now }
})

/** Whether the leader must hold further AppendEntries for this follower. */
export const isPaused = (p: Progress, maxInflight: number): boolean => {
  switch (p.state) {
    case "probe":
      return p.probeSent
    case "replicate":
      return p.inflight.length >= maxInflight
    case "snapshot":
      return true
  }
}

/** Records that an AppendEntries carrying entries up to `last` (count entries) was sent. */
export const sentEntries = (p: Progress, last: Index, count: number): Progress => {
  if (p.state === "replicate") {
    return count === 0 ? p : { ...p, next: last + 1, inflight: [...p.inflight, last] }
  }
  return { ...p, probeSent: true }
}

/** A successful reply for index n. The boolean says whether the match index advanced (etcd MaybeUpdate). */
export const maybeUpdate = (p: Progress, n: Index): readonly [Progress, boolean] => {
  const updated = n > p.match
  return [
    {
      ...p,
      match: Math.max(p.match, n),
      next: Math.max(p.next, n + 1),
      probeSent: updated ? false : p.probeSent,
      inflight: p.inflight.filter((i) => i > n)
    },
    updated
  ]
}

/**
 * A rejection of the AppendEntries whose prevIndex was `rejected`; `probeTo` is the index the leader computed
 * from the follower's hint. Returns undefined when the rejection is stale (thesis §3.5 repair, etcd MaybeDecrTo).
 */
export const maybeDecrTo = (p: Progress, rejected: Index, probeTo: Index): Progress | undefined => {
  if (p.state === "replicate") {
    if (rejected <= p.match) return undefined
    // The pipeline is broken: fall back to probing right after the known match.
    return { ...p, state: "probe", next: p.match + 1, inflight: [], probeSent: false }
  }
  if (p.next - 1 !== rejected) return undefined
  return { ...p, next: Math.max(Math.min(rejected, probeTo + 1), p.match + 1), probeSent: false }
}

/**
 * The follower rejected a message sent after its last success at an index we believed it matched: it lost
 * its log (a node restarted with an empty data directory, compat spec §1.11). Forget the match and probe
 * from the hint; if that is compacted the leader sends a snapshot.
 */
export const lostLog = (p: Progress, probeTo: Index): Progress => ({
  ...p,
  state: "probe",
  match: 0,
  next: Math.max(1, probeTo + 1),
  probeSent: false,
  inflight: [],
  snapshot: undefined
})
