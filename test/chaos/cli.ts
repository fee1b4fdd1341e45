/**
 * npm run chaos -- --faults N [--seed S] [--workers W] [--kinds kill,pause,partition,wipe] [--keep-logs]
 *
 * A chaos soak of three real nodes (test/chaos/Chaos.ts). Without --seed a random seed is drawn and
 * printed first; `--seed S` replays the same fault schedule and client operations. Needs root (nft) for
 * partitions and a build (`npm run build`: the nodes run bin/orchestrator.js over dist/).
 * Exit status 0 when every check passed, 1 on a violation, 2 on bad arguments.
 */
import * as crypto from "node:crypto"
import { type FaultKind, faultKinds, runChaos } from "./Chaos.js"

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (i < 0) return undefined
  const a = args[i]!
  return a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[i + 1]
}
const int = (name: string, fallback: number): number => {
  const raw = flag(name)
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`chaos: --${name} expects a non-negative integer, got ${JSON.stringify(raw)}`)
    process.exit(2)
  }
  return n
}

const kindsFlag = flag("kinds")
const kinds = kindsFlag === undefined ? faultKinds : kindsFlag.split(",").map((k) => k.trim())
const unknown = kinds.filter((k) => !faultKinds.includes(k as FaultKind))
if (unknown.length > 0 || kinds.length === 0) {
  console.error(`chaos: --kinds expects a list of ${faultKinds.join(", ")}; got ${JSON.stringify(kindsFlag)}`)
  process.exit(2)
}

const seed = int("seed", crypto.randomInt(1, 2 ** 31))
// The nodes and nft tables are released by exit handlers (test/support/nodeProcess.ts, Chaos.ts): make
// Ctrl-C run them.
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  process.once(signal, () => {
    console.log(`chaos: SEED=${seed} interrupted by ${signal}; the nodes are killed, nft tables deleted`)
    process.exit(code)
  })
}

const report = await runChaos({
  seed,
  faults: int("faults", 20),
  workers: int("workers", 4),
  kinds: kinds as ReadonlyArray<FaultKind>,
  keepLogs: args.includes("--keep-logs")
})
process.exit(report.ok ? 0 : 1)
