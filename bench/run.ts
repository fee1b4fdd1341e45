/**
 * `npm run bench -- <name> [options]`: runs one benchmark in its own process and passes the options on.
 * Each benchmark prints a table and one JSON line; results go in docs/benchmarks.md.
 */
import { spawnSync } from "node:child_process"
import * as path from "node:path"

const benches: Record<string, string> = {
  "raft-failover": "raft-failover.ts",
  "raft-throughput": "raft-throughput.ts",
  "raft-transport": "raft-transport.ts",
  proxy: "proxy.ts",
  "probe-scale": "probe-scale.ts",
  failover: "failover.ts",
  "raft-soak": "raft-soak.ts",
  "gc-promotion": "gc-promotion.ts"
}

const [name, ...rest] = process.argv.slice(2).filter((a) => a !== "--")
if (name === undefined || benches[name] === undefined) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join("|")}> [options]\n`)
  process.exit(2)
}
const file = path.join(import.meta.dirname, benches[name]!)
// probe-scale runs the node's discovery in its own process: with the V8 flag the node is run with (`npm start`,
// the NixOS module; docs/discovery.md "Large fleets").
const v8Flags = name === "probe-scale" ? ["--max-semi-space-size=64"] : []
const r = spawnSync(process.execPath, [...v8Flags, "--import", "tsx", file, ...rest], { stdio: "inherit" })
process.exit(r.status ?? 1)
