/**
 * `orchestrator -c <command>`: runs a command against this node's backend directly, as orchestrator's
 * CLI does, by calling the same handler the HTTP route uses. The route is found from the command name
 * (its first path segment, `slave` spelt `replica` too) and the flags that fill its parameters:
 * -i host:port, -d host:port (destination), --owner, --reason, --duration, --promotion-rule,
 * --tag name=value, --alias, --pool. Output: a key per line where the answer is keys, else the message
 * (or the JSON for raw answers); errors on stderr with exit 1.
 */
import { Cause, Effect, Either, Exit, Schema } from "effect"
import * as os from "node:os"
import type { ApiResponse } from "../../core/api/Envelope.js"
import { routes, type Route } from "../../core/api/Routes.js"
import type { OrchestratorConfig } from "../../core/config/OrchestratorConfig.js"
import { describeParamError, type RequestContext } from "../http/Api.js"
import * as Node from "../Node.js"
import type { ParsedArgs } from "./Args.js"

const splitKey = (text: string | undefined, defaultPort: number): { host: string; port: string } | undefined => {
  if (text === undefined || text === "") return undefined
  const i = text.lastIndexOf(":")
  return i > 0 ? { host: text.slice(0, i), port: text.slice(i + 1) } : { host: text, port: String(defaultPort) }
}

/** Values the flags can give to route parameters. */
const flagValues = (args: ParsedArgs): Record<string, string> => {
  const out: Record<string, string> = {}
  const i = splitKey(args.flags.i, 3306)
  if (i) Object.assign(out, { host: i.host, port: i.port })
  const d = splitKey(args.flags.d ?? args.flags.s, 3306)
  if (d) Object.assign(out, { belowHost: d.host, belowPort: d.port, siblingHost: d.host, siblingPort: d.port, designatedHost: d.host, designatedPort: d.port })
  out.owner = args.flags.owner ?? os.userInfo().username
  if (args.flags.reason) out.reason = args.flags.reason
  if (args.flags.duration) out.duration = args.flags.duration
  if (args.flags["promotion-rule"]) out.promotionRule = args.flags["promotion-rule"]
  if (args.flags.pool) out.pool = args.flags.pool
  if (args.flags.alias) Object.assign(out, { clusterAlias: args.flags.alias, clusterHint: args.flags.alias, clusterName: args.flags.alias })
  else if (args.flags.i) Object.assign(out, { clusterHint: args.flags.i, clusterName: args.flags.i })
  if (args.flags.tag) {
    const [name, value] = args.flags.tag.split("=", 2)
    out.tagName = name ?? ""
    if (value !== undefined) out.tagValue = value
  }
  return out
}

/** The route for a command: same first segment, every parameter available; the most specific wins. */
export const resolveRoute = (command: string, available: Record<string, string>): { route: Route; params: Record<string, string> } | undefined => {
  const names = [command, command.replace("slave", "replica")]
  let best: { route: Route; params: Record<string, string> } | undefined
  for (const route of routes) {
    const segments = route.path.split("/")
    if (!names.includes(segments[0]!)) continue
    const wanted = segments.filter((s) => s.startsWith(":")).map((s) => s.slice(1))
    if (!wanted.every((w) => available[w] !== undefined && available[w] !== "")) continue
    if (best === undefined || wanted.length > Object.keys(best.params).length) {
      best = { route, params: Object.fromEntries(wanted.map((w) => [w, available[w]!])) }
    }
  }
  return best
}

const isKey = (v: unknown): v is { Hostname: string; Port: number } =>
  typeof v === "object" && v !== null && "Hostname" in v && "Port" in v

const render = (body: unknown): string => {
  if (isKey(body)) return `${body.Hostname}:${body.Port}`
  if (Array.isArray(body) && body.every(isKey)) return body.map((k) => `${k.Hostname}:${k.Port}`).join("\n")
  if (typeof body === "string") return body
  if (Array.isArray(body) && body.every((v) => typeof v === "string")) return body.join("\n")
  return JSON.stringify(body, null, 2)
}

export const runCommand = (config: OrchestratorConfig, command: string, args: ParsedArgs): Promise<number> => {
  const found = resolveRoute(command, flagValues(args))
  if (found === undefined) {
    const known = [...new Set(routes.map((r) => r.path.split("/")[0]))].sort()
    process.stderr.write(`Unknown command or missing flags: ${command} (commands: ${known.join(", ")})\n`)
    return Promise.resolve(1)
  }
  const decoded = Schema.decodeUnknownEither(found.route.params as Schema.Schema<unknown, unknown>)(found.params)
  if (Either.isLeft(decoded)) {
    process.stderr.write(`${command}: ${describeParamError(decoded.left, found.params)}\n`)
    return Promise.resolve(1)
  }
  const query = new URLSearchParams()
  if (args.flags.tag) query.set("tag", args.flags.tag)
  const ctx: RequestContext = {
    method: "GET",
    url: new URL(`http://cli/api/${found.route.path}?${query}`),
    headers: {},
    remoteAddress: undefined,
    auth: { user: os.userInfo().username, canWrite: !config.ReadOnly }
  }
  const handler = (Node.allHandlers as Record<string, unknown>)[found.route.name] as (p: unknown, c: RequestContext) => Effect.Effect<
    { readonly _tag: string; readonly status: number; readonly body: unknown },
    { readonly message: string },
    never
  >
  const program = handler(decoded.right, ctx).pipe(Effect.provide(Node.cliLayer(config))) as Effect.Effect<
    { readonly _tag: string; readonly status: number; readonly body: unknown },
    { readonly message: string }
  >
  return Effect.runPromiseExit(program).then((exit) => {
    if (Exit.isFailure(exit)) {
      const failure = Cause.failureOption(exit.cause)
      process.stderr.write(`${failure._tag === "Some" ? failure.value.message : Cause.pretty(exit.cause)}\n`)
      return 1
    }
    const reply = exit.value
    if (reply._tag === "Json") {
      const body = reply.body as Partial<ApiResponse>
      if (body !== null && typeof body === "object" && "Code" in body && "Message" in body) {
        if (body.Code === "ERROR") {
          process.stderr.write(`${body.Message}\n`)
          return 1
        }
        process.stdout.write(`${body.Details === null || body.Details === undefined || body.Details === "" ? body.Message : render(body.Details)}\n`)
        return 0
      }
    }
    process.stdout.write(`${render(reply.body)}\n`)
    return reply.status < 400 ? 0 : 1
  })
}
