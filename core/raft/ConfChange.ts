/**
 * Single-server membership changes (thesis §4.1, §4.2). One voter is added or removed per config entry,
 * so any majority of the old configuration overlaps any majority of the new one and no joint consensus is
 * needed. The leader refuses a change while another is uncommitted, and before it has committed an entry of
 * its own term (the fix to the single-server algorithm posted by Ongaro, raft-dev 2015, thesis errata).
 */
import type { ConfState, NodeId } from "./Types.js"
import { isVoter, makeConf } from "./Types.js"

export interface ConfChange {
  readonly type: "addVoter" | "removeVoter"
  readonly node: NodeId
}

export type ConfChangeResult =
  | { readonly ok: true; readonly conf: ConfState }
  | { readonly ok: false; readonly reason: string }

export const apply = (conf: ConfState, change: ConfChange): ConfChangeResult => {
  if (change.node === "") return { ok: false, reason: "empty node id" }
  switch (change.type) {
    case "addVoter":
      return isVoter(conf, change.node)
        ? { ok: false, reason: `${change.node} is already a voter` }
        : { ok: true, conf: makeConf([...conf.voters, change.node]) }
    case "removeVoter":
      if (!isVoter(conf, change.node)) return { ok: false, reason: `${change.node} is not a voter` }
      if (conf.voters.length === 1) return { ok: false, reason: "cannot remove the last voter" }
      return { ok: true, conf: makeConf(conf.voters.filter((v) => v !== change.node)) }
  }
}
