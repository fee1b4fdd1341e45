/**
 * orchestrator's TLS to the topology servers: `MySQLTopologyUseMutualTLS` turns it on for every connection (probes
 * and the recovery's statements), with `MySQLTopologySSLCAFile` to verify the servers (the system's CAs when
 * empty), `MySQLTopologySSLCertFile` + `MySQLTopologySSLPrivateKeyFile` as the client's certificate when the
 * servers ask for one, and `MySQLTopologySSLSkipVerify` to accept any server certificate. The files are read once,
 * at start; one that cannot be read stops the start naming the key.
 *
 * `MySQLTopologyUseMixedTLS` (orchestrator: TLS only to the servers that require it, found by asking them) has no
 * effect yet: with UseMutualTLS off, connections are plain TCP.
 */
import * as fs from "node:fs"
import { Data } from "effect"
import type { OrchestratorConfig } from "../../core/config/OrchestratorConfig.js"
import type { TlsOptions } from "./Connections.js"

/** A TLS file that cannot be used; `message` names the key. */
export class TlsConfigError extends Data.TaggedError("TlsConfigError")<{ readonly message: string }> {}

type TlsKeys = Pick<
  OrchestratorConfig,
  | "MySQLTopologyUseMutualTLS"
  | "MySQLTopologySSLCAFile"
  | "MySQLTopologySSLCertFile"
  | "MySQLTopologySSLPrivateKeyFile"
  | "MySQLTopologySSLSkipVerify"
>

const read = (key: string, file: string): string | undefined => {
  if (file === "") return undefined
  try {
    return fs.readFileSync(file, "utf8")
  } catch (e) {
    throw new TlsConfigError({ message: `${key}: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}` })
  }
}

/** The TLS options of topology connections, or undefined for plain TCP. Throws TlsConfigError naming the key. */
export const topologyTls = (c: TlsKeys): TlsOptions | undefined => {
  if (!c.MySQLTopologyUseMutualTLS) return undefined
  const ca = read("MySQLTopologySSLCAFile", c.MySQLTopologySSLCAFile)
  const cert = read("MySQLTopologySSLCertFile", c.MySQLTopologySSLCertFile)
  const key = read("MySQLTopologySSLPrivateKeyFile", c.MySQLTopologySSLPrivateKeyFile)
  if ((cert === undefined) !== (key === undefined)) {
    throw new TlsConfigError({ message: "MySQLTopologySSLCertFile and MySQLTopologySSLPrivateKeyFile: give both or neither" })
  }
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    rejectUnauthorized: !c.MySQLTopologySSLSkipVerify
  }
}
