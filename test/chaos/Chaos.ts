/**
 * Chaos soak of the raft deployment (Jepsen-style, on one machine): three real node processes
 * (test/support/cluster.ts) behind an in-process orchestrator-proxy, several client workers issuing a
 * steady stream of replicated writes and reads through the proxy, a monitor polling every node's
 * /api/leader-check and /api/raft-status, and faults drawn from a seeded PRNG — kill -9 and restart,
 * SIGSTOP/SIGCONT, nftables partitions of a node's raft port (as test/harness/Partition.ts does for
 * MySQL ports), and restarts with wiped data (empty RaftDataDir and backend: the node must come back by
 * InstallSnapshot, docs/operations.md). One fault at a time, so at most one node of three (a minority) is
 * ever impaired, and after each heal the runner waits until every node has applied what the leader had
 * committed: a wiped node must hold everything again before another node may fail (docs/raft.md,
 * "Replacing a node's disk").
 *
 * Afterwards, with everything healed and converged, it checks:
 *  (i)   the replicated tables are identical on every node (at equal applied index);
 *  (ii)  no acknowledged write is lost: a write answered 200 that no other write could follow is what
 *        the final state holds (the general case, with overwrites, is (iv)'s job);
 *  (iii) leadership claims never go backwards: see `leadershipViolations`;
 *  (iv)  the client history (with final reads taken from the backends) is linearizable
 *        (test/support/linearizability.ts).
 *
 * The seed fixes the fault schedule (kinds, order, leader-or-follower targets, durations) and every
 * worker's sequence of operations; the processes' timing is real and does not replay exactly.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { makeNodeFetch, type NodeServer, serve } from "../../client/proxy/node.js"
import { makeProxyHandler, type ProxyHandler } from "../../client/proxy/Proxy.js"
import { replicatedTables } from "../../core/backend/Repository.js"
import * as Partition from "../harness/Partition.js"
import { Rng } from "../sim/Rng.js"
import { type Cluster, type ClusterMember, startCluster } from "../support/cluster.js"
import {
  check,
  type CheckResult,
  type KvInput,
  type KvOutput,
  kvModel,
  type Operation,
  pruneUnobservedPendingPuts
} from "../support/linearizability.js"

export type FaultKind = "kill" | "pause" | "partition" | "wipe"
export const faultKinds: ReadonlyArray<FaultKind> = ["kill", "pause", "partition", "wipe"]

export interface ChaosOptions {
  readonly seed: number
  /** Number of faults, injected one after another. */
  readonly faults: number
  readonly kinds?: ReadonlyArray<FaultKind>
  /** Take the kinds in turn (fault i is kinds[i mod n]) instead of drawing them: a short run covers each. */
  readonly kindsInTurn?: boolean
  /** Concurrent client workers (default 4). */
  readonly workers?: number
  /** How long a fault lasts, in ms (uniform in [min, max]; default 400–2500). */
  readonly faultMillis?: readonly [number, number]
  /** Pause between a recovery and the next fault, in ms (default 300–1500). */
  readonly gapMillis?: readonly [number, number]
  /** Longest wait for the cluster to converge after a heal (default 60 s): longer is a liveness failure. */
  readonly recoveryTimeoutMillis?: number
  /** Client-side timeout of one request (default 15 s, above the node's 10 s proposal timeout). */
  readonly requestTimeoutMillis?: number
  /** Search budget of the linearizability checker per key (default 5,000,000 steps). */
  readonly checkerMaxSteps?: number
  /**
   * Where tag reads go. "proxy" (default): through the proxy to the leader, as clients do.
   * "random-backend": straight from a random node's SQLite file — a negative control: follower backends
   * lag the leader's acknowledgements, so the checker must find stale reads.
   */
  readonly readVia?: "proxy" | "random-backend"
  /** Run the workload at least this long (ms), whatever the faults take (default 0). */
  readonly minWorkloadMillis?: number
  /** Keep the node logs of a successful run too (a failed run always keeps them, with the data dirs). */
  readonly keepLogs?: boolean
  readonly log?: (line: string) => void
}

export interface FaultRecord {
  readonly index: number
  readonly kind: FaultKind
  /** The variant: partition mode, or nothing. */
  readonly detail: string
  readonly node: string
  readonly wasLeader: boolean
  /** ms since the start of the run. */
  readonly at: number
  readonly heldMillis: number
  /** From heal (restart done, SIGCONT, nft table deleted) until every node applied the leader's commit index. */
  readonly recoveryMillis: number | undefined
  /** Wipes: whether the node logged an installed snapshot while catching up. */
  readonly snapshotInstalled?: boolean
}

export interface ChaosReport {
  readonly seed: number
  readonly ok: boolean
  readonly violations: ReadonlyArray<string>
  readonly faults: ReadonlyArray<FaultRecord>
  readonly stats: Record<string, unknown>
  /** Node logs (every incarnation) and, after a violation, copies of the data dirs. Removed when ok, unless `keepLogs`. */
  readonly logDir: string
}

const now = (): number => performance.now()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

// ---- the client side -----------------------------------------------------------------------------------

/** Instances the workers write to: never discovered, so only replicated tables hold anything about them. */
const hosts = ["chaos-h1", "chaos-h2", "chaos-h3"] as const
const tagNames = ["a", "b"] as const
const port = 3306

type Route = "tag" | "tag-value" | "untag" | "begin-downtime" | "end-downtime"

/**
 * How a request ended. Only `refused` writes are known not to have taken effect: the proxy or a node's
 * leader gate answered before anything was proposed ("no raft leader known ..."), or raft reported that
 * another leader's entry was committed at the proposal's index ("replaced by a newer leader"). Every
 * other failure of a write (timeouts, resets, 5xx from a proposal) may or may not have been applied:
 * `ambiguous`, i.e. pending forever in the history. A read that failed has no effect and is dropped.
 */
type Outcome = "ok" | "value" | "refused" | "ambiguous" | "read-failed"

interface OpRecord {
  readonly worker: number
  readonly route: Route
  readonly input: KvInput
  readonly call: number
  /** Return time in the history: +Infinity when the outcome is ambiguous. */
  readonly ret: number
  /** When the answer (or the error) actually came. */
  readonly answered: number
  readonly status: number
  readonly message: string
  readonly outcome: Outcome
  readonly output: KvOutput
}

const tagKey = (host: string, name: string) => `tag/${host}:${port}/${name}`
const downtimeKey = (host: string) => `downtime/${host}:${port}`

/** The envelope's Message, or the body itself. */
const messageOf = (body: string): string => {
  try {
    const parsed: unknown = JSON.parse(body)
    if (typeof parsed === "object" && parsed !== null && "Message" in parsed && typeof parsed.Message === "string") {
      return parsed.Message
    }
  } catch {
    // not JSON
  }
  return body.slice(0, 200)
}

const classifyWrite = (status: number, message: string): "ok" | "refused" | "ambiguous" => {
  if (status === 200) return "ok"
  if (status === 503 && message.startsWith("no raft leader known")) return "refused"
  if (/was replaced by a newer leader/.test(message)) return "refused"
  return "ambiguous"
}

interface Planned {
  readonly route: Route
  readonly path: string
  readonly input: KvInput
}

/** One operation drawn from the worker's PRNG; values are unique per (worker, sequence number). */
const plan = (rng: Rng, worker: number, seq: number): Planned => {
  const host = rng.pick(hosts)
  const name = rng.pick(tagNames)
  const value = `w${worker}-${seq}`
  const roll = rng.int(0, 99)
  const tag = tagKey(host, name)
  if (roll < 30) return { route: "tag", path: `tag/${host}/${port}/${name}/${value}`, input: { key: tag, op: "put", value } }
  if (roll < 62) return { route: "tag-value", path: `tag-value/${host}/${port}/${name}`, input: { key: tag, op: "get" } }
  if (roll < 72) return { route: "untag", path: `untag/${host}/${port}/${name}`, input: { key: tag, op: "delete" } }
  if (roll < 88) {
    return {
      route: "begin-downtime",
      path: `begin-downtime/${host}/${port}/chaos/${value}/1h`,
      input: { key: downtimeKey(host), op: "put", value }
    }
  }
  return { route: "end-downtime", path: `end-downtime/${host}/${port}`, input: { key: downtimeKey(host), op: "delete" } }
}

const perform = async (baseUrl: string, p: Planned, worker: number, timeoutMillis: number): Promise<OpRecord> => {
  const call = now()
  let status = 0
  let body = ""
  try {
    const res = await fetch(`${baseUrl}/api/${p.path}`, { signal: AbortSignal.timeout(timeoutMillis) })
    status = res.status
    body = await res.text()
  } catch (e) {
    body = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  }
  const ret = now()
  const message = status === 0 ? body : messageOf(body)
  const base = { worker, route: p.route, input: p.input, call, answered: ret, status, message }
  if (p.input.op === "get") {
    if (status === 200) {
      let value: unknown
      try {
        value = JSON.parse(body)
      } catch {
        value = undefined
      }
      if (typeof value === "string") return { ...base, ret, outcome: "value", output: { kind: "value", value } }
    }
    if (status === 500 && /^tag \S+ not found for /.test(message)) {
      return { ...base, ret, outcome: "value", output: { kind: "value", value: null } }
    }
    return { ...base, ret, outcome: "read-failed", output: { kind: "unknown" } }
  }
  const c = classifyWrite(status, message)
  return c === "ambiguous"
    ? { ...base, ret: Number.POSITIVE_INFINITY, outcome: c, output: { kind: "unknown" } }
    : { ...base, ret, outcome: c, output: { kind: "ok" } }
}

/** A tag read from a node's backend file, bypassing raft and the API (the negative control). */
const readBackend = (cluster: Cluster, m: ClusterMember, p: Planned, worker: number): OpRecord => {
  const call = now()
  const [, host, name] = /^tag\/([^:]+):\d+\/(.+)$/.exec(p.input.key) ?? []
  let value: string | null | undefined
  try {
    const rows = cluster.query(
      m,
      `SELECT tag_value FROM database_instance_tags WHERE hostname = '${host}' AND port = ${port} AND tag_name = '${name}'`
    )
    value = rows.length === 0 ? null : String(rows[0]!.tag_value)
  } catch {
    value = undefined
  }
  const ret = now()
  const status = value === undefined ? 0 : 200
  const base = { worker, route: p.route, input: p.input, call, ret, answered: ret, status, message: `backend of ${m.name}` }
  return value === undefined
    ? { ...base, outcome: "read-failed", output: { kind: "unknown" } }
    : { ...base, outcome: "value", output: { kind: "value", value } }
}

// ---- the monitor -----------------------------------------------------------------------------------

export interface Probe {
  readonly node: number
  /** Which process of that node answered (bumped at every restart). */
  readonly incarnation: number
  readonly kind: "leader-check" | "raft-status"
  /** ms since the start of the run. */
  readonly sent: number
  readonly received: number
  readonly status: number
  readonly term?: number
  readonly hasLease?: boolean
}

interface RaftStatus {
  readonly Term: number
  readonly HasLease: boolean
  readonly CommitIndex: number
  readonly AppliedIndex: number
  readonly SnapshotIndex: number
}

const isRaftStatus = (v: unknown): v is RaftStatus =>
  typeof v === "object" && v !== null && "Term" in v && typeof v.Term === "number" && "HasLease" in v &&
  typeof v.HasLease === "boolean" && "AppliedIndex" in v && typeof v.AppliedIndex === "number"

const fetchRaftStatus = async (m: ClusterMember, timeoutMillis: number): Promise<RaftStatus | undefined> => {
  try {
    const res = await fetch(`${m.url}/api/raft-status`, { signal: AbortSignal.timeout(timeoutMillis) })
    const v: unknown = await res.json()
    return res.status === 200 && isRaftStatus(v) ? v : undefined
  } catch {
    return undefined
  }
}

/**
 * A leadership claim: `node` held the lease at some instant of [sent, received], in a term known to lie
 * in [termLo, termHi]. raft-status answers carry HasLease and Term from one evaluation. A leader-check
 * 200 carries no term; it gets the terms of the same process's raft-status answers around it (a node's
 * term never decreases while it runs), when there are both.
 */
export interface Claim {
  readonly node: number
  readonly sent: number
  readonly received: number
  readonly termLo: number
  readonly termHi: number
  readonly source: Probe["kind"]
}

export const claimsOf = (probes: ReadonlyArray<Probe>, nodes: number): Array<Claim> => {
  const claims: Array<Claim> = []
  for (let n = 0; n < nodes; n++) {
    const mine = probes.filter((p) => p.node === n).sort((a, b) => a.sent - b.sent)
    const statuses = mine.filter((p) => p.kind === "raft-status" && p.term !== undefined)
    for (const p of mine) {
      if (p.kind === "raft-status" && p.hasLease === true && p.term !== undefined) {
        claims.push({ node: n, sent: p.sent, received: p.received, termLo: p.term, termHi: p.term, source: p.kind })
      }
      if (p.kind === "leader-check" && p.status === 200) {
        let lo = 0
        let hi = Number.POSITIVE_INFINITY
        for (const s of statuses) {
          if (s.incarnation !== p.incarnation) continue
          if (s.received < p.sent) lo = Math.max(lo, s.term!)
          if (s.sent > p.received) {
            hi = Math.min(hi, s.term!)
            break
          }
        }
        claims.push({ node: n, sent: p.sent, received: p.received, termLo: lo, termHi: hi, source: p.kind })
      }
    }
  }
  return claims
}

/**
 * (iii) What "never two leaders" means for answers observed over intervals. A node answers 200 (or
 * HasLease) only while it holds the lease, and raft guarantees: (a) one leader per term, and (b) if node
 * Y holds the lease in term T at instant t, no node holds a lease in a term < T at any instant after t
 * — a deposed leader's lease ends before anyone can be elected (docs/raft.md, "Leader lease"). Each
 * answer was evaluated at an unknown instant inside [request sent, response received], so overlapping
 * intervals of two nodes prove nothing (either may have been evaluated first, and leadership may have
 * changed in between: a SIGSTOPped leader's answer can sit in a socket for seconds). A violation needs
 * the order to be certain:
 *   V1: two different nodes claim the lease in the same, exactly known, term;
 *   V2: Y's claim in a term certainly higher than X's claim's term was received before X's request was
 *       even sent — X claimed leadership after a newer leader certainly had it.
 * Overlaps of leader-check 200 intervals of different nodes are counted in the stats, not judged.
 */
const describeClaim = (c: Claim): string => `${c.source} [${c.sent.toFixed(1)}, ${c.received.toFixed(1)}] ms`

export const leadershipViolations = (claims: ReadonlyArray<Claim>, names: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  const byTerm = new Map<number, Claim>()
  const reported = new Set<number>()
  for (const c of claims) {
    if (c.termLo !== c.termHi) continue
    const other = byTerm.get(c.termLo)
    if (other === undefined) byTerm.set(c.termLo, c)
    else if (other.node !== c.node && !reported.has(c.termLo)) {
      reported.add(c.termLo)
      out.push(`two leaders in term ${c.termLo}: ${names[other.node]} (${describeClaim(other)}) and ` +
        `${names[c.node]} (${describeClaim(c)})`)
    }
  }
  // For V2: per node, its claims by receive time with the running maximum of their lower term bound.
  const nodes = [...new Set(claims.map((c) => c.node))]
  const timelines = nodes.map((n) => {
    const list = claims.filter((c) => c.node === n).sort((a, b) => a.received - b.received)
    const maxLo: Array<{ readonly received: number; readonly lo: number; readonly claim: Claim }> = []
    let best: Claim | undefined
    for (const c of list) {
      if (best === undefined || c.termLo > best.termLo) best = c
      maxLo.push({ received: c.received, lo: best.termLo, claim: best })
    }
    return { node: n, maxLo }
  })
  for (const a of claims) {
    if (!Number.isFinite(a.termHi)) continue
    for (const t of timelines) {
      if (t.node === a.node) continue
      // The last claim of t received before a was sent, with the highest term seen by then.
      let lo = 0
      let hi = t.maxLo.length - 1
      let found = -1
      while (lo <= hi) {
        const mid = (lo + hi) >> 1
        if (t.maxLo[mid]!.received < a.sent) {
          found = mid
          lo = mid + 1
        } else hi = mid - 1
      }
      if (found < 0) continue
      const b = t.maxLo[found]!.claim
      if (b.termLo > a.termHi) {
        out.push(`stale leader: ${names[a.node]} claimed the lease in term ≤ ${a.termHi} (${describeClaim(a)}) after ` +
          `${names[b.node]} had claimed it in term ≥ ${b.termLo} (${describeClaim(b)})`)
      }
    }
    if (out.length > 20) break
  }
  return out
}

// ---- the run -----------------------------------------------------------------------------------------

const percentile = (values: ReadonlyArray<number>, p: number): number | undefined => {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

const round = (v: number | undefined): number | undefined => (v === undefined ? undefined : Math.round(v))

/** Rows of a replicated table, order-independent (nodes insert in different orders: apply vs restore). */
const tableRows = (cluster: Cluster, m: ClusterMember, table: string): Array<string> =>
  cluster.query(m, `SELECT * FROM ${table}`).map((r) => JSON.stringify(r)).sort()

const appliedIndexOf = (cluster: Cluster, m: ClusterMember): number => {
  const row = cluster.query(m, "SELECT applied_index FROM raft_applied WHERE anchor = 1")[0]
  return Number(row?.applied_index ?? 0)
}

export const runChaos = async (options: ChaosOptions): Promise<ChaosReport> => {
  const log = options.log ?? ((line: string) => console.log(line))
  const seed = options.seed
  const kinds = options.kinds ?? faultKinds
  const workerCount = options.workers ?? 4
  const [faultMin, faultMax] = options.faultMillis ?? [400, 2500]
  const [gapMin, gapMax] = options.gapMillis ?? [300, 1500]
  const recoveryTimeout = options.recoveryTimeoutMillis ?? 60_000
  const requestTimeout = options.requestTimeoutMillis ?? 15_000
  const trailingLogs = 20
  log(`chaos: SEED=${seed} faults=${options.faults} kinds=${kinds.join(",")} workers=${workerCount} ` +
    `(replay: npm run chaos -- --seed ${seed} --faults ${options.faults})`)

  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), `orc-chaos-${seed}-`))
  const t0 = now()
  const rel = (t: number) => Math.round(t - t0)
  const violations: Array<string> = []
  const faults: Array<FaultRecord> = []
  const ops: Array<OpRecord> = []
  const probes: Array<Probe> = []
  const healPorts = new Set<number>()
  const paused = new Set<number>()
  const onExit = () => {
    for (const p of healPorts) Partition.healQuietly(p)
    for (const pid of paused) {
      try {
        process.kill(pid, "SIGCONT")
      } catch {
        // gone already
      }
    }
  }
  process.on("exit", onExit)

  let cluster: Cluster | undefined
  let proxy: ProxyHandler | undefined
  let server: NodeServer | undefined
  let stopWorkers = false
  let stopMonitor = false
  const monitors: Array<Promise<void>> = []
  const workers: Array<Promise<void>> = []
  const incarnation: Array<number> = []
  const saveOutput = (m: ClusterMember, i: number) => {
    if (m.process !== undefined) fs.writeFileSync(path.join(logDir, `${m.name}.${incarnation[i]}.log`), m.process.output())
  }

  try {
    // Small snapshot threshold and log retention, so that a wiped node (and one down for a while) can
    // only be caught up by InstallSnapshot.
    cluster = await startCluster(3, { RaftSnapshotThreshold: 50, RaftTrailingLogs: trailingLogs })
    const c = cluster
    const members = c.members
    const names = members.map((m) => m.name)
    members.forEach(() => incarnation.push(0))
    log(`chaos: cluster up in ${rel(now())} ms: ${members.map((m) => `${m.name}=${m.url} raft ${m.raftAddress}`).join(", ")}`)

    // The monitor: per node, leader-check then raft-status, every ~50 ms.
    for (let i = 0; i < members.length; i++) {
      const m = members[i]!
      monitors.push((async () => {
        while (!stopMonitor) {
          const started = now()
          for (const kind of ["leader-check", "raft-status"] as const) {
            const inc = incarnation[i]!
            const sent = now() - t0
            try {
              const res = await fetch(`${m.url}/api/${kind}`, { signal: AbortSignal.timeout(1000) })
              const text = await res.text()
              const received = now() - t0
              if (kind === "raft-status") {
                const v: unknown = res.status === 200 ? JSON.parse(text) : undefined
                if (isRaftStatus(v)) {
                  const status = res.status
                  probes.push({ node: i, incarnation: inc, kind, sent, received, status, term: v.Term, hasLease: v.HasLease })
                }
              } else probes.push({ node: i, incarnation: inc, kind, sent, received, status: res.status })
            } catch {
              // down, stopped or cut off: no answer, no claim
            }
          }
          await sleep(50 - (now() - started))
        }
      })())
    }

    const leaderNow = async (timeoutMillis: number): Promise<number | undefined> => {
      try {
        const l = await c.waitForLeader(timeoutMillis)
        return members.indexOf(l)
      } catch {
        return undefined
      }
    }

    /** Until one node leads with the lease and every node applied at least what it had committed. */
    const waitConverged = async (timeoutMillis: number): Promise<number | undefined> => {
      const start = now()
      let target: number | undefined
      while (now() - start < timeoutMillis) {
        const statuses = await Promise.all(members.map((m) => fetchRaftStatus(m, 1000)))
        const leader = statuses.find((s) => s?.HasLease === true)
        if (leader !== undefined) {
          target ??= leader.CommitIndex
          if (statuses.every((s) => s !== undefined && s.Term === leader.Term && s.AppliedIndex >= target!)) return now() - start
        }
        await sleep(100)
      }
      return undefined
    }

    proxy = makeProxyHandler({
      nodes: members.map((m) => m.url),
      intervalMillis: 100,
      checkTimeoutMillis: 500,
      forwardTimeoutMillis: 12_000,
      fetch: makeNodeFetch()
    })
    proxy.start()
    server = await serve(proxy, { host: "127.0.0.1", port: 0 })
    const proxyUrl = `http://127.0.0.1:${server.port}`
    await c.waitForLeader(30_000)

    for (let w = 0; w < workerCount; w++) {
      workers.push((async () => {
        const rng = new Rng((seed + Math.imul(0x9e3779b9, w + 1)) >>> 0)
        for (let seq = 0; !stopWorkers; seq++) {
          const p = plan(rng, w, seq)
          const r = options.readVia === "random-backend" && p.input.op === "get"
            ? readBackend(c, members[rng.int(0, members.length - 1)]!, p, w)
            : await perform(proxyUrl, p, w, requestTimeout)
          ops.push(r)
          const think = rng.int(0, 20)
          await sleep(r.outcome === "ok" || r.outcome === "value" ? think : think + 50)
        }
      })())
    }
    const workloadStart = now()
    await sleep(1500)

    // ---- faults ----
    const rng = new Rng(seed)
    for (let f = 0; f < options.faults; f++) {
      // Every draw happens whatever the outcome, so the schedule replays from the seed.
      const gap = rng.int(gapMin, gapMax)
      const drawnKind = rng.pick(kinds)
      const kind = options.kindsInTurn === true ? kinds[f % kinds.length]! : drawnKind
      const onLeader = rng.chance(500)
      const followerPick = rng.next()
      const hold = rng.int(faultMin, faultMax)
      const mode = rng.pick(["drop", "reject", "drop+http"] as const)
      await sleep(gap)
      const leader = await leaderNow(10_000)
      const followers = members.map((_, i) => i).filter((i) => i !== leader)
      const target = onLeader && leader !== undefined ? leader : followers[followerPick % followers.length]!
      const m = members[target]!
      const at = now()
      const detail = kind === "partition" ? mode : ""
      log(`chaos: fault ${f + 1}/${options.faults} at ${rel(at)} ms: ${kind}${detail ? ` (${detail})` : ""} ${m.name}` +
        `${target === leader ? " (leader)" : ""} for ${hold} ms`)
      let leaderSnapshotIndex = 0
      switch (kind) {
        case "kill":
        case "wipe": {
          saveOutput(m, target)
          await c.kill9(m)
          // The dead process cannot release its data-dir lock; its pid may be reused on a busy machine.
          fs.rmSync(path.join(String(m.config.RaftDataDir), "LOCK"), { force: true })
          if (kind === "wipe") {
            fs.rmSync(String(m.config.RaftDataDir), { recursive: true, force: true })
            const backend = String(m.config.SQLite3DataFile)
            for (const suffix of ["", "-wal", "-shm", "-journal"]) fs.rmSync(`${backend}${suffix}`, { force: true })
          }
          await sleep(hold)
          const l = await leaderNow(5_000)
          if (l !== undefined) leaderSnapshotIndex = (await fetchRaftStatus(members[l]!, 1000))?.SnapshotIndex ?? 0
          incarnation[target]!++
          await c.start(m)
          break
        }
        case "pause": {
          const pid = m.process?.child.pid
          if (pid === undefined) throw new Error(`${m.name} has no process`)
          paused.add(pid)
          process.kill(pid, "SIGSTOP")
          await sleep(hold)
          process.kill(pid, "SIGCONT")
          paused.delete(pid)
          break
        }
        case "partition": {
          const ports = mode === "drop+http" ? [m.raftPort, m.httpPort] : [m.raftPort]
          for (const p of ports) {
            healPorts.add(p)
            Partition.apply(p, mode === "reject" ? "reject" : "drop")
          }
          await sleep(hold)
          for (const p of ports) {
            Partition.heal(p)
            healPorts.delete(p)
          }
          break
        }
      }
      const healedAt = now()
      const recovery = await waitConverged(recoveryTimeout)
      let snapshotInstalled: boolean | undefined
      if (kind === "wipe") {
        snapshotInstalled = m.process?.output().includes("raft: installed snapshot") ?? false
        // With the leader's log compacted past entry 1 (a snapshot index above the entries it keeps behind
        // a snapshot), an empty node can only have caught up from a snapshot.
        if (recovery !== undefined && !snapshotInstalled && leaderSnapshotIndex > trailingLogs) {
          violations.push(`fault ${f + 1}: wiped ${m.name} converged without installing a snapshot, although the leader's ` +
            `log no longer starts at index 1 (its snapshot is at ${leaderSnapshotIndex})`)
        }
      }
      faults.push({
        index: f + 1,
        kind,
        detail,
        node: m.name,
        wasLeader: target === leader,
        at: rel(at),
        heldMillis: Math.round(healedAt - at),
        recoveryMillis: round(recovery),
        ...(snapshotInstalled === undefined ? {} : { snapshotInstalled })
      })
      log(`chaos: fault ${f + 1} healed at ${rel(healedAt)} ms; ` +
        (recovery === undefined ? `NOT converged within ${recoveryTimeout} ms` : `converged in ${Math.round(recovery)} ms`) +
        (snapshotInstalled === undefined ? "" : `; InstallSnapshot: ${snapshotInstalled ? "yes" : "no"}`))
      if (recovery === undefined) {
        violations.push(`liveness: no convergence within ${recoveryTimeout} ms after fault ${f + 1} (${kind} ${m.name})`)
        break
      }
    }

    // ---- quiesce, converge, compare ----
    await sleep(Math.max(1000, (options.minWorkloadMillis ?? 0) - (now() - workloadStart)))
    stopWorkers = true
    await Promise.all(workers)
    const workloadEnd = now()
    const settle = await waitConverged(recoveryTimeout)
    if (settle === undefined) violations.push(`liveness: no convergence within ${recoveryTimeout} ms after the workload`)

    // A marker written last: once every backend has it, every node applied everything committed before.
    const marker = `done-${seed}`
    for (let attempt = 0; attempt < 100; attempt++) {
      const url = `${proxyUrl}/api/tag/chaos-marker/${port}/end/${marker}`
      const r = await fetch(url, { signal: AbortSignal.timeout(requestTimeout) }).then((res) => res.status, () => 0)
      if (r === 200) break
      await sleep(200)
    }
    const tablesOf = (m: ClusterMember) => Object.fromEntries(replicatedTables.map((t) => [t, tableRows(c, m, t)]))
    let dumps: Array<Record<string, Array<string>>> = []
    let applied: Array<number> = []
    let compared = false
    let dumpStart = now()
    for (let attempt = 0; attempt < 60 && !compared; attempt++) {
      dumpStart = now()
      const hasMarker = members.every((m) =>
        c.query(m, `SELECT tag_value FROM database_instance_tags WHERE hostname = 'chaos-marker' AND tag_name = 'end'`)
          .some((r) => r.tag_value === marker)
      )
      applied = members.map((m) => appliedIndexOf(c, m))
      if (hasMarker && applied.every((a) => a === applied[0])) {
        dumps = members.map(tablesOf)
        // Nothing may have been applied while we read (a late proposal): then read again.
        compared = members.every((m, i) => appliedIndexOf(c, m) === applied[i])
      }
      if (!compared) await sleep(500)
    }
    const finalAt = now()
    if (!compared) {
      violations.push(`(i) backends did not reach one applied index with the final marker (applied: ${applied.join(", ")})`)
      dumps = members.map(tablesOf)
    } else {
      for (const table of replicatedTables) {
        for (let i = 1; i < members.length; i++) {
          const a = dumps[0]![table]!
          const b = dumps[i]![table]!
          if (JSON.stringify(a) !== JSON.stringify(b)) {
            const onlyA = a.filter((r) => !b.includes(r)).slice(0, 3)
            const onlyB = b.filter((r) => !a.includes(r)).slice(0, 3)
            violations.push(`(i) ${table} differs between ${names[0]} and ${names[i]} at applied index ${applied[0]}: ` +
              `only on ${names[0]}: ${onlyA.join(" ")}; only on ${names[i]}: ${onlyB.join(" ")}`)
          }
        }
      }
    }

    stopMonitor = true
    await Promise.all(monitors)

    // ---- the history, with the final state as reads (taken somewhere in [dumpStart, finalAt]) ----
    const finalState = new Map<string, string | null>()
    const reference = dumps[0]!
    for (const host of hosts) {
      for (const name of tagNames) {
        const row = reference.database_instance_tags!.map((r) => JSON.parse(r) as Record<string, unknown>)
          .find((r) => r.hostname === host && Number(r.port) === port && r.tag_name === name)
        finalState.set(tagKey(host, name), row === undefined ? null : String(row.tag_value))
      }
      const dt = reference.database_instance_downtime!.map((r) => JSON.parse(r) as Record<string, unknown>)
        .find((r) => r.hostname === host && Number(r.port) === port)
      finalState.set(downtimeKey(host), dt === undefined ? null : String(dt.reason))
    }
    // Times relative to the start of the run, as in the log lines.
    const historyOf: Array<Operation<KvInput, KvOutput> | undefined> = ops.map((o) =>
      o.outcome === "ok" || o.outcome === "value" || o.outcome === "ambiguous"
        ? { clientId: o.worker, input: o.input, output: o.output, call: o.call - t0, return: o.ret - t0 }
        : undefined
    )
    const history = historyOf.filter((h): h is Operation<KvInput, KvOutput> => h !== undefined)
    for (const [key, value] of finalState) {
      const output = { kind: "value", value } as const
      history.push({ clientId: -1, input: { key, op: "get" }, output, call: dumpStart - t0, return: finalAt - t0 })
    }

    // (ii) An acknowledged write that no other write can follow must be the final state. Pending puts
    // whose value nobody read count as never applied (exact, see pruneUnobservedPendingPuts); any other
    // write with an unknown outcome may follow anything, so a key with one is left to (iv).
    const pruned = pruneUnobservedPendingPuts(history)
    const kept = new Set(pruned)
    const writes = ops.filter((o, i) =>
      o.input.op !== "get" && o.outcome !== "refused" && (o.outcome !== "ambiguous" || kept.has(historyOf[i]!))
    )
    let lastWritesChecked = 0
    for (const [key, value] of finalState) {
      const mine = writes.filter((o) => o.input.key === key)
      for (const w of mine) {
        if (w.outcome !== "ok") continue
        const followable = mine.some((o) => o !== w && o.ret > w.call)
        if (followable) continue
        lastWritesChecked++
        const expected = w.input.op === "put" ? w.input.value : null
        if (expected !== value) {
          const what = kvModel.describeOperation!(w.input, w.output)
          violations.push(`(ii) acknowledged write lost: ${what} answered at ${rel(w.ret)} ms, ` +
            `no other write could follow it, but the final state is ${JSON.stringify(value)}`)
        }
      }
    }

    // Writes whose answer claimed they were not applied, or left it open, found applied anyway.
    const observed = new Set<string>()
    for (const h of history) {
      if (h.input.op === "get" && h.output.kind === "value" && h.output.value !== null) {
        observed.add(`${h.input.key}\u0000${h.output.value}`)
      }
    }
    const appliedDespite = new Map<string, number>()
    for (const o of ops) {
      if (o.input.op !== "put" || o.outcome === "ok" || !observed.has(`${o.input.key}\u0000${o.input.value}`)) continue
      const label = `${o.outcome} ${o.status} ${o.message.slice(0, 60)}`
      appliedDespite.set(label, (appliedDespite.get(label) ?? 0) + 1)
      log(`chaos: a write answered ${o.status} ${JSON.stringify(o.message)} at ${rel(o.answered)} ms ` +
        `(called at ${rel(o.call)} ms) was applied: ${o.input.key} = ${o.input.value}`)
    }
    for (const [label, count] of appliedDespite) {
      if (label.startsWith("refused")) violations.push(`a write answered as refused was applied (${count}×): ${label}`)
    }

    // (iii)
    const claims = claimsOf(probes, members.length)
    violations.push(...leadershipViolations(claims, names).map((v) => `(iii) ${v}`))

    // (iv)
    const checkStart = now()
    const verdict: CheckResult = check(kvModel, pruned, { maxSteps: options.checkerMaxSteps ?? 5_000_000 })
    const checkMillis = now() - checkStart
    if (verdict._tag === "Illegal") {
      const f = verdict.failure
      violations.push(`(iv) not linearizable (key partition ${f.partition}, ${f.operations} operations). ` +
        `Last of a longest linearizable prefix (${f.longestPrefix.length}):\n    ${f.longestPrefix.slice(-12).join("\n    ")}\n` +
        `  state after it: ${f.stateAfterPrefix}; could not go next:\n    ${f.stuck.slice(0, 12).join("\n    ")}`)
    } else if (verdict._tag === "Unknown") {
      violations.push(`(iv) linearizability undecided: the checker's budget ran out on key partition ${verdict.partition}`)
    }

    // ---- stats ----
    const lc = probes.filter((p) => p.kind === "leader-check")
    const lc200 = lc.filter((p) => p.status === 200).sort((a, b) => a.sent - b.sent)
    let overlaps = 0
    let maxOverlap = 0
    for (let i = 0; i < lc200.length; i++) {
      for (let j = i + 1; j < lc200.length && lc200[j]!.sent < lc200[i]!.received; j++) {
        if (lc200[j]!.node === lc200[i]!.node) continue
        overlaps++
        maxOverlap = Math.max(maxOverlap, Math.min(lc200[i]!.received, lc200[j]!.received) - lc200[j]!.sent)
      }
    }
    let longestNoLeader = 0
    const answers200 = [...lc200].sort((a, b) => a.received - b.received)
    for (let i = 1; i < answers200.length; i++) {
      longestNoLeader = Math.max(longestNoLeader, answers200[i]!.received - answers200[i - 1]!.received)
    }
    const leaders = new Set(claims.filter((cl) => cl.termLo === cl.termHi).map((cl) => `${cl.node}@${cl.termLo}`))
    // Failover after a fault on the leader: until a node answered leader-check 200 again — another node,
    // or the faulted one once healed (a short pause or cut may end before anyone else is elected).
    const failovers: Array<number> = []
    for (const fr of faults) {
      if (!fr.wasLeader) continue
      const start = fr.at
      const healed = fr.at + fr.heldMillis
      const next = lc200.find((p) => p.sent > start && (names[p.node] !== fr.node || p.sent > healed))
      if (next !== undefined) failovers.push(next.received - start)
    }
    const byOutcome: Record<string, number> = {}
    const byRoute: Record<string, number> = {}
    for (const o of ops) {
      byOutcome[o.outcome] = (byOutcome[o.outcome] ?? 0) + 1
      byRoute[o.route] = (byRoute[o.route] ?? 0) + 1
    }
    const ambiguousKinds: Record<string, number> = {}
    for (const o of ops) {
      if (o.outcome !== "ambiguous") continue
      const label = `${o.status} ${o.message.replace(/[0-9.:]+/g, "N").slice(0, 70)}`
      ambiguousKinds[label] = (ambiguousKinds[label] ?? 0) + 1
    }
    const recoveries = faults.flatMap((fr) => (fr.recoveryMillis === undefined ? [] : [fr.recoveryMillis]))
    const workloadSeconds = (workloadEnd - t0) / 1000
    const stats: Record<string, unknown> = {
      seconds: Math.round((now() - t0) / 100) / 10,
      faults: faults.length,
      faultKinds: Object.fromEntries(kinds.map((k) => [k, faults.filter((fr) => fr.kind === k).length])),
      faultsOnLeader: faults.filter((fr) => fr.wasLeader).length,
      ops: ops.length,
      opsPerSecond: Math.round(ops.length / workloadSeconds),
      byOutcome,
      byRoute,
      ambiguous: ambiguousKinds,
      notAckedButObservedApplied: Object.fromEntries(appliedDespite),
      finalLastWritesChecked: lastWritesChecked,
      linearizability: {
        verdict: verdict._tag,
        keys: verdict.partitions,
        operations: verdict.operations,
        prunedPendingPuts: history.length - pruned.length,
        steps: verdict.steps,
        millis: Math.round(checkMillis)
      },
      monitor: {
        leaderChecks: lc.length,
        leaderCheck200: lc200.length,
        raftStatus: probes.length - lc.length,
        claims: claims.length,
        distinctLeaders: leaders.size,
        overlapping200FromTwoNodes: overlaps,
        maxOverlapMillis: Math.round(maxOverlap),
        longestWithoutA200Millis: Math.round(longestNoLeader)
      },
      leaderFaultUnavailableMillis: { n: failovers.length, p50: round(percentile(failovers, 50)), max: round(percentile(failovers, 100)) },
      recoveryMillis: { n: recoveries.length, p50: round(percentile(recoveries, 50)), max: round(percentile(recoveries, 100)) },
      wipesWithInstallSnapshot: `${faults.filter((fr) => fr.snapshotInstalled === true).length}/` +
        `${faults.filter((fr) => fr.kind === "wipe").length}`,
      finalAppliedIndex: applied[0]
    }

    const ok = violations.length === 0
    log(`chaos: faults:\n${faults.map((fr) =>
      `  #${fr.index} +${fr.at} ms ${fr.kind}${fr.detail ? `(${fr.detail})` : ""} ${fr.node}${fr.wasLeader ? " [leader]" : ""} ` +
      `held ${fr.heldMillis} ms, converged ${fr.recoveryMillis ?? "never"} ms` +
      (fr.snapshotInstalled === undefined ? "" : `, InstallSnapshot ${fr.snapshotInstalled ? "yes" : "no"}`)
    ).join("\n")}`)
    log(`chaos: stats ${JSON.stringify(stats)}`)
    for (const v of violations) log(`chaos: VIOLATION ${v}`)
    log(`chaos: SEED=${seed} ${ok ? "OK" : `FAILED with ${violations.length} violation(s); logs and data in ${logDir}`}`)
    if (!ok) {
      for (let i = 0; i < members.length; i++) saveOutput(members[i]!, i)
      for (const m of members) fs.cpSync(m.dir, path.join(logDir, `${m.name}-data`), { recursive: true })
    } else if (options.keepLogs === true) {
      for (let i = 0; i < members.length; i++) saveOutput(members[i]!, i)
      log(`chaos: node logs in ${logDir}`)
    } else fs.rmSync(logDir, { recursive: true, force: true })
    return { seed, ok, violations, faults, stats, logDir }
  } catch (e) {
    log(`chaos: SEED=${seed} ERROR ${e instanceof Error ? e.stack ?? e.message : String(e)}; node logs in ${logDir}`)
    cluster?.members.forEach((m, i) => saveOutput(m, i))
    throw e
  } finally {
    stopWorkers = true
    stopMonitor = true
    for (const p of healPorts) Partition.healQuietly(p)
    healPorts.clear()
    onExit()
    process.off("exit", onExit)
    await Promise.allSettled([...monitors, ...workers])
    await server?.close()
    await proxy?.stop()
    await cluster?.stopAll()
  }
}
