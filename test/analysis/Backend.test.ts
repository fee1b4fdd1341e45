/**
 * Analysis from seeded backend state: instance rows written through the Repository (toRecord) into an
 * in-memory SQLite backend, failed probes recorded with markFailedCheck (the discovery path), downtime,
 * maintenance and promotion rules as the replicated ops store them; then `Snapshot.read` + `analyze`, and
 * the HTTP handlers on top.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, type Schema } from "effect"
import { layerSqlite } from "../../adapters/backend/Backend.js"
import { analyze } from "../../core/analysis/Analyze.js"
import * as Candidate from "../../core/analysis/Candidate.js"
import * as Snapshot from "../../core/analysis/Snapshot.js"
import { Repository } from "../../core/backend/Repository.js"
import type { ApiFailure } from "../../core/api/Envelope.js"
import { analysisRoutes } from "../../core/api/routes/Analysis.js"
import * as AppConfig from "../../core/config/AppConfig.js"
import { defaults } from "../../core/config/OrchestratorConfig.js"
import { NodeIdentity } from "../../core/node/NodeIdentity.js"
import type { Instance } from "../../core/topology/Instance.js"
import { toRecord } from "../../core/topology/InstanceRecord.js"
import { analysisHandlers } from "../../service/http/AnalysisHandlers.js"
import type { RequestContext } from "../../service/http/Api.js"
import type { Reply } from "../../service/http/Reply.js"
import { failingToConnect, master, now, replica, sec, stopped } from "./fixtures.js"
import { summary } from "./run.js"

const backend = () => layerSqlite({ filename: ":memory:" })

const seed = (instances: ReadonlyArray<Instance>, failed: ReadonlyArray<Instance> = []) =>
  Effect.gen(function*() {
    const repo = yield* Repository
    yield* repo.writeInstances(instances.map(toRecord))
    // A failed probe moves last_checked past last_seen (orchestrator's UpdateInstanceLastChecked after an error).
    for (const i of failed) yield* repo.markFailedCheck(i.key, now)
  })

const analyzed = Effect.gen(function*() {
  const snapshot = yield* Snapshot.read({ policy: Snapshot.defaultAnalysisPolicy, now })
  return analyze(snapshot, { includeDowntimed: true }).map(summary)
})

const m = master()
const im = replica("im", m)

describe("analysis from seeded backend state (SQLite)", () => {
  it.effect("DeadMaster", () =>
    Effect.gen(function*() {
      yield* seed([m, replica("r1", m, failingToConnect), replica("r2", m, failingToConnect)], [m])
      expect((yield* analyzed)[0]).toBe("m1:3306 DeadMaster R=2/VR=2/VRR=0/FC=2 actionable")
    }).pipe(Effect.provide(backend())))

  it.effect("DeadMasterAndSomeReplicas", () =>
    Effect.gen(function*() {
      const r2 = replica("r2", m, failingToConnect)
      yield* seed([m, replica("r1", m, failingToConnect), r2], [m, r2])
      expect((yield* analyzed)[0]).toBe("m1:3306 DeadMasterAndSomeReplicas R=2/VR=1/VRR=0/FC=1 actionable")
    }).pipe(Effect.provide(backend())))

  it.effect("UnreachableMaster: this node cannot reach the master, its replicas can", () =>
    Effect.gen(function*() {
      yield* seed([m, replica("r1", m), replica("r2", m)], [m])
      expect(yield* analyzed).toEqual(["m1:3306 UnreachableMaster R=2/VR=2/VRR=2/FC=0"])
    }).pipe(Effect.provide(backend())))

  it.effect("DeadIntermediateMaster", () =>
    Effect.gen(function*() {
      yield* seed([m, im, replica("r1", im, failingToConnect), replica("r2", im, failingToConnect)], [im])
      expect(yield* analyzed).toEqual([
        "m1:3306 MasterSingleReplicaDead R=1/VR=0/VRR=0/FC=0",
        "im:3306 DeadIntermediateMaster R=2/VR=2/VRR=0/FC=2 actionable"
      ])
    }).pipe(Effect.provide(backend())))

  it.effect("AllMasterReplicasNotReplicating, then skippable once both replicas are downtimed", () =>
    Effect.gen(function*() {
      const r1 = replica("r1", m, stopped)
      const r2 = replica("r2", m, stopped)
      yield* seed([m, r1, r2])
      expect(yield* analyzed).toEqual(["m1:3306 AllMasterReplicasNotReplicating R=2/VR=2/VRR=0/FC=0"])
      const repo = yield* Repository
      for (const r of [r1, r2]) {
        yield* repo.beginDowntime({ key: r.key, owner: "ops", reason: "x", beginTimestamp: now, endTimestamp: now + 600 * sec })
      }
      expect(yield* analyzed).toEqual(["m1:3306 AllMasterReplicasNotReplicating R=2/VR=2/VRR=0/FC=0 replicas-downtimed,skippable"])
    }).pipe(Effect.provide(backend())))

  it.effect("NoWriteableMaster structure warning; maintenance hides the master", () =>
    Effect.gen(function*() {
      yield* seed([{ ...m, readOnly: true }, replica("r1", m)])
      expect(yield* analyzed).toEqual(["m1:3306 NoProblem [NoWriteableMasterStructureWarning] R=1/VR=1/VRR=1/FC=0"])
      const repo = yield* Repository
      yield* repo.beginMaintenance({
        key: m.key,
        owner: "ops",
        reason: "upgrade",
        beginTimestamp: now,
        endTimestamp: now + 600 * sec,
        processingNodeHostname: "orc-1",
        processingNodeToken: "t",
        explicitlyBounded: true
      })
      expect(yield* analyzed).toEqual([])
    }).pipe(Effect.provide(backend())))

  it.effect("candidate selection reads registered promotion rules (and ignores expired ones)", () =>
    Effect.gen(function*() {
      yield* seed([m, replica("r1", m, { ...failingToConnect, seq: 120 }), replica("r2", m, { ...failingToConnect, seq: 100 })], [m])
      const repo = yield* Repository
      yield* repo.registerCandidate({ key: { hostname: "r2", port: 3306 }, promotionRule: "prefer", lastSuggested: now, priority: 1 })
      const pick = Effect.map(
        Snapshot.read({ policy: Snapshot.defaultAnalysisPolicy, now }),
        (s) => Candidate.chooseCandidate(Candidate.inputFor(s, m.key))
      )
      const fresh = yield* pick
      expect([fresh.candidate?.hostname, fresh.catchUpFrom?.hostname]).toEqual(["r2", "r1"])
      const expired = yield* Effect.map(
        Snapshot.read({ policy: Snapshot.defaultAnalysisPolicy, now: now + 61 * 60 * sec }),
        (s) => Candidate.chooseCandidate(Candidate.inputFor(s, m.key))
      )
      expect(expired.candidate?.hostname).toBe("r1")
    }).pipe(Effect.provide(backend())))
})

describe("replication-analysis handlers", () => {
  const identity = Layer.succeed(NodeIdentity, {
    hostname: "orc-1",
    token: "tok",
    command: "http",
    appVersion: "test",
    nodeId: "orc-1:10008",
    httpUri: "http://orc-1:3000",
    startedAt: now
  })
  const layers = () => Layer.mergeAll(backend(), AppConfig.layer(defaults), identity)
  type Envelope = { readonly Code: string; readonly Message: string; readonly Details: ReadonlyArray<Record<string, unknown>> }
  const body = (reply: unknown) => (reply as { readonly body: Envelope }).body

  it.effect("all, by cluster alias, by instance", () =>
    Effect.gen(function*() {
      const fresh = { lastCheckedAt: Date.now() - 1000, lastSeenAt: Date.now() - 1000, lastAttemptedCheckAt: Date.now() - 1000 }
      const mm = { ...m, ...fresh }
      yield* seed([mm, replica("r1", mm, failingToConnect, fresh), replica("r2", mm, failingToConnect, fresh)])
      const repo = yield* Repository
      yield* repo.markFailedCheck(m.key, Date.now())
      yield* repo.setClusterAliasOverride("m1:3306", "main")
      const all = body(yield* analysisHandlers.replicationAnalysis())
      expect([all.Code, all.Message]).toEqual(["OK", "Analysis"])
      expect(all.Details.map((d) => d["Analysis"])).toEqual([
        "DeadMaster",
        "FirstTierReplicaFailingToConnectToMaster",
        "FirstTierReplicaFailingToConnectToMaster"
      ])
      expect(all.Details[0]).toMatchObject({ ProcessingNodeHostname: "orc-1", ProcessingNodeToken: "tok" })
      const byAlias = body(yield* analysisHandlers.replicationAnalysisForCluster({ clusterName: "main" }))
      expect(byAlias.Details.length).toBe(3)
      expect(body(yield* analysisHandlers.replicationAnalysisForCluster({ clusterName: "other" })).Details).toEqual([])
      const one = body(yield* analysisHandlers.replicationAnalysisForInstance({ host: "r2", port: 3306 }))
      expect(one.Details.map((d) => d["AnalyzedInstanceKey"])).toEqual([{ Hostname: "r2", Port: 3306 }])
      const invalid = yield* Effect.flip(analysisHandlers.replicationAnalysisForInstance({ host: "_", port: 3306 }))
      expect(invalid.message).toBe("Cannot get analysis: invalid key _:3306")
    }).pipe(Effect.provide(layers())))
})

// Compile-time check: the handlers fit the route group's parameter types and the API's Handler shape
// (what Api.ts requires once the lead adds `...analysisRoutes` / `...analysisHandlers`).
type AnalysisRoute = (typeof analysisRoutes)[number]
type ParamsOf<N extends AnalysisRoute["name"]> = Schema.Schema.Type<Extract<AnalysisRoute, { name: N }>["params"]>
export const handlersFitRoutes: {
  readonly [N in AnalysisRoute["name"]]: (
    params: ParamsOf<N>,
    ctx: RequestContext
  ) => Effect.Effect<Reply, ApiFailure, Repository | AppConfig.AppConfig | NodeIdentity>
} = analysisHandlers
