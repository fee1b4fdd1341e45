/**
 * Who leads. Everything leader-only (recoveries, mutations, serving client requests) asks this
 * Tag, never raft directly. Without raft the single node always leads (orchestrator's behaviour
 * with RaftEnabled=false and one node); with raft, `isLeader` is the linearizable check (a
 * leader lease shorter than the election timeout), so a deposed leader never answers 200.
 */
import { Context, Effect, Layer } from "effect"

export type RaftState = "Leader" | "Follower" | "Candidate" | "Shutdown"

export interface LeaderInfo {
  /** The leader's raft address, e.g. "10.0.0.1:10008". */
  readonly raftAddress: string
  /** The leader's HTTP URI (HTTPAdvertise, or derived), e.g. "http://10.0.0.1:3000". */
  readonly httpUri: string
}

export class Leadership extends Context.Tag("orchestrator/Leadership")<Leadership, {
  readonly raftEnabled: boolean
  /** True only while this node holds a valid leader lease. */
  readonly isLeader: Effect.Effect<boolean>
  /**
   * May this node serve a client request from its own backend now? `isLeader`, and it has applied
   * everything committed (otherwise a read could miss an op another leader already acknowledged).
   * Leader-check answers `isLeader`; the leader gate asks this.
   */
  readonly canServe: Effect.Effect<boolean>
  readonly state: Effect.Effect<RaftState>
  /** The leader this node knows of (itself included), if any. */
  readonly leader: Effect.Effect<LeaderInfo | undefined>
  /**
   * Confirms leadership with a quorum round trip (ReadIndex) when the lease alone cannot tell, e.g. a
   * busy leader whose lease lapsed between heartbeats. True = this node led at some point after the call.
   */
  readonly confirm: Effect.Effect<boolean>
}>() {}

/** A single node without raft: always the leader. */
export const layerSingleNode = (self: LeaderInfo) =>
  Layer.succeed(Leadership, {
    raftEnabled: false,
    isLeader: Effect.succeed(true),
    canServe: Effect.succeed(true),
    state: Effect.succeed("Leader" as const),
    leader: Effect.succeed(self),
    confirm: Effect.succeed(true)
  })
