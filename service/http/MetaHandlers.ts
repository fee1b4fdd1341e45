/**
 * Health, status and leader checks: answered by every node for itself, never forwarded
 * (orchestrator's NoProxy set), so load balancers and proxies can ask any node.
 */
import { Effect, Option } from "effect"
import { ok, error as errorEnvelope } from "../../core/api/Envelope.js"
import type { NodeHealth as NodeHealthRow } from "../../core/backend/Repository.js"
import { Leadership } from "../../core/node/Leadership.js"
import { NodeIdentity } from "../../core/node/NodeIdentity.js"
import { NodeHealth } from "../NodeHealth.js"
import { RaftAccess } from "../raft/RaftServices.js"
import { envelope, json } from "./Reply.js"

/** orchestrator's backend timestamp text: "2026-11-25 19:07:31". */
export const sqlTimestamp = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace("T", " ")

const nodeJson = (r: NodeHealthRow) => ({
  Hostname: r.hostname,
  Token: r.token,
  AppVersion: r.appVersion,
  FirstSeenActive: sqlTimestamp(r.firstSeenActive),
  LastSeenActive: sqlTimestamp(r.lastSeenActive),
  ExtraInfo: r.extraInfo,
  Command: r.command,
  DBBackend: r.dbBackend,
  LastReported: new Date(r.lastSeenActive).toISOString()
})

/** The Details of /api/health and /api/status (orchestrator's HealthStatus plus its raft fields). */
export const healthStatus = Effect.gen(function*() {
  const health = yield* NodeHealth
  const id = yield* NodeIdentity
  const leadership = yield* Leadership
  const report = yield* health.report
  const isLeader = yield* leadership.isLeader
  const leader = yield* leadership.leader
  const raft = yield* RaftAccess
  const healthyMembers = Option.isSome(raft) && isLeader ? (yield* raft.value.status).healthyMembers : []
  const self = report.rows.find((r) => r.token === id.token)
  const activeNode = leadership.raftEnabled
    ? { ...emptyNode, Hostname: leader?.raftAddress ?? "" }
    : self
    ? nodeJson(self)
    : emptyNode
  const details = {
    Healthy: report.healthy,
    Hostname: id.hostname,
    Token: id.token,
    IsActiveNode: isLeader,
    ActiveNode: activeNode,
    Error: report.error ?? null,
    AvailableNodes: report.rows.map(nodeJson),
    RaftLeader: leadership.raftEnabled ? leader?.raftAddress ?? "" : "",
    IsRaftLeader: leadership.raftEnabled && isLeader,
    RaftLeaderURI: leadership.raftEnabled ? leader?.httpUri ?? "" : "",
    RaftAdvertise: leadership.raftEnabled ? id.nodeId : "",
    RaftHealthyMembers: healthyMembers
  }
  return { report, details }
})

const emptyNode = {
  Hostname: "",
  Token: "",
  AppVersion: "",
  FirstSeenActive: "",
  LastSeenActive: "",
  ExtraInfo: "",
  Command: "",
  DBBackend: "",
  LastReported: "0001-01-01T00:00:00Z"
}

const healthReply = Effect.map(healthStatus, ({ details, report }) =>
  report.healthy
    ? envelope(ok("Application node is healthy", details))
    : envelope(errorEnvelope(`Application node is unhealthy ${report.error ?? ""}`.trim(), details))
)

const leaderCheck = (notLeaderStatus: number) =>
  Effect.gen(function*() {
    const leadership = yield* Leadership
    return (yield* leadership.isLeader) ? json("OK") : json("Not leader", notLeaderStatus)
  })

export const metaHandlers = {
  health: () => healthReply,
  status: () => healthReply,
  lbCheck: () => Effect.succeed(json("OK")),
  ping: () => Effect.succeed(json("OK")),
  leaderCheck: () => leaderCheck(404),
  leaderCheckCode: (p: { readonly errorStatusCode: number }) => leaderCheck(p.errorStatusCode),
  // Forwarded to the leader by followers, so any healthy node answers the leader's 200.
  routedLeaderCheck: () => leaderCheck(404)
}
