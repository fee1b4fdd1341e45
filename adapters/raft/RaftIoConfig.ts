/**
 * The raft I/O settings derived from the orchestrator configuration (compat spec §1.6): RaftBind,
 * RaftAdvertise (default RaftBind), RaftNodes (each without a port gets DefaultRaftPort), RaftDataDir,
 * RaftAuthSecretFile (preferred) / RaftAuthSecret. Unlike orchestrator, host names are not resolved to IPs:
 * node ids are compared as spelled, so RaftNodes and every RaftAdvertise must use the same spelling.
 */
import { Data, Either } from "effect"
import * as fs from "node:fs"
import type { OrchestratorConfig } from "../../core/config/OrchestratorConfig.js"
import type { NodeId } from "../../core/raft/Types.js"
import type { RaftStorageOptions } from "./RaftStorage.js"
import type { TcpTransportOptions } from "./TcpTransport.js"
import { parseAddress } from "./TcpTransport.js"

export class RaftIoConfigError extends Data.TaggedError("RaftIoConfigError")<{ readonly message: string }> {}

/** Appends the default port when `node` has none (orchestrator's normalizeRaftNode, without DNS). */
export const normalizeNode = (node: string, defaultPort: number): NodeId => {
  const n = node.trim()
  if (parseAddress(n) !== undefined) return n
  return n.includes(":") && !n.startsWith("[") ? `[${n}]:${defaultPort}` : `${n}:${defaultPort}`
}

export interface RaftIoSettings {
  readonly transport: TcpTransportOptions
  readonly storage: RaftStorageOptions
}

export const fromConfig = (
  c: OrchestratorConfig,
  options: { readonly readFile?: (file: string) => string; readonly retainSnapshots?: number } = {}
): Either.Either<RaftIoSettings, RaftIoConfigError> => {
  const fail = (message: string) => Either.left(new RaftIoConfigError({ message }))
  const bind = normalizeNode(c.RaftBind, c.DefaultRaftPort)
  const address = parseAddress(bind)
  if (address === undefined) return fail(`RaftBind: cannot parse ${JSON.stringify(c.RaftBind)} as host:port`)
  const self = c.RaftAdvertise === "" ? bind : normalizeNode(c.RaftAdvertise, c.DefaultRaftPort)
  const peers = c.RaftNodes.map((n) => normalizeNode(n, c.DefaultRaftPort))
  for (const p of peers) if (parseAddress(p) === undefined) return fail(`RaftNodes: cannot parse ${JSON.stringify(p)} as host:port`)
  let secret = c.RaftAuthSecret
  if (c.RaftAuthSecretFile !== "") {
    try {
      secret = (options.readFile ?? ((f) => fs.readFileSync(f, "utf8")))(c.RaftAuthSecretFile).replace(/\r?\n$/, "")
    } catch (cause) {
      return fail(`RaftAuthSecretFile: cannot read ${c.RaftAuthSecretFile}: ${cause instanceof Error ? cause.message : String(cause)}`)
    }
  }
  if (c.RaftDataDir === "") return fail("RaftDataDir: must be defined since raft is enabled (RaftEnabled)")
  return Either.right({
    transport: { self, bind: address, peers, secret },
    storage: {
      dataDir: c.RaftDataDir,
      ...(options.retainSnapshots === undefined ? {} : { retainSnapshots: options.retainSnapshots })
    }
  })
}
