/**
 * Helpers for the operational end-to-end tests (test/e2e/operations*.test.ts): the deployment guide's
 * scenarios run against real node processes of a `startCluster` cluster. Kept apart from cluster.ts so
 * those tests can add members, compare backends and run a node under its own uid without changing the
 * helpers other suites share.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, afterEach, beforeAll, expect } from "vitest"
import { replicatedTables } from "../../core/backend/Repository.js"
import { type Cluster, type ClusterMember, startCluster } from "./cluster.js"
import { freePort } from "./ports.js"

export type Member = ClusterMember

/**
 * A cluster of `size` nodes for a whole test file, and the members its tests add (`extra`): started before the
 * file's tests, every node's log saved when a test fails, every node stopped after the file.
 */
export const clusterForFile = (size: number): { cluster: Cluster; readonly extra: Array<Member> } => {
  const suite: { cluster: Cluster | undefined; readonly extra: Array<Member> } = { cluster: undefined, extra: [] }
  beforeAll(async () => {
    suite.cluster = await startCluster(size)
  }, 120_000)
  afterEach(({ task }) => {
    if (task.result?.state === "fail") console.log(`node logs: ${saveLogs([...(suite.cluster?.members ?? []), ...suite.extra])}`)
  })
  afterAll(async () => {
    for (const m of suite.extra) await m.process?.stop("SIGKILL")
    await suite.cluster?.stopAll()
  })
  return {
    get cluster(): Cluster {
      if (suite.cluster === undefined) throw new Error("the cluster is started in beforeAll")
      return suite.cluster
    },
    extra: suite.extra
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Polls `cond` every 50 ms until it holds; fails naming `what` (and the last detail) after `timeoutMs`. */
export const waitUntil = async (
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
  detail: () => string = () => ""
): Promise<number> => {
  const t0 = Date.now()
  for (;;) {
    if (await cond()) return Date.now() - t0
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${detail()}`)
    await sleep(50)
  }
}

/**
 * A mutation through the API. 503 means it was refused before it was proposed (no leader known, or
 * the node stopped leading before appending): retrying it is safe. Anything else is returned as is.
 */
export const mutate = async (url: string, attempts = 100): Promise<{ status: number; body: unknown }> => {
  for (let attempt = 0; ; attempt++) {
    let status = 0
    let text = ""
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(15_000) })
      status = r.status
      text = await r.text()
    } catch (e) {
      // The node we asked is being restarted by the test: as refused as a 503.
      status = 0
      text = String(e)
    }
    if ((status !== 503 && status !== 0) || attempt >= attempts) {
      let body: unknown = text
      try {
        body = JSON.parse(text)
      } catch {
        // not JSON: keep the text
      }
      return { status, body }
    }
    await sleep(100)
  }
}

/** A mutation that must succeed (orchestrator's envelope with Code "OK"). */
export const mustMutate = async (url: string) => {
  const r = await mutate(url)
  expect(r, `${url}: ${JSON.stringify(r.body)}`).toMatchObject({ status: 200, body: { Code: "OK" } })
}

/**
 * raft-add-peer / raft-remove-peer through `m` (a follower forwards it to the leader). Retried when the
 * leader refused the change for now (no leader: 503; leader unreachable: 502; "has not committed an
 * entry of its term yet" right after an election; "still uncommitted" while the previous change
 * commits) or when its fate is unknown (a timeout, leadership lost before commit). A change is
 * idempotent in effect: on a retry, "already a voter" / "is not a voter" means an earlier attempt went
 * through.
 */
export const changeMembership = async (m: Member, action: "raft-add-peer" | "raft-remove-peer", addr: string) => {
  const transient = /has not committed an entry of its term|still uncommitted|not leader|not the leader|transfer in progress|not committed within|replaced by a newer leader|leadership lost/
  for (let attempt = 0; ; attempt++) {
    const r = await api(m, `${action}/${addr}`)
    const message = typeof r.body === "object" && r.body !== null && "Message" in r.body ? String(r.body.Message) : ""
    if (r.status === 200) return { ...r, attempts: attempt + 1 }
    if (attempt > 0 && /already a voter|is not a voter/.test(message)) return { status: 200, body: addr, attempts: attempt + 1 }
    const retry = r.status === 0 || r.status === 502 || r.status === 503 || (r.status === 500 && transient.test(message))
    if (!retry || attempt >= 50) return { ...r, attempts: attempt + 1 }
    await sleep(200)
  }
}

/** GET /api/<p> on a member: status and parsed JSON body (or the text). Status 0: no answer. */
export const api = async (m: Member, p: string): Promise<{ status: number; body: unknown }> => {
  try {
    // Generous: on a loaded 2-core machine a node may take seconds to answer; 0 means no answer at all.
    const r = await fetch(`${m.url}/api/${p}`, { signal: AbortSignal.timeout(5000) })
    const text = await r.text()
    try {
      return { status: r.status, body: JSON.parse(text) as unknown }
    } catch {
      return { status: r.status, body: text }
    }
  } catch {
    return { status: 0, body: undefined }
  }
}

export interface RaftStatusBody {
  readonly State: string
  readonly Healthy: boolean
  readonly Leader: string
  readonly Peers: ReadonlyArray<string>
  readonly Term: number
  readonly CommitIndex: number
  readonly AppliedIndex: number
  readonly LastIndex: number
  readonly SnapshotIndex: number
  readonly HasLease: boolean
}

export const raftStatus = async (m: Member): Promise<RaftStatusBody | undefined> => {
  const r = await api(m, "raft-status")
  return r.status === 200 ? (r.body as RaftStatusBody) : undefined
}

/**
 * Every replicated table of a member's backend, rows in a total order (all columns), read from its
 * SQLite file. Row ids are not compared beyond the columns themselves, so a backend restored from a
 * snapshot compares equal to one that applied every op.
 */
export const replicatedDump = (cluster: Cluster, m: Member): Record<string, ReadonlyArray<Record<string, unknown>>> => {
  const out: Record<string, ReadonlyArray<Record<string, unknown>>> = {}
  for (const table of replicatedTables) {
    const columns = cluster.query(m, `SELECT name FROM pragma_table_info('${table}')`).map((r) => String(r.name))
    const order = columns.map((_, i) => String(i + 1)).join(", ")
    out[table] = cluster.query(m, `SELECT * FROM ${table} ORDER BY ${order}`)
  }
  return out
}

export const appliedIndex = (cluster: Cluster, m: Member): number => {
  const rows = cluster.query(m, "SELECT applied_index FROM raft_applied")
  return rows.length === 0 ? 0 : Number(rows[0]!.applied_index)
}

/** Rows in all replicated tables (to check that a comparison is not between empty backends). */
export const rowCount = (dump: Record<string, ReadonlyArray<unknown>>) =>
  Object.values(dump).reduce((n, rows) => n + rows.length, 0)

/**
 * Waits until `m`'s replicated tables equal `reference`'s, table by table (a follower applies within a
 * heartbeat or two of the commit), then asserts it so a failure shows the difference.
 */
export const expectSameTables = async (cluster: Cluster, reference: Member, m: Member, timeoutMs = 20_000) => {
  const t = await waitUntil(
    `${m.name}'s replicated tables to equal ${reference.name}'s`,
    () => {
      try {
        return JSON.stringify(replicatedDump(cluster, m)) === JSON.stringify(replicatedDump(cluster, reference))
      } catch {
        return false // the backend file is not created yet
      }
    },
    timeoutMs
  ).catch(() => -1)
  const mine = replicatedDump(cluster, m)
  const theirs = replicatedDump(cluster, reference)
  for (const table of replicatedTables) expect(mine[table], `${m.name}.${table} vs ${reference.name}.${table}`).toEqual(theirs[table])
  return t
}

/**
 * One op of each kind of replicated table, keyed by `i` so every call adds rows (more than one table,
 * so the comparison covers more than downtime). All are upserts: a request retried after its node was
 * restarted under it (status 0) cannot fail with "already exists".
 */
export const opUrls = (base: string, i: number): ReadonlyArray<string> => {
  const host = `db${i}.example`
  switch (i % 4) {
    case 0:
      return [`${base}/api/begin-downtime/${host}/3306/ops/op-${i}/1h`]
    case 1:
      return [`${base}/api/tag/${host}/3306/role/r${i}`]
    case 2:
      return [`${base}/api/register-candidate/${host}/3306/prefer`]
    default:
      return [`${base}/api/register-hostname-unresolve/${host}/3306/vip${i}.example`]
  }
}

/** Commits ops `from`..`to-1` through `m` (any node: followers forward), `parallel` at a time. */
export const commitOps = async (m: Member, from: number, to: number, parallel = 4) => {
  for (let i = from; i < to; i += parallel) {
    const batch: Array<Promise<void>> = []
    for (let j = i; j < Math.min(to, i + parallel); j++) for (const url of opUrls(m.url, j)) batch.push(mustMutate(url))
    await Promise.all(batch)
  }
}

/** A new member (nodeX) in the cluster's temp dir, with fresh ports and the cluster's settings; not started. */
export const newMember = async (cluster: Cluster, name: string, raftNodes: ReadonlyArray<string>): Promise<Member> => {
  const template = cluster.members[0]!
  const root = path.dirname(template.dir)
  const httpPort = await freePort()
  const raftPort = await freePort()
  const dir = path.join(root, name)
  fs.mkdirSync(dir, { recursive: true })
  const raftAddress = `127.0.0.1:${raftPort}`
  return {
    name,
    httpPort,
    raftPort,
    raftAddress,
    url: `http://127.0.0.1:${httpPort}`,
    dir,
    config: {
      ...template.config,
      ListenAddress: `127.0.0.1:${httpPort}`,
      SQLite3DataFile: path.join(dir, "backend.sqlite3"),
      RaftDataDir: path.join(dir, "raft"),
      RaftBind: raftAddress,
      RaftNodes: [...raftNodes]
    },
    process: undefined
  }
}

/** Sets a member's RaftNodes for its next start (the operator editing its config file). */
export const setRaftNodes = (m: Member, raftNodes: ReadonlyArray<string>) => {
  ;(m.config as Record<string, unknown>).RaftNodes = [...raftNodes]
}

/** Removes a member's raft data dir and backend file (a node that lost its disk). */
export const wipe = (m: Member) => {
  fs.rmSync(String(m.config.RaftDataDir), { recursive: true, force: true })
  for (const suffix of ["", "-wal", "-shm", "-journal"]) fs.rmSync(`${String(m.config.SQLite3DataFile)}${suffix}`, { force: true })
}

/**
 * Output of every process a member ran in this test file (the current one last), kept across stops so a
 * failing test can show what a stopped node logged.
 */
const history = new Map<Member, Array<string>>()
export const remember = (m: Member) => {
  const out = m.process?.output()
  if (out !== undefined) history.set(m, [...(history.get(m) ?? []), out])
}
export const fullOutput = (m: Member): string => [...(history.get(m) ?? []), m.process?.output() ?? ""].join("\n--- restart ---\n")

/** Stops a member (SIGTERM, or SIGKILL for a crash), keeping its output for `saveLogs`. */
export const stopMember = async (cluster: Cluster, m: Member, signal: "SIGTERM" | "SIGKILL" = "SIGTERM") => {
  remember(m)
  if (signal === "SIGKILL") {
    await cluster.kill9(m)
    return null
  }
  return cluster.stop(m)
}

/** Writes every member's output to a new temp dir (for a failed test) and returns its path. */
export const saveLogs = (members: ReadonlyArray<Member>): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-ops-logs-"))
  for (const m of members) fs.writeFileSync(path.join(dir, `${m.name}.log`), fullOutput(m))
  return dir
}

/** Lines of a running member's output that contain `text`. */
export const logLines = (m: Member, text: string): ReadonlyArray<string> =>
  (m.process?.output() ?? "").split("\n").filter((l) => l.includes(text))

/** Lines containing `text` in everything a member logged in this file, earlier processes included. */
export const allLogLines = (m: Member, text: string): ReadonlyArray<string> => fullOutput(m).split("\n").filter((l) => l.includes(text))

/** leader-check of every running member, in `members` order (0 for a member not running). */
export const leaderChecks = async (cluster: Cluster, members: ReadonlyArray<Member> = cluster.members) =>
  Promise.all(members.map((m) => (m.process === undefined ? Promise.resolve(0) : cluster.leaderCheck(m))))

/** Waits until exactly one of `among` answers leader-check 200 (members not running count as not 200). */
export const leaderAmong = async (cluster: Cluster, among: ReadonlyArray<Member>, timeoutMs = 15_000) => {
  let leader: Member | undefined
  const millis = await waitUntil(
    `one leader among ${among.map((m) => m.name).join(", ")}`,
    async () => {
      const codes = await leaderChecks(cluster, among)
      const leaders = among.filter((_, i) => codes[i] === 200)
      leader = leaders.length === 1 ? leaders[0] : undefined
      return leader !== undefined
    },
    timeoutMs
  )
  return { leader: leader!, millis }
}

/**
 * Samples leader-check on `members` every `everyMs` until `stop()` resolves true, recording every
 * sample where more than one member answered 200 and every 200 from a member in `never`.
 */
export const watchLeaders = (cluster: Cluster, members: () => ReadonlyArray<Member>, never: () => ReadonlyArray<Member> = () => []) => {
  const violations: Array<string> = []
  let samples = 0
  let running = true
  const loop = (async () => {
    while (running) {
      const ms = members().filter((m) => m.process !== undefined)
      const codes = await Promise.all(ms.map((m) => cluster.leaderCheck(m)))
      samples++
      const leaders = ms.filter((_, i) => codes[i] === 200)
      if (leaders.length > 1) violations.push(`two leaders at once: ${leaders.map((m) => m.name).join(", ")}`)
      for (const m of leaders) if (never().includes(m)) violations.push(`${m.name} answered 200 but must not`)
      await sleep(20)
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      return { violations, samples }
    }
  }
}

/**
 * One-way and per-node network faults with nftables (root only), one table per fault (`inet
 * orc_ops_<name>`), so healing is `delete table` and never touches another suite's rules
 * (test/harness/Partition.ts uses `orc_harness_<port>`). Rules go in the output hook, where loopback
 * packets still carry their socket, so `meta skuid` can tell which node process sent them.
 */
const nft = (script: string) => {
  const r = spawnSync("nft", ["-f", "-"], { input: script, encoding: "utf8" })
  if (r.status !== 0) throw new Error(`nft failed (exit ${r.status}; needs root and nftables): ${r.stderr}${r.error?.message ?? ""}\n${script}`)
}
export const cut = (name: string, rules: ReadonlyArray<string>) =>
  nft(`table inet orc_ops_${name}
delete table inet orc_ops_${name}
table inet orc_ops_${name} {
  chain output {
    type filter hook output priority -10; policy accept;
${rules.map((r) => `    ${r}`).join("\n")}
  }
}
`)
export const heal = (name: string) => nft(`table inet orc_ops_${name}\ndelete table inet orc_ops_${name}\n`)
export const healQuietly = (name: string) => {
  try {
    heal(name)
  } catch {
    // best effort, from an after-hook
  }
}

/** leader-check samples of `members` every ~20 ms: when each member answered 200. */
export const sampleLeaders = (cluster: Cluster, members: ReadonlyArray<Member>) => {
  const samples: Array<{ readonly at: number; readonly leaders: ReadonlyArray<Member> }> = []
  let running = true
  const loop = (async () => {
    while (running) {
      const at = Date.now()
      const codes = await leaderChecks(cluster, members)
      samples.push({ at, leaders: members.filter((_, i) => codes[i] === 200) })
      await sleep(20)
    }
  })()
  return {
    samples,
    stop: async () => {
      running = false
      await loop
      return samples
    }
  }
}
