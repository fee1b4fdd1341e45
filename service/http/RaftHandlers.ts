/**
 * orchestrator's raft endpoints. Differences (docs/compat.md): raft-health is healthy only when a
 * leader is known (orchestrator calls a fresh follower healthy before it ever heard from a leader);
 * raft-yield/:node transfers leadership to that node with TimeoutNow instead of making every other
 * node step back for 5 s.
 */
import { Effect, Option } from "effect"
import { type ApiFailure, ok } from "../../core/api/Envelope.js"
import { AppConfig } from "../../core/config/AppConfig.js"
import { Leadership } from "../../core/node/Leadership.js"
import type { RaftNodeShape } from "../../core/raft/runtime/RaftNode.js"
import { fail } from "./Api.js"
import { envelope, json } from "./Reply.js"
import { RaftAccess } from "../raft/RaftServices.js"
import { normalizeRaftNode } from "../raft/RaftSetup.js"

const withRaft = <A, R>(
  name: string,
  f: (raft: RaftNodeShape) => Effect.Effect<A, ApiFailure, R>
): Effect.Effect<A, ApiFailure, R | RaftAccess> =>
  Effect.flatMap(RaftAccess, (access) =>
    Option.match(access, {
      onNone: () => fail(`${name}: not running with raft setup`),
      onSome: f
    }))

const roleName = (role: string) =>
  role === "leader" ? "Leader" : role === "follower" ? "Follower" : "Candidate"

const transferTo = (raft: RaftNodeShape, target: string) =>
  raft.transferLeadership(target).pipe(Effect.catchTag("RaftError", (e) => fail(e.message)))

export const raftHandlers = {
  raftState: () => withRaft("raft-state", (raft) => Effect.map(raft.status, (s) => json(roleName(s.role)))),
  raftLeader: () => withRaft("raft-leader", (raft) => Effect.map(raft.status, (s) => json(s.leader))),
  raftHealth: () =>
    withRaft("raft-health", (raft) =>
      Effect.flatMap(raft.status, (s) =>
        s.leader !== "" && (s.role === "leader" || s.role === "follower")
          ? Effect.succeed(json("healthy"))
          : fail("unhealthy"))),
  raftStatus: () =>
    withRaft("raft-status", (raft) =>
      Effect.gen(function*() {
        const s = yield* raft.status
        const config = yield* AppConfig
        const leadership = yield* Leadership
        const leader = yield* leadership.leader
        const healthy = s.leader !== "" && (s.role === "leader" || s.role === "follower")
        return json({
          RaftBind: config.RaftBind,
          RaftAdvertise: raft.id,
          State: roleName(s.role),
          Healthy: healthy,
          IsPartOfQuorum: healthy,
          Leader: s.leader,
          LeaderURI: leader?.httpUri ?? "",
          Peers: s.voters,
          // Ours, beyond orchestrator's fields:
          Term: s.term,
          CommitIndex: s.commit,
          AppliedIndex: s.applied,
          LastIndex: s.lastIndex,
          SnapshotIndex: s.snapshotIndex,
          HasLease: s.isLeader
        })
      })),
  raftPeers: () => withRaft("raft-peers", (raft) => Effect.map(raft.status, (s) => json(s.voters))),
  raftYield: (p: { node: string }) =>
    withRaft("raft-yield", (raft) =>
      Effect.gen(function*() {
        const config = yield* AppConfig
        const target = normalizeRaftNode(p.node, config.DefaultRaftPort)
        const s = yield* raft.status
        if (!s.voters.includes(target)) return yield* fail(`raft-yield: ${target} is not a raft peer (${s.voters.join(", ")})`, null, 400)
        if (target !== raft.id) yield* transferTo(raft, target)
        return envelope(ok("Asynchronously yielded"))
      })),
  raftYieldHint: (p: { hint: string }) =>
    withRaft("raft-yield-hint", (raft) =>
      Effect.gen(function*() {
        const s = yield* raft.status
        const target = s.voters.find((v) => v.includes(p.hint))
        // orchestrator: a hint matching nothing makes every node yield; we refuse instead of a leaderless gap.
        if (target === undefined) return yield* fail(`raft-yield-hint: no raft peer matches ${p.hint}`, p.hint, 400)
        if (target !== raft.id) yield* transferTo(raft, target)
        return envelope(ok(`Asynchronously yielded by hint ${p.hint}`, p.hint))
      })),
  raftSnapshot: () =>
    withRaft("raft-snapshot", (raft) =>
      Effect.as(raft.snapshotNow.pipe(Effect.catchTag("RaftError", (e) => fail(`Cannot create snapshot: ${e.message}`))), json("snapshot created"))),
  raftAddPeer: (p: { addr: string }) =>
    withRaft("raft-add-peer", (raft) =>
      Effect.gen(function*() {
        const config = yield* AppConfig
        const addr = normalizeRaftNode(p.addr, config.DefaultRaftPort)
        yield* raft.addVoter(addr).pipe(Effect.catchTag("RaftError", (e) => fail(`raft-add-peer: ${e.message}`)))
        return json(addr)
      })),
  /**
   * orchestrator steps the leader down (hashicorp raft's Yield), leaving the cluster leaderless until an election.
   * Here the leader hands over to a healthy peer with TimeoutNow (as raft-yield), so there is no gap. Without raft
   * the single node stays leader.
   */
  reelect: () =>
    Effect.flatMap(RaftAccess, (access) =>
      Option.match(access, {
        onNone: () => Effect.succeed(envelope(ok("Set re-elections"))),
        onSome: (raft) =>
          Effect.gen(function*() {
            const s = yield* raft.status
            if (!s.isLeader) return yield* fail("Unable to re-elect: this node is not the raft leader")
            const target = s.healthyMembers.filter((v) => v !== raft.id).sort()[0]
            if (target === undefined) return yield* fail("Unable to re-elect: no other raft member is healthy enough to lead")
            yield* raft.transferLeadership(target).pipe(Effect.catchTag("RaftError", (e) => fail(`Unable to re-elect: ${e.message}`)))
            return envelope(ok("Set re-elections", target))
          })
      })),
  grabElection: () =>
    Effect.flatMap(RaftAccess, (access) =>
      Option.isSome(access)
        ? fail("Unable to grab election: Cannot GrabElection on raft setup")
        : Effect.succeed(envelope(ok("Node elected as leader")))),
  raftRemovePeer: (p: { addr: string }) =>
    withRaft("raft-remove-peer", (raft) =>
      Effect.gen(function*() {
        const config = yield* AppConfig
        const addr = normalizeRaftNode(p.addr, config.DefaultRaftPort)
        yield* raft.removeVoter(addr).pipe(Effect.catchTag("RaftError", (e) => fail(`raft-remove-peer: ${e.message}`)))
        return json(addr)
      }))
}
