/**
 * Public API of the pure raft core. A runtime needs exactly:
 *   - `init(config, voters, persisted, seed)`  – build the state at startup (bootstrap or restart)
 *   - `step(state, input)`                      – feed every tick, message, proposal, read, ack
 *   - `isLeaderWithLease(state, nowTick)`       – the answer of /api/leader-check
 *   - `status(state)`                           – role/term/leader/voters for /api/raft-* endpoints
 * and follows the persist → send → apply contract documented in State.ts and docs/raft.md.
 */
import type { RaftConfig } from "./Config.js"
import * as Prng from "./Prng.js"
import * as Log from "./RaftLog.js"
import type { RaftState, Role } from "./State.js"
import type { ConfState, Entry, HardState, Index, NodeId, SnapshotMeta, Term } from "./Types.js"
import { makeConf, None } from "./Types.js"

export * as Config from "./Config.js"
export * as ConfChange from "./ConfChange.js"
export * as Message from "./Message.js"
export * as Types from "./Types.js"
export { isLeaderWithLease, leaseExpiryTick } from "./Lease.js"
export type * from "./State.js"
export { step } from "./Step.js"

/** What the runtime read back from disk at startup. */
export interface Persisted {
  readonly hardState: HardState
  /** Latest durable snapshot; entries ≤ its index are ignored. */
  readonly snapshot: SnapshotMeta | undefined
  /** The durable log after the snapshot, contiguous. */
  readonly entries: ReadonlyArray<Entry>
  /** Index the runtime's state machine already reflects (≥ snapshot index); defaults to the snapshot index. */
  readonly applied?: Index
}

export const emptyPersisted: Persisted = {
  hardState: { term: 0, vote: None, commit: 0 },
  snapshot: undefined,
  entries: []
}

/**
 * Bootstrap: every node starts with the same `voters` (orchestrator's RaftNodes, compat spec §1.1); a node
 * with an empty disk and those voters is caught up by the leader (by snapshot if needed). Restart: the
 * configuration comes from the snapshot and the config entries in the log; `voters` is only the fallback
 * for a log that has neither. `seed` feeds the election-timeout PRNG.
 */
export const init = (config: RaftConfig, voters: ReadonlyArray<NodeId>, persisted: Persisted, seed: number): RaftState => {
  let log = Log.make(makeConf(voters))
  if (persisted.snapshot !== undefined) log = Log.restore(log, persisted.snapshot)
  const entries = persisted.entries.filter((e) => e.index > log.offset)
  entries.forEach((e, k) => {
    if (e.index !== log.offset + 1 + k) throw new Error(`raft init: log not contiguous at ${e.index}`)
  })
  log = Log.append(log, entries)
  const last = Log.lastIndex(log)
  // Whatever the state machine applied was committed, even if the stored commit index is older (the
  // runtime does not fsync commit-only changes of the hard state).
  const committed = Math.min(Math.max(persisted.hardState.commit, log.committed, persisted.applied ?? 0), last)
  const applied = Math.min(Math.max(persisted.applied ?? log.offset, log.offset), committed)
  log = { ...log, stable: last, committed, applied }
  const hardState = { ...persisted.hardState, commit: committed }
  const [timeout, prng] = Prng.intBetween(Prng.seed(seed), config.electionTicks, 2 * config.electionTicks)
  return {
    config,
    prng,
    role: "follower",
    term: hardState.term,
    vote: hardState.vote,
    lead: None,
    log,
    snapshot: persisted.snapshot,
    now: 0,
    electionElapsed: 0,
    heartbeatElapsed: 0,
    contactElapsed: 0,
    randomizedElectionTimeout: timeout,
    votes: new Map(),
    selfVoteSeq: -1,
    progress: new Map(),
    transferee: None,
    transferElapsed: 0,
    leaseRevoked: false,
    pendingReads: [],
    persist: { seq: 0, durable: 0, writes: [], hardState, install: undefined },
    receiving: undefined
  }
}

export interface Status {
  readonly id: NodeId
  readonly role: Role
  readonly term: Term
  readonly leader: NodeId
  readonly conf: ConfState
  readonly commit: Index
  readonly applied: Index
  readonly lastIndex: Index
  readonly snapshotIndex: Index
  /**
   * On a leader: itself and the voters that acknowledged one of its heartbeats or appends sent within the last
   * election timeout (orchestrator's RaftHealthyMembers); empty elsewhere.
   */
  readonly healthyMembers: ReadonlyArray<NodeId>
}

/** See Status.healthyMembers. */
export const healthyMembers = (s: Pick<RaftState, "role" | "config" | "progress" | "now" | "log">): ReadonlyArray<NodeId> =>
  s.role !== "leader"
    ? []
    : s.log.conf.voters.filter((id) => {
      if (id === s.config.id) return true
      // -1 = no acknowledgement in this term yet (a leader elected in its first ticks must not count it).
      const ack = s.progress.get(id)?.ackTick ?? -1
      return ack >= 0 && ack >= s.now - s.config.electionTicks
    })

export const status = (s: RaftState): Status => ({
  id: s.config.id,
  role: s.role,
  term: s.term,
  leader: s.lead,
  conf: s.log.conf,
  commit: s.log.committed,
  applied: s.log.applied,
  lastIndex: Log.lastIndex(s.log),
  snapshotIndex: s.snapshot?.index ?? 0,
  healthyMembers: healthyMembers(s)
})
