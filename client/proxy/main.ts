/**
 * `orchestrator-proxy --listen :8080 --nodes http://a:3000,http://b:3000,http://c:3000 [--interval 500ms]`:
 * forwards every request to the raft leader (docs/client.md). Logs one JSON object per line.
 */
import { parseProxyArgs } from "./Args.js"
import { makeNodeFetch, serve } from "./node.js"
import { makeProxyHandler } from "./Proxy.js"

const help = `orchestrator-proxy: stateless HTTP proxy to the orchestrator-ts raft leader

Usage: orchestrator-proxy --listen :8080 --nodes http://a:3000,http://b:3000,http://c:3000 [--interval 500ms]

It polls /api/leader-check on every node and forwards each request to the one answering 200.
With no leader known it answers 503 {"Code":"ERROR","Message":"no raft leader known ...","Details":null}.
GET /proxy/health reports the nodes, the leader and the last check.

Flags (environment):
  --listen [host]:port      (ORCHESTRATOR_PROXY_LISTEN, default :8080)
  --nodes url,url,...       (ORCHESTRATOR_PROXY_NODES) node base URLs
  --interval 500ms          (ORCHESTRATOR_PROXY_INTERVAL) leader-check period
  --check-timeout 400ms     (ORCHESTRATOR_PROXY_CHECK_TIMEOUT) below the interval; default 80 % of it, at most 1s
  --forward-timeout 60s     (ORCHESTRATOR_PROXY_FORWARD_TIMEOUT) until the leader's response headers
`

const log = (fields: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ timestamp: new Date().toISOString(), ...fields })}\n`)

const parsed = parseProxyArgs(process.argv.slice(2), process.env)
if (parsed._tag === "Help") {
  process.stdout.write(help)
} else if (parsed._tag === "Error") {
  process.stderr.write(`orchestrator-proxy: ${parsed.message}\n`)
  process.exitCode = 2
} else {
  const { args } = parsed
  const handler = makeProxyHandler({
    nodes: args.nodes,
    intervalMillis: args.intervalMillis,
    checkTimeoutMillis: args.checkTimeoutMillis,
    forwardTimeoutMillis: args.forwardTimeoutMillis,
    fetch: makeNodeFetch()
  })
  handler.start()
  let lastLeader: string | undefined
  const watch = setInterval(() => {
    const leader = handler.leader()
    if (leader !== lastLeader) {
      log({ level: "INFO", message: leader === undefined ? "no leader known" : "leader", leader: leader ?? null })
      lastLeader = leader
    }
  }, Math.max(50, Math.floor(args.intervalMillis / 2)))
  serve(handler, { host: args.host, port: args.port }).then(
    (server) => {
      log({ level: "INFO", message: "listening", address: `${server.host}:${server.port}`, nodes: args.nodes })
      let stopping = false
      const shutdown = (signal: string) => {
        if (stopping) return
        stopping = true
        log({ level: "INFO", message: "shutting down", signal })
        clearInterval(watch)
        const force = setTimeout(() => process.exit(1), 5_000)
        force.unref()
        void Promise.all([server.close(), handler.stop()]).then(() => process.exit(0))
      }
      process.on("SIGTERM", () => shutdown("SIGTERM"))
      process.on("SIGINT", () => shutdown("SIGINT"))
    },
    (e: unknown) => {
      process.stderr.write(`orchestrator-proxy: cannot listen on ${args.host ?? ""}:${args.port}: ${String(e)}\n`)
      clearInterval(watch)
      void handler.stop().then(() => process.exit(1))
    }
  )
}
