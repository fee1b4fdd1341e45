/**
 * Network faults with nftables, as measured in spec/mariadb.md section 6. One table per instance port
 * (`inet orc_harness_<port>`), so healing one instance is `delete table` and never touches another rule.
 */
import { spawnSync } from "node:child_process"
import { HarnessError } from "./HarnessError.js"
import { isRoot, runAs, which } from "./MariaDbInstall.js"

/**
 * - `drop`: black hole (input hook, `tcp dport P drop; tcp sport P drop`). Probes time out; replicas of P notice
 *   after slave_net_timeout (4 s here).
 * - `reject`: TCP reset both ways, i.e. immediate "connection refused". The `rst == 0` filter keeps the sport rule
 *   from eating the RSTs the dport rule generates (without it you get timeouts).
 * - `partial`: output hook `meta skuid != <mysql uid> tcp dport P drop`: every process except the servers (the
 *   test, orchestrator, CLI) loses P, while its replicas keep replicating: orchestrator's UnreachableMaster without
 *   network namespaces.
 */
export type PartitionMode = "drop" | "reject" | "partial"

export const tableName = (port: number): string => `orc_harness_${port}`

const nftBinary = (): string => {
  if (!isRoot()) {
    throw new HarnessError({
      message: "network partitions need root (nft adds netfilter rules); run the tests as root or skip partition tests"
    })
  }
  const nft = which(["nft"])
  if (nft === undefined) {
    throw new HarnessError({ message: "nft not found: install nftables (apt-get install nftables)" })
  }
  return nft
}

export const rules = (port: number, mode: PartitionMode, serverUid: number | undefined): string => {
  const table = tableName(port)
  switch (mode) {
    case "drop":
      return `table inet ${table} {
  chain input {
    type filter hook input priority -10; policy accept;
    tcp dport ${port} drop
    tcp sport ${port} drop
  }
}
`
    case "reject":
      return `table inet ${table} {
  chain input {
    type filter hook input priority -10; policy accept;
    tcp dport ${port} tcp flags & rst == 0 reject with tcp reset
    tcp sport ${port} tcp flags & rst == 0 reject with tcp reset
  }
}
`
    case "partial":
      return `table inet ${table} {
  chain output {
    type filter hook output priority -10; policy accept;
    meta skuid != ${serverUid ?? -1} tcp dport ${port} drop
  }
}
`
  }
}

const runNft = (script: string): void => {
  const res = spawnSync(nftBinary(), ["-f", "-"], { input: script, encoding: "utf8" })
  if (res.status !== 0) {
    throw new HarnessError({
      message: `nft failed (exit ${res.status}): ${res.stderr}${res.error?.message ?? ""}\n${script}`
    })
  }
}

/** Replaces any partition on `port` by `mode`. */
export const apply = (port: number, mode: PartitionMode): void => {
  nftBinary()
  let uid: number | undefined
  if (mode === "partial") {
    const who = runAs()
    if (who._tag !== "MysqlUser") {
      throw new HarnessError({
        message: `partition "partial" needs the servers to run as a different OS user than the tests (the \`mysql\` ` +
          `user); here ${who._tag === "Root" ? who.reason : "the tests do not run as root"}`
      })
    }
    uid = who.uid
  }
  const table = tableName(port)
  // Declaring the table first makes `delete` succeed whether or not it existed: the swap is one atomic transaction.
  runNft(`table inet ${table}\ndelete table inet ${table}\n${rules(port, mode, uid)}`)
}

/** Removes the partition on `port`, if any. */
export const heal = (port: number): void => {
  const table = tableName(port)
  runNft(`table inet ${table}\ndelete table inet ${table}\n`)
}

/** For exit handlers: never throws. */
export const healQuietly = (port: number): void => {
  try {
    heal(port)
  } catch {
    // best effort while the process is going away
  }
}
