/**
 * Free loopback ports for the servers tests start (MariaDB, orchestrator nodes, proxies, raft transports).
 *
 * All below the ephemeral range (32768+, spec section 8), so no client socket ever holds one. Each vitest worker
 * gets its own slice of [20000, 32000), chosen by VITEST_POOL_ID (1..maxForks among the workers running at once;
 * 4 slices, so with vitest.config.ts's maxForks of 2 or up to 4): test files running side by side never pick the
 * same port (the fake MySQL fleets' blocks come from the same slice, test/fakes/FakeMysqlServer.ts). Without that,
 * a port one file frees for a moment (a server killed and restarted on the same port, a "dead" address a test keeps
 * unbound on purpose) can be taken by a server of the other file, and a fault injected on that port (an nft
 * partition) hits the wrong server.
 * Processes outside vitest (benches, `npm run chaos`) use the whole range.
 */
import * as net from "node:net"

const low = 20000
const high = 32000
const slices = 4

/** The [low, high) range of a process whose VITEST_POOL_ID is `poolId` ("1", "2", ...; undefined outside vitest). */
export const portRangeOf = (poolId: string | undefined): { readonly low: number; readonly high: number } => {
  const id = Number(poolId)
  if (poolId === undefined || !Number.isInteger(id) || id < 1) return { low, high }
  const width = (high - low) / slices
  const start = low + ((id - 1) % slices) * width
  return { low: start, high: start + width }
}

const isFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = net.createServer()
    server.unref()
    server.once("error", () => resolve(false))
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)))
  })

// Never hand out a port twice in one process: a server stopped for a restart keeps its port to come back on.
const handedOut = new Set<number>()

/** A port of this process's range that is free now and was not handed out before by this process. */
export const freePort = async (): Promise<number> => {
  const range = portRangeOf(process.env.VITEST_POOL_ID)
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = range.low + Math.floor(Math.random() * (range.high - range.low))
    if (handedOut.has(port)) continue
    handedOut.add(port)
    if (await isFree(port)) return port
  }
  throw new Error(`no free loopback port found in ${range.low}-${range.high} after 200 attempts`)
}
