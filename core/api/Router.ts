/**
 * Matches request paths against the route table, the way orchestrator's martini router does:
 * a `:param` matches one non-empty segment (`[^/#?]+`), a trailing slash is accepted, and the
 * first registered route that matches wins. Pure; decoding parameters is the caller's job.
 */
import type { RouteDef } from "./Routes.js"

export interface Match<R extends RouteDef> {
  readonly route: R
  readonly rawParams: Readonly<Record<string, string>>
}

interface Compiled<R extends RouteDef> {
  readonly route: R
  readonly segments: ReadonlyArray<{ readonly literal: string } | { readonly param: string }>
}

/** Splits `/a/b/` into ["a", "b"]; percent-decodes each segment (undefined on malformed escapes). */
const splitPath = (path: string): ReadonlyArray<string> | undefined => {
  const trimmed = path.endsWith("/") ? path.slice(0, -1) : path
  if (trimmed === "") return []
  const parts = trimmed.split("/")
  const out: Array<string> = []
  for (const p of parts) {
    try {
      out.push(decodeURIComponent(p))
    } catch {
      return undefined
    }
  }
  return out
}

export const makeRouter = <R extends RouteDef>(table: ReadonlyArray<R>) => {
  const compiled: ReadonlyArray<Compiled<R>> = table.map((route) => ({
    route,
    segments: route.path.split("/").map((s) => (s.startsWith(":") ? { param: s.slice(1) } : { literal: s }))
  }))
  // Candidates by first segment, each list in table order (first registered wins): a request looks at the
  // few routes of its first segment instead of scanning the whole table. A route starting with a parameter
  // would be a candidate for every first segment, so it is in every list.
  const firstLiteral = (c: Compiled<R>) => {
    const first = c.segments[0]
    return first !== undefined && "literal" in first ? first.literal : undefined
  }
  const paramFirst = compiled.filter((c) => firstLiteral(c) === undefined)
  const byFirst = new Map<string, ReadonlyArray<Compiled<R>>>()
  for (const c of compiled) {
    const literal = firstLiteral(c)
    if (literal === undefined || byFirst.has(literal)) continue
    byFirst.set(literal, compiled.filter((d) => [literal, undefined].includes(firstLiteral(d))))
  }
  /** `path` is relative to `/api/` (e.g. "leader-check/503"). */
  return (path: string): Match<R> | undefined => {
    const parts = splitPath(path)
    if (parts === undefined) return undefined
    const candidates = parts.length === 0 ? compiled : byFirst.get(parts[0]!) ?? paramFirst
    for (const c of candidates) {
      if (c.segments.length !== parts.length) continue
      const params: Record<string, string> = {}
      let ok = true
      for (let i = 0; i < parts.length; i++) {
        const seg = c.segments[i]!
        const part = parts[i]!
        if ("literal" in seg) {
          if (seg.literal !== part) {
            ok = false
            break
          }
        } else {
          if (part === "" || /[#?]/.test(part)) {
            ok = false
            break
          }
          params[seg.param] = part
        }
      }
      if (ok) return { route: c.route, rawParams: params }
    }
    return undefined
  }
}
