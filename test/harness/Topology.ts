/**
 * Real MariaDB replication topologies for integration tests (Promise API). See docs/testing.md.
 *
 *   const topo = await startTopology({ shape: Shape.masterWithReplicas(3) })
 *   try { await topo.master.query("CREATE DATABASE t", [], { user: "admin" }) } finally { await topo.stop() }
 *
 * The Effect/scoped form is in TopologyHarness.ts.
 */
import { HarnessError, toHarnessError } from "./HarnessError.js"
import { Credentials, findBinaries, templateDatadir } from "./MariaDbInstall.js"
import { MariaDbInstance, type Via } from "./MariaDbInstance.js"

export { HarnessError } from "./HarnessError.js"
export { Credentials, type HarnessUser } from "./MariaDbInstall.js"
export {
  type ConnectOptions,
  type InstanceState,
  MariaDbInstance,
  type PartitionMode,
  type RestartOptions,
  type Row,
  type Via
} from "./MariaDbInstance.js"

/** Generic shape: `masters[i]` is the index of instance i's master, or null for a master (a root of the tree). */
export interface TopologyShape {
  readonly masters: ReadonlyArray<number | null>
  /**
   * Accept one pair of instances that replicate from each other (orchestrator's co-masters). The lower index of
   * the pair is the active co-master: writable, and `Topology.master` when no instance is without a master. The
   * other one is the passive co-master, read_only like any replica. Any other cycle is still rejected.
   */
  readonly coMasters?: boolean
}

export const Shape = {
  /** Instance 0 is the master, 1..n replicate from it. */
  masterWithReplicas: (replicas: number): TopologyShape => ({
    masters: [null, ...Array.from({ length: replicas }, () => 0)]
  }),
  /** 0 -> 1 -> 2 ...: each instance replicates from the previous one (default: master -> intermediate -> replica). */
  chain: (length = 3): TopologyShape => ({ masters: Array.from({ length }, (_, i) => (i === 0 ? null : i - 1)) }),
  /**
   * 0 <-> 1 co-masters (0 active and writable, 1 passive and read_only), then `activeReplicas` instances replicating
   * from 0 and `passiveReplicas` from 1. Default: one replica under the active co-master.
   */
  coMasters: (activeReplicas = 1, passiveReplicas = 0): TopologyShape => ({
    masters: [1, 0, ...Array.from({ length: activeReplicas }, () => 0), ...Array.from({ length: passiveReplicas }, () => 1)],
    coMasters: true
  }),
  custom: (masters: ReadonlyArray<number | null>): TopologyShape => ({ masters })
} as const

export interface TopologyOptions {
  readonly shape: TopologyShape
  /** Per server, until its socket answers (default 30 s). */
  readonly startTimeoutMs?: number
  /** Until every replica shows Slave_IO_Running=Yes and Slave_SQL_Running=Yes (default 30 s). */
  readonly replicationTimeoutMs?: number
  /** Extra my.cnf lines for every server, e.g. `["rpl_semi_sync_master_enabled=ON"]`. */
  readonly extraConfig?: ReadonlyArray<string>
}

export interface SyncOptions {
  /** Default: the first master of the shape. */
  readonly from?: MariaDbInstance
  /** Default: every instance that replicates from `from`, directly or not, in the shape. */
  readonly to?: ReadonlyArray<MariaDbInstance>
  readonly timeoutMs?: number
}

export interface Topology {
  readonly instances: ReadonlyArray<MariaDbInstance>
  /** The first instance without a master in the shape (with co-masters and no such instance: the active co-master). */
  readonly master: MariaDbInstance
  /** The instances with a master in the shape, except `master` (a co-master pair: the passive one is listed). */
  readonly replicas: ReadonlyArray<MariaDbInstance>
  readonly credentials: typeof Credentials
  /** The credentials in orchestrator's config keys. */
  readonly orchestratorConfig: { readonly MySQLTopologyUser: string; readonly MySQLTopologyPassword: string }
  /** Wall time of startTopology, from call to all replicas running. */
  readonly startupMs: number
  /** By "127.0.0.1:port" key or by port. */
  instance(keyOrPort: string | number): MariaDbInstance
  /** Waits until `to` have applied everything in `from`'s binlog (MASTER_GTID_WAIT on @@gtid_binlog_pos). */
  syncReplicas(options?: SyncOptions): Promise<void>
  /** SIGTERM every server we started (SIGKILL after 10 s), remove nft tables and temp dirs. Idempotent. */
  stop(): Promise<void>
}

const validate = (shape: TopologyShape): void => {
  const masters = shape.masters
  const fail = (why: string): never => {
    throw new HarnessError({ message: `invalid topology shape ${JSON.stringify(masters)}: ${why}` })
  }
  if (masters.length === 0) fail("no instances")
  masters.forEach((m, i) => {
    if (m === null) return
    if (!Number.isInteger(m) || m < 0 || m >= masters.length) fail(`instance ${i} has master index ${m} out of range`)
    if (m === i) fail(`instance ${i} replicates from itself`)
  })
  const pairs = coMasterPairs(masters)
  if (pairs.length > 0 && shape.coMasters !== true) {
    fail(`instances ${pairs[0]!.join(" and ")} replicate from each other: a cycle (co-masters need Shape.coMasters)`)
  }
  if (pairs.length > 1) fail("more than one co-master pair")
  masters.forEach((_, i) => {
    const seen = new Set<number>()
    for (let at: number | null = i; at !== null; at = masters[at] ?? null) {
      const here = at
      // Reaching the co-master pair ends the walk: the pair is the one cycle a co-master shape may have.
      if (pairs.some((p) => p.includes(here))) break
      if (seen.has(at)) fail(`cycle through instance ${i} (only a co-master pair may replicate in a circle)`)
      seen.add(at)
    }
  })
}

/** Pairs [a, b] (a < b) of instances that replicate from each other. */
const coMasterPairs = (masters: ReadonlyArray<number | null>): ReadonlyArray<readonly [number, number]> =>
  masters.flatMap((m, i) => (m !== null && m > i && masters[m] === i ? [[i, m] as const] : []))

/** `Topology.master`: the first instance without a master, else the active (lower) co-master. */
const rootOf = (masters: ReadonlyArray<number | null>): number => {
  const root = masters.findIndex((m) => m === null)
  return root >= 0 ? root : coMasterPairs(masters)[0]![0]
}

const descendants = (masters: ReadonlyArray<number | null>, root: number): ReadonlyArray<number> =>
  masters.flatMap((_, i) => {
    if (i === root) return []
    // `seen` ends the walk around a co-master pair.
    const seen = new Set<number>()
    for (let at = masters[i] ?? null; at !== null && !seen.has(at); at = masters[at] ?? null) {
      if (at === root) return [i]
      seen.add(at)
    }
    return []
  })

/**
 * Starts one mariadbd per entry of `options.shape` in parallel, configures GTID replication and waits until every
 * replica runs. On failure everything already started is stopped before the error is thrown.
 */
export const startTopology = async (options: TopologyOptions): Promise<Topology> => {
  const began = Date.now()
  validate(options.shape)
  findBinaries()
  const template = await templateDatadir()
  const masters = options.shape.masters
  const startTimeoutMs = options.startTimeoutMs ?? 30_000
  const replicationTimeoutMs = options.replicationTimeoutMs ?? 30_000

  const root = rootOf(masters)
  const activeCoMaster = coMasterPairs(masters)[0]?.[0]
  const settled = await Promise.allSettled(
    masters.map((masterIndex, index) =>
      MariaDbInstance.create(
        { index, masterIndex, writable: masterIndex === null || index === activeCoMaster, extraConfig: options.extraConfig ?? [] },
        template,
        startTimeoutMs
      )
    )
  )
  const instances = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []))
  const stop = async (): Promise<void> => {
    await Promise.allSettled(instances.map((i) => i.destroy()))
  }
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected")
  if (failed !== undefined) {
    await stop()
    throw toHarnessError(failed.reason, "starting the topology")
  }

  try {
    await Promise.all(instances.map(async (inst) => {
      if (inst.masterIndex === null) return
      await inst.replicateFrom(instances[inst.masterIndex]!)
    }))
    await Promise.all(
      instances.filter((i) => i.masterIndex !== null).map((i) => i.waitForReplication(replicationTimeoutMs))
    )
  } catch (e) {
    await stop()
    throw toHarnessError(e, "setting up replication")
  }

  const master = instances[root]!
  return {
    instances,
    master,
    replicas: instances.filter((i) => i.masterIndex !== null && i !== master),
    credentials: Credentials,
    orchestratorConfig: {
      MySQLTopologyUser: Credentials.topology.user,
      MySQLTopologyPassword: Credentials.topology.password
    },
    startupMs: Date.now() - began,
    instance: (keyOrPort) => {
      const found = instances.find((i) => i.key === keyOrPort || i.port === keyOrPort)
      if (found === undefined) throw new HarnessError({ message: `no instance ${keyOrPort} in this topology` })
      return found
    },
    syncReplicas: async (sync = {}) => {
      const from = sync.from ?? master
      const to = sync.to ?? descendants(masters, from.index).map((i) => instances[i]!)
      const timeoutMs = sync.timeoutMs ?? 10_000
      const via = (i: MariaDbInstance): Via => (i.partitioned === undefined ? "tcp" : "socket")
      const [row] = await from.query("SELECT @@gtid_binlog_pos AS pos", [], { via: via(from) })
      const pos = String(row?.["pos"] ?? "")
      if (pos === "") return
      await Promise.all(to.map(async (replica) => {
        const [r] = await replica.query("SELECT MASTER_GTID_WAIT(?, ?) AS r", [pos, timeoutMs / 1000], {
          via: via(replica)
        })
        if (Number(r?.["r"]) !== 0) {
          const status = await replica.slaveStatus().catch(() => undefined)
          throw new HarnessError({
            message: `${replica.key} did not reach ${from.key}'s GTID ${pos} within ${timeoutMs} ms; ` +
              ["Gtid_IO_Pos", "Slave_IO_Running", "Slave_SQL_Running", "Last_IO_Error", "Last_SQL_Error"]
                .map((c) => `${c}=${String(status?.[c])}`).join(" ")
          })
        }
      }))
    },
    stop
  }
}
