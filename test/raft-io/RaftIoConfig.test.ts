import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { fromConfig, normalizeNode } from "../../adapters/raft/RaftIoConfig.js"
import { OrchestratorConfig } from "../../core/config/OrchestratorConfig.js"
import { Schema } from "effect"

const config = (over: Record<string, unknown>) =>
  Schema.decodeUnknownSync(OrchestratorConfig)({ RaftEnabled: true, RaftDataDir: "/var/lib/orchestrator/raft", ...over })

describe("raft I/O settings from the orchestrator config", () => {
  it("normalizes nodes with DefaultRaftPort and defaults RaftAdvertise to RaftBind", () => {
    assert.strictEqual(normalizeNode("10.0.0.1", 10008), "10.0.0.1:10008")
    assert.strictEqual(normalizeNode("10.0.0.1:7", 10008), "10.0.0.1:7")
    assert.strictEqual(normalizeNode("::1", 10008), "[::1]:10008")
    const s = Either.getOrThrow(fromConfig(config({ RaftBind: "10.0.0.1", RaftNodes: ["10.0.0.1", "10.0.0.2", "10.0.0.3:9"] })))
    assert.deepStrictEqual(s.transport, {
      self: "10.0.0.1:10008",
      bind: { host: "10.0.0.1", port: 10008 },
      peers: ["10.0.0.1:10008", "10.0.0.2:10008", "10.0.0.3:9"],
      secret: ""
    })
    assert.deepStrictEqual(s.storage, { dataDir: "/var/lib/orchestrator/raft" })
  })

  it("RaftAuthSecretFile wins over RaftAuthSecret (trailing newline removed); unreadable file is an error", () => {
    const s = fromConfig(config({ RaftAuthSecret: "inline", RaftAuthSecretFile: "/run/secret", RaftAdvertise: "1.2.3.4" }), {
      readFile: () => "from-file\n"
    })
    assert.strictEqual(Either.getOrThrow(s).transport.secret, "from-file")
    assert.strictEqual(Either.getOrThrow(s).transport.self, "1.2.3.4:10008")
    const bad = fromConfig(config({ RaftAuthSecretFile: "/nonexistent/secret" }))
    assert.isTrue(Either.isLeft(bad))
  })
})
