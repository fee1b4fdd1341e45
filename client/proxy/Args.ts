/** orchestrator-proxy's command line and environment, parsed without side effects. */

export interface ProxyArgs {
  readonly host: string | undefined
  readonly port: number
  readonly nodes: ReadonlyArray<string>
  readonly intervalMillis: number
  readonly checkTimeoutMillis: number | undefined
  readonly forwardTimeoutMillis: number | undefined
}

export type Parsed = { readonly _tag: "Help" } | { readonly _tag: "Run"; readonly args: ProxyArgs } | {
  readonly _tag: "Error"
  readonly message: string
}

/** `500ms`, `1s`, `1.5s`, `2m`, or a bare number of milliseconds. */
export const parseDuration = (text: string): number | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text)
  if (!m) return undefined
  const n = Number(m[1])
  const unit = m[2] ?? "ms"
  return Math.round(unit === "ms" ? n : unit === "s" ? n * 1000 : n * 60_000)
}

/** `:8080`, `8080`, `0.0.0.0:8080`, `[::1]:8080`. */
export const parseListen = (text: string): { host: string | undefined; port: number } | undefined => {
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(text.trim())
  if (!m) return undefined
  const port = Number(m[3])
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined
  const host = m[1] ?? (m[2] === "" ? undefined : m[2])
  return { host, port }
}

export const parseProxyArgs = (argv: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>>): Parsed => {
  const values: Record<string, string> = {}
  const known = new Set(["listen", "nodes", "interval", "check-timeout", "forward-timeout"])
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "-h" || arg === "--help" || arg === "-help" || arg === "help") return { _tag: "Help" }
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(arg)
    if (!m || !known.has(m[1]!)) return { _tag: "Error", message: `unknown argument: ${arg}` }
    const value = m[2] ?? argv[++i]
    if (value === undefined) return { _tag: "Error", message: `${arg} needs a value` }
    values[m[1]!] = value
  }
  const listenText = values["listen"] ?? env["ORCHESTRATOR_PROXY_LISTEN"] ?? ":8080"
  const listen = parseListen(listenText)
  if (listen === undefined) return { _tag: "Error", message: `--listen: expected [host]:port, got "${listenText}"` }
  const nodes = (values["nodes"] ?? env["ORCHESTRATOR_PROXY_NODES"] ?? "").split(/[\s,]+/).filter((n) => n !== "")
  if (nodes.length === 0) {
    return { _tag: "Error", message: "no nodes: give --nodes http://a:3000,http://b:3000,... or ORCHESTRATOR_PROXY_NODES" }
  }
  for (const n of nodes) {
    if (!/^https?:\/\/[^/]+/.test(n)) return { _tag: "Error", message: `--nodes: "${n}" is not an http(s) URL` }
  }
  const duration = (name: string, envName: string): number | undefined | string => {
    const text = values[name] ?? env[envName]
    if (text === undefined) return undefined
    const ms = parseDuration(text)
    return ms === undefined || ms <= 0 ? `--${name}: expected a duration like 500ms or 1s, got "${text}"` : ms
  }
  const interval = duration("interval", "ORCHESTRATOR_PROXY_INTERVAL")
  const check = duration("check-timeout", "ORCHESTRATOR_PROXY_CHECK_TIMEOUT")
  const forward = duration("forward-timeout", "ORCHESTRATOR_PROXY_FORWARD_TIMEOUT")
  for (const d of [interval, check, forward]) if (typeof d === "string") return { _tag: "Error", message: d }
  const intervalMillis = (interval as number | undefined) ?? 500
  const checkTimeoutMillis = check as number | undefined
  if (checkTimeoutMillis !== undefined && checkTimeoutMillis >= intervalMillis) {
    return { _tag: "Error", message: "--check-timeout must be below --interval" }
  }
  return {
    _tag: "Run",
    args: {
      host: listen.host,
      port: listen.port,
      nodes,
      intervalMillis,
      checkTimeoutMillis,
      forwardTimeoutMillis: forward as number | undefined
    }
  }
}
