import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { defaults } from "../../core/config/OrchestratorConfig.js"
import { checkAuthConfig, makeAuthenticator } from "../../service/http/Auth.js"

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`
})

describe("HTTP authentication (orchestrator's methods)", () => {
  it("none: everyone may act, unless ReadOnly", () => {
    expect(makeAuthenticator(defaults)({}, false)).toEqual(Either.right({ user: "", canWrite: true }))
    expect(makeAuthenticator({ ...defaults, ReadOnly: true })({}, false)).toEqual(Either.right({ user: "", canWrite: false }))
  })

  it("basic: credentials required except on open routes", () => {
    const auth = makeAuthenticator({ ...defaults, AuthenticationMethod: "basic", HTTPAuthUser: "ops", HTTPAuthPassword: "pw" })
    expect(auth(basic("ops", "pw"), false)).toEqual(Either.right({ user: "ops", canWrite: true }))
    expect(Either.isLeft(auth(basic("ops", "wrong"), false))).toBe(true)
    expect(Either.isLeft(auth({}, false))).toBe(true)
    expect(Either.isLeft(auth({ authorization: "Bearer x" }, false))).toBe(true)
    expect(auth({}, true)).toEqual(Either.right({ user: "", canWrite: false }))
  })

  it("basic without HTTPAuthUser runs without authentication (orchestrator warns and allows)", () => {
    const auth = makeAuthenticator({ ...defaults, AuthenticationMethod: "basic" })
    expect(auth({}, false)).toEqual(Either.right({ user: "", canWrite: true }))
  })

  it("multi: user readonly with any password may read only", () => {
    const c = { ...defaults, AuthenticationMethod: "multi" as const, HTTPAuthUser: "ops", HTTPAuthPassword: "pw" }
    const auth = makeAuthenticator(c)
    expect(auth(basic("readonly", "anything"), false)).toEqual(Either.right({ user: "readonly", canWrite: false }))
    expect(auth(basic("ops", "pw"), false)).toEqual(Either.right({ user: "ops", canWrite: true }))
    expect(Either.isLeft(auth(basic("eve", "pw"), false))).toBe(true)
    expect(checkAuthConfig({ ...c, HTTPAuthUser: "" })).toContain("HTTPAuthUser undefined")
    expect(checkAuthConfig(c)).toBeUndefined()
  })

  it("proxy: the header names the user; PowerAuthUsers may act", () => {
    const auth = makeAuthenticator({ ...defaults, AuthenticationMethod: "proxy", PowerAuthUsers: ["alice"] })
    expect(auth({ "x-forwarded-user": "alice" }, false)).toEqual(Either.right({ user: "alice", canWrite: true }))
    expect(auth({ "x-forwarded-user": "bob" }, false)).toEqual(Either.right({ user: "bob", canWrite: false }))
    expect(auth({}, false)).toEqual(Either.right({ user: "", canWrite: false }))
    const everyone = makeAuthenticator({ ...defaults, AuthenticationMethod: "proxy" })
    expect(everyone({ "x-forwarded-user": "bob" }, false)).toEqual(Either.right({ user: "bob", canWrite: true }))
  })

  it("token and oauth are not supported: reads only", () => {
    expect(makeAuthenticator({ ...defaults, AuthenticationMethod: "oauth" })({}, false)).toEqual(
      Either.right({ user: "", canWrite: false })
    )
  })
})
