/**
 * `orchestrator-proxy`: forwards every request to the raft leader. The handler arrives with
 * issue 6; until then it prints its help and refuses to start with a clear message.
 */
const help = `orchestrator-proxy: stateless HTTP proxy to the orchestrator-ts raft leader

Usage: orchestrator-proxy --listen :8080 --nodes http://a:3000,http://b:3000,http://c:3000

It polls /api/leader-check on every node and forwards each request to the one answering 200.
`

const argv = process.argv.slice(2)
if (argv.length === 0 || argv.includes("-h") || argv.includes("--help")) {
  process.stdout.write(help)
} else {
  process.stderr.write(`orchestrator-proxy: not available in this build yet\n`)
  process.exit(1)
}
