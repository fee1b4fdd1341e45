/**
 * Static raft configuration of one node. Time is counted in ticks; the runtime decides how long a tick is
 * (docs/raft.md: 50 ms in production). Defaults are chosen for leader failover p50 ≤ 500 ms and
 * p99 ≤ 1 s with a 50 ms tick; docs/raft.md shows the simulator measurement behind them.
 */
import type { NodeId } from "./Types.js"

export interface RaftConfig {
  readonly id: NodeId
  /** Leader sends heartbeats every heartbeatTicks (thesis §3.4). */
  readonly heartbeatTicks: number
  /**
   * Minimum election timeout; a follower's timeout is drawn uniformly from [electionTicks, 2*electionTicks)
   * (thesis §3.4, §9.3 randomized timeouts). Also the CheckQuorum period and the leader-stickiness window.
   */
  readonly electionTicks: number
  /**
   * Leader lease length, counted from the tick of the last message a quorum acknowledged (thesis §6.4.1).
   * Must be strictly shorter than electionTicks: voters refuse other candidates for electionTicks after
   * hearing from the leader, so nobody else can become leader while the lease runs. The margin absorbs tick
   * granularity (a tick boundary on each side) and clock-rate drift between nodes.
   */
  readonly leaseTicks: number
  /** Thesis §9.6: ask "would you vote for me?" before disrupting the cluster with a higher term. */
  readonly preVote: boolean
  /** Thesis §6.2: a leader that has not heard from a majority for electionTicks steps down. */
  readonly checkQuorum: boolean
  /** Batching: at most this many entries per AppendEntries (hashicorp MaxAppendEntries = 64). */
  readonly maxEntriesPerMsg: number
  /** Pipelining: at most this many AppendEntries in flight per follower in replicate state. */
  readonly maxInflight: number
  /** Entries kept behind a snapshot so slightly lagging followers need not get one (compat spec §1.11: 10240). */
  readonly trailingLogs: number
  /** Bytes (characters of the runtime's encoding) per InstallSnapshot chunk. */
  readonly snapshotChunkBytes: number
}

export const defaults: Omit<RaftConfig, "id"> = {
  heartbeatTicks: 2,
  electionTicks: 6,
  leaseTicks: 4,
  preVote: true,
  checkQuorum: true,
  maxEntriesPerMsg: 64,
  maxInflight: 64,
  trailingLogs: 10240,
  snapshotChunkBytes: 1 << 20
}

export const make = (id: NodeId, overrides: Partial<Omit<RaftConfig, "id">> = {}): RaftConfig => {
  const config: RaftConfig = { ...defaults, ...overrides, id }
  const problems = validate(config)
  if (problems.length > 0) throw new Error(`raft config: ${problems.join("; ")}`)
  return config
}

/** Lease safety needs one tick of margin on each side of a tick boundary: leaseTicks ≤ electionTicks − 2. */
export const validate = (c: RaftConfig): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) problems.push(`${name} must be a positive integer, got ${v}`)
  }
  positive("heartbeatTicks", c.heartbeatTicks)
  positive("electionTicks", c.electionTicks)
  positive("leaseTicks", c.leaseTicks)
  positive("maxEntriesPerMsg", c.maxEntriesPerMsg)
  positive("maxInflight", c.maxInflight)
  positive("snapshotChunkBytes", c.snapshotChunkBytes)
  if (!Number.isInteger(c.trailingLogs) || c.trailingLogs < 0) problems.push("trailingLogs must be ≥ 0")
  if (c.heartbeatTicks >= c.electionTicks) problems.push("heartbeatTicks must be < electionTicks")
  if (c.leaseTicks > c.electionTicks - 2) problems.push("leaseTicks must be ≤ electionTicks - 2")
  if (c.id === "") problems.push("id must be non-empty")
  return problems
}
