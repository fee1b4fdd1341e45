/**
 * The node's services in raft mode, over the RaftNode runtime: the command log proposes through raft
 * and answers after commit; leadership is raft's lease; a new leader announces its HTTP URI with a
 * replicated `leader-uri` op, which is how followers know where to forward client requests.
 */
import { Clock, Context, Effect, Layer, Option, PubSub, Queue, Ref, Schedule } from "effect"
import { Repository } from "../../core/backend/Repository.js"
import { Leadership, type RaftState } from "../../core/node/Leadership.js"
import { NodeIdentity } from "../../core/node/NodeIdentity.js"
import { LEADER_URI_META, type Reaction } from "../../core/ops/Apply.js"
import { CommandLog, NotLeader, ProposalFailed } from "../../core/ops/CommandLog.js"
import { encodeOp } from "../../core/ops/Op.js"
import * as Metrics from "../../core/observability/Metrics.js"
import { RaftNode } from "../../core/raft/runtime/RaftNode.js"
import { Metric } from "effect"

/** raft address → HTTP URI of the nodes that announced themselves as leader. */
export class LeaderUris extends Context.Tag("orchestrator/LeaderUris")<LeaderUris, Ref.Ref<ReadonlyMap<string, string>>>() {}

export const layerLeaderUris = (hub: PubSub.PubSub<Reaction>) =>
  Layer.scoped(
    LeaderUris,
    Effect.gen(function*() {
      const id = yield* NodeIdentity
      const repo = yield* Repository
      const ref = yield* Ref.make<ReadonlyMap<string, string>>(new Map([[id.nodeId, id.httpUri]]))
      // The last announced leader survives restarts in the backend (orchestrator's LeaderURI).
      const stored = yield* Effect.orElseSucceed(repo.getMeta(LEADER_URI_META), () => undefined)
      const storedAddress = yield* Effect.orElseSucceed(repo.getMeta(`${LEADER_URI_META}-raft-address`), () => undefined)
      if (stored !== undefined && storedAddress !== undefined) {
        yield* Ref.update(ref, (m) => new Map([...m, [storedAddress, stored]]))
      }
      const sub = yield* PubSub.subscribe(hub)
      yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
        const r = yield* Queue.take(sub)
        if (r._tag === "LeaderUri") {
          yield* Ref.update(ref, (m) => new Map([...m, [r.raftAddress, r.uri]]))
          yield* Effect.ignore(repo.putMeta(`${LEADER_URI_META}-raft-address`, r.raftAddress))
        }
      })))
      return ref
    })
  )

export const layerCommandLog = (hub: PubSub.PubSub<Reaction>) =>
  Layer.effect(
    CommandLog,
    Effect.gen(function*() {
      const raft = yield* RaftNode
      const leadership = yield* Leadership
      const shape: CommandLog["Type"] = {
        propose: (op) =>
          raft.propose(encodeOp(op)).pipe(
            Effect.map((result): ReadonlyArray<Reaction> => (Array.isArray(result) ? (result as ReadonlyArray<Reaction>) : [])),
            Effect.catchTag("RaftError", (e) =>
              e.reason === "NotLeader"
                ? Effect.flatMap(leadership.leader, (l) =>
                  Effect.fail<NotLeader | ProposalFailed>(new NotLeader({ leaderHttpUri: l?.httpUri || null })))
                : Effect.fail<NotLeader | ProposalFailed>(new ProposalFailed({ reason: e.message })))
          ),
        reactions: PubSub.subscribe(hub)
      }
      return shape
    })
  )

const roleToState = (role: string): RaftState =>
  role === "leader" ? "Leader" : role === "follower" ? "Follower" : "Candidate"

export const layerLeadership = Layer.effect(
  Leadership,
  Effect.gen(function*() {
    const raft = yield* RaftNode
    const uris = yield* LeaderUris
    return {
      raftEnabled: true,
      isLeader: raft.isLeader,
      canServe: raft.leaseRead,
      state: Effect.map(raft.status, (s) => roleToState(s.role)),
      leader: Effect.gen(function*() {
        const s = yield* raft.status
        if (s.leader === "") return undefined
        const known = (yield* Ref.get(uris)).get(s.leader)
        return { raftAddress: s.leader, httpUri: known ?? "" }
      }),
      confirm: Effect.match(raft.readBarrier, { onFailure: () => false, onSuccess: () => true })
    }
  })
)

/**
 * Leader-side housekeeping: announce this node's HTTP URI once per term it leads (orchestrator
 * publishes leader-uri on every leadership gain), and keep raft gauges fresh.
 */
export const layerLeaderDuties = Layer.scopedDiscard(Effect.gen(function*() {
  const raft = yield* RaftNode
  const id = yield* NodeIdentity
  const log = yield* CommandLog
  let announcedTerm = -1
  const tick = Effect.gen(function*() {
    const s = yield* raft.status
    yield* Metric.set(Metrics.raftIsLeader, s.isLeader ? 1 : 0)
    for (const role of ["leader", "follower", "candidate", "precandidate"]) {
      yield* Metric.set(Metrics.raftState.pipe(Metric.tagged("state", role)), s.role === role ? 1 : 0)
    }
    if (s.role === "leader" && s.term !== announcedTerm) {
      const at = yield* Clock.currentTimeMillis
      const r = yield* Effect.either(log.propose({ _tag: "leader-uri", uri: id.httpUri, raftAddress: id.nodeId }))
      if (r._tag === "Right") {
        announcedTerm = s.term
        yield* Effect.logInfo("raft: announced leadership", { term: s.term, uri: id.httpUri, at })
      }
    }
  })
  yield* Effect.forkScoped(Effect.repeat(Effect.ignore(tick), Schedule.spaced("100 millis")))
}))

/** Optional access to the raft node, for the raft HTTP endpoints (absent without RaftEnabled). */
export class RaftAccess extends Context.Tag("orchestrator/RaftAccess")<RaftAccess, Option.Option<RaftNode["Type"]>>() {}
export const layerRaftAccess = Layer.effect(RaftAccess, Effect.map(RaftNode, Option.some))
export const layerNoRaft = Layer.succeed(RaftAccess, Option.none())

/**
 * The deployment guide's "PANIC after 1 minute", as a setting: a node that has never been part of the
 * cluster (no leader ever heard, nothing durable says otherwise) exits after RaftJoinTimeoutSeconds with a
 * clear log line, so a misconfigured RaftNodes fails loudly. A node that was a member keeps retrying
 * (and reports unhealthy) instead: it may simply be partitioned.
 */
export const layerJoinWatchdog = (timeoutSeconds: number, refusals: () => string = () => "") =>
  Layer.scopedDiscard(Effect.gen(function*() {
    if (timeoutSeconds <= 0) return
    const raft = yield* RaftNode
    yield* Effect.forkScoped(Effect.gen(function*() {
      yield* Effect.sleep(`${timeoutSeconds} seconds`)
      const s = yield* raft.status
      if (s.hasJoined) return
      const refused = refusals()
      yield* Effect.logError(
        `raft: this node has not joined the cluster within ${timeoutSeconds} s (RaftJoinTimeoutSeconds); ` +
          (refused === "" ? "" : `${refused}; `) +
          `check that RaftNodes ${JSON.stringify(s.voters)} is identical on every node, that this node's address ` +
          `(${s.id}) is in it, that RaftAuthSecret matches, and that the raft port is reachable; exiting`
      )
      yield* Effect.sync(() => process.exit(2))
    }))
  }))
