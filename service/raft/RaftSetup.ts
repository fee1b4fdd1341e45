/**
 * Raft mode from the configuration: peer addresses (RaftNodes, with DefaultRaftPort appended where a
 * port is missing, as orchestrator's normalizeRaftNode), this node's id (RaftAdvertise, default
 * RaftBind), the durable store in RaftDataDir, the authenticated TCP transport on RaftBind, the
 * orchestrator state machine, and the runtime's timing (RaftTickMillis × ticks).
 */
import { Data, Effect, Layer, PubSub } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as RaftStorage from "../../adapters/raft/RaftStorage.js"
import * as TcpTransport from "../../adapters/raft/TcpTransport.js"
import type { OrchestratorConfig } from "../../core/config/OrchestratorConfig.js"
import type { Reaction } from "../../core/ops/Apply.js"
import * as RaftConfig from "../../core/raft/Config.js"
import * as RaftNode from "../../core/raft/runtime/RaftNode.js"
import type { Membership } from "./Membership.js"
import * as OrchestratorStateMachine from "./OrchestratorStateMachine.js"

export class RaftSetupError extends Data.TaggedError("RaftSetupError")<{ readonly message: string }> {}

/** `host` → `host:DefaultRaftPort`; `host:port` and `[v6]:port` unchanged. */
export const normalizeRaftNode = (node: string, defaultPort: number): string => {
  const trimmed = node.trim()
  if (/^\[[^\]]+\]:\d+$/.test(trimmed) || /^[^:\[\]]+:\d+$/.test(trimmed)) return trimmed
  if (/^\[[^\]]+\]$/.test(trimmed)) return `${trimmed}:${defaultPort}`
  if (trimmed.includes(":")) return `[${trimmed}]:${defaultPort}`
  return `${trimmed}:${defaultPort}`
}

export interface RaftPlan {
  readonly self: string
  readonly voters: ReadonlyArray<string>
  readonly bind: { readonly host: string; readonly port: number }
  readonly secret: string
}

/** Validates the raft keys; every problem names the key. */
export const plan = (c: OrchestratorConfig): Effect.Effect<RaftPlan, RaftSetupError> =>
  Effect.gen(function*() {
    const bindId = normalizeRaftNode(c.RaftBind, c.DefaultRaftPort)
    const bind = TcpTransport.parseAddress(bindId)
    if (bind === undefined) return yield* Effect.fail(new RaftSetupError({ message: `RaftBind: expected host:port, got ${JSON.stringify(c.RaftBind)}` }))
    const self = normalizeRaftNode(c.RaftAdvertise || c.RaftBind, c.DefaultRaftPort)
    if (TcpTransport.parseAddress(self) === undefined) {
      return yield* Effect.fail(new RaftSetupError({ message: `RaftAdvertise: expected host:port, got ${JSON.stringify(c.RaftAdvertise)}` }))
    }
    const voters = c.RaftNodes.length === 0 ? [self] : [...new Set(c.RaftNodes.map((n) => normalizeRaftNode(n, c.DefaultRaftPort)))]
    for (const v of voters) {
      if (TcpTransport.parseAddress(v) === undefined) {
        return yield* Effect.fail(new RaftSetupError({ message: `RaftNodes: ${JSON.stringify(v)} is not a host:port address` }))
      }
    }
    if (!voters.includes(self)) {
      return yield* Effect.fail(new RaftSetupError({
        message: `RaftNodes ${JSON.stringify(voters)} does not contain this node (${self}, from RaftAdvertise/RaftBind): ` +
          "list every node, this one included, with the same addresses on all nodes"
      }))
    }
    let secret = c.RaftAuthSecret
    if (c.RaftAuthSecretFile !== "") {
      secret = yield* Effect.try({
        try: () => fs.readFileSync(c.RaftAuthSecretFile, "utf8").trim(),
        catch: (e) => new RaftSetupError({ message: `RaftAuthSecretFile: cannot read ${c.RaftAuthSecretFile}: ${(e as Error).message}` })
      })
    }
    return { self, voters, bind, secret }
  })

/**
 * Everything below the RaftNode: storage, transport, state machine (its reactions go to `hub`). With
 * `membership`, the transport announces this node's RaftNodes and reports refusals (Membership.ts).
 */
export const layerRaftNode = (c: OrchestratorConfig, p: RaftPlan, hub: PubSub.PubSub<Reaction>, membership?: Membership) => {
  const config = RaftConfig.make(p.self, {
    heartbeatTicks: c.RaftHeartbeatTicks,
    electionTicks: c.RaftElectionTicks,
    leaseTicks: Math.max(1, c.RaftElectionTicks - 2),
    trailingLogs: c.RaftTrailingLogs
  })
  const ports = Layer.mergeAll(
    RaftStorage.layer({ dataDir: c.RaftDataDir, retainSnapshots: c.RaftRetainSnapshots }),
    TcpTransport.layer({
      self: p.self,
      bind: p.bind,
      peers: p.voters,
      secret: p.secret,
      maxFrameBytes: c.RaftMaxFrameBytes,
      ...(membership === undefined
        ? {}
        : { declaration: membership.declaration, onDeclaration: membership.onDeclaration, onRefused: membership.onRefused })
    }),
    OrchestratorStateMachine.layer(hub)
  )
  return RaftNode.layer({
    config,
    voters: p.voters,
    tickMillis: c.RaftTickMillis,
    snapshotThreshold: c.RaftSnapshotThreshold,
    snapshotIntervalMillis: c.RaftSnapshotIntervalSeconds * 1000,
    proposalTimeoutMillis: 10_000,
    seed: crypto.randomInt(1, 2 ** 31)
  }).pipe(Layer.provide(ports))
}
