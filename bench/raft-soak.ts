/**
 * Idle soak: 3 real node processes (durable raft logs, SQLite backends) with their other loops running —
 * health registration every second and discovery/probing of a real MariaDB topology (master + 2 replicas)
 * every InstancePollSeconds — and no client load. Counts leader elections after the first one, from each
 * node's own counters (orchestrator_raft_elections_total, orchestrator_raft_term) and from leader-check
 * answers polled every 200 ms. The target is zero.
 *
 *   npm run bench -- raft-soak [--minutes 10] [--no-mysql]
 */
import { startCluster } from "../test/support/cluster.js"
import { Shape, startTopology, type Topology } from "../test/harness/Topology.js"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const minutes = arg("minutes", 10)
const withMysql = !process.argv.includes("--no-mysql")

const metric = (text: string, name: string): number => {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `))
  // A counter never incremented is not rendered yet: it is 0.
  return line === undefined ? 0 : Number(line.split(" ")[1])
}

const main = async () => {
  let topology: Topology | undefined
  if (withMysql) topology = await startTopology({ shape: Shape.masterWithReplicas(2) })
  const cluster = await startCluster(3, {
    ...(topology === undefined
      ? {}
      : { ...topology.orchestratorConfig, DiscoverySeeds: [topology.master.key], InstancePollSeconds: 5 })
  })
  const leaders: Array<{ at: number; name: string }> = []
  let polls = 0
  let twoLeaders = 0
  try {
    const first = await cluster.waitForLeader(30_000)
    leaders.push({ at: 0, name: first.name })
    const read = () =>
      Promise.all(cluster.members.map(async (m) => {
        const t = await (await fetch(`${m.url}/metrics`)).text()
        return { elections: metric(t, "orchestrator_raft_elections_total"), term: metric(t, "orchestrator_raft_term") }
      }))
    const start = await read()
    const t0 = performance.now()
    const end = t0 + minutes * 60_000
    let lastReport = t0
    let lastLagRead = t0
    // prom-client resets its event-loop histogram at each scrape: the max over 10 s windows.
    const maxLag = cluster.members.map(() => 0)
    const readLag = () =>
      Promise.all(cluster.members.map(async (m, i) => {
        const t = await (await fetch(`${m.url}/metrics`)).text()
        maxLag[i] = Math.max(maxLag[i]!, metric(t, "nodejs_eventloop_lag_max_seconds"))
      })).catch(() => undefined)
    while (performance.now() < end) {
      const codes = await Promise.all(cluster.members.map((m) => cluster.leaderCheck(m).catch(() => 0)))
      polls++
      const now = codes.flatMap((c, i) => (c === 200 ? [cluster.members[i]!.name] : []))
      if (now.length > 1) twoLeaders++
      if (now.length === 1 && now[0] !== leaders[leaders.length - 1]!.name) {
        leaders.push({ at: performance.now() - t0, name: now[0]! })
        console.log(`leader changed to ${now[0]} after ${((performance.now() - t0) / 1000).toFixed(1)} s`)
      }
      if (performance.now() - lastLagRead > 10_000) {
        lastLagRead = performance.now()
        await readLag()
      }
      if (performance.now() - lastReport > 60_000) {
        lastReport = performance.now()
        console.log(`${((lastReport - t0) / 60_000).toFixed(0)} min: leader ${leaders[leaders.length - 1]!.name}, ${leaders.length - 1} changes`)
      }
      await new Promise((r) => setTimeout(r, 200))
    }
    const stop = await read()
    const instances = topology === undefined
      ? 0
      : Number(cluster.query(first, "SELECT COUNT(*) AS n FROM database_instance")[0]?.n ?? 0)
    const elections = stop.map((s, i) => s.elections - start[i]!.elections)
    const terms = stop.map((s, i) => s.term - start[i]!.term)
    console.log("| node | elections started during the soak | term change | max event-loop lag ms |\n| --- | --- | --- | --- |")
    cluster.members.forEach((m, i) => console.log(`| ${m.name} | ${elections[i]} | ${terms[i]} | ${(maxLag[i]! * 1000).toFixed(0)} |`))
    console.log(
      `leader changes seen by leader-check: ${leaders.length - 1}; polls with two 200s: ${twoLeaders} of ${polls}; ` +
        `instances probed: ${instances}`
    )
    console.log(JSON.stringify({
      bench: "raft-soak",
      minutes,
      mysql: withMysql,
      instancesProbed: instances,
      electionsPerNode: elections,
      termChangePerNode: terms,
      maxEventLoopLagMs: maxLag.map((l) => Math.round(l * 1000)),
      leaderChanges: leaders.length - 1,
      pollsWithTwoLeaders: twoLeaders,
      polls
    }))
  } finally {
    await cluster.stopAll()
    await topology?.stop()
  }
}
void main()
