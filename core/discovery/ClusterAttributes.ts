/**
 * Cluster membership of a probed instance, computed from the instances this node knows (pure).
 *
 * Orchestrator (`ReadInstanceClusterAttributes`, `go/inst/instance_dao.go`) derives these at each probe
 * from the *stored* row of the instance's master: cluster name = the master's cluster name (else the
 * instance's own `host:port`), depth = master's depth + 1, co-master when the master's master is the
 * instance itself. Here the whole chain is walked over the in-memory view at once, so a freshly crawled
 * replica gets its final cluster name at its first probe instead of converging over several poll cycles.
 *
 * Rules kept from orchestrator:
 * - the chain stops at an instance whose master is unknown (never probed successfully) or not a valid key
 *   (`_`, `//detached`): that instance names the cluster;
 * - a replication cycle (co-masters, or a longer ring) is named after its smallest key (orchestrator's
 *   `SmallerThan` tie-break), which has depth 0; the other members count their distance to it.
 */
import type { Instance } from "../topology/Instance.js"
import * as Model from "../topology/Instance.js"
import type { InstanceKey } from "../topology/InstanceKey.js"
import * as Key from "../topology/InstanceKey.js"

export interface ClusterAttributes {
  readonly clusterName: string
  readonly replicationDepth: number
  readonly isCoMaster: boolean
  readonly ancestryUuid: string
}

export type Lookup = (key: InstanceKey) => Instance | undefined

const validMaster = (i: Instance): InstanceKey | null => {
  const m = Model.masterKey(i)
  return m !== null && Key.isValid(m) ? m : null
}

/** `instance` must be the fresh probe result; `lookup` gives the other instances (its own entry is ignored). */
export const clusterAttributes = (instance: Instance, lookup: Lookup): ClusterAttributes => {
  const self = Key.format(instance.key)
  const get = (k: InstanceKey): Instance | undefined => (Key.format(k) === self ? instance : lookup(k))
  const path: Array<Instance> = [instance]
  const seen = new Map<string, number>([[self, 0]])
  let root = 0
  for (;;) {
    const cur = path[path.length - 1]!
    const m = validMaster(cur)
    if (m === null) {
      root = path.length - 1
      break
    }
    const at = seen.get(Key.format(m))
    if (at !== undefined) {
      // A cycle: path[at..] are its members; the smallest key names it.
      let best = at
      for (let i = at + 1; i < path.length; i++) if (Key.compare(path[i]!.key, path[best]!.key) < 0) best = i
      root = best
      break
    }
    const next = get(m)
    if (next === undefined) {
      root = path.length - 1
      break
    }
    seen.set(Key.format(m), path.length)
    path.push(next)
  }
  const rootInstance = path[root]!
  const master = validMaster(instance)
  const masterInstance = master === null ? undefined : get(master)
  const masterOfMaster = masterInstance === undefined ? null : validMaster(masterInstance)
  const isCoMaster = masterOfMaster !== null && Key.equals(masterOfMaster, instance.key)
  const depth = root
  const ancestryUuid = depth === 0 && !isCoMaster
    ? Model.ancestryUuid({
      masterAncestryUuid: "",
      masterUuid: "",
      serverUuid: instance.serverUuid,
      isCoMaster: false,
      groupName: instance.group?.name ?? ""
    })
    : Model.ancestryUuid({
      masterAncestryUuid: masterInstance?.ancestryUuid ?? "",
      masterUuid: masterInstance?.serverUuid ?? "",
      serverUuid: instance.serverUuid,
      isCoMaster,
      groupName: instance.group?.name ?? ""
    })
  return { clusterName: Key.format(rootInstance.key), replicationDepth: depth, isCoMaster, ancestryUuid }
}

/**
 * Orchestrator's `DataCenterPattern` / `RegionPattern` / `PhysicalEnvironmentPattern`: the first capture
 * group of the regex applied to the hostname ("" when the pattern is empty, invalid, or does not match).
 */
export const patternValue = (pattern: string, hostname: string): string => {
  if (pattern === "") return ""
  let re: RegExp
  try {
    re = new RegExp(pattern)
  } catch {
    return ""
  }
  const m = re.exec(hostname)
  return m?.[1] ?? ""
}

export interface AttributeConfig {
  readonly DataCenterPattern: string
  readonly RegionPattern: string
  readonly PhysicalEnvironmentPattern: string
  readonly DetectDataCenterQuery: string
  readonly DetectRegionQuery: string
  readonly DetectPhysicalEnvironmentQuery: string
}

/**
 * Applies cluster attributes and the hostname patterns (a configured Detect*Query wins over the pattern,
 * as in orchestrator; its value is already in the probe result).
 */
export const withAttributes = (instance: Instance, lookup: Lookup, config: AttributeConfig): Instance => {
  const c = clusterAttributes(instance, lookup)
  const host = instance.key.hostname
  return {
    ...instance,
    clusterName: c.clusterName,
    replicationDepth: c.replicationDepth,
    isCoMaster: c.isCoMaster,
    ancestryUuid: c.ancestryUuid,
    dataCenter: config.DetectDataCenterQuery !== "" ? instance.dataCenter : patternValue(config.DataCenterPattern, host),
    region: config.DetectRegionQuery !== "" ? instance.region : patternValue(config.RegionPattern, host),
    physicalEnvironment: config.DetectPhysicalEnvironmentQuery !== ""
      ? instance.physicalEnvironment
      : patternValue(config.PhysicalEnvironmentPattern, host)
  }
}

/**
 * The replicas to crawl from a probe result: the listed replicas, minus the instance itself. (With
 * process-list discovery every replica on a shared host maps to `host:<this port>`, i.e. to this very
 * instance when replicas and master share an address, as on loopback test topologies.)
 */
export const crawlTargets = (instance: Instance): ReadonlyArray<InstanceKey> => {
  const out: Array<InstanceKey> = []
  const master = validMaster(instance)
  if (master !== null && !Key.equals(master, instance.key)) out.push(master)
  for (const r of instance.replicas) if (Key.isValid(r) && !Key.equals(r, instance.key)) out.push(r)
  return out
}
