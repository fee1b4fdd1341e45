/**
 * TLS to the topology (MySQLTopologyUseMutualTLS and the MySQLTopologySSL* files) against a real mariadbd that
 * requires secure transport, with a CA and a server certificate made here by openssl: probes and the recovery's
 * statements go through TLS (the session shows a cipher); plain TCP is refused by the server; a certificate from
 * another CA is refused unless MySQLTopologySSLSkipVerify; an unreadable file names its key.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Either, Layer } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as MysqlProber from "../../adapters/mysql/MysqlProber.js"
import * as MysqlTopologySql from "../../adapters/mysql/MysqlTopologySql.js"
import { topologyTls } from "../../adapters/mysql/Tls.js"
import * as AppConfig from "../../core/config/AppConfig.js"
import type { OrchestratorConfig } from "../../core/config/OrchestratorConfig.js"
import { Prober } from "../../core/discovery/Prober.js"
import { sql, TopologySql } from "../../core/discovery/TopologySql.js"
import * as Key from "../../core/topology/InstanceKey.js"
import { chownForServer } from "../harness/MariaDbInstall.js"
import { Shape, startTopology, type Topology } from "../harness/Topology.js"
import { config } from "./fixtures.js"

let dir: string
let topo: Topology
const file = (name: string) => path.join(dir, name)
const openssl = (...args: ReadonlyArray<string>) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" })

/** A CA and a certificate it signed for 127.0.0.1. */
const makeCa = (name: string) => {
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${name}`, "-keyout", `${name}-key.pem`, "-out", `${name}.pem`)
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-tls-"))
  fs.chmodSync(dir, 0o755)
  makeCa("ca")
  makeCa("other-ca")
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server-key.pem", "-out", "server.csr")
  fs.writeFileSync(file("san.cnf"), "subjectAltName=IP:127.0.0.1\n")
  openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", "server.pem")
  for (const f of fs.readdirSync(dir)) fs.chmodSync(file(f), 0o644)
  chownForServer(dir)
  topo = await startTopology({
    shape: Shape.masterWithReplicas(0),
    extraConfig: [`ssl_ca=${file("ca.pem")}`, `ssl_cert=${file("server.pem")}`, `ssl_key=${file("server-key.pem")}`, "require_secure_transport=ON"]
  })
}, 120_000)
afterAll(async () => {
  await topo?.stop()
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true })
})

const settings = (overrides: Partial<OrchestratorConfig>) => config({ ...topo.orchestratorConfig, ...overrides })
const withTls = (overrides: Partial<OrchestratorConfig> = {}) =>
  settings({ MySQLTopologyUseMutualTLS: true, MySQLTopologySSLCAFile: file("ca.pem"), ...overrides })

const probe = (c: OrchestratorConfig) =>
  Effect.gen(function*() {
    const ctx = yield* Layer.build(Layer.scoped(Prober, MysqlProber.make(MysqlProber.optionsFromConfig(c))))
    return yield* Effect.either(Context.get(ctx, Prober).probe({ key: Either.getOrThrow(Key.parse(topo.master.key)) }))
  })

describe("TLS to the topology (MySQLTopologyUseMutualTLS)", () => {
  it.scopedLive("probes and statements go through TLS; the server refuses plain TCP", () =>
    Effect.gen(function*() {
      const ok = yield* probe(withTls())
      expect(Either.isRight(ok) && ok.right.version).toMatch(/MariaDB/)
      const plain = yield* probe(settings({}))
      // Same credentials: MariaDB 10.11 answers "Access denied" to them without TLS (require_secure_transport).
      expect(Either.isLeft(plain) && plain.left.message).toMatch(/access denied|insecure transport/i)
      // The recovery's statements use the same settings: the session is encrypted.
      const ctx = yield* Layer.build(MysqlTopologySql.layer.pipe(Layer.provide(AppConfig.layer(withTls()))))
      const rows = yield* Context.get(ctx, TopologySql).execute(
        Either.getOrThrow(Key.parse(topo.master.key)),
        sql`SHOW SESSION STATUS LIKE 'Ssl_cipher'`
      )
      expect(String(rows[0]?.["Value"] ?? "")).not.toBe("")
    }), 60_000)

  it.scopedLive("a server certificate from another CA is refused, unless MySQLTopologySSLSkipVerify", () =>
    Effect.gen(function*() {
      const wrongCa = yield* probe(withTls({ MySQLTopologySSLCAFile: file("other-ca.pem") }))
      expect(Either.isLeft(wrongCa) && wrongCa.left.message).toMatch(/certificate/i)
      const skip = yield* probe(withTls({ MySQLTopologySSLCAFile: file("other-ca.pem"), MySQLTopologySSLSkipVerify: true }))
      expect(Either.isRight(skip)).toBe(true)
    }), 60_000)

  it("an unreadable file, or a certificate without its key, names the key", () => {
    const error = (overrides: Partial<OrchestratorConfig>) => {
      try {
        topologyTls(withTls(overrides))
        return "read"
      } catch (e) {
        return e instanceof Error ? e.message : String(e)
      }
    }
    expect(error({ MySQLTopologySSLCAFile: file("nope.pem") })).toMatch(/^MySQLTopologySSLCAFile: cannot read .*nope\.pem: ENOENT/)
    expect(error({ MySQLTopologySSLCertFile: file("server.pem") })).toBe(
      "MySQLTopologySSLCertFile and MySQLTopologySSLPrivateKeyFile: give both or neither"
    )
    expect(topologyTls(settings({}))).toBeUndefined()
  })
})
