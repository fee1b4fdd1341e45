/**
 * npm run sim -- --seeds N [--base B] [--scale X]   run seeds B+1..B+N (B defaults to 0)
 * npm run sim -- --seed S [--trace]                 replay one seed, optionally with a step trace
 * npm run sim -- --failover N                       leader-kill experiment with the production timing defaults
 * Prints `SEED=<n> {options}` before each run it reports, and the replay command for every failure.
 */
import * as Config from "../../core/raft/Config.js"
import { measureFailover } from "./Failover.js"
import { drawOptions } from "./Options.js"
import { run } from "./Simulator.js"

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (i < 0) return undefined
  const a = args[i]!
  return a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[i + 1]
}
const has = (name: string): boolean => args.some((a) => a === `--${name}`)

const scale = Number(flag("scale") ?? "1")
const single = flag("seed")

if (single !== undefined) {
  const seed = Number(single)
  const opts = drawOptions(seed, scale)
  console.log(`SEED=${seed} ${JSON.stringify(opts)}`)
  const r = run(opts, has("trace") ? (line) => console.log(line) : undefined)
  console.log(JSON.stringify({ ok: r.ok, stats: r.stats }))
  for (const v of r.violations) console.log(`VIOLATION ${v}`)
  if (r.pending !== undefined) console.log(`PENDING ${r.pending}`)
  process.exit(r.ok ? 0 : 1)
}

const failover = flag("failover")
if (failover !== undefined) {
  const timing = {
    ...(flag("heartbeat") !== undefined ? { heartbeatTicks: Number(flag("heartbeat")) } : {}),
    ...(flag("election") !== undefined ? { electionTicks: Number(flag("election")) } : {}),
    ...(flag("lease") !== undefined ? { leaseTicks: Number(flag("lease")) } : {})
  }
  const report = measureFailover(Number(failover), Number(flag("base") ?? "1"), timing)
  console.log(JSON.stringify({ timing: { ...Config.defaults, ...timing }, tickMs: 50, ...report }))
  process.exit(report.violations.length === 0 ? 0 : 1)
}

const count = Number(flag("seeds") ?? "100")
const base = flag("base") === "random" ? Math.floor(Math.random() * 1e9) : Number(flag("base") ?? "0")
const verbose = has("verbose")
let passed = 0
let failed = 0
const started = Date.now()
for (let seed = base + 1; seed <= base + count; seed++) {
  const opts = drawOptions(seed, scale)
  if (verbose) console.log(`SEED=${seed} ${JSON.stringify(opts)}`)
  const r = run(opts)
  if (r.ok) {
    passed++
  } else {
    failed++
    if (!verbose) console.log(`SEED=${seed} ${JSON.stringify(opts)}`)
    for (const v of r.violations) console.log(`  VIOLATION ${v}`)
    if (r.pending !== undefined) console.log(`  PENDING ${r.pending}`)
    console.log(`  replay: npm run sim -- --seed ${seed}${scale !== 1 ? ` --scale ${scale}` : ""} --trace`)
  }
  if ((seed - base) % 10000 === 0) console.log(`... ${seed - base} seeds, ${failed} failed, ${Math.round((Date.now() - started) / 1000)} s`)
}
console.log(`${passed} passed, ${failed} failed (seeds ${base + 1}..${base + count}, ${Math.round((Date.now() - started) / 1000)} s)`)
process.exit(failed === 0 ? 0 : 1)
