import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { parseArgs } from "../../service/cli/Args.js"

const ok = (argv: Array<string>) => Either.getOrThrow(parseArgs(argv))

describe("orchestrator's Go-style flags", () => {
  it("accepts -config FILE, --config FILE, -config=FILE and --config=FILE", () => {
    for (const argv of [["-config", "a.json", "http"], ["--config", "a.json", "http"], ["-config=a.json", "http"], [
      "--config=a.json",
      "http"
    ]]) {
      const p = ok(argv)
      expect(p.flags.config).toBe("a.json")
      expect(p.positionals).toEqual(["http"])
    }
  })

  it("accepts flags after the command and boolean forms", () => {
    const p = ok(["http", "--config", "x", "--debug", "-ignore-raft-setup=true", "-verbose=false"])
    expect(p.positionals).toEqual(["http"])
    expect(p.flags.config).toBe("x")
    expect([...p.bools].sort()).toEqual(["debug", "ignore-raft-setup"])
  })

  it("parses -c command -i instance", () => {
    const p = ok(["-c", "begin-downtime", "-i", "db1:3306", "--owner", "ops", "--reason", "maint"])
    expect(p.flags).toEqual({ c: "begin-downtime", i: "db1:3306", owner: "ops", reason: "maint" })
  })

  it("refuses unknown flags and missing values like Go's flag package", () => {
    expect(Either.isLeft(parseArgs(["--nope"]))).toBe(true)
    expect(Either.getLeft(parseArgs(["--nope"])).pipe((l) => l._tag === "Some" && l.value.message)).toBe(
      "flag provided but not defined: -nope"
    )
    expect(Either.getLeft(parseArgs(["--config"])).pipe((l) => l._tag === "Some" && l.value.message)).toBe(
      "flag needs an argument: -config"
    )
    expect(Either.isLeft(parseArgs(["--debug=maybe"]))).toBe(true)
  })
})
