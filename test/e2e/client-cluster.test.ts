/**
 * The three clients of client/ against a real three-node raft cluster (bin/orchestrator.js
 * processes, SQLite backends) through three rounds in which the leader dies — kill -9 twice, then
 * SIGSTOP followed by kill -9 — the dead node being restarted between rounds:
 *
 * - orchestrator-proxy (makeProxyHandler with the node:http transport, served in-process by
 *   `serve`, default 500 ms poll), under client traffic in every round: never forwards to a node
 *   whose latest leader check was not 200 — checked against its own state and against the nodes'
 *   own answers, polled independently by this test — and serves a read and a replicated mutation
 *   again within 1 s of each election (the bound issue 6 states; the numbers are printed);
 * - the SDK with the three node URLs: finds the new leader after a kill; re-sends a mutation only
 *   when it provably was not sent (connection refused), never one that timed out on a hung leader
 *   or died in flight with it;
 * - the orchestrator-client binary, before and after a kill.
 *
 * "Election" is the first moment the independent poller (every ~50 ms, every live node) sees a node
 * other than the dead one answer /api/leader-check 200.
 *
 * On a loaded 2-core machine a heartbeat can come later than the 300 ms election timeout and a
 * follower then starts a new election. That is raft doing its job, not a client failure: steps that
 * talk to the leader are judged against the poller's record, and repeated once (loudly) only when
 * that record shows the leadership changing during them.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { makeNodeFetch, type NodeServer, serve } from "../../client/proxy/node.js"
import { makeProxyHandler, type ProxyHandler } from "../../client/proxy/Proxy.js"
import { type ClientError, type FetchLike, makePromiseClient, type PromiseClient } from "../../client/sdk/index.js"
import { type Cluster, type ClusterMember, startCluster } from "../support/cluster.js"
import { repoRoot } from "../support/nodeProcess.js"

type Member = ClusterMember

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

const until = async <A>(what: string, probe: () => A | undefined | false, timeoutMs = 15_000, everyMs = 10): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = probe()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}
/** `until` over the SQLite backends: each probe opens the files synchronously, so not every 10 ms. */
const untilBackends = (what: string, probe: () => boolean) => until(what, probe, 15_000, 100)

/**
 * Where each test spent its time, printed after it (to keep the run time in view). The per-test
 * timeouts are safety nets, not expectations: on a loaded 2-core machine a node restart alone can
 * take 20 s.
 */
let marks: Array<string> = []
let marksFrom = Date.now()
const mark = (what: string) => marks.push(`${what} ${((Date.now() - marksFrom) / 1000).toFixed(1)}s`)
afterEach((context) => {
  if (marks.length > 0) console.log(`${context.task.name.slice(0, 7)}: ${marks.join(", ")}`)
  marks = []
  marksFrom = Date.now()
})

let cluster: Cluster
const memberAt = (url: string) => cluster.members.find((m) => m.url === url)!
const nameOf = (url: string) => cluster.members.find((m) => m.url === url)?.name ?? url

// ---------------------------------------------------------------------------------------------
// Ground truth: every live node's own /api/leader-check and /api/raft-state, polled by the test.

interface Sample {
  readonly node: string
  readonly start: number
  readonly end: number
  /** HTTP status of /api/leader-check; null without an answer. */
  readonly leaderCheck: number | null
  /** /api/raft-state ("Leader", "Follower", "Candidate"); null without an answer. */
  readonly raftState: string | null
}

const samples: Array<Sample> = []
let truthPolling = false
const truthLoops: Array<Promise<void>> = []

const answer = async (url: string): Promise<{ readonly status: number; readonly json: unknown } | null> => {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1_000) })
    const text = await r.text()
    try {
      return { status: r.status, json: JSON.parse(text) }
    } catch {
      return { status: r.status, json: null }
    }
  } catch {
    return null
  }
}

/** One loop per node, so that a node that does not answer (stopped, starting) delays only its own samples. */
const pollTruth = async (m: Member) => {
  while (truthPolling) {
    if (m.process !== undefined) {
      const start = Date.now()
      const [check, state] = await Promise.all([answer(`${m.url}/api/leader-check`), answer(`${m.url}/api/raft-state`)])
      samples.push({
        node: m.url,
        start,
        end: Date.now(),
        leaderCheck: check?.status ?? null,
        raftState: typeof state?.json === "string" ? state.json : null
      })
    }
    await sleep(50)
  }
}

/**
 * Leadership per the node itself: leader-check 200, or raft-state "Leader" (a leader whose lease
 * lapsed for a moment under CPU starvation answers 404 but still leads its term).
 */
const saysLeader = (s: Sample) => s.leaderCheck === 200 || s.raftState === "Leader"

/** Resolves once every running node has a sample that started after `t`. */
const samplesAfter = (t: number) =>
  until("ground-truth samples of every running node", () =>
    cluster.members.every((m) => m.process === undefined || samples.some((s) => s.node === m.url && s.start > t)))

/** The first node other than `gone` seen answering leader-check 200 in a sample started after `after`. */
const waitElection = async (gone: Member, after: number) => {
  const elected = await until(`a new leader after ${gone.name} went away`, () => {
    const s = samples.find((x) => x.start >= after && x.node !== gone.url && x.leaderCheck === 200)
    return s === undefined ? undefined : { member: memberAt(s.node), at: s.end }
  })
  mark(`${gone.name} down, ${elected.member.name} elected`)
  return elected
}

/**
 * The leader per the poller's latest answers: the one running node whose latest answer (of the
 * last 1.5 s) to leader-check was 200. Costs no request, and a hung node cannot slow it down.
 */
const latestLeader = (): Member | undefined => {
  const recent = Date.now() - 1_500
  const leading = cluster.members.filter((m) => {
    const last = m.process === undefined ? undefined : samples.filter((s) => s.node === m.url).at(-1)
    return last !== undefined && last.end >= recent && last.leaderCheck === 200
  })
  return leading.length === 1 ? leading[0] : undefined
}
const leaderNow = () => until("a single leader in the poller's latest answers", latestLeader)

/** A restarted node is back once it answers as a follower that knows it is not the leader. */
const waitRejoined = (m: Member, after: number) =>
  until(`${m.name} back as a follower`, () =>
    samples.some((s) => s.node === m.url && s.start >= after && s.raftState === "Follower" && s.leaderCheck === 404), 30_000)

/**
 * Why leadership was not settled during [from, to], if it was not: not exactly one node saying it
 * leads, or that node not answering leader-check 200 every time (lease lapse, new election, hang).
 */
const unsettled = (from: number, to: number): string | undefined => {
  const within = samples.filter((s) => s.end >= from && s.start <= to)
  const leaders = [...new Set(within.filter(saysLeader).map((s) => s.node))]
  if (leaders.length !== 1) return `nodes saying they lead: ${leaders.map(nameOf).join(", ") || "none"}`
  const lapses = within.filter((s) => s.node === leaders[0] && s.leaderCheck !== 200)
  if (lapses.length > 0) return `${nameOf(leaders[0]!)} answered leader-check ${lapses.map((s) => s.leaderCheck ?? "nothing").join(", ")}`
  return undefined
}

/**
 * Runs `step` (which asserts). If it fails while the leadership changed under it (see the file's
 * comment), waits for a single leader and runs `instead` once; a failure while one node led
 * throughout is a failure.
 */
const unlessLeadershipChanged = async <A>(what: string, step: () => Promise<A>, instead: () => Promise<A>): Promise<A> => {
  const from = Date.now()
  try {
    return await step()
  } catch (e) {
    const to = Date.now()
    await samplesAfter(to)
    const why = unsettled(from, to)
    if (why === undefined) throw e
    console.log(`${what}: failed while the leadership changed (${why}); once more after it settles. The failure: ${String(e)}`)
    await leaderNow()
    return instead()
  }
}

/** The changes of leadership the poller saw, for the report: "node2 from 12:00:01.123". */
const leadershipHistory = () => {
  const out: Array<string> = []
  let current: string | undefined
  for (const s of [...samples].sort((a, b) => a.start - b.start)) {
    if (s.leaderCheck !== 200 || s.node === current) continue
    current = s.node
    out.push(`${nameOf(s.node)} from ${new Date(s.start).toISOString().slice(11, 23)}`)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// The proxy, and every forward it makes.

interface Forward {
  readonly node: string
  readonly at: number
  /** The check handed to onForward: the proxy's latest for that node. */
  readonly status: number | null
  readonly checkedAt: number
  readonly latencyMillis: number
  /** The same node's entry of `status()`, read at the same moment. */
  readonly ownStatus: number | null
  readonly ownCheckedAt: number
}

const forwards: Array<Forward> = []

/**
 * What the independent poller saw of the node around the proxy's check, which observed the node at
 * some instant of [checkedAt - latency, checkedAt]: the last answer surely before, those
 * overlapping, the first surely after. Leadership lasts far longer than the poller's period here,
 * so a 200 the proxy saw shows up in at least one of them.
 */
const truthAround = (f: Forward) => {
  const mine = samples.filter((s) => s.node === f.node && (s.leaderCheck !== null || s.raftState !== null))
  const from = f.checkedAt - f.latencyMillis
  const before = mine.filter((s) => s.end <= from).at(-1)
  const overlapping = mine.filter((s) => s.end > from && s.start < f.checkedAt)
  const after = mine.find((s) => s.start >= f.checkedAt)
  return [before, ...overlapping, after].filter((s): s is Sample => s !== undefined)
}

const forwardProblems = (list: ReadonlyArray<Forward>): Array<string> =>
  list.flatMap((f) => {
    const problems: Array<string> = []
    const where = `forward to ${nameOf(f.node)} at ${new Date(f.at).toISOString()}`
    if (f.status !== 200) problems.push(`${where}: the proxy's latest check of it answered ${f.status}`)
    if (f.ownStatus !== 200 || f.ownCheckedAt !== f.checkedAt) {
      problems.push(`${where}: status() said ${f.ownStatus} at ${f.ownCheckedAt}, the hook ${f.status} at ${f.checkedAt}`)
    }
    const around = truthAround(f)
    if (!around.some(saysLeader)) {
      problems.push(`${where}: the node itself did not lead around the proxy's check at ${new Date(f.checkedAt).toISOString()}: ${
        JSON.stringify(around)
      }`)
    }
    return problems
  })

/** Every leader check the proxy made: the proxy's own observations of the nodes. */
const proxyChecks: Array<{ readonly node: string; readonly at: number; readonly status: number | null }> = []

let proxy: ProxyHandler
let proxyServer: NodeServer | undefined
let proxyUrl = ""
const cliChildren = new Set<ChildProcess>()

beforeAll(async () => {
  cluster = await startCluster(3)
  truthPolling = true
  for (const m of cluster.members) truthLoops.push(pollTruth(m))
  await cluster.waitForLeader()
  const transport = makeNodeFetch()
  proxy = makeProxyHandler({
    nodes: cluster.members.map((m) => m.url),
    // The transport orchestrator-proxy uses, recording the answers to the proxy's leader checks.
    fetch: async (input, init) => {
      if (!input.endsWith("/api/leader-check")) return transport(input, init)
      const node = input.slice(0, -"/api/leader-check".length)
      try {
        const r = await transport(input, init)
        proxyChecks.push({ node, at: Date.now(), status: r.status })
        return r
      } catch (e) {
        proxyChecks.push({ node, at: Date.now(), status: null })
        throw e
      }
    },
    onForward: (node, check) => {
      const own = proxy.status().nodes.find((n) => n.url === node)
      forwards.push({
        node,
        at: Date.now(),
        status: check.status,
        checkedAt: check.checkedAt === null ? Number.NaN : Date.parse(check.checkedAt),
        latencyMillis: check.latencyMillis ?? 0,
        ownStatus: own?.status ?? null,
        ownCheckedAt: own === undefined || own.checkedAt === null ? Number.NaN : Date.parse(own.checkedAt)
      })
    }
  })
  proxy.start()
  proxyServer = await serve(proxy, { host: "127.0.0.1", port: 0 })
  proxyUrl = `http://127.0.0.1:${proxyServer.port}`
  console.log(`cluster and proxy up in ${((Date.now() - marksFrom) / 1000).toFixed(1)}s`)
  marksFrom = Date.now()
}, 120_000)

afterAll(async () => {
  // Each step on its own: a failure of one must not leave the processes of the next behind.
  truthPolling = false
  void activeProbes?.stop()
  for (const c of cliChildren) c.kill("SIGKILL")
  await Promise.allSettled([proxy?.stop(), proxyServer?.close(), Promise.allSettled(truthLoops)])
  await cluster?.stopAll()
  if (samples.length > 0) console.log(`leadership seen by the poller: ${leadershipHistory().join("; ")}`)
}, 60_000)

// ---------------------------------------------------------------------------------------------
// Client traffic through the proxy.

interface ProbeResult {
  readonly kind: "read" | "write"
  readonly end: number
  readonly status: number
  readonly ok: boolean
  /** The body of a failure, shortened: which refusal it was. */
  readonly why: string
}

/** The traffic of the current round; stopped by the next round or at the end if a round failed half-way. */
let activeProbes: { readonly stop: () => Promise<void> } | undefined

/**
 * Concurrent like real clients (a request stuck on a hung leader does not hold the others back):
 * GET /api/leader-check every 25 ms — 200 only if the node answering leads — and a replicated
 * begin-downtime every 50 ms.
 */
const startProbes = (round: number) => {
  void activeProbes?.stop()
  const results: Array<ProbeResult> = []
  let stopped = false
  let inFlight = 0
  const one = async (kind: "read" | "write") => {
    const p = kind === "read" ? "/api/leader-check" : `/api/begin-downtime/proxy-round${round}.example/3306/e2e/probe/1h`
    inFlight++
    try {
      const r = await fetch(`${proxyUrl}${p}`, { signal: AbortSignal.timeout(30_000) })
      const body = await r.text()
      let ok = r.status === 200
      if (kind === "write") {
        try {
          ok = ok && (JSON.parse(body) as { Code?: unknown }).Code === "OK"
        } catch {
          ok = false
        }
      }
      results.push({ kind, end: Date.now(), status: r.status, ok, why: ok ? "" : body.slice(0, 60) })
    } catch (e) {
      results.push({ kind, end: Date.now(), status: 0, ok: false, why: String(e).slice(0, 60) })
    } finally {
      inFlight--
    }
  }
  const loop = async (kind: "read" | "write", every: number) => {
    while (!stopped) {
      if (inFlight < 256) void one(kind)
      await sleep(every)
    }
  }
  const loops = [loop("read", 25), loop("write", 50)]
  const probes = {
    results,
    firstOk: (kind: "read" | "write", after: number) =>
      results.filter((r) => r.kind === kind && r.ok && r.end >= after).reduce<ProbeResult | undefined>(
        (a, r) => (a === undefined || r.end < a.end ? r : a),
        undefined
      ),
    failures: (kind: "read" | "write", before: number) => {
      const counts = new Map<string, number>()
      for (const r of results) {
        if (r.kind !== kind || r.ok || r.end > before) continue
        const what = `${r.status === 0 ? "no answer" : r.status} ${r.why.replace(/\{"Code":"ERROR","Message":"/, "")}`
        counts.set(what, (counts.get(what) ?? 0) + 1)
      }
      return [...counts].map(([w, n]) => `${n}× ${w}`).join(" | ") || "none"
    },
    stop: async () => {
      stopped = true
      await Promise.all(loops)
      await until("the probes in flight", () => inFlight === 0, 35_000)
    }
  }
  activeProbes = probes
  return probes
}

/**
 * Where the leadership that served a success at `t` began: the latest start of a run of
 * leader-check 200 answers after `since`, still unbroken at `t`, in what both observers saw (this
 * test's poller and the proxy's own checks). It is the election itself unless the leadership was
 * disturbed again before `t` — a new election, or a lease lapse (the leader starved of CPU answers
 * 404 for a moment, and the proxy rightly stops forwarding to it meanwhile).
 */
const runStartBefore = (t: number, since: number, gone: Member): number | undefined => {
  let latest: number | undefined
  // Not the node that went down: an answer it sent before can still be read a little later.
  for (const m of cluster.members.filter((x) => x !== gone)) {
    const seen = [
      ...samples.filter((s) => s.node === m.url && s.start >= since && s.end <= t).map((s) => ({ at: s.end, status: s.leaderCheck })),
      ...proxyChecks.filter((c) => c.node === m.url && c.at >= since && c.at <= t)
    ].sort((a, b) => a.at - b.at)
    let runStart: number | undefined
    for (const o of seen) runStart = o.status === 200 ? runStart ?? o.at : undefined
    if (runStart !== undefined && (latest === undefined || runStart > latest)) latest = runStart
  }
  return latest
}

const downtimeRows = (m: Member, host: string) =>
  cluster.query(m, `SELECT hostname FROM database_instance_downtime WHERE hostname = '${host}'`)

const live = () => cluster.members.filter((m) => m.process !== undefined)

interface RoundStart {
  readonly round: number
  readonly old: Member
  readonly probes: ReturnType<typeof startProbes>
  readonly firstForward: number
}

/**
 * All three nodes up, one leader that the proxy and the given SDK clients agree on (asked again
 * if leadership moved meanwhile: this is set-up), and client traffic through the proxy reaching it.
 */
const beginRound = async (round: number, clients: ReadonlyArray<PromiseClient> = []): Promise<RoundStart> => {
  // A round that failed half-way may have left a node down; the kill needs all three.
  for (const m of cluster.members) {
    if (m.process === undefined) {
      const t = Date.now()
      await cluster.start(m)
      await waitRejoined(m, t)
    }
  }
  let old: Member
  for (let attempt = 1; ; attempt++) {
    old = await until("the proxy and the poller to agree on the leader", () => {
      const truth = latestLeader()
      return truth !== undefined && proxy.leader() === truth.url ? truth : undefined
    }, 30_000).catch((e: unknown) => {
      const recent = (url: string) =>
        proxyChecks.filter((c) => c.node === url).slice(-5).map((c) => `${c.status}@${new Date(c.at).toISOString().slice(17, 23)}`)
      throw new Error(`${String(e)}; the proxy: ${JSON.stringify(proxy.status())}; its last checks: ${
        cluster.members.map((m) => `${m.name} ${recent(m.url).join(" ")}`).join("; ")
      }; leadership seen by the poller: ${leadershipHistory().slice(-3).join("; ")}`)
    })
    // NoLeader here is a lease lapse or an election under way: ask again.
    const found = await Promise.all(clients.map((c) => c.rediscover().catch((e: ClientError) => e._tag)))
    if (found.every((api) => api === `${old.url}/api`) && proxy.leader() === old.url && latestLeader() === old) break
    if (attempt === 5) throw new Error(`no stable leader to start round ${round} with: the SDK found ${found.join(", ")}, the proxy ${proxy.leader()}`)
    await sleep(200)
  }
  const firstForward = forwards.length
  const probes = startProbes(round)
  await until(`forwards to ${old.name}`, () => forwards.slice(firstForward).some((f) => f.node === old.url))
  await sleep(200)
  mark("traffic on")
  return { round, old, probes, firstForward }
}

interface Recovery {
  readonly read: ProbeResult
  readonly write: ProbeResult
}

/**
 * The proxy's recovery after the election: the first success of each probe kind after it, within
 * 1 s. Printed with the round's numbers.
 */
const awaitRecovery = async (r: RoundStart, downAt: number, elected: { readonly member: Member; readonly at: number }): Promise<Recovery> => {
  const { old, probes, round } = r
  const read = await until("a read through the proxy after the election", () => probes.firstOk("read", elected.at), 10_000)
  const write = await until("a mutation through the proxy after the election", () => probes.firstOk("write", elected.at), 10_000)
  mark("recovered")
  await samplesAfter(Math.max(read.end, write.end))
  // The proxy may see the new leader before the poller does: the reference never precedes the election.
  const readFrom = Math.max(elected.at, runStartBefore(read.end, downAt, old) ?? elected.at)
  const writeFrom = Math.max(elected.at, runStartBefore(write.end, downAt, old) ?? elected.at)
  const moved = readFrom !== elected.at || writeFrom !== elected.at
    ? ` (leadership disturbed after the election, by a new election or a lease lapse: measured from the run of 200s that served them, ${
      read.end - readFrom
    } / ${write.end - writeFrom} ms)`
    : ""
  console.log(
    `round ${round}: ${old.name} down; ${elected.member.name} elected ${elected.at - downAt} ms later; through the proxy ` +
      `leader-check 200 after ${read.end - elected.at} ms, begin-downtime OK after ${write.end - elected.at} ms${moved}; ` +
      `failures until then: reads [${probes.failures("read", read.end)}], writes [${probes.failures("write", write.end)}]`
  )
  expect(read.end - readFrom).toBeLessThanOrEqual(1_000)
  expect(write.end - writeFrom).toBeLessThanOrEqual(1_000)
  return { read, write }
}

/**
 * Stops the traffic (requests stuck on a hung node end when it is killed) and checks the round's
 * forwards and the probes' mutation on the backends.
 */
const finishRound = async (r: RoundStart, downAt: number, elected: { readonly at: number }) => {
  const { old, probes, round } = r
  await probes.stop()
  const mine = forwards.slice(r.firstForward)
  expect(mine.some((f) => f.node === old.url && f.at < downAt)).toBe(true)
  expect(mine.some((f) => f.node !== old.url && f.at >= elected.at)).toBe(true)
  // No forward to the dead node on a check it could not have answered: one produced after it went down.
  expect(mine.filter((f) => f.node === old.url && f.checkedAt - f.latencyMillis > downAt)).toEqual([])
  const host = `proxy-round${round}.example`
  await untilBackends(`${host} on the live backends`, () => live().every((m) => downtimeRows(m, host).length === 1))
  mark("traffic off")
}

const restart = async (m: Member) => {
  const t = Date.now()
  await cluster.start(m)
  mark(`${m.name} restarted`)
  await waitRejoined(m, t)
  mark(`${m.name} rejoined`)
}

// ---------------------------------------------------------------------------------------------
// The SDK's requests, and the CLI.

/** Every HTTP request the SDK clients make, through the real fetch: which URL, when, what came back. */
const attempts: Array<{ readonly url: string; readonly at: number; outcome: string }> = []
const recording: FetchLike = async (input, init) => {
  const rec = { url: input, at: Date.now(), outcome: "pending" }
  attempts.push(rec)
  try {
    const r = await globalThis.fetch(input, init)
    rec.outcome = String(r.status)
    return r
  } catch (e) {
    rec.outcome = `error: ${e instanceof Error ? e.message : String(e)}`
    throw e
  }
}
const sentTo = (p: string, since = 0) =>
  attempts.filter((a) => a.at >= since && a.url.includes(`/api/${p}`)).map((a) => ({
    node: nameOf(a.url.slice(0, a.url.indexOf("/api/"))),
    outcome: a.outcome.startsWith("error") ? "error" : a.outcome
  }))
const sdk = (extra: { readonly timeoutMillis?: number } = {}) =>
  makePromiseClient({ api: cluster.members.map((m) => m.url).join(" "), fetch: recording, ...extra })
const settle = <A>(p: Promise<A>): Promise<{ readonly ok: A } | { readonly error: ClientError }> =>
  p.then((ok) => ({ ok }), (error: ClientError) => ({ error }))

/**
 * The installed entry point (bin/orchestrator-client.js over dist/) when dist is at least as new as
 * the client sources, else the same main.ts through tsx (as test/client/cli.test.ts does).
 */
const cliEntry = (): ReadonlyArray<string> => {
  const built = path.join(repoRoot, "dist/client/cli/main.js")
  const newest = (dir: string): number =>
    Math.max(
      ...fs.readdirSync(dir, { withFileTypes: true }).map((d) =>
        d.isDirectory() ? newest(path.join(dir, d.name)) : fs.statSync(path.join(dir, d.name)).mtimeMs
      )
    )
  const fresh = fs.existsSync(built) && fs.statSync(built).mtimeMs >= newest(path.join(repoRoot, "client"))
  return fresh ? [path.join(repoRoot, "bin/orchestrator-client.js")] : ["--import", "tsx", path.join(repoRoot, "client/cli/main.ts")]
}

const cli = (args: ReadonlyArray<string>, api: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [...cliEntry(), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ORCHESTRATOR_API: api, ORCHESTRATOR_CLIENT_PROFILE: "/nonexistent" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    cliChildren.add(child)
    // A safety net only: on a saturated machine one invocation has been seen to take 30 s.
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000)
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("exit", (code) => {
      clearTimeout(timer)
      cliChildren.delete(child)
      resolve({ code, stdout, stderr })
    })
  })
const ok = (stdout: string) => ({ code: 0, stdout, stderr: "" })

// ---------------------------------------------------------------------------------------------

describe("the clients through three leader deaths", () => {
  it("round 1, kill -9: the proxy recovers within 1 s; the SDK re-sends a read and a refused mutation to the new leader", async () => {
    const reader = sdk()
    const writer = sdk()
    const r = await beginRound(1, [reader, writer])
    const old = r.old

    const downAt = Date.now()
    await cluster.kill9(old)
    const elected = await waitElection(old, downAt)
    // Both clients still hold the dead leader: the first attempt is refused (nothing sent), then
    // they discover the new leader and send it there.
    let leader = await leaderNow()
    const t0 = Date.now()
    await unlessLeadershipChanged("SDK read after the kill", async () => {
      expect(await reader.raftState()).toBe("Leader")
      expect(await reader.leader()).toBe(`${leader.url}/api`)
      expect(sentTo("raft-state", t0)).toEqual([{ node: old.name, outcome: "error" }, { node: leader.name, outcome: "200" }])
    }, async () => {
      leader = await leaderNow()
      await reader.rediscover()
      expect(await reader.raftState()).toBe("Leader")
    })
    await unlessLeadershipChanged("SDK mutation after the kill", async () => {
      const key = await writer.beginDowntime({ key: "sdk-refused.example:3306", owner: "e2e", reason: "refused", duration: "1h" })
      expect(key).toEqual({ Hostname: "sdk-refused.example", Port: 3306 })
      expect(sentTo("begin-downtime/sdk-refused.example", t0)).toEqual([
        { node: old.name, outcome: "error" },
        { node: leader.name, outcome: "200" }
      ])
    }, async () => {
      await writer.beginDowntime({ key: "sdk-refused.example:3306", owner: "e2e", reason: "refused", duration: "1h" })
    })
    await untilBackends("sdk-refused on the live backends", () => live().every((m) => downtimeRows(m, "sdk-refused.example").length === 1))
    mark("SDK")

    await awaitRecovery(r, downAt, elected)
    await finishRound(r, downAt, elected)
    await restart(old)
  }, 120_000)

  it("round 2, kill -9: orchestrator-client works before (space-separated list) and after (comma-separated); the proxy recovers within 1 s", async () => {
    const spaces = cluster.members.map((m) => m.url).join(" ")
    const commas = cluster.members.map((m) => m.url).join(",")
    let leader = await leaderNow()
    const before = async () => {
      const [api, downtime] = await Promise.all([
        cli(["-c", "which-api"], spaces),
        cli(["-c", "begin-downtime", "-i", "cli-before.example:3306", "-o", "e2e", "-r", "before", "-u", "1h"], spaces)
      ])
      expect(api).toEqual(ok(`${leader.url}/api\n`))
      expect(downtime).toEqual(ok("cli-before.example:3306\n"))
    }
    await unlessLeadershipChanged("orchestrator-client before the kill", before, async () => {
      leader = await leaderNow()
      await before()
    })
    mark("CLI before")

    const r = await beginRound(2)
    const downAt = Date.now()
    await cluster.kill9(r.old)
    const elected = await waitElection(r.old, downAt)
    await awaitRecovery(r, downAt, elected)
    await finishRound(r, downAt, elected)

    leader = await leaderNow()
    // raft-leader first asks the node it found for raft-state, and fails unless that says "Leader".
    const after = async () => {
      const [raftLeader, downtime] = await Promise.all([
        cli(["-c", "raft-leader"], commas),
        cli(["-c", "begin-downtime", "-i", "cli-after.example", "-o", "e2e", "-r", "after", "-u", "1h"], commas)
      ])
      expect(raftLeader).toEqual(ok(`${leader.raftAddress}\n`))
      expect(downtime).toEqual(ok("cli-after.example:3306\n"))
    }
    await unlessLeadershipChanged("orchestrator-client after the kill", after, async () => {
      leader = await leaderNow()
      await after()
    })
    mark("CLI after")
    await untilBackends("both downtimes on the live backends", () =>
      live().every((m) => downtimeRows(m, "cli-before.example").length === 1 && downtimeRows(m, "cli-after.example").length === 1))
    await restart(r.old)
    await untilBackends(`${r.old.name} caught up`, () => downtimeRows(r.old, "cli-after.example").length === 1)
  }, 120_000)

  it("round 3, SIGSTOP then kill -9: the SDK re-sends neither a timed-out nor an in-flight mutation, the next goes to the new leader; the proxy recovers within 1 s", async () => {
    // Two clients on the same leader: one with a short deadline, to see a mutation time out on the
    // hung leader; one with the default (60 s), whose mutation is still in flight at the kill.
    const hasty = sdk({ timeoutMillis: 1_500 })
    const patient = sdk()
    const r = await beginRound(3, [hasty, patient])
    const old = r.old

    // Stopped, the leader's kernel still accepts connections and request bytes, but the process
    // reads nothing: the requests are surely sent, and surely not applied by it.
    const downAt = Date.now()
    old.process!.child.kill("SIGSTOP")
    const timedOut = settle(hasty.beginDowntime({ key: "sdk-timeout.example:3306", owner: "e2e", reason: "hung", duration: "1h" }))
    const inFlight = settle(patient.beginDowntime({ key: "sdk-inflight.example:3306", owner: "e2e", reason: "in-flight", duration: "1h" }))
    const elected = await waitElection(old, downAt)
    await awaitRecovery(r, downAt, elected)

    const first = await timedOut
    expect("error" in first && first.error).toMatchObject({ _tag: "Timeout" })
    expect(sentTo("begin-downtime/sdk-timeout.example")).toEqual([{ node: old.name, outcome: "error" }])
    // The timed-out request was not re-sent, but the next one is not sent to the hung node either.
    // (Its own deadline is long: a commit on a loaded machine may take more than 1.5 s.)
    const t1 = Date.now()
    const after = () => hasty.request("begin-downtime/sdk-after.example/3306/e2e/after/1h", { timeoutMillis: 30_000 })
    await unlessLeadershipChanged("SDK mutation after a timeout", async () => {
      const leader = await leaderNow()
      expect((await after()).json).toMatchObject({ Code: "OK" })
      expect(sentTo("begin-downtime/sdk-after.example", t1)).toEqual([{ node: leader.name, outcome: "200" }])
    }, async () => {
      expect((await after()).json).toMatchObject({ Code: "OK" })
      expect(sentTo("begin-downtime/sdk-after.example", t1).map((a) => a.node)).not.toContain(old.name)
    })

    await cluster.kill9(old)
    await finishRound(r, downAt, elected)
    const second = await inFlight
    expect("error" in second && second.error).toMatchObject({ _tag: "Transport", refused: false })
    expect(sentTo("begin-downtime/sdk-inflight.example")).toEqual([{ node: old.name, outcome: "error" }])
    const t2 = Date.now()
    await unlessLeadershipChanged("SDK read after the in-flight failure", async () => {
      const leader = await leaderNow()
      expect(await patient.raftState()).toBe("Leader")
      expect(sentTo("raft-state", t2)).toEqual([{ node: leader.name, outcome: "200" }])
    }, async () => {
      expect(await patient.raftState()).toBe("Leader")
    })

    // sdk-after was committed after both lost mutations could have been: once it is on a backend,
    // so would they be, had either been applied (by the hung node, or re-sent to the new leader).
    await untilBackends("sdk-after on the live backends", () => live().every((m) => downtimeRows(m, "sdk-after.example").length === 1))
    for (const m of live()) {
      expect(downtimeRows(m, "sdk-timeout.example")).toEqual([])
      expect(downtimeRows(m, "sdk-inflight.example")).toEqual([])
    }
    // And the dead node's own backend (the last round: it is not restarted): it never read them.
    expect(downtimeRows(old, "sdk-timeout.example")).toEqual([])
    expect(downtimeRows(old, "sdk-inflight.example")).toEqual([])
  }, 120_000)

  it("the proxy never forwarded to a node whose latest check was not 200: its own state, and the nodes' own answers", async () => {
    expect(forwards.length).toBeGreaterThan(0)
    await samplesAfter(Math.max(...forwards.map((f) => f.at)))
    console.log(`${forwards.length} forwards checked against the proxy's state and ${samples.length} ground-truth samples`)
    expect(forwardProblems(forwards)).toEqual([])
  })
})
