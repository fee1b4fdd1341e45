/**
 * The identity of a MySQL/MariaDB server: hostname and port (orchestrator `go/inst/instance_key.go`
 * `InstanceKey{Hostname, Port}`).
 *
 * Orchestrator facts matched here:
 * - The string form is `StringCode()` = `fmt.Sprintf("%s:%d", Hostname, Port)`: no brackets even for IPv6.
 *   It is the cluster name of a master and the key in many tables, so it must not change.
 * - `ParseRawInstanceKey` accepts `host:port`, `host` (then `DefaultInstancePort`, 3306 by default),
 *   `[ipv6]:port` and a bare IPv6 address. The HTTP API always gives the port explicitly (`:host/:port`).
 * - `IsValid()` rejects the empty hostname, the hostname `_` (what `change master to master_host='_'`
 *   leaves behind after a detach/reset) and detached hostnames starting with `//`; here construction only
 *   rejects the empty hostname and ports outside 1..65535, and `isValid` carries orchestrator's heuristic.
 */
import { Either, Schema } from "effect"

/** Orchestrator's `DefaultInstancePort` default (`go/config/config.go`). */
export const defaultInstancePort = 3306

/** The prefix orchestrator puts in front of a detached master hostname (`detachHint` in instance_key.go). */
export const detachHint = "//"

export class InstanceKey extends Schema.Class<InstanceKey>("InstanceKey")({
  hostname: Schema.String.pipe(Schema.minLength(1)),
  port: Schema.Int.pipe(Schema.between(1, 65535))
}) {
  /** `host:port`, exactly orchestrator's `StringCode()`. */
  override toString(): string {
    return `${this.hostname}:${this.port}`
  }
}

export class InstanceKeyParseError extends Schema.TaggedError<InstanceKeyParseError>()("InstanceKeyParseError", {
  input: Schema.String,
  message: Schema.String
}) {}

/** Builds a key, checking hostname (non-empty) and port (1..65535). */
export const make = (hostname: string, port: number): Either.Either<InstanceKey, InstanceKeyParseError> => {
  if (hostname.length === 0) {
    return Either.left(new InstanceKeyParseError({ input: `${hostname}:${port}`, message: "Empty hostname" }))
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return Either.left(new InstanceKeyParseError({ input: `${hostname}:${port}`, message: `Invalid port: ${port}` }))
  }
  return Either.right(new InstanceKey({ hostname, port }))
}

/** Same as `make` but throws; for literals in code and tests. */
export const unsafeMake = (hostname: string, port: number): InstanceKey => Either.getOrThrow(make(hostname, port))

// The four forms of orchestrator's parseRawInstanceKey, tried in the same order.
const hostPortRe = /^([^:]+):([0-9]+)$/
const hostRe = /^([^:]+)$/
const ipv6HostPortRe = /^\[([:0-9a-fA-F]+)\]:([0-9]+)$/
const ipv6HostRe = /^([:0-9a-fA-F]+)$/

export interface ParseOptions {
  /**
   * Port used when the text has none. Leave it out to require an explicit port (the HTTP API case);
   * pass `defaultInstancePort` to behave like orchestrator's CLI `-i host`.
   */
  readonly defaultPort?: number
}

/**
 * Parses `host:port`, `[v6]:port`, and (only when `defaultPort` is given) `host` / bare IPv6.
 * Port text must be decimal digits; leading zeros are accepted as Go's `strconv.Atoi` does.
 */
export const parse = (text: string, options: ParseOptions = {}): Either.Either<InstanceKey, InstanceKeyParseError> => {
  const fail = (message: string) => Either.left(new InstanceKeyParseError({ input: text, message }))
  let host: string
  let portText: string | undefined
  let m: RegExpExecArray | null
  if ((m = hostPortRe.exec(text)) !== null) {
    host = m[1]!
    portText = m[2]!
  } else if ((m = hostRe.exec(text)) !== null) {
    host = m[1]!
  } else if ((m = ipv6HostPortRe.exec(text)) !== null) {
    host = m[1]!
    portText = m[2]!
  } else if ((m = ipv6HostRe.exec(text)) !== null) {
    host = m[1]!
  } else {
    return fail(`Cannot parse address: ${text}`)
  }
  if (portText === undefined) {
    if (options.defaultPort === undefined) return fail(`Missing port in: ${text}`)
    return make(host, options.defaultPort)
  }
  if (portText.length > 5) return fail(`Invalid port: ${portText}`)
  return make(host, Number.parseInt(portText, 10))
}

/** Structural equality (hostname and port), orchestrator's `Equals`. */
export const equals = (a: InstanceKey | null, b: InstanceKey | null): boolean =>
  a !== null && b !== null && a.hostname === b.hostname && a.port === b.port

/** Orchestrator's `SmallerThan`: hostname, then port. Used to sort replica lists. */
export const compare = (a: InstanceKey, b: InstanceKey): number =>
  a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.port - b.port

/** Sorted, duplicate-free copy, the order `InstanceKeyMap.GetInstanceKeys()` marshals in. */
export const sortedUnique = (keys: Iterable<InstanceKey>): ReadonlyArray<InstanceKey> => {
  const out: Array<InstanceKey> = []
  for (const k of [...keys].sort(compare)) {
    const last = out[out.length - 1]
    if (last === undefined || !equals(last, k)) out.push(k)
  }
  return out
}

/** `//host`: a master that was detached on purpose (orchestrator `IsDetached`). */
export const isDetached = (key: InstanceKey): boolean => key.hostname.startsWith(detachHint)

/** Orchestrator's `IsValid()` heuristic: not `_`, not detached (construction already checks the rest). */
export const isValid = (key: InstanceKey): boolean => key.hostname !== "_" && !isDetached(key)

/** The string form `host:port` (orchestrator `StringCode`/`DisplayString`). */
export const format = (key: InstanceKey): string => `${key.hostname}:${key.port}`
