/**
 * Command-line parsing with Go's `flag` conventions, as orchestrator's binary accepts them:
 * `-config FILE`, `--config FILE`, `-config=FILE`, `--config=FILE`; boolean flags take no value
 * (`-debug`, or `-debug=false`). Unlike Go's parser, flags may also follow the positional
 * command (`orchestrator http --config FILE`), which users type often. Pure.
 */
import { Data, Either } from "effect"

export class ArgsError extends Data.TaggedError("ArgsError")<{ readonly message: string }> {}

type FlagKind = "string" | "bool"

/** orchestrator's flags (go/cmd/orchestrator/main.go) that this binary understands. */
export const flagKinds: Readonly<Record<string, FlagKind>> = {
  config: "string",
  c: "string",
  i: "string",
  d: "string",
  s: "string",
  owner: "string",
  reason: "string",
  duration: "string",
  pattern: "string",
  pool: "string",
  alias: "string",
  "promotion-rule": "string",
  hostname: "string",
  tag: "string",
  binlog: "string",
  statement: "string",
  "ignore-raft-setup": "bool",
  debug: "bool",
  stack: "bool",
  verbose: "bool",
  quiet: "bool",
  noop: "bool",
  discovery: "bool",
  version: "bool",
  help: "bool",
  h: "bool"
}

export interface ParsedArgs {
  readonly flags: Readonly<Record<string, string>>
  readonly bools: ReadonlySet<string>
  readonly positionals: ReadonlyArray<string>
}

const parseBool = (name: string, value: string): Either.Either<boolean, ArgsError> => {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(value)) return Either.right(true)
  if (["0", "f", "F", "false", "FALSE", "False"].includes(value)) return Either.right(false)
  return Either.left(new ArgsError({ message: `invalid boolean value ${JSON.stringify(value)} for -${name}` }))
}

export const parseArgs = (argv: ReadonlyArray<string>): Either.Either<ParsedArgs, ArgsError> => {
  const flags: Record<string, string> = {}
  const bools = new Set<string>()
  const positionals: Array<string> = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg)
      continue
    }
    const body = arg.replace(/^--?/, "")
    const eq = body.indexOf("=")
    const name = eq >= 0 ? body.slice(0, eq) : body
    const kind = flagKinds[name]
    if (kind === undefined) return Either.left(new ArgsError({ message: `flag provided but not defined: -${name}` }))
    if (kind === "bool") {
      if (eq >= 0) {
        const b = parseBool(name, body.slice(eq + 1))
        if (Either.isLeft(b)) return Either.left(b.left)
        if (b.right) bools.add(name)
        else bools.delete(name)
      } else {
        bools.add(name)
      }
      continue
    }
    if (eq >= 0) {
      flags[name] = body.slice(eq + 1)
    } else {
      const value = argv[i + 1]
      if (value === undefined) return Either.left(new ArgsError({ message: `flag needs an argument: -${name}` }))
      flags[name] = value
      i++
    }
  }
  return Either.right({ flags, bools, positionals })
}
