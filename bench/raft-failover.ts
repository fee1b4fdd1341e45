/**
 * Raft leader failover with real processes: 3 nodes on loopback (bin/orchestrator.js, SQLite
 * backends, durable raft logs); each round kills the leader with SIGKILL and measures the time until
 * another node answers /api/leader-check 200 AND commits a replicated op (begin-downtime), then
 * restarts the killed node and waits for it to catch up.
 *
 *   npm run bench -- raft-failover [--rounds 30]
 */
import { startCluster } from "../test/support/cluster.js"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const rounds = arg("rounds", 30)
const pct = (xs: Array<number>, p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!

const main = async () => {
  const cluster = await startCluster(3)
  const leaderMs: Array<number> = []
  const commitMs: Array<number> = []
  try {
    for (let round = 1; round <= rounds; round++) {
      const leader = await cluster.waitForLeader(30_000)
      // Let the cluster settle so every node has heard the leader recently (a steady state).
      await new Promise((r) => setTimeout(r, 300))
      const t0 = performance.now()
      await cluster.kill9(leader)
      const next = await cluster.waitForLeader(30_000)
      const t1 = performance.now()
      for (;;) {
        const r = await fetch(`${next.url}/api/begin-downtime/bench${round}/3306/bench/failover`).catch(() => undefined)
        if (r !== undefined && r.status === 200) break
        await new Promise((res) => setTimeout(res, 5))
      }
      const t2 = performance.now()
      leaderMs.push(t1 - t0)
      commitMs.push(t2 - t0)
      console.log(`round ${round}: leader after ${(t1 - t0).toFixed(0)} ms, committed after ${(t2 - t0).toFixed(0)} ms`)
      await cluster.start(leader)
    }
  } finally {
    await cluster.stopAll()
  }
  const row = (label: string, xs: Array<number>) =>
    `| ${label} | ${pct(xs, 50).toFixed(0)} | ${pct(xs, 99).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`
  console.log(`\n| kill -9 leader → (${rounds} rounds, ms) | p50 | p99 | max |\n| --- | --- | --- | --- |`)
  console.log(row("another node answers leader-check 200", leaderMs))
  console.log(row("a replicated op commits", commitMs))
  console.log(JSON.stringify({
    bench: "raft-failover",
    rounds,
    leaderP50: pct(leaderMs, 50),
    leaderP99: pct(leaderMs, 99),
    leaderMax: Math.max(...leaderMs),
    commitP50: pct(commitMs, 50),
    commitP99: pct(commitMs, 99),
    commitMax: Math.max(...commitMs)
  }))
}
void main()
