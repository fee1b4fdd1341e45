/**
 * Drops messages of one send round that a later message of the same round to the same peer makes
 * redundant. Raft tolerates the loss of any message, so dropping one never affects safety; these are
 * dropped only when the later message carries everything the receiver would have learnt from them:
 *
 * - an AppendEntries without entries (a commit notification or heartbeat-like append) followed by an
 *   AppendEntries of the same term with prevIndex and commit at least as high (a leader that commits
 *   and then appends new proposals in one batch sends the commit with the new entries);
 * - a successful AppendEntriesResp followed by a successful one of the same term with an index at least
 *   as high (a follower that took several appends in one batch acknowledges the last; its `ctx` is the
 *   later, so the leader's lease and ReadIndex learn at least as much).
 *
 * Under load this halves the messages per committed batch (and the decoding, stepping and acking of
 * each on the other side).
 */
import type { Message } from "../Message.js"

const supersedes = (earlier: Message, later: Message): boolean => {
  if (earlier.to !== later.to || earlier.term !== later.term) return false
  if (earlier._tag === "AppendEntries" && later._tag === "AppendEntries") {
    return earlier.entries.length === 0 && later.prevIndex >= earlier.prevIndex && later.commit >= earlier.commit &&
      later.ctx >= earlier.ctx
  }
  if (earlier._tag === "AppendEntriesResp" && later._tag === "AppendEntriesResp") {
    return earlier.success && later.success && later.index >= earlier.index && later.ctx >= earlier.ctx
  }
  return false
}

/** `messages` in order, without those a later message of the list supersedes. */
export const coalesce = (messages: ReadonlyArray<Message>): ReadonlyArray<Message> => {
  if (messages.length < 2) return messages
  // The last AppendEntries / AppendEntriesResp per peer decides; only those two kinds are ever dropped.
  const lastAppend = new Map<string, Message>()
  const lastResp = new Map<string, Message>()
  for (const m of messages) {
    if (m._tag === "AppendEntries") lastAppend.set(m.to, m)
    else if (m._tag === "AppendEntriesResp") lastResp.set(m.to, m)
  }
  let out: Array<Message> | undefined
  for (let k = 0; k < messages.length; k++) {
    const m = messages[k]!
    const last = m._tag === "AppendEntries" ? lastAppend.get(m.to) : m._tag === "AppendEntriesResp" ? lastResp.get(m.to) : undefined
    const drop = last !== undefined && last !== m && supersedes(m, last)
    if (drop && out === undefined) out = messages.slice(0, k)
    else if (!drop && out !== undefined) out.push(m)
  }
  return out ?? messages
}
