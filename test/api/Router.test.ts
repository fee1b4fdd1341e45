import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as FastCheck from "effect/FastCheck"
import { makeRouter } from "../../core/api/Router.js"
import { routes } from "../../core/api/Routes.js"

const match = makeRouter(routes)

describe("API router", () => {
  it("matches orchestrator's paths, with or without a trailing slash", () => {
    expect(match("health")?.route.name).toBe("health")
    expect(match("health/")?.route.name).toBe("health")
    expect(match("leader-check/503")).toMatchObject({ route: { name: "leaderCheckCode" }, rawParams: { errorStatusCode: "503" } })
    expect(match("leader-check")?.route.name).toBe("leaderCheck")
    expect(match("leader-check/503/extra")).toBeUndefined()
    expect(match("Health")).toBeUndefined()
    expect(match("")).toBeUndefined()
  })

  it("percent-decodes segments and refuses malformed escapes", () => {
    expect(match("leader-check/%35%30%33")?.rawParams).toEqual({ errorStatusCode: "503" })
    expect(match("leader-check/%E0%A4%A")).toBeUndefined()
  })

  it("never throws, and every match decodes or fails with a ParseError, for arbitrary paths", () => {
    const segment = FastCheck.oneof(
      FastCheck.constantFrom("health", "leader-check", "status", "_ping", "routed-leader-check", "", "%", "%2F", "..", "503"),
      FastCheck.string({ maxLength: 12 }),
      FastCheck.webSegment()
    )
    FastCheck.assert(
      FastCheck.property(FastCheck.array(segment, { maxLength: 6 }), FastCheck.boolean(), (parts, slash) => {
        const path = parts.join("/") + (slash ? "/" : "")
        const m = match(path)
        if (m !== undefined) {
          const decoded = Schema.decodeUnknownEither(m.route.params as Schema.Schema<unknown, unknown>)(m.rawParams)
          if (Either.isLeft(decoded)) expect(decoded.left._tag).toBe("ParseError")
        }
      }),
      { numRuns: 5000 }
    )
  })

  it("every route's path has params matching its schema's fields", () => {
    for (const r of routes) {
      const names = r.path.split("/").filter((s) => s.startsWith(":")).map((s) => s.slice(1)).sort()
      const fields = Object.keys((r.params as unknown as { fields: Record<string, unknown> }).fields).sort()
      expect(names, r.name).toEqual(fields)
    }
  })
})
