/**
 * orchestrator's `MySQLTopologyCredentialsConfigFile` and `MySQLOrchestratorCredentialsConfigFile`: a my.cnf-style
 * file whose `[client]` section gives `user` and `password`, which then replace `MySQLTopologyUser`/`Password`
 * (resp. `MySQLOrchestratorUser`/`Password`), so the credentials stay out of the JSON config.
 *
 * orchestrator reads it with gcfg (git-config syntax) into a struct holding only those two variables, so any other
 * variable or section in the file is a fatal error there; a real `~/.my.cnf` usually has more (`host`, `[mysql]`),
 * and here everything but `[client]` `user` and `password` is ignored. The syntax accepted is gcfg's: `[section]`
 * headers (names case-insensitive, `[section "subsection"]` ignored), `name = value` with `;` or `#` comments,
 * values trimmed, double-quoted parts keeping their spaces and `;`/`#`, escapes `\"`, `\\`, `\n`, `\t`, `\b`, and a
 * trailing `\` continuing the value on the next line. Pure: the caller reads the file.
 */
import { Either } from "effect"
import { ConfigError, type OrchestratorConfig } from "./OrchestratorConfig.js"

export interface ClientCredentials {
  readonly user: string
  readonly password: string
}

/** One value: comments cut outside quotes, quotes removed, escapes applied, unquoted runs trimmed at the ends. */
const parseValue = (raw: string): Either.Either<string, string> => {
  let out = ""
  let quoted = false
  let pendingSpace = ""
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!
    if (c === "\\") {
      const n = raw[i + 1]
      const escaped = n === "\"" ? "\"" : n === "\\" ? "\\" : n === "n" ? "\n" : n === "t" ? "\t" : n === "b" ? "\b" : undefined
      if (escaped === undefined) return Either.left(`invalid escape \\${n ?? ""}`)
      out += pendingSpace + escaped
      pendingSpace = ""
      i++
    } else if (c === "\"") {
      out += pendingSpace
      pendingSpace = ""
      quoted = !quoted
    } else if (!quoted && (c === ";" || c === "#")) {
      break
    } else if (!quoted && (c === " " || c === "\t")) {
      if (out !== "") pendingSpace += c
    } else {
      out += pendingSpace + c
      pendingSpace = ""
    }
  }
  return quoted ? Either.left("unterminated quote") : Either.right(out)
}

/** The `[client]` section's `user` and `password` ("" when absent), or an error naming the file and line. */
export const parseCredentialsFile = (fileName: string, text: string): Either.Either<ClientCredentials, ConfigError> => {
  const lines = text.split(/\r?\n/)
  let section = ""
  const found: Record<string, string> = {}
  const fail = (line: number, why: string) =>
    Either.left(new ConfigError({ message: `cannot parse credentials file ${fileName}, line ${line}: ${why}` }))
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1
    let line = lines[i]!
    // A value ending with a backslash continues on the next line.
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!
    const trimmed = line.trim()
    if (trimmed === "" || trimmed.startsWith(";") || trimmed.startsWith("#")) continue
    if (trimmed.startsWith("[")) {
      const m = /^\[\s*([A-Za-z0-9.-]+)(\s+"(?:[^"\\]|\\.)*")?\s*\]\s*(?:[;#].*)?$/.exec(trimmed)
      if (m === null) return fail(lineNo, `expected a section header like [client], got ${JSON.stringify(trimmed)}`)
      section = m[2] === undefined ? m[1]!.toLowerCase() : ""
      continue
    }
    const v = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*))?$/.exec(trimmed)
    if (v === null) return fail(lineNo, `expected name = value, got ${JSON.stringify(trimmed.slice(0, 40))}`)
    if (section !== "client") continue
    const name = v[1]!.toLowerCase()
    if (name !== "user" && name !== "password") continue
    const value = parseValue(v[2] ?? "")
    if (Either.isLeft(value)) return fail(lineNo, `${name}: ${value.left}`)
    found[name] = value.right
  }
  return Either.right({ user: found["user"] ?? "", password: found["password"] ?? "" })
}

/**
 * The config with the credentials of its credentials files applied (orchestrator's postReadAdjustments).
 * `read` returns the file's text, or the reason it cannot be read.
 */
export const applyCredentialsFiles = (
  config: OrchestratorConfig,
  read: (path: string) => Either.Either<string, string>
): Either.Either<OrchestratorConfig, ConfigError> => {
  const load = (key: string, path: string) =>
    Either.flatMap(
      Either.mapLeft(read(path), (why) => new ConfigError({ message: `${key}: cannot read ${path}: ${why}` })),
      (text) => Either.mapLeft(parseCredentialsFile(path, text), (e) => new ConfigError({ message: `${key}: ${e.message}` }))
    )
  let out = config
  if (config.MySQLOrchestratorCredentialsConfigFile !== "") {
    const c = load("MySQLOrchestratorCredentialsConfigFile", config.MySQLOrchestratorCredentialsConfigFile)
    if (Either.isLeft(c)) return Either.left(c.left)
    out = { ...out, MySQLOrchestratorUser: c.right.user, MySQLOrchestratorPassword: c.right.password }
  }
  if (config.MySQLTopologyCredentialsConfigFile !== "") {
    const c = load("MySQLTopologyCredentialsConfigFile", config.MySQLTopologyCredentialsConfigFile)
    if (Either.isLeft(c)) return Either.left(c.left)
    out = { ...out, MySQLTopologyUser: c.right.user, MySQLTopologyPassword: c.right.password }
  }
  return Either.right(out)
}
