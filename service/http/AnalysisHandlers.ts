/**
 * `/api/replication-analysis` and its cluster and instance forms: read this node's backend into a
 * snapshot, analyze it (pure), answer orchestrator's envelope `{"Code":"OK","Message":"Analysis",
 * "Details":[ReplicationAnalysis...]}`. As in orchestrator's API (go/http/api.go `replicationAnalysis`),
 * downtimed entries are included and NoProblem entries without structure warnings are not.
 *
 * The stale-coordinates history (LockedSemiSyncMaster) comes from `StaleCoordinatesStore` when the node
 * provides one; without it every semi-sync lock reads as a hypothesis. This read path never advances the
 * history: the detection loop does (`StaleCoordinates.observe`).
 */
import { Effect, Option } from "effect"
import { ok } from "../../core/api/Envelope.js"
import { analyze, type Hints } from "../../core/analysis/Analyze.js"
import * as AnalysisJson from "../../core/analysis/AnalysisJson.js"
import * as Snapshot from "../../core/analysis/Snapshot.js"
import { StaleCoordinatesStore } from "../../core/analysis/StaleCoordinates.js"
import { Repository, type RepositoryError } from "../../core/backend/Repository.js"
import { AppConfig } from "../../core/config/AppConfig.js"
import { NodeIdentity } from "../../core/node/NodeIdentity.js"
import * as Key from "../../core/topology/InstanceKey.js"
import { fail } from "./Api.js"
import { envelope } from "./Reply.js"

type InstanceParams = { readonly host: string; readonly port: number }

const cannot = (e: RepositoryError) => fail(`Cannot get analysis: ${e.message}`)

/** The analysis as orchestrator's API lists it, optionally narrowed to one instance. */
const replicationAnalysis = (hints: Hints, only?: InstanceParams) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const identity = yield* NodeIdentity
    const repo = yield* Repository
    const store = yield* Effect.serviceOption(StaleCoordinatesStore)
    const staleCoordinates = Option.isSome(store) ? yield* store.value.get : undefined
    const snapshot = yield* Snapshot.readWithConfig(config, {
      processingNode: { hostname: identity.hostname, token: identity.token },
      ...(staleCoordinates === undefined ? {} : { staleCoordinates })
    }).pipe(Effect.catchTag("RepositoryError", cannot))
    if (snapshot.decodeErrors.length > 0) {
      yield* Effect.logWarning("analysis skipped undecodable instances", snapshot.decodeErrors)
    }
    const entries = analyze(snapshot, { ...hints, includeDowntimed: true }).filter((a) =>
      only === undefined || (a.analyzedInstanceKey.hostname === only.host && a.analyzedInstanceKey.port === only.port)
    )
    // orchestrator's SQLite backend renders timestamps in RFC 3339, MySQL as `2006-01-02 15:04:05`.
    const timestampFormat = repo.dialect === "sqlite" ? "rfc3339" : "sql"
    return envelope(ok("Analysis", entries.map((a) => AnalysisJson.encode(a, { timestampFormat }))))
  })

/** orchestrator `DeduceClusterName`: an alias names its cluster; anything else is taken as the cluster name. */
const deduceClusterName = (nameOrAlias: string) =>
  Effect.flatMap(Repository, (repo) => repo.readClusterAliases).pipe(
    Effect.map((aliases) => aliases.find((a) => a.alias === nameOrAlias)?.clusterName ?? nameOrAlias),
    Effect.catchTag("RepositoryError", cannot)
  )

export const analysisHandlers = {
  replicationAnalysis: () => replicationAnalysis({}),
  replicationAnalysisForCluster: (p: { readonly clusterName: string }) =>
    Effect.flatMap(deduceClusterName(p.clusterName), (clusterName) => replicationAnalysis({ clusterName })),
  replicationAnalysisForInstance: (p: InstanceParams) =>
    Key.isValid(Key.unsafeMake(p.host, p.port))
      ? replicationAnalysis({}, p)
      : fail(`Cannot get analysis: invalid key ${p.host}:${p.port}`)
}
