/**
 * One orchestrator node, wired from its configuration: backend, identity, leadership, the command log
 * (local, or raft with RaftEnabled), node health and the HTTP API. Every long-lived part is a scoped
 * layer, so interrupting the program (SIGTERM/SIGINT) closes the HTTP listener after in-flight
 * requests, interrupts every fiber (raft, probes) and closes the stores and the backend, in that order.
 */
import { Clock, Effect, Layer, PubSub } from "effect"
import * as crypto from "node:crypto"
import * as os from "node:os"
import * as Backend from "../adapters/backend/Backend.js"
import { Repository } from "../core/backend/Repository.js"
import * as AppConfig from "../core/config/AppConfig.js"
import { type OrchestratorConfig, parseListenAddress } from "../core/config/OrchestratorConfig.js"
import { Leadership, layerSingleNode } from "../core/node/Leadership.js"
import { NodeIdentity } from "../core/node/NodeIdentity.js"
import type { Reaction } from "../core/ops/Apply.js"
import * as CommandLog from "../core/ops/CommandLog.js"
import { analysisHandlers } from "./http/AnalysisHandlers.js"
import { makeHandler } from "./http/Api.js"
import { checkAuthConfig, makeAuthenticator } from "./http/Auth.js"
import { controlHandlers } from "./http/ControlHandlers.js"
import { leaderGate } from "./http/LeaderGate.js"
import { instanceHandlers } from "./http/InstanceHandlers.js"
import { metaHandlers } from "./http/MetaHandlers.js"
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from "./http/MetricsEndpoint.js"
import { raftHandlers } from "./http/RaftHandlers.js"
import { replicatedHandlers } from "./http/ReplicatedHandlers.js"
import { json, type Reply, text } from "./http/Reply.js"
import * as HttpFront from "./http/Server.js"
import type { Discovery } from "../core/discovery/Discovery.js"
import * as DiscoveryService from "./Discovery.js"
import * as RecoveryLayers from "./RecoveryLayers.js"
import { recoveryHandlers } from "./http/RecoveryHandlers.js"
import type { Recoveries } from "./Recovery.js"
import type { TopologySql } from "../core/discovery/TopologySql.js"
import type { HookRunner } from "../core/recovery/Hooks.js"
import * as NodeHealth from "./NodeHealth.js"
import * as RaftServices from "./raft/RaftServices.js"
import * as Membership from "./raft/Membership.js"
import * as RaftSetup from "./raft/RaftSetup.js"
import { appVersion } from "./Version.js"

/** This node's HTTP URI: HTTPAdvertise, else derived from RaftAdvertise's host and the listen port (orchestrator's rule). */
export const httpUriOf = (c: OrchestratorConfig): string => {
  if (c.HTTPAdvertise !== "") return c.HTTPAdvertise
  const { host, port } = parseListenAddress(c.ListenAddress)
  const raftHost = (c.RaftAdvertise || c.RaftBind).replace(/:[0-9]+$/, "")
  return `http://${c.RaftEnabled ? raftHost : host ?? os.hostname()}:${port}`
}

export const identityLayer = (c: OrchestratorConfig, command: string, nodeId: string) =>
  Layer.effect(
    NodeIdentity,
    Effect.map(Clock.currentTimeMillis, (now) => ({
      hostname: os.hostname(),
      token: crypto.randomBytes(16).toString("hex"),
      command,
      appVersion,
      nodeId,
      httpUri: httpUriOf(c),
      startedAt: now
    }))
  )

/**
 * Endpoints outside orchestrator's /api: Prometheus metrics and Kubernetes-style probes.
 * /health/ready = the backend answers and (with raft) a leader is known; /health/leader = this
 * node holds the leader lease.
 */
const extraRoutes = (path: string): Effect.Effect<Reply, never, Repository | Leadership> | undefined => {
  switch (path.replace(/\/$/, "")) {
    case "/metrics":
      return Effect.map(renderMetrics, (body) => text(body, 200, PROMETHEUS_CONTENT_TYPE))
    case "/health/live":
      return Effect.succeed(json({ status: "live" }))
    case "/health/ready":
      return Effect.gen(function*() {
        const repo = yield* Repository
        const leadership = yield* Leadership
        const backend = yield* Effect.either(Effect.timeout(repo.ping, "2 seconds"))
        const leader = yield* leadership.leader
        const ready = backend._tag === "Right" && leader !== undefined
        return json({ status: ready ? "ready" : "not ready", backend: backend._tag === "Right", leaderKnown: leader !== undefined }, ready ? 200 : 503)
      })
    case "/health/leader":
      return Effect.gen(function*() {
        const isLeader = yield* (yield* Leadership).isLeader
        return json({ leader: isLeader }, isLeader ? 200 : 503)
      })
    default:
      return undefined
  }
}

type AppServices =
  | Leadership
  | NodeIdentity
  | NodeHealth.NodeHealth
  | Repository
  | AppConfig.AppConfig
  | CommandLog.CommandLog
  | RaftServices.RaftAccess
  | Discovery
  | Recoveries
  | TopologySql
  | HookRunner

/**
 * The HTTP server on ListenAddress serving the API: a plain node:http server in front of the application
 * (service/http/Server.ts; the @effect/platform server's per-request machinery cost more CPU than most
 * handlers). No tracing span per request: nothing exports spans; Prometheus metrics count requests.
 */
const httpLayer = (c: OrchestratorConfig) => {
  const { host, port } = parseListenAddress(c.ListenAddress)
  const handle = makeHandler<AppServices>({
    urlPrefix: c.URLPrefix,
    handlers: allHandlers,
    authenticate: makeAuthenticator(c),
    maxBodyBytes: c.MaxRequestBodyBytes,
    middleware: leaderGate({ forwardTimeoutMillis: 10_000 }),
    extra: extraRoutes
  })
  // Idle keep-alive sockets must not hold shutdown open (Node closes idle ones on close()).
  const listen = { port, keepAliveTimeoutMillis: 5_000, ...(host === undefined ? {} : { host }) }
  return Layer.scopedDiscard(HttpFront.serve(handle, listen))
}

/** Without raft: the single node is the leader and applies ops directly. */
const singleNodeLayers = Layer.mergeAll(
  Layer.unwrapEffect(Effect.map(NodeIdentity, (id) => layerSingleNode({ raftAddress: "", httpUri: id.httpUri }))),
  CommandLog.layerLocal,
  RaftServices.layerNoRaft
)

/**
 * With raft: the runtime, its command log and leadership, the leader's housekeeping, and RaftNodes
 * versus the configuration (Membership.ts).
 */
const raftLayers = (c: OrchestratorConfig, plan: RaftSetup.RaftPlan, hub: PubSub.PubSub<Reaction>, membership: Membership.Membership) => {
  const raftNode = RaftSetup.layerRaftNode(c, plan, hub, membership)
  const leadership = RaftServices.layerLeadership.pipe(Layer.provideMerge(RaftServices.layerLeaderUris(hub)))
  const commandLog = RaftServices.layerCommandLog(hub).pipe(Layer.provideMerge(leadership))
  return Layer.mergeAll(
    RaftServices.layerLeaderDuties,
    RaftServices.layerRaftAccess,
    RaftServices.layerJoinWatchdog(c.RaftJoinTimeoutSeconds, membership.refusalSummary),
    Membership.layer(membership, c.RaftDataDir)
  ).pipe(
    Layer.provideMerge(commandLog),
    Layer.provideMerge(raftNode)
  )
}

/** Everything a node runs. `command` is what node_health records ("http"). */
export const layer = (c: OrchestratorConfig, command = "http") => {
  const authProblem = checkAuthConfig(c)
  if (authProblem !== undefined) return Layer.fail(new Backend.BackendError({ message: authProblem }))
  return Layer.unwrapEffect(Effect.gen(function*() {
    const plan = c.RaftEnabled ? yield* RaftSetup.plan(c) : undefined
    const hub = yield* PubSub.unbounded<Reaction>()
    const base = Layer.mergeAll(
      Backend.layerFromConfig(c),
      AppConfig.layer(c),
      identityLayer(c, command, plan?.self ?? httpUriOf(c).replace(/^https?:\/\//, ""))
    )
    const coordination = plan === undefined
      ? singleNodeLayers
      : raftLayers(c, plan, hub, yield* Membership.make({ self: plan.self, raftNodes: plan.voters, dataDir: c.RaftDataDir }))
    const node = Layer.mergeAll(NodeHealth.layer, coordination).pipe(Layer.provideMerge(base))
    const discovery = DiscoveryService.layerMysql.pipe(Layer.provideMerge(node))
    const recovery = RecoveryLayers.layer.pipe(Layer.provideMerge(discovery))
    return httpLayer(c).pipe(Layer.provideMerge(recovery))
  }))
}

/** The services a `-c` command needs: the backend and a local command log (no HTTP, no raft). */
export const cliLayer = (c: OrchestratorConfig) => {
  const base = Layer.mergeAll(Backend.layerFromConfig(c), AppConfig.layer(c), identityLayer(c, "cli", "cli"))
  return Layer.mergeAll(NodeHealth.layer, singleNodeLayers).pipe(Layer.provideMerge(base))
}

/** Every route's handler, keyed by route name (the HTTP app and the CLI share them). */
export const allHandlers = {
  ...metaHandlers,
  ...raftHandlers,
  ...replicatedHandlers,
  ...analysisHandlers,
  ...instanceHandlers,
  ...recoveryHandlers,
  ...controlHandlers
}
