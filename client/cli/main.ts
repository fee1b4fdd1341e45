/**
 * `orchestrator-client`: the orchestrator-client compatible CLI. Commands arrive with the SDK
 * (issue 6); until then it prints its help and refuses commands with a clear message.
 */
const help = `orchestrator-client: command line client of the orchestrator-ts HTTP API

Usage: orchestrator-client -c <command> [flags]

Environment:
  ORCHESTRATOR_API            one URL or a space-separated list (the leader is found automatically)
  ORCHESTRATOR_AUTH_USER      basic auth user
  ORCHESTRATOR_AUTH_PASSWORD  basic auth password

Commands: not available in this build yet (docs/compat.md lists the plan).
`

const argv = process.argv.slice(2)
if (argv.length === 0 || argv.includes("-h") || argv.includes("--help") || argv.includes("help")) {
  process.stdout.write(help)
} else {
  process.stderr.write(`orchestrator-client: commands are not available in this build yet\n`)
  process.exit(1)
}
