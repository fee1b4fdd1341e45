/**
 * Watching a master failover from the MySQL side, shared by the failover benchmark and the raft recovery
 * e2e test: the servers are polled directly over their unix sockets (every 20 ms), never through
 * orchestrator, so "healed" means what a client would see.
 *
 * Healed = one surviving server is writable and replicates from nobody, and every other survivor replicates
 * from it with IO and SQL threads running. Lost = transactions some survivor had received from the failed
 * master (its Gtid_IO_Pos while it still pointed at the failed master) that the new master lacks. Replication
 * is asynchronous: a commit the master acknowledged but never shipped is not counted (no failover can save it).
 */
import type { MariaDbInstance } from "../harness/Topology.js"
import { seqOf } from "../recovery/support.js"

export interface ServerState {
  readonly readOnly: boolean
  /** Master_Port of SHOW SLAVE STATUS; null when the server is not a replica. */
  readonly masterPort: number | null
  readonly running: boolean
  readonly ioPos: string
}

/** The server as a client sees it now; undefined when it does not answer. */
export const serverState = async (i: MariaDbInstance): Promise<ServerState | undefined> => {
  try {
    const [ro] = await i.query("SELECT @@read_only AS ro", [], { via: "socket" })
    const [s] = await i.query("SHOW SLAVE STATUS", [], { via: "socket" })
    return {
      readOnly: String(ro?.["ro"]) === "1",
      masterPort: s === undefined ? null : Number(s["Master_Port"]),
      running: s?.["Slave_IO_Running"] === "Yes" && s?.["Slave_SQL_Running"] === "Yes",
      ioPos: String(s?.["Gtid_IO_Pos"] ?? "")
    }
  } catch {
    return undefined
  }
}

/** The new master among `survivors` once it is writable and every other survivor replicates from it. */
export const healedMaster = (
  survivors: ReadonlyArray<MariaDbInstance>,
  states: ReadonlyArray<ServerState | undefined>
): MariaDbInstance | undefined => {
  const master = survivors.find((_, n) => states[n] !== undefined && !states[n]!.readOnly && states[n]!.masterPort === null)
  if (master === undefined) return undefined
  return survivors.every((r, n) => r === master || (states[n]?.masterPort === master.port && states[n]?.running === true))
    ? master
    : undefined
}

export interface FailoverOutcome {
  /** The new master, or undefined when not healed within the timeout. */
  readonly master: MariaDbInstance | undefined
  /** From `since` until healed (or the timeout). */
  readonly millis: number
  /** Per survivor's port: the highest domain-0 seq it had received from the failed master. */
  readonly received: ReadonlyMap<number, number>
}

/** Polls the survivors every 20 ms from `since` until healed or `timeoutMs`. */
export const awaitFailover = async (
  failed: MariaDbInstance,
  survivors: ReadonlyArray<MariaDbInstance>,
  since: number,
  timeoutMs = 60_000
): Promise<FailoverOutcome> => {
  const received = new Map<number, number>()
  for (;;) {
    const states = await Promise.all(survivors.map(serverState))
    // IO positions only grow while a survivor still points at the failed master.
    survivors.forEach((r, n) => {
      const s = states[n]
      if (s !== undefined && s.masterPort === failed.port) received.set(r.port, Math.max(received.get(r.port) ?? 0, seqOf(s.ioPos)))
    })
    const master = healedMaster(survivors, states)
    const now = Date.now()
    if (master !== undefined || now - since > timeoutMs) return { master, millis: now - since, received }
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Transactions some survivor had received from the failed master that `newMaster` does not have. */
export const lostTransactions = async (newMaster: MariaDbInstance, received: ReadonlyMap<number, number>): Promise<number> => {
  const [row] = await newMaster.query("SELECT @@gtid_slave_pos AS p", [], { via: "socket" })
  const have = seqOf(String(row?.["p"] ?? ""))
  return Math.max(0, ...[...received.values()].map((v) => v - have))
}

/** One orchestrator node's own analysis of an instance (`recovery-peer-analysis`: answered locally, never forwarded). */
export const analysisOn = async (nodeUrl: string, port: number): Promise<Readonly<Record<string, unknown>> | null> => {
  const r = await fetch(`${nodeUrl}/api/recovery-peer-analysis/127.0.0.1/${port}`, { signal: AbortSignal.timeout(5000) })
  const body = (await r.json()) as { readonly Details?: Readonly<Record<string, unknown>> | null }
  return body.Details ?? null
}

/** Waits until every node in `nodeUrls` analyses `master` as NoProblem with `replicas` replicating replicas. */
export const awaitAllSeeHealthy = async (nodeUrls: ReadonlyArray<string>, master: MariaDbInstance, replicas: number, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const as = await Promise.all(nodeUrls.map((u) => analysisOn(u, master.port).catch(() => null)))
    if (as.every((a) => a?.["Analysis"] === "NoProblem" && a["CountReplicas"] === replicas && a["CountValidReplicatingReplicas"] === replicas)) return
    if (Date.now() > deadline) {
      throw new Error(`not every node sees ${master.key} as a healthy master of ${replicas} within ${timeoutMs} ms: ${as.map((a) => String(a?.["Analysis"])).join(", ")}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}
