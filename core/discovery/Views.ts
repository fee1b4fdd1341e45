/**
 * What the instance and cluster routes compute from stored instances (pure): orchestrator's reads in
 * `go/inst/instance_dao.go` (`ReadClustersInfo`, `ReadProblemInstances`, `SearchInstances`,
 * `ReadClusterMaster`, `ReadWriteableClustersMasters`, `FigureClusterName`) and the ASCII tree of
 * `go/inst/instance_topology.go` (`ASCIITopology`, `Instance.HumanReadableDescription`).
 * Orchestrator does these in SQL over `database_instance`; here they run over decoded Instances.
 */
import type { ClusterAlias } from "../backend/Repository.js"
import type { Instance } from "../topology/Instance.js"
import * as Model from "../topology/Instance.js"
import type { InstanceKey } from "../topology/InstanceKey.js"
import * as Key from "../topology/InstanceKey.js"
import { derivedState, isDowntimed, type DowntimeInfo } from "../topology/InstanceJson.js"

// ---- clusters -----------------------------------------------------------------------------------------------

export interface ClusterInfo {
  readonly ClusterName: string
  readonly ClusterAlias: string
  readonly ClusterDomain: string
  readonly CountInstances: number
  readonly HeuristicLag: number
  readonly HasAutomatedMasterRecovery: boolean
  readonly HasAutomatedIntermediateMasterRecovery: boolean
}

/**
 * The alias of each cluster: the manual override (set-cluster-alias) wins over the alias detected on the
 * master (DetectClusterAliasQuery), as orchestrator's `UpdateClusterAliases` applies the override last.
 */
export const aliasMap = (aliases: ReadonlyArray<ClusterAlias>): ReadonlyMap<string, string> => {
  const out = new Map<string, string>()
  for (const a of aliases) if (!a.manual && a.alias !== "") out.set(a.clusterName, a.alias)
  for (const a of aliases) if (a.manual && a.alias !== "") out.set(a.clusterName, a.alias)
  return out
}

/** Orchestrator `ClusterInfo.filtersMatchCluster` (RecoverMasterClusterFilters and the like). */
export const filtersMatchCluster = (filters: ReadonlyArray<string>, name: string, alias: string): boolean =>
  filters.some((f) => {
    if (f === name || f === alias) return true
    if (f.startsWith("alias=")) return f.slice("alias=".length) === alias
    if (f.startsWith("alias~=")) return safeTest(f.slice("alias~=".length), alias)
    if (f === "*") return true
    return f !== "" && safeTest(f, name)
  })

const safeTest = (pattern: string, s: string): boolean => {
  try {
    return new RegExp(pattern).test(s)
  } catch {
    return false
  }
}

export interface RecoveryFilters {
  readonly RecoverMasterClusterFilters: ReadonlyArray<string>
  readonly RecoverIntermediateMasterClusterFilters: ReadonlyArray<string>
}

/** Orchestrator `ReadClustersInfo`: one entry per cluster name, sorted by name; alias defaults to the name. */
export const clustersInfo = (
  instances: ReadonlyArray<Instance>,
  aliases: ReadonlyMap<string, string>,
  filters: RecoveryFilters
): ReadonlyArray<ClusterInfo> => {
  const counts = new Map<string, number>()
  for (const i of instances) counts.set(i.clusterName, (counts.get(i.clusterName) ?? 0) + 1)
  return [...counts.keys()].sort().map((name) => {
    const alias = aliases.get(name) ?? name
    return {
      ClusterName: name,
      ClusterAlias: alias,
      ClusterDomain: "",
      CountInstances: counts.get(name)!,
      HeuristicLag: 0,
      HasAutomatedMasterRecovery: filtersMatchCluster(filters.RecoverMasterClusterFilters, name, alias),
      HasAutomatedIntermediateMasterRecovery: filtersMatchCluster(filters.RecoverIntermediateMasterClusterFilters, name, alias)
    }
  })
}

/**
 * Orchestrator `FigureClusterName` (without the fuzzy host match): an exact cluster name, else an alias, else
 * an instance key `host:port` (or `host`, port 3306) whose cluster is known.
 */
export const resolveClusterHint = (
  hint: string,
  instances: ReadonlyArray<Instance>,
  aliases: ReadonlyMap<string, string>
): { readonly _tag: "Found"; readonly clusterName: string } | { readonly _tag: "NotFound"; readonly message: string } => {
  if (hint === "") return { _tag: "NotFound", message: "Unable to determine cluster name by empty hint" }
  const names = new Set(instances.map((i) => i.clusterName))
  if (names.has(hint)) return { _tag: "Found", clusterName: hint }
  for (const name of [...names].sort()) {
    if ((aliases.get(name) ?? name) === hint) return { _tag: "Found", clusterName: name }
  }
  const key = Key.parse(hint, { defaultPort: Key.defaultInstancePort })
  if (key._tag === "Right") {
    const found = instances.find((i) => Key.equals(i.key, key.right))
    if (found !== undefined) {
      if (found.clusterName === "") {
        return { _tag: "NotFound", message: `Unable to determine cluster name for ${Key.format(found.key)}, empty cluster name. clusterHint=${hint}` }
      }
      return { _tag: "Found", clusterName: found.clusterName }
    }
  }
  return { _tag: "NotFound", message: `Unable to determine cluster name. clusterHint=${hint}` }
}

/** Orchestrator `ReadClusterNameByAlias` (cluster/alias/:alias): a registered alias, or the name of an aliased cluster. */
export const clusterByAlias = (alias: string, aliases: ReadonlyMap<string, string>): string | undefined => {
  for (const [name, a] of aliases) if (a === alias) return name
  return aliases.has(alias) ? alias : undefined
}

// ---- instance lists ----------------------------------------------------------------------------------------

export const byHostPort = (a: Instance, b: Instance): number => Key.compare(a.key, b.key)

/** SQL `ORDER BY` over several keys. */
const orderBy = (...cmps: ReadonlyArray<(a: Instance, b: Instance) => number>) => (a: Instance, b: Instance): number => {
  for (const c of cmps) {
    const r = c(a, b)
    if (r !== 0) return r
  }
  return 0
}
const text = (f: (i: Instance) => string) => (a: Instance, b: Instance) => (f(a) < f(b) ? -1 : f(a) > f(b) ? 1 : 0)
const num = (f: (i: Instance) => number) => (a: Instance, b: Instance) => f(a) - f(b)

/**
 * Orchestrator `SearchInstances`: substring of hostname, cluster name, version, version comment, `host:port`
 * or suggested alias, or exactly the server id or port; sorted by depth, replica count desc, cluster, key.
 */
export const search = (instances: ReadonlyArray<Instance>, raw: string): ReadonlyArray<Instance> => {
  const s = raw.trim()
  return instances
    .filter((i) =>
      i.key.hostname.includes(s) || i.clusterName.includes(s) || i.version.includes(s) || i.versionComment.includes(s) ||
      Key.format(i.key).includes(s) || i.suggestedClusterAlias.includes(s) || String(i.serverId) === s ||
      String(i.key.port) === s
    )
    .sort(orderBy(num((i) => i.replicationDepth), num((i) => -i.replicas.length), text((i) => i.clusterName), byHostPort))
}

/** `(replication_depth = 0 or is_co_master)`. */
const masterLike = (i: Instance) => i.replicationDepth === 0 || i.isCoMaster

/** Orchestrator `ReadClusterMaster`: the cluster's master(s), writable first. */
export const clusterMasters = (instances: ReadonlyArray<Instance>, clusterName: string): ReadonlyArray<Instance> =>
  instances
    .filter((i) => i.clusterName === clusterName && masterLike(i))
    .sort(orderBy(num((i) => (i.readOnly ? 1 : 0)), num((i) => i.replicationDepth), byHostPort))

/** Orchestrator `ReadWriteableClustersMasters`: one writable master per cluster, by cluster name. */
export const writableMasters = (instances: ReadonlyArray<Instance>): ReadonlyArray<Instance> => {
  const seen = new Set<string>()
  const out: Array<Instance> = []
  const sorted = instances.filter((i) => !i.readOnly && masterLike(i))
    .sort(orderBy(text((i) => i.clusterName), num((i) => i.replicationDepth), byHostPort))
  for (const i of sorted) {
    if (seen.has(i.clusterName)) continue
    seen.add(i.clusterName)
    out.push(i)
  }
  return out
}

export interface ProblemContext {
  readonly now: number
  readonly instancePollSeconds: number
  readonly reasonableReplicationLagSeconds: number
}

/** Orchestrator `ReadProblemInstances`' SQL condition (downtimed instances are removed by the caller). */
export const isProblem = (i: Instance, ctx: ProblemContext): boolean => {
  const lastChecked = i.lastCheckedAt
  if (i.lastSeenAt === null || (lastChecked !== null && i.lastSeenAt < lastChecked)) return true
  if (lastChecked === null || Math.floor(ctx.now / 1000) - Math.floor(lastChecked / 1000) > ctx.instancePollSeconds * 5) return true
  const sql = Model.sqlThreadState(i)
  const io = Model.ioThreadState(i)
  if ((sql !== "none" && sql !== "running") || (io !== "none" && io !== "running")) return true
  const delay = Model.sqlDelay(i)
  const sbm = Model.secondsBehindMaster(i)
  if (sbm !== null && Math.abs(sbm - delay) > ctx.reasonableReplicationLagSeconds) return true
  const lag = i.replicationLagSeconds
  if (lag !== null && Math.abs(lag - delay) > ctx.reasonableReplicationLagSeconds) return true
  if (i.gtidErrant !== "") return true
  return i.group !== null && i.group.name !== "" && i.group.memberState !== "ONLINE"
}

// ---- ASCII topology -------------------------------------------------------------------------------------------

export interface AsciiContext {
  readonly now: number
  readonly instancePollSeconds: number
  readonly reasonableMaintenanceReplicationLagSeconds: number
  readonly downtime: (i: Instance) => DowntimeInfo | null
  /**
   * topology-tags: each instance's tags (`name` or `name=value`, by name), appended as ` [a,b=c]` after the
   * description as orchestrator's `getASCIITopologyEntry(printTags)` does; absent for the plain tree.
   */
  readonly tags?: (i: Instance) => ReadonlyArray<string>
}

const isGroupSecondary = (i: Instance): boolean =>
  Model.isReplicationGroupMember(i) && !Key.equals(i.group?.primaryKey ?? null, i.key)

/** Orchestrator `Instance.descriptionTokens`: lag, status, version, ro/rw, binlog format, extras. */
export const descriptionTokens = (i: Instance, ctx: AsciiContext): ReadonlyArray<string> => {
  const d = derivedState(i, ctx)
  const replica = Model.isReplica(i)
  const running = Model.replicaRunning(i)
  const lag = i.replicationLagSeconds ?? 0
  const sbm = Model.secondsBehindMaster(i)
  const lagStatus = Model.isDetached(i)
    ? "detached"
    : !d.isLastCheckValid || !d.isRecentlyChecked
    ? "unknown"
    : replica && (!running || sbm === null)
    ? "null"
    : `${lag}s`
  const delay = Model.sqlDelay(i)
  const reasonableLag = delay > 0
    ? Math.abs((sbm ?? 0) - delay) <= ctx.reasonableMaintenanceReplicationLagSeconds
    : (sbm ?? 0) <= ctx.reasonableMaintenanceReplicationLagSeconds
  const status = !d.isLastCheckValid
    ? "invalid"
    : !d.isRecentlyChecked
    ? "unchecked"
    : replica && !running
    ? "nonreplicating"
    : replica && !reasonableLag
    ? "lag"
    : "ok"
  const extras: Array<string> = []
  if (i.logBinEnabled && i.logReplicationUpdatesEnabled) extras.push(">>")
  if (Model.usingGtid(i) || Model.supportsOracleGtid(i)) extras.push(i.gtidErrant !== "" ? "GTID:errant" : "GTID")
  if (i.usingPseudoGtid) extras.push("P-GTID")
  if (i.semiSync.masterStatus) extras.push("semi:master")
  if (i.semiSync.replicaStatus) extras.push("semi:replica")
  if (isDowntimed(ctx.downtime(i), ctx.now)) extras.push("downtimed")
  return [
    lagStatus,
    status,
    i.version,
    i.readOnly ? "ro" : "rw",
    i.logBinEnabled ? i.binlogFormat : "nobinlog",
    extras.join(",")
  ]
}

const byteLength = (s: string): number => new TextEncoder().encode(s).length

/** Go's `util.Tabulate(lines, "|", "|", TabulateLeft, TabulateRight)`. */
const tabulate = (lines: ReadonlyArray<string>): ReadonlyArray<string> => {
  const rows = lines.map((l) => l.split("|"))
  const widths: Array<number> = []
  for (const r of rows) r.forEach((t, c) => (widths[c] = Math.max(widths[c] ?? 0, byteLength(t))))
  return rows.map((r) =>
    widths.map((w, c) => {
      const t = r[c] ?? ""
      const pad = " ".repeat(Math.max(0, w - byteLength(t)))
      return c === 1 ? pad + t : t + pad
    }).join("|")
  )
}

/**
 * Orchestrator `ASCIITopology(clusterName, "", tabulated, false)` over the cluster's instances: the master
 * first, each replica two spaces deeper than its master with `+ ` (replicating, valid, recently checked)
 * or `- `, then ` [lag,status,version,ro|rw,format,extras]` aligned on the `[`; tabulated, columns are
 * separated by `|` with the lag right-aligned. Co-masters (no single master) get a branch each.
 */
export const asciiTopology = (
  clusterInstances: ReadonlyArray<Instance>,
  tabulated: boolean,
  ctx: AsciiContext
): string => {
  const instances = [...clusterInstances].sort(byHostPort)
  const byKey = new Map(instances.map((i) => [Key.format(i.key), i]))
  const children = new Map<Instance, Array<Instance>>()
  let master: Instance | undefined
  for (const i of instances) {
    const up = isGroupSecondary(i) ? i.group?.primaryKey ?? null : Model.masterKey(i)
    const parent = up === null ? undefined : byKey.get(Key.format(up))
    if (parent !== undefined) {
      const list = children.get(parent) ?? []
      children.set(parent, list)
      const groupPrimary = Model.isReplicationGroupMember(i) && !isGroupSecondary(i)
      if (!groupPrimary || Model.isReplica(i)) list.push(i)
    } else {
      master = i
    }
  }
  const entry = (depth: number, i: Instance): ReadonlyArray<string> => {
    if (i.isCoMaster && depth > 1) return []
    let prefix = ""
    if (depth > 0) {
      const d = derivedState(i, ctx)
      prefix = " ".repeat((depth - 1) * 2) +
        (isGroupSecondary(i) ? "‡ " : Model.replicaRunning(i) && d.isLastCheckValid && d.isRecentlyChecked ? "+ " : "- ")
    }
    const alias = i.instanceAlias !== "" ? ` (${i.instanceAlias})` : ""
    const tokens = descriptionTokens(i, ctx)
    const described = tabulated
      ? `${prefix}${Key.format(i.key)}${alias}|${tokens.join("|")}`
      : `${prefix}${Key.format(i.key)}${alias} [${tokens.filter((t) => t !== "").join(",")}]`
    const line = ctx.tags === undefined ? described : `${described} [${ctx.tags(i).join(",")}]`
    return [line, ...(children.get(i) ?? []).flatMap((c) => entry(depth + 1, c))]
  }
  let entries: ReadonlyArray<string> = master !== undefined
    ? entry(0, master)
    : instances.filter((i) => i.isCoMaster).flatMap((i) => entry(1, i))
  if (tabulated) {
    entries = tabulate(entries)
  } else {
    const indexOf = (s: string) => {
      const at = s.indexOf("[")
      return at < 0 ? -1 : byteLength(s.slice(0, at))
    }
    const max = Math.max(0, ...entries.map(indexOf))
    entries = entries.map((e) => {
      const at = indexOf(e)
      if (at < 0 || at >= max) return e
      const cut = e.indexOf("[")
      return e.slice(0, cut) + " ".repeat(max - at) + e.slice(cut)
    })
  }
  return entries.join("\n")
}

// ---- OSC control replicas and pools ------------------------------------------------------------------------------

/** orchestrator `filterOSCInstances` (OSCIgnoreHostnameFilters is not a key here): no binlog server, valid last check. */
const oscFit = (i: Instance): boolean => !(i.flavor === "MaxScale" || i.version.includes("maxscale")) && i.lastCheckValid

/** Most replicas first; ties keep host:port order (orchestrator sorts the rows read in that order). */
const byReplicasDesc = (list: ReadonlyArray<Instance>): ReadonlyArray<Instance> =>
  [...list].sort(byHostPort).sort((a, b) => b.replicas.length - a.replicas.length)

/**
 * orchestrator `GetClusterOSCReplicas`: replicas fit as pt-online-schema-change control replicas — up to two
 * busiest first-tier intermediate masters, replicas of those (two of a single one, or one of each), up to two
 * third-tier replicas and up to two first-tier leaves.
 */
export const clusterOscReplicas = (instances: ReadonlyArray<Instance>, clusterName: string): ReadonlyArray<Instance> => {
  const cluster = instances.filter((i) => i.clusterName === clusterName).sort(byHostPort)
  const replicasOf = (m: Instance) => cluster.filter((i) => Key.equals(Model.masterKey(i), m.key))
  const result: Array<Instance> = []
  const intermediate = byReplicasDesc(cluster.filter((i) => i.replicationDepth === 1 && i.replicas.length > 0))
    .filter(oscFit).slice(0, 2)
  result.push(...intermediate)
  if (intermediate.length === 1) {
    result.push(...byReplicasDesc(replicasOf(intermediate[0]!)).filter(oscFit).slice(0, 2))
  }
  if (intermediate.length === 2) {
    for (const im of intermediate) {
      const first = byReplicasDesc(replicasOf(im)).filter(oscFit)[0]
      if (first !== undefined) result.push(first)
    }
  }
  result.push(...byReplicasDesc(cluster.filter((i) => i.replicationDepth === 3)).filter(oscFit).slice(0, 2))
  result.push(...cluster.filter((i) => i.replicationDepth === 1 && i.replicas.length === 0).filter(oscFit).slice(0, 2))
  return result
}

/** One pool membership row (`database_instance_pool`). */
export interface PoolMember {
  readonly pool: string
  readonly key: InstanceKey
}

/**
 * orchestrator `ReadClusterPoolInstancesMap`: pool → keys of the members that are instances of `clusterName`
 * (the name as given, not a hint); only `pool` when given. Pools and keys in (pool, host, port) order.
 */
export const clusterPoolInstances = (
  instances: ReadonlyArray<Instance>,
  members: ReadonlyArray<PoolMember>,
  clusterName: string,
  pool: string
): ReadonlyMap<string, ReadonlyArray<InstanceKey>> => {
  const inCluster = new Set(instances.filter((i) => i.clusterName === clusterName).map((i) => Key.format(i.key)))
  const out = new Map<string, Array<InstanceKey>>()
  const sorted = [...members].sort((a, b) => (a.pool < b.pool ? -1 : a.pool > b.pool ? 1 : Key.compare(a.key, b.key)))
  for (const m of sorted) {
    if ((pool !== "" && m.pool !== pool) || !inCluster.has(Key.format(m.key))) continue
    const list = out.get(m.pool) ?? []
    list.push(m.key)
    out.set(m.pool, list)
  }
  return out
}

/**
 * orchestrator `GetHeuristicClusterPoolInstances`: the cluster's instances that are pool members (of `pool`, or
 * of any pool when ""), valid at their last check and not binlog servers.
 */
export const heuristicClusterPoolInstances = (
  instances: ReadonlyArray<Instance>,
  members: ReadonlyArray<PoolMember>,
  clusterName: string,
  pool: string
): ReadonlyArray<Instance> => {
  const pooled = new Set(members.filter((m) => pool === "" || m.pool === pool).map((m) => Key.format(m.key)))
  return instances
    .filter((i) => i.clusterName === clusterName && pooled.has(Key.format(i.key)) && oscFit(i))
    .sort(byHostPort)
}

/** orchestrator `GetInstancesMaxLag`: the largest known replication lag, or why there is none. */
export const maxLag = (instances: ReadonlyArray<Instance>): number | string =>
  instances.length === 0
    ? "No instances found in GetInstancesMaxLag"
    : Math.max(0, ...instances.map((i) => i.replicationLagSeconds ?? 0))
