/**
 * Committed replicated ops per second through the leader of a 3-process cluster with durable raft
 * logs, with 1 and 64 concurrent proposers (each proposer: HTTP begin-downtime to the leader, which
 * answers after commit and apply). Latency is the HTTP round trip, commit included.
 *
 *   npm run bench -- raft-throughput [--seconds 10]
 */
import { startCluster } from "../test/support/cluster.js"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const seconds = arg("seconds", 10)
const pct = (xs: Array<number>, p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!

const main = async () => {
  const cluster = await startCluster(3)
  const results: Array<{ proposers: number; perSecond: number; p50: number; p99: number; errors: number }> = []
  try {
    const leader = await cluster.waitForLeader(30_000)
    for (const proposers of [1, 64]) {
      const latencies: Array<number> = []
      let errors = 0
      const deadline = performance.now() + seconds * 1000
      let n = 0
      const worker = async (w: number) => {
        while (performance.now() < deadline) {
          const t0 = performance.now()
          const r = await fetch(`${leader.url}/api/begin-downtime/h${w}-${n++}/3306/bench/throughput`)
          await r.arrayBuffer()
          // A non-200 (e.g. 503 while leadership moves) is counted, not retried: it is not a commit.
          if (r.status !== 200) errors++
          else latencies.push(performance.now() - t0)
        }
      }
      const start = performance.now()
      await Promise.all(Array.from({ length: proposers }, (_, w) => worker(w)))
      const elapsed = (performance.now() - start) / 1000
      results.push({ proposers, perSecond: latencies.length / elapsed, p50: pct(latencies, 50), p99: pct(latencies, 99), errors })
    }
  } finally {
    await cluster.stopAll()
  }
  console.log("| proposers | commits/s | p50 ms | p99 ms | non-200 |\n| --- | --- | --- | --- | --- |")
  for (const r of results) {
    console.log(`| ${r.proposers} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} |`)
  }
  console.log(JSON.stringify({ bench: "raft-throughput", seconds, results }))
}
void main()
