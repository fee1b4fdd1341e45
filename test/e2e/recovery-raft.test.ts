/**
 * Automated recovery in the raft deployment, end to end: 3 real node processes (bin/orchestrator.js over dist/;
 * build first), each with its own SQLite backend, each probing a real MariaDB topology (master + 3 GTID
 * replicas) and analysing it; only the raft leader recovers, and only when a majority of the nodes see the
 * master dead (quorum-agreed detection, docs/recovery.md).
 *
 * (c) a master only the leader cannot reach (nftables drops what the leader's process sends to it) is not
 *     failed over, even once its replicas stop replicating and the leader's own analysis says DeadMaster;
 * (a) kill -9 the master: exactly one recovery, run by the leader, replicated to every node's backend; the new
 *     master is writable, the replicas replicate from it, nothing a replica had received is lost;
 * (b) the leader is killed while the recovery runs its PreFailover hook: the next leader resumes the same
 *     recovery and finishes it (orchestrator issue #1296 left it blocking).
 *
 * The nodes run under their own uids so nftables can tell their packets apart (`meta skuid`): root only,
 * like the other partition tests; without root (c) is skipped and the nodes run as this user. Times are
 * printed, never asserted.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { isRoot } from "../harness/MariaDbInstall.js"
import { type MariaDbInstance, Shape, startTopology, type Topology } from "../harness/Topology.js"
import { scalar, seqOf, setupSchema, startWriter } from "../recovery/support.js"
import { type Cluster, type ClusterMember, startCluster, loadNote } from "../support/cluster.js"
import { analysisOn as nodeAnalysis, awaitAllSeeHealthy, awaitFailover, lostTransactions } from "../support/failover.js"

const root = isRoot()
const uids = [47301, 47302, 47303]
const pollSeconds = 2
const table = "orc_recovery_raft"

let topo: Topology
let cluster: Cluster
let dir: string
/** The master of the topology as the tests leave it. */
let master: MariaDbInstance
let replicas: Array<MariaDbInstance>
const outputs = new Map<string, string>()
/** Names of the nodes seen leading at the start of a part (detections are registered by whoever led). */
const leaders = new Set<string>()

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const waitFor = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = 30_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(100)
  }
}

const getJson = async (url: string): Promise<{ readonly status: number; readonly body: unknown }> => {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) })
  const text = await r.text()
  try {
    return { status: r.status, body: JSON.parse(text) as unknown }
  } catch {
    return { status: r.status, body: text }
  }
}

type Details = Record<string, unknown>
const detailsOf = (body: unknown): Details | null => (body as { readonly Details?: Details | null }).Details ?? null

/** /api/health of one node: answered by the node itself (its token, whether it leads). */
const health = async (m: ClusterMember) => {
  const d = detailsOf((await getJson(`${m.url}/api/health`)).body)
  return { token: String(d?.["Token"]), leader: d?.["IsRaftLeader"] === true }
}

/** One node's own analysis of an instance (answered locally, never forwarded). */
const analysisOn = (m: ClusterMember, i: MariaDbInstance) => nodeAnalysis(m.url, i.port)

const running = () => cluster.members.filter((m) => m.process !== undefined)

/** Every running node sees `m` as a healthy master of exactly `rs`. */
const allSeeHealthy = (m: MariaDbInstance, rs: ReadonlyArray<MariaDbInstance>, timeoutMs = 30_000) =>
  awaitAllSeeHealthy(running().map((n) => n.url), m, rs.length, timeoutMs)

interface RecoveryRow {
  readonly uid: string
  readonly hostname: string
  readonly port: number
  readonly end_recovery: number | null
  readonly is_successful: number
  readonly successor_port: number | null
  readonly processing_node_token: string
  readonly acknowledged: number
}
const recoveriesOn = (m: ClusterMember): ReadonlyArray<RecoveryRow> =>
  cluster.query(m, "SELECT uid, hostname, port, end_recovery, is_successful, successor_port, processing_node_token, acknowledged FROM topology_recovery ORDER BY recovery_id") as unknown as ReadonlyArray<RecoveryRow>
const stepsOn = (m: ClusterMember, uid: string): ReadonlyArray<string> =>
  cluster.query(m, `SELECT message FROM topology_recovery_steps WHERE recovery_uid = '${uid.replace(/[^0-9a-f-]/g, "")}' ORDER BY recovery_step_id`)
    .map((r) => String(r["message"]))
const detectionTokensOn = (m: ClusterMember, port: number): ReadonlyArray<string> =>
  cluster.query(m, `SELECT processing_node_token AS t FROM topology_failure_detection WHERE port = ${port}`).map((r) => String(r["t"]))

const nft = (script: string) => {
  const r = spawnSync("nft", ["-f", "-"], { input: script, encoding: "utf8" })
  if (r.status !== 0) throw new Error(`nft failed (exit ${r.status}): ${r.stderr}${r.error?.message ?? ""}`)
}
const cut = (rule: string) =>
  nft(`table inet ${table}\ndelete table inet ${table}\ntable inet ${table} {\n  chain output {\n    type filter hook output priority -10; policy accept;\n    ${rule}\n  }\n}\n`)
const heal = () => {
  try {
    nft(`table inet ${table}\ndelete table inet ${table}\n`)
  } catch {
    // best effort
  }
}

/** The replicas of `m` point at it and replicate; `m` is writable. */
const expectTopology = async (m: MariaDbInstance, rs: ReadonlyArray<MariaDbInstance>) => {
  expect(await scalar(m, "SELECT @@read_only")).toBe("0")
  expect(await m.slaveStatus()).toBeUndefined()
  for (const r of rs) {
    const s = await r.slaveStatus()
    expect(Number(s?.["Master_Port"])).toBe(m.port)
    expect([s?.["Slave_IO_Running"], s?.["Slave_SQL_Running"]]).toEqual(["Yes", "Yes"])
  }
}

const remember = () => {
  for (const m of cluster?.members ?? []) if (m.process !== undefined) outputs.set(m.name, m.process.output())
}

beforeAll(async () => {
  const t0 = Date.now()
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-recovery-raft-"))
  // Hooks run as the nodes' uids.
  fs.chmodSync(dir, 0o777)
  fs.writeFileSync(path.join(dir, "hooks.log"), "")
  fs.chmodSync(path.join(dir, "hooks.log"), 0o666)
  topo = await startTopology({ shape: Shape.masterWithReplicas(3) })
  await setupSchema(topo)
  master = topo.master
  replicas = [...topo.replicas]
  // The hook is slow only while the `slow` file exists (part b); it logs every run.
  const hook = `echo "pre {failedPort} $PPID" >> ${dir}/hooks.log; if [ -f ${dir}/slow ]; then touch ${dir}/hook-sleeping; sleep 4; fi`
  cluster = await startCluster(3, {
    ...topo.orchestratorConfig,
    DiscoverySeeds: [topo.master.key],
    InstancePollSeconds: pollSeconds,
    MySQLConnectTimeoutSeconds: 1,
    // A probe on a pooled connection to a black-holed master fails after this (default 10 s): part c is shorter.
    MySQLDiscoveryReadTimeoutSeconds: 3,
    RecoverMasterClusterFilters: ["*"],
    // Parts a and b fail the same cluster twice: the test acknowledges (a) in between.
    RecoveryPeriodBlockSeconds: 600,
    PreFailoverProcesses: [hook]
  }, {
    // All nodes share 127.0.0.1: name each node's peers (the derivation from RaftNodes would give its own port).
    perMember: (m, all) => ({ ConsensusPeerHttpUris: all.filter((o) => o !== m).map((o) => o.url) }),
    ...(root ? { uids } : {})
  })
  await cluster.waitForLeader(30_000)
  await allSeeHealthy(master, replicas, 60_000)
  console.log(`setup: topology, 3 nodes, every node sees the master healthy after ${Date.now() - t0} ms (${loadNote()})`)
}, 120_000)

afterEach(({ task }) => {
  heal()
  if (task.result?.state === "fail" || process.env["ORC_E2E_KEEP_LOGS"] !== undefined) {
    remember()
    const logs = fs.mkdtempSync(path.join(os.tmpdir(), "orc-recovery-raft-logs-"))
    for (const [name, out] of outputs) fs.writeFileSync(path.join(logs, `${name}.log`), out)
    console.log(`node logs: ${logs}`)
  }
})

afterAll(async () => {
  heal()
  await cluster?.stopAll()
  await topo?.stop()
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true })
})

describe("recovery with 3 raft nodes", () => {
  it.runIf(root)("(c) the leader alone sees the master dead: no failover (quorum-agreed detection)", async () => {
    const leader = await cluster.waitForLeader()
    leaders.add(leader.name)
    const followers = cluster.members.filter((m) => m !== leader)
    const uid = uids[cluster.members.indexOf(leader)]!
    const t0 = Date.now()
    cut(`meta skuid ${uid} tcp dport ${master.port} drop`)
    try {
      // Only the leader lost the master; its replicas still replicate: UnreachableMaster, nothing to recover.
      await waitFor("the leader to lose the master", async () =>
        String((await analysisOn(leader, master))?.["Analysis"]).startsWith("UnreachableMaster") ? true : undefined, 20_000)
      // Replication stops as well: the leader now sees DeadMaster, the others a reachable master whose replicas
      // do not replicate. One node of three: below the quorum of two.
      for (const r of replicas) await r.query("STOP SLAVE IO_THREAD", [], { user: "admin" })
      await waitFor("the leader's DeadMaster", async () => (await analysisOn(leader, master))?.["Analysis"] === "DeadMaster" ? true : undefined, 20_000)
      const deadAt = Date.now()
      await waitFor("the followers to see the replicas stopped", async () => {
        const as = await Promise.all(followers.map((f) => analysisOn(f, master)))
        return as.every((a) => a?.["Analysis"] === "AllMasterReplicasNotReplicating") ? true : undefined
      }, 20_000)
      const blocked = await waitFor("a recovery blocked for lack of quorum", async () => {
        const list = (await getJson(`${leader.url}/api/blocked-recoveries`)).body as ReadonlyArray<Details>
        return list.find((b) => (b["FailedInstanceKey"] as Details)["Port"] === master.port && String(b["Reason"]).startsWith("quorum:"))
      }, 20_000)
      console.log(`quorum: the leader's own analysis said DeadMaster ${deadAt - t0} ms after the cut; blocked: ${String(blocked["Reason"])}`)
      expect(blocked["Reason"]).toContain("1 of 3 nodes")
      // Held for more than two poll intervals after the leader saw DeadMaster: nothing changes.
      while (Date.now() - deadAt < (2 * pollSeconds + 2) * 1000) {
        for (const m of running()) expect(recoveriesOn(m)).toEqual([])
        expect(await scalar(master, "SELECT @@read_only")).toBe("0")
        await sleep(250)
      }
      expect(await Promise.all(replicas.map(async (r) => Number((await r.slaveStatus())?.["Master_Port"])))).toEqual(replicas.map(() => master.port))
      expect(await Promise.all(replicas.map((r) => scalar(r, "SELECT @@read_only")))).toEqual(replicas.map(() => "1"))
      // (Whoever leads now: a follower sees the master alive and would not recover it either.)
      console.log(`quorum: ${leader.name} led when the master was cut off; ${(await cluster.waitForLeader()).name} leads now`)
    } finally {
      heal()
      for (const r of replicas) await r.query("START SLAVE IO_THREAD", [], { user: "admin" })
    }
    await allSeeHealthy(master, replicas)
    console.log(`quorum: healed, every node sees the master healthy again after ${Date.now() - t0} ms (${loadNote()})`)
  }, 90_000)

  it("(a) kill -9 the master: one recovery, by the leader, replicated to every node; writable new master, replicas repointed", async () => {
    const leader = await cluster.waitForLeader()
    leaders.add(leader.name)
    const tokens = new Map(await Promise.all(cluster.members.map(async (m) => [m.name, (await health(m)).token] as const)))
    const base = seqOf(await scalar(master, "SELECT @@gtid_binlog_pos"))
    const writer = await startWriter(master, topo.credentials)
    await sleep(500)
    const t0 = Date.now()
    await master.kill9()
    const stopping = writer.stop()
    const failover = await awaitFailover(master, replicas, t0, 60_000)
    await stopping
    expect(failover.master).toBeDefined()
    const successor = failover.master!
    const others = replicas.filter((r) => r !== successor)
    await expectTopology(successor, others)
    const lost = await lostTransactions(successor, failover.received)
    expect(lost).toBe(0)
    // Writes on the new master reach everyone.
    await successor.query("INSERT INTO app.t (v) VALUES (2)", [], { user: "admin" })
    await topo.syncReplicas({ from: successor, to: others })

    // The recovery, as each node's own backend has it (replicated through raft, read from the SQLite files).
    const rows = await waitFor("the resolved recovery on every node", async () => {
      const all = cluster.members.map(recoveriesOn)
      return all.every((rs) => rs.length === 1 && rs[0]!.end_recovery !== null) ? all : undefined
    })
    // No second recovery follows.
    await sleep(2 * pollSeconds * 1000)
    const again = cluster.members.map(recoveriesOn)
    expect(again).toEqual(rows)
    const r = rows[0]![0]!
    expect(rows.every((rs) => JSON.stringify(rs) === JSON.stringify(rows[0]))).toBe(true)
    expect(r).toMatchObject({ port: master.port, is_successful: 1, successor_port: successor.port })
    // Run by the leader: its token on the recovery (a leader change under load would add a `resumed by` line
    // naming the next one); followers never ran any of it.
    const now = await cluster.waitForLeader()
    leaders.add(now.name)
    const runner = cluster.members.find((m) => tokens.get(m.name) === r.processing_node_token)
    expect(runner).toBeDefined()
    expect([leader.name, now.name]).toContain(runner!.name)
    const steps = cluster.members.map((m) => stepsOn(m, r.uid))
    expect(steps.every((s) => JSON.stringify(s) === JSON.stringify(steps[0]))).toBe(true)
    expect(steps[0]!.at(-1)).toBe(`recovery successful: ${successor.key}`)
    const resumed = steps[0]!.filter((s) => s.startsWith("resumed by"))
    const actors = cluster.members.filter((m) => m === runner || resumed.some((l) => l.includes(`(token ${tokens.get(m.name)})`)))
    expect(actors.length).toBe(1 + resumed.length)
    if (resumed.length > 0) console.log(`kill -9: leadership moved during the recovery: ${resumed.join("; ")}`)
    // The PreFailover hook ran in the runner's process only (hooks log their parent's pid), never in a follower's.
    const runs = fs.readFileSync(path.join(dir, "hooks.log"), "utf8").trim().split("\n").filter((l) => l.startsWith(`pre ${master.port} `))
    expect(runs.length).toBeGreaterThanOrEqual(1)
    expect(runs[0]).toBe(`pre ${master.port} ${runner!.process!.child.pid}`)
    for (const l of runs) expect(actors.map((m) => `pre ${master.port} ${m.process?.child.pid}`)).toContain(l)
    // Detections (part c registered this master's already, if it ran) come from leaders only.
    const leaderTokens = new Set([...leaders].map((n) => tokens.get(n)))
    for (const m of cluster.members) {
      const ds = detectionTokensOn(m, master.port)
      expect(ds.length).toBeGreaterThan(0)
      for (const t of ds) expect(leaderTokens.has(t)).toBe(true)
    }
    const agreeing = JSON.parse(String(cluster.query(leader, `SELECT analysis_entry AS a FROM topology_recovery WHERE uid = '${r.uid}'`)[0]?.["a"])) as Details
    console.log(
      `kill -9: healed after ${failover.millis} ms (recovery ran ${Number(r.end_recovery) - Number(cluster.query(leader, `SELECT start_active_period AS s FROM topology_recovery WHERE uid = '${r.uid}'`)[0]?.["s"])} ms), ` +
        `by ${runner?.name} (leader ${leader.name}), ${String(agreeing["CountAdditionalAgreeingNodes"])} other node(s) agreeing; ` +
        `writer committed ${writer.committed()}, received per replica ${[...failover.received.values()].map((v) => v - base).join("/")}, lost ${lost} (${loadNote()})`
    )
    master = successor
    replicas = others
  }, 90_000)

  it("(b) the leader is killed during the recovery's PreFailover hook: the next leader resumes and finishes it", async () => {
    // (a)'s recovery would block the cluster (anti-flapping) for RecoveryPeriodBlockSeconds.
    // Idempotent: retried when the leader answers 503 (its lease lapsed for a moment on a loaded machine).
    await waitFor("ack-all-recoveries answered 200", async () =>
      (await getJson(`${(await cluster.waitForLeader()).url}/api/ack-all-recoveries?comment=e2e`)).status === 200 ? true : undefined)
    await allSeeHealthy(master, replicas)
    fs.writeFileSync(path.join(dir, "slow"), "")
    const hookRuns = () =>
      fs.readFileSync(path.join(dir, "hooks.log"), "utf8").trim().split("\n").filter((l) => l.startsWith(`pre ${master.port} `))
    const t0 = Date.now()
    await master.kill9()
    await waitFor("the leader's PreFailover hook to run", async () => (fs.existsSync(path.join(dir, "hook-sleeping")) ? true : undefined))
    const hookAt = Date.now()
    // The node running the recovery: the hook logged its parent's pid.
    const pid = Number(hookRuns()[0]?.split(" ")[2])
    const leader = cluster.members.find((m) => m.process?.child.pid === pid)
    expect(leader).toBeDefined()
    if (leader === undefined) return
    const started = recoveriesOn(leader).filter((r) => r.port === master.port)
    expect(started.length).toBe(1)
    expect(started[0]!.end_recovery).toBeNull()
    const uid = started[0]!.uid
    remember()
    await cluster.kill9(leader)
    fs.rmSync(path.join(dir, "slow"))
    const killedAt = Date.now()
    const next = await cluster.waitForLeader(30_000)
    const electedAt = Date.now()
    const liveTokens = await Promise.all(running().map(async (m) => (await health(m)).token))
    const failover = await awaitFailover(master, replicas, killedAt, 60_000)
    expect(failover.master).toBeDefined()
    const successor = failover.master!
    const others = replicas.filter((r) => r !== successor)
    await expectTopology(successor, others)

    const live = running()
    const rows = await waitFor("the recovery resolved on the live nodes", async () => {
      const all = live.map((m) => recoveriesOn(m).filter((r) => r.port === master.port))
      return all.every((rs) => rs.length === 1 && rs[0]!.end_recovery !== null) ? all : undefined
    })
    // The same recovery (no fresh one beside it), finished successfully; nothing left unresolved on any node.
    for (const rs of rows) expect(rs[0]).toMatchObject({ uid, is_successful: 1, successor_port: successor.port })
    for (const m of live) expect(recoveriesOn(m).filter((r) => r.end_recovery === null)).toEqual([])
    // The final audit line is its own replicated op, proposed after resolve-recovery: wait for it to be applied.
    const steps = await waitFor("the recovery's final step on the new leader", async () => {
      const s = stepsOn(next, uid)
      return s.at(-1)?.startsWith("recovery ") === true ? s : undefined
    })
    // Resumed by a surviving node (normally once; again only if leadership moved between the survivors meanwhile).
    const resumed = steps.filter((s) => s.startsWith("resumed by"))
    expect(resumed.length).toBeGreaterThanOrEqual(1)
    expect(resumed[0]).toMatch(/ at step 1\/3$/)
    for (const line of resumed) expect(liveTokens.some((t) => line === `resumed by ${os.hostname()} (token ${t}) at step ${line.split(" at step ")[1]}`)).toBe(true)
    expect(steps.at(-1)).toBe(`recovery successful: ${successor.key}`)
    // The hook ran on the killed leader, then again on the node that resumed the recovery at step 1.
    const runs = hookRuns()
    expect(runs.length).toBeGreaterThanOrEqual(2)
    expect(runs.slice(1).every((l) => running().some((m) => l === `pre ${master.port} ${m.process?.child.pid}`))).toBe(true)
    console.log(
      `leader killed mid-recovery: hook after ${hookAt - t0} ms, ${next.name} leads ${electedAt - killedAt} ms after the kill, ` +
        `healed ${failover.millis} ms after the kill (${loadNote()})\n${steps.map((s) => s.slice(0, 160)).join("\n")}`
    )
    master = successor
    replicas = others
  }, 90_000)
})
