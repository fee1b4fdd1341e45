import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { applyCredentialsFiles, parseCredentialsFile } from "../../core/config/CredentialsFile.js"
import { decodeConfig } from "../../core/config/OrchestratorConfig.js"

const parse = (text: string) => parseCredentialsFile("creds.cnf", text)

describe("credentials files (MySQLTopologyCredentialsConfigFile, MySQLOrchestratorCredentialsConfigFile)", () => {
  it("reads [client] user and password, ignoring other sections, other variables and comments", () => {
    const text = [
      "# orchestrator's topology user",
      "[mysql]",
      "user = not-this-one",
      "[Client]",
      "host = db1 ; not ours",
      "user = orc_topology   # trailing comment",
      "password = \"s3cr;et #1\"",
      "no-value-flag",
      "[client \"sub\"]",
      "user = neither"
    ].join("\n")
    expect(parse(text)).toEqual(Either.right({ user: "orc_topology", password: "s3cr;et #1" }))
  })

  it("keeps inner spaces, applies escapes, joins continued lines; absent variables are empty", () => {
    expect(parse("[client]\npassword =  a b\\tc\\\"d \n")).toEqual(Either.right({ user: "", password: "a b\tc\"d" }))
    expect(parse("[client]\nuser = ab\\\ncd\n")).toEqual(Either.right({ user: "abcd", password: "" }))
    expect(parse("")).toEqual(Either.right({ user: "", password: "" }))
  })

  it("names the file and line of what it cannot parse", () => {
    const bad = (text: string) => {
      const r = parse(text)
      return Either.isLeft(r) ? r.left.message : "parsed"
    }
    expect(bad("[client]\npassword = \"open")).toBe("cannot parse credentials file creds.cnf, line 2: password: unterminated quote")
    expect(bad("[client\nuser = x")).toMatch(/^cannot parse credentials file creds\.cnf, line 1: expected a section header/)
    expect(bad("[client]\n= x")).toMatch(/^cannot parse credentials file creds\.cnf, line 2: expected name = value/)
    expect(bad("[client]\nuser = a\\qb")).toBe("cannot parse credentials file creds.cnf, line 2: user: invalid escape \\q")
  })

  it("replaces the configured user and password; a file that cannot be read is an error naming the key", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-creds-"))
    try {
      const file = path.join(dir, "topology.cnf")
      fs.writeFileSync(file, "[client]\nuser=from_file\npassword=pw_from_file\n")
      const config = Either.getOrThrow(decodeConfig("c.json", JSON.stringify({
        BackendDB: "sqlite",
        SQLite3DataFile: ":memory:",
        MySQLTopologyUser: "in_json",
        MySQLTopologyCredentialsConfigFile: file
      }))).config
      const read = (p: string) => Either.try({ try: () => fs.readFileSync(p, "utf8"), catch: (e) => (e as Error).message })
      const applied = Either.getOrThrow(applyCredentialsFiles(config, read))
      expect([applied.MySQLTopologyUser, applied.MySQLTopologyPassword]).toEqual(["from_file", "pw_from_file"])
      expect([applied.MySQLOrchestratorUser, applied.MySQLOrchestratorPassword]).toEqual(["", ""])
      const missing = applyCredentialsFiles({ ...config, MySQLOrchestratorCredentialsConfigFile: path.join(dir, "nope.cnf") }, read)
      expect(Either.isLeft(missing) && missing.left.message).toMatch(/^MySQLOrchestratorCredentialsConfigFile: cannot read .*nope\.cnf: ENOENT/)
      expect(Either.getOrThrow(applyCredentialsFiles({ ...config, MySQLTopologyCredentialsConfigFile: "" }, read)).MySQLTopologyUser).toBe("in_json")
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
