/**
 * `orchestrator`: the node binary. `orchestrator --config FILE http` runs the service;
 * `-c <command>` runs a command against the backend (refused in raft mode, as orchestrator does,
 * unless --ignore-raft-setup); `--version`, `--help`.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Either, Layer, Logger, LogLevel } from "effect"
import * as fs from "node:fs"
import { TlsConfigError, topologyTls } from "../../adapters/mysql/Tls.js"
import { applyCredentialsFiles } from "../../core/config/CredentialsFile.js"
import { decodeConfig, type LoadedConfig } from "../../core/config/OrchestratorConfig.js"
import { applyGcTuning } from "../GcTuning.js"
import * as Node from "../Node.js"
import { appVersion } from "../Version.js"
import { parseArgs, type ParsedArgs } from "./Args.js"

const usage = `orchestrator-ts ${appVersion}: MySQL/MariaDB high availability and replication topology manager

Usage:
  orchestrator [--config FILE] http                 run the service (HTTP API, probing, raft)
  orchestrator [--config FILE] -c <command> [-i host:port] [...]
                                                    run a command against the backend directly
  orchestrator --version
  orchestrator --help

Flags (Go style: -flag value, --flag value, -flag=value):
  --config FILE          orchestrator-style JSON config (default: /etc/orchestrator.conf.json,
                         conf/orchestrator.conf.json, orchestrator.conf.json, first found)
  -c COMMAND             command to run (see docs/compat.md)
  -i host:port           instance the command applies to
  --ignore-raft-setup    run -c commands even though RaftEnabled is true (you take the risk)
  --debug                debug logging
`

const RAFT_REFUSAL =
  "FATAL Orchestrator configured to run raft (\"RaftEnabled\": true). All access must go through the web API of the active raft node. You may use the orchestrator-client script which has a similar interface to the command line invocation. You may override this with --ignore-raft-setup"

const defaultConfigPaths = ["/etc/orchestrator.conf.json", "conf/orchestrator.conf.json", "orchestrator.conf.json"]

const die = (message: string, code = 1): never => {
  process.stderr.write(message.endsWith("\n") ? message : message + "\n")
  process.exit(code)
}

const loadConfig = (args: ParsedArgs): LoadedConfig => {
  const explicit = args.flags.config
  const path = explicit ?? defaultConfigPaths.find((p) => fs.existsSync(p))
  if (path === undefined) return die(`no config file found (tried ${defaultConfigPaths.join(", ")}): use --config FILE`)
  let text: string
  try {
    text = fs.readFileSync(path, "utf8")
  } catch (e) {
    return die(`cannot read config file ${path}: ${(e as Error).message}`)
  }
  const loaded = decodeConfig(path, text, process.env)
  if (Either.isLeft(loaded)) return die(loaded.left.message)
  const withCredentials = applyCredentialsFiles(loaded.right.config, (file) =>
    Either.try({ try: () => fs.readFileSync(file, "utf8"), catch: (e) => (e as Error).message }))
  if (Either.isLeft(withCredentials)) return die(`invalid configuration in ${path}:\n  ${withCredentials.left.message}`)
  // The TLS files are read here once so that a missing one stops the start with its key (the adapters read them again).
  try {
    topologyTls(withCredentials.right)
  } catch (e) {
    if (e instanceof TlsConfigError) return die(`invalid configuration in ${path}:\n  ${e.message}`)
    throw e
  }
  return { ...loaded.right, config: withCredentials.right }
}

/** Shutdown must finish within this; past it the process exits 1 with a log line naming the deadline. */
const SHUTDOWN_DEADLINE_MILLIS = 5000

const armShutdownDeadline = () => {
  const arm = () => {
    const timer = setTimeout(() => {
      process.stderr.write(`shutdown did not finish within ${SHUTDOWN_DEADLINE_MILLIS} ms: exiting\n`)
      process.exit(1)
    }, SHUTDOWN_DEADLINE_MILLIS)
    timer.unref()
  }
  process.once("SIGTERM", arm)
  process.once("SIGINT", arm)
}

const runHttp = (loaded: LoadedConfig, debug: boolean) => {
  const c = loaded.config
  armShutdownDeadline()
  const program = Effect.gen(function*() {
    if (loaded.unknownKeys.length > 0) {
      yield* Effect.logWarning(`config keys not used by this version (ignored): ${loaded.unknownKeys.join(", ")}`)
    }
    yield* Effect.logInfo("starting orchestrator node", {
      listen: c.ListenAddress,
      backend: c.BackendDB,
      raft: c.RaftEnabled,
      version: appVersion
    })
    return yield* Layer.launch(Node.layer(c)).pipe(
      Effect.onInterrupt(() => Effect.logInfo("shutting down"))
    )
  }).pipe(
    Effect.tapErrorCause((cause) =>
      Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError("node failed", Cause.pretty(cause))
    ),
    Effect.annotateLogs("node", Node.httpUriOf(c)),
    Logger.withMinimumLogLevel(debug || c.Debug ? LogLevel.Debug : LogLevel.Info),
    Effect.provide(Logger.json)
  )
  NodeRuntime.runMain(program, { disableErrorReporting: true, disablePrettyLogger: true })
}

const main = (argv: ReadonlyArray<string>) => {
  const parsed = parseArgs(argv)
  if (Either.isLeft(parsed)) die(`${parsed.left.message}\n\n${usage}`, 2)
  const args = (parsed as Either.Right<never, ParsedArgs>).right
  if (args.bools.has("version")) {
    process.stdout.write(`${appVersion}\n`)
    return
  }
  if (args.bools.has("help") || args.bools.has("h")) {
    process.stdout.write(usage)
    return
  }
  const command = args.flags.c
  const positional = args.positionals[0]
  if (command === undefined && positional === undefined) die(usage, 2)
  if (command !== undefined) {
    const loaded = loadConfig(args)
    if (loaded.config.RaftEnabled && !args.bools.has("ignore-raft-setup")) die(RAFT_REFUSAL)
    void import("./Commands.js").then((m) => m.runCommand(loaded.config, command, args)).then((code) => process.exit(code))
    return
  }
  if (positional === "http") return runHttp(loadConfig(args), args.bools.has("debug"))
  die(`unknown command ${JSON.stringify(positional)}: expected "http" or -c <command>\n\n${usage}`, 2)
}

// Before anything runs: keeps the scavenger from promoting dead objects (service/GcTuning.ts says why).
applyGcTuning()
main(process.argv.slice(2))
