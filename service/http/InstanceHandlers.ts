/**
 * Discovery, instance, cluster and topology routes, with orchestrator's paths, messages and JSON shapes
 * (go/http/api.go). Instances are read from this node's backend and served with core/topology/InstanceJson
 * (downtime and candidate joined in, as orchestrator's `readInstancesByCondition` does).
 *
 * Go `nil` slices that orchestrator serves as `null` are kept: `clusters`, `masters` and `problems` with
 * nothing to list answer `null`; the other lists answer `[]`.
 */
import { Clock, Effect, Either } from "effect"
import { ok } from "../../core/api/Envelope.js"
import { Repository, type RepositoryError } from "../../core/backend/Repository.js"
import { AppConfig } from "../../core/config/AppConfig.js"
import { Discovery } from "../../core/discovery/Discovery.js"
import type { ProbeError } from "../../core/discovery/Prober.js"
import * as Views from "../../core/discovery/Views.js"
import type { Instance } from "../../core/topology/Instance.js"
import * as Model from "../../core/topology/Instance.js"
import * as Json from "../../core/topology/InstanceJson.js"
import type { InstanceKey } from "../../core/topology/InstanceKey.js"
import * as Key from "../../core/topology/InstanceKey.js"
import { fromRecord } from "../../core/topology/InstanceRecord.js"
import { fail } from "./Api.js"
import { keyJson, keyString, propose } from "./ReplicatedHandlers.js"
import { envelope, json } from "./Reply.js"

type InstanceParams = { readonly host: string; readonly port: number }

const backend = <A, R>(effect: Effect.Effect<A, RepositoryError, R>) =>
  effect.pipe(Effect.catchTag("RepositoryError", (e) => fail(e.message)))

const keyOf = (p: InstanceParams) =>
  Either.match(Key.make(p.host, p.port), {
    onLeft: (e) => fail(e.message, null, 400),
    onRight: (k) => Effect.succeed(k)
  })

const probeFailed = (e: ProbeError | RepositoryError) => fail(e.message)

/** Everything a read needs: decoded instances plus the joined downtime/candidate rows and the JSON context. */
export const snapshot = Effect.gen(function*() {
  const repo = yield* Repository
  const config = yield* AppConfig
  const now = yield* Clock.currentTimeMillis
  const [records, downtimes, candidates, aliases] = yield* backend(Effect.all([
    repo.readInstances,
    repo.readActiveDowntimes(now),
    repo.readCandidates(now - config.CandidateInstanceExpireMinutes * 60_000),
    repo.readClusterAliases
  ]))
  const instances: Array<Instance> = []
  for (const r of records) {
    const i = fromRecord(r)
    if (Either.isRight(i)) instances.push(i.right)
    else yield* Effect.logWarning(i.left)
  }
  const downtimeBy = new Map(downtimes.map((d) => [
    `${d.key.hostname}:${d.key.port}`,
    { reason: d.reason, owner: d.owner, beginAt: d.beginTimestamp, endAt: d.endTimestamp } satisfies Json.DowntimeInfo
  ]))
  const candidateBy = new Map(candidates.map((c) => [
    `${c.key.hostname}:${c.key.port}`,
    { promotionRule: c.promotionRule, lastSuggestedAt: c.lastSuggested } satisfies Json.CandidateInfo
  ]))
  const downtime = (i: Instance) => downtimeBy.get(Key.format(i.key)) ?? null
  const encode = (i: Instance): Json.InstanceJson =>
    Json.encode(i, {
      now,
      instancePollSeconds: config.InstancePollSeconds,
      reasonableReplicationLagSeconds: config.ReasonableReplicationLagSeconds,
      downtime: downtime(i),
      candidate: candidateBy.get(Key.format(i.key)) ?? null,
      timestampFormat: repo.dialect === "sqlite" ? "rfc3339" : "sql"
    })
  const find = (k: InstanceKey) => instances.find((i) => Key.equals(i.key, k))
  return { instances, aliases: Views.aliasMap(aliases), downtime, encode, find, now, config }
})

export type Snapshot = Effect.Effect.Success<typeof snapshot>

export const clusterNameOf = (s: Snapshot, hint: string) => {
  const r = Views.resolveClusterHint(hint, s.instances, s.aliases)
  return r._tag === "Found" ? Effect.succeed(r.clusterName) : fail(r.message)
}

const clusterByAliasOf = (s: Snapshot, alias: string) => {
  const name = Views.clusterByAlias(alias, s.aliases)
  return name === undefined ? fail(`No cluster found for alias ${alias}`) : Effect.succeed(name)
}

const readInstance = (s: Snapshot, k: InstanceKey) => {
  const found = s.find(k)
  return found === undefined ? fail(`Cannot read instance: ${Key.format(k)}`) : Effect.succeed(found)
}

const clusterList = (s: Snapshot, clusterName: string) =>
  json(s.instances.filter((i) => i.clusterName === clusterName).sort(Views.byHostPort).map(s.encode))

const clusterInfo = (s: Snapshot, clusterName: string) => {
  const info = Views.clustersInfo(s.instances, s.aliases, s.config).find((c) => c.ClusterName === clusterName)
  return info === undefined ? fail(`No cluster info found for ${clusterName}`) : Effect.succeed(json(info))
}

/** `tagsOf` (topology-tags) reads each instance's tags for the tree; the plain tree has none. */
export const topology = (
  hint: string,
  tabulated: boolean,
  tagsOf?: (i: Instance) => Effect.Effect<ReadonlyArray<string>, RepositoryError, Repository>
) =>
  Effect.gen(function*() {
    const s = yield* snapshot
    const name = yield* clusterNameOf(s, hint)
    const members = s.instances.filter((i) => i.clusterName === name)
    const tags = tagsOf === undefined
      ? undefined
      : new Map(yield* backend(Effect.forEach(members, (i) => Effect.map(tagsOf(i), (t) => [Key.format(i.key), t] as const))))
    const text = Views.asciiTopology(members, tabulated, {
      now: s.now,
      instancePollSeconds: s.config.InstancePollSeconds,
      reasonableMaintenanceReplicationLagSeconds: s.config.ReasonableMaintenanceReplicationLagSeconds,
      downtime: s.downtime,
      ...(tags === undefined ? {} : { tags: (i: Instance) => tags.get(Key.format(i.key)) ?? [] })
    })
    return envelope(ok(`Topology for cluster ${name}`, text))
  })

const problems = (clusterName: string) =>
  Effect.gen(function*() {
    const s = yield* snapshot
    const ctx = {
      now: s.now,
      instancePollSeconds: s.config.InstancePollSeconds,
      reasonableReplicationLagSeconds: s.config.ReasonableReplicationLagSeconds
    }
    const list = s.instances
      .filter((i) => (clusterName === "" || i.clusterName === clusterName) && Views.isProblem(i, ctx))
      .filter((i) => !Json.isDowntimed(s.downtime(i), s.now))
      .sort(Views.byHostPort)
    return json(list.length === 0 ? null : list.map(s.encode))
  })

const downtimed = (clusterName: string) =>
  Effect.gen(function*() {
    const s = yield* snapshot
    const list = s.instances
      .filter((i) => (clusterName === "" || i.clusterName === clusterName) && Json.isDowntimed(s.downtime(i), s.now))
      .sort((a, b) => (a.clusterName < b.clusterName ? -1 : a.clusterName > b.clusterName ? 1 : a.replicationDepth - b.replicationDepth))
    return json(list.map(s.encode))
  })

/** The instance as just stored, encoded (discover/refresh answer with it). */
const encodeOne = (i: Instance) => Effect.map(snapshot, (s) => s.encode(s.find(i.key) ?? i))

export const instanceHandlers = {
  discover: (p: InstanceParams) =>
    Effect.gen(function*() {
      const key = yield* keyOf(p)
      const discovery = yield* Discovery
      // orchestrator: probe synchronously first (a bad address fails here, before anything is replicated),
      // then publish the `discover` op so every node probes it.
      const instance = yield* discovery.discover(key).pipe(Effect.catchAll(probeFailed))
      yield* propose({ _tag: "discover", key: { hostname: key.hostname, port: key.port } })
      return envelope(ok(`Instance discovered: ${keyString(key)}`, yield* encodeOne(instance)))
    }),
  asyncDiscover: (p: InstanceParams) =>
    Effect.gen(function*() {
      const key = yield* keyOf(p)
      yield* propose({ _tag: "discover", key: { hostname: key.hostname, port: key.port } })
      return envelope(ok(`Asynchronous discovery initiated for Instance: ${keyString(key)}`))
    }),
  refresh: (p: InstanceParams) =>
    Effect.gen(function*() {
      const key = yield* keyOf(p)
      const discovery = yield* Discovery
      yield* discovery.refresh(key).pipe(Effect.catchAll(probeFailed))
      return envelope(ok(`Instance refreshed: ${keyString(key)}`, keyJson(key)))
    }),
  forget: (p: InstanceParams) =>
    Effect.gen(function*() {
      const key = yield* keyOf(p)
      yield* propose({ _tag: "forget", key: { hostname: key.hostname, port: key.port } })
      return envelope(ok(`Instance forgotten: ${keyString(key)}`, keyJson(key)))
    }),
  forgetCluster: (p: { clusterHint: string }) =>
    Effect.gen(function*() {
      const s = yield* snapshot
      const name = yield* clusterNameOf(s, p.clusterHint)
      // Every node, this one included, stops polling the members when it applies the op (Forgotten reactions).
      yield* propose({ _tag: "forget-cluster", clusterName: name })
      return envelope(ok(`Cluster forgotten: ${name}`))
    }),

  instance: (p: InstanceParams) =>
    Effect.gen(function*() {
      const key = yield* keyOf(p)
      const s = yield* snapshot
      return json(s.encode(yield* readInstance(s, key)))
    }),
  instanceReplicas: (p: InstanceParams) =>
    Effect.gen(function*() {
      const key = yield* keyOf(p)
      const s = yield* snapshot
      return json(s.instances.filter((i) => Key.equals(Model.masterKey(i), key)).sort(Views.byHostPort).map(s.encode))
    }),
  allInstances: () => Effect.map(snapshot, (s) => json(Views.search(s.instances, "").map(s.encode))),
  search: (_p: object, ctx: { readonly url: URL }) =>
    Effect.map(snapshot, (s) => json(Views.search(s.instances, ctx.url.searchParams.get("s") ?? "").map(s.encode))),
  searchString: (p: { searchString: string }) =>
    Effect.map(snapshot, (s) => json(Views.search(s.instances, p.searchString).map(s.encode))),

  clusters: () =>
    Effect.map(snapshot, (s) => {
      const names = Views.clustersInfo(s.instances, s.aliases, s.config).map((c) => c.ClusterName)
      return json(names.length === 0 ? null : names)
    }),
  clustersInfo: () => Effect.map(snapshot, (s) => json(Views.clustersInfo(s.instances, s.aliases, s.config))),
  cluster: (p: { clusterHint: string }) =>
    Effect.gen(function*() {
      const s = yield* snapshot
      return clusterList(s, yield* clusterNameOf(s, p.clusterHint))
    }),
  clusterByAlias: (p: { clusterAlias: string }) =>
    Effect.gen(function*() {
      const s = yield* snapshot
      return clusterList(s, yield* clusterByAliasOf(s, p.clusterAlias))
    }),
  clusterByInstance: (p: InstanceParams) =>
    Effect.gen(function*() {
      const key = yield* keyOf(p)
      const s = yield* snapshot
      return clusterList(s, (yield* readInstance(s, key)).clusterName)
    }),
  clusterInfo: (p: { clusterHint: string }) =>
    Effect.gen(function*() {
      const s = yield* snapshot
      return yield* clusterInfo(s, yield* clusterNameOf(s, p.clusterHint))
    }),
  clusterInfoByAlias: (p: { clusterAlias: string }) =>
    Effect.gen(function*() {
      const s = yield* snapshot
      return yield* clusterInfo(s, yield* clusterByAliasOf(s, p.clusterAlias))
    }),
  clusterMaster: (p: { clusterHint: string }) =>
    Effect.gen(function*() {
      const s = yield* snapshot
      const name = yield* clusterNameOf(s, p.clusterHint)
      const masters = Views.clusterMasters(s.instances, name)
      const first = masters[0]
      return first === undefined ? yield* fail(`No masters found for ${name}`) : json(s.encode(first))
    }),
  masters: () =>
    Effect.map(snapshot, (s) => {
      const masters = Views.writableMasters(s.instances)
      return json(masters.length === 0 ? null : masters.map(s.encode))
    }),
  topology: (p: { clusterHint: string }) => topology(p.clusterHint, false),
  topologyByInstance: (p: InstanceParams) => topology(`${p.host}:${p.port}`, false),
  topologyTabulated: (p: { clusterHint: string }) => topology(p.clusterHint, true),
  topologyTabulatedByInstance: (p: InstanceParams) => topology(`${p.host}:${p.port}`, true),
  problems: () => problems(""),
  problemsByCluster: (p: { clusterName: string }) => problems(p.clusterName),
  downtimed: () => downtimed(""),
  downtimedByCluster: (p: { clusterHint: string }) =>
    Effect.gen(function*() {
      const s = yield* snapshot
      return yield* downtimed(yield* clusterNameOf(s, p.clusterHint))
    })
}
