/**
 * One orchestrator node, wired from its configuration: backend, identity, leadership, node
 * health and the HTTP API. Every long-lived part is a scoped layer, so interrupting the program
 * (SIGTERM/SIGINT) closes the HTTP listener after in-flight requests, interrupts every fiber and
 * closes the backend, in that order.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Clock, Effect, Layer } from "effect"
import * as crypto from "node:crypto"
import * as http from "node:http"
import * as os from "node:os"
import * as Backend from "../adapters/backend/Backend.js"
import * as AppConfig from "../core/config/AppConfig.js"
import { type OrchestratorConfig, parseListenAddress } from "../core/config/OrchestratorConfig.js"
import { Leadership, layerSingleNode } from "../core/node/Leadership.js"
import { NodeIdentity } from "../core/node/NodeIdentity.js"
import { Repository } from "../core/backend/Repository.js"
import { makeApp } from "./http/Api.js"
import { checkAuthConfig, makeAuthenticator } from "./http/Auth.js"
import { metaHandlers } from "./http/MetaHandlers.js"
import { replicatedHandlers } from "./http/ReplicatedHandlers.js"
import * as CommandLog from "../core/ops/CommandLog.js"
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from "./http/MetricsEndpoint.js"
import { json, type Reply, text } from "./http/Reply.js"
import * as NodeHealth from "./NodeHealth.js"
import { appVersion } from "./Version.js"

/** This node's HTTP URI: HTTPAdvertise, else derived from RaftAdvertise's host and the listen port (orchestrator's rule). */
export const httpUriOf = (c: OrchestratorConfig): string => {
  if (c.HTTPAdvertise !== "") return c.HTTPAdvertise
  const { host, port } = parseListenAddress(c.ListenAddress)
  const raftHost = (c.RaftAdvertise || c.RaftBind).replace(/:[0-9]+$/, "")
  return `http://${c.RaftEnabled ? raftHost : host ?? os.hostname()}:${port}`
}

export const identityLayer = (c: OrchestratorConfig, command: string) =>
  Layer.effect(
    NodeIdentity,
    Effect.map(Clock.currentTimeMillis, (now) => {
      const httpUri = httpUriOf(c)
      return {
        hostname: os.hostname(),
        token: crypto.randomBytes(16).toString("hex"),
        command,
        appVersion,
        nodeId: c.RaftEnabled ? c.RaftAdvertise || c.RaftBind : httpUri.replace(/^https?:\/\//, ""),
        httpUri,
        startedAt: now
      }
    })
  )

const leadershipLayer = (c: OrchestratorConfig) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const id = yield* NodeIdentity
    if (c.RaftEnabled) {
      return Layer.fail(
        new Backend.BackendError({ message: "RaftEnabled: raft mode is not available in this build yet (see docs/compat.md)" })
      ) as Layer.Layer<Leadership, Backend.BackendError>
    }
    return layerSingleNode({ raftAddress: "", httpUri: id.httpUri })
  }))

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

/** The HTTP server on ListenAddress serving the API. */
const httpLayer = (c: OrchestratorConfig) => {
  const { host, port } = parseListenAddress(c.ListenAddress)
  const app = makeApp<
    Leadership | NodeIdentity | NodeHealth.NodeHealth | Repository | AppConfig.AppConfig | CommandLog.CommandLog
  >({
    urlPrefix: c.URLPrefix,
    handlers: { ...metaHandlers, ...replicatedHandlers },
    authenticate: makeAuthenticator(c),
    extra: extraRoutes
  })
  return HttpServer.serve(app).pipe(
    Layer.provide(NodeHttpServer.layer(() => {
      const server = http.createServer()
      // Idle keep-alive sockets must not hold shutdown open (Node closes idle ones on close()).
      server.keepAliveTimeout = 5_000
      return server
    }, host === undefined ? { port } : { port, host }))
  )
}

/** Everything a node runs. `command` is what node_health records ("http"). */
export const layer = (c: OrchestratorConfig, command = "http") => {
  const authProblem = checkAuthConfig(c)
  if (authProblem !== undefined) return Layer.fail(new Backend.BackendError({ message: authProblem }))
  const base = Layer.mergeAll(Backend.layerFromConfig(c), AppConfig.layer(c), identityLayer(c, command))
  const node = Layer.mergeAll(NodeHealth.layer, leadershipLayer(c), CommandLog.layerLocal).pipe(Layer.provideMerge(base))
  return httpLayer(c).pipe(Layer.provideMerge(node))
}
