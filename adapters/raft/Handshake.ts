/**
 * The raft transport's connection handshake (docs/raft-storage.md "Transport protocol").
 *
 *   dialer → listener  hello     {"t":"hello","v":1,"from":C,"to":S,"auth":"hmac-sha256"|"none","nonce":Nc}
 *   listener → dialer  challenge {"t":"challenge","v":1,"from":S,"nonce":Ns,"mac":HMAC(K, server-proof)}
 *   dialer → listener  auth      {"t":"auth","mac":HMAC(K, client-proof)}
 *
 * Nc and Ns are 32 random bytes (base64) from each side; K is the shared secret (RaftAuthSecret[File]);
 * the proofs are the JSON arrays ["orchestrator-raft-v1", "server"|"client", C, S, Nc, Ns], so each MAC
 * binds both node ids and both nonces, and the two directions can never be confused. Mutual: the dialer
 * checks the listener's MAC before it sends anything else, the listener checks the dialer's before it
 * accepts a raft message. A recorded exchange cannot be replayed (the other side's nonce is fresh).
 * With an empty secret both sides send "auth":"none" and empty MACs: the ids are announced, not proven.
 *
 * Verdicts (optional, both sides must offer them, so older nodes interoperate): a dialer that sets
 * `"verdict":true` in its hello, talking to a listener that sets it in its challenge, waits after its
 * auth frame for the listener's verdict:
 *   listener → dialer  welcome   {"t":"welcome"}
 *   listener → dialer  refused   {"t":"refused","reason":"...","voters":[...]}   (then the listener closes)
 * A node outside the listener's configuration is refused only after it authenticated, so what it is told
 * (the listener's voters) and what it declared (its RaftNodes, `raftNodes`/`intent` in the hello) are
 * known to come from a holder of the secret. Without verdicts a non-member is dropped at its hello.
 */
import { Schema } from "effect"
import * as crypto from "node:crypto"

export const protocolVersion = 1
/** Handshake frames are tiny; before authentication a peer may not make us buffer more. */
export const handshakeMaxFrameBytes = 4096

export type AuthMode = "hmac-sha256" | "none"

export const Hello = Schema.Struct({
  t: Schema.Literal("hello"),
  v: Schema.Literal(protocolVersion),
  from: Schema.String,
  to: Schema.String,
  auth: Schema.Literal("hmac-sha256", "none"),
  nonce: Schema.String,
  /** The dialer understands verdict frames. */
  verdict: Schema.optional(Schema.Boolean),
  /** The dialer's RaftNodes, as configured (its declaration of the membership it wants). */
  raftNodes: Schema.optional(Schema.Array(Schema.String)),
  /** Its RaftNodes was edited since it last matched the cluster's configuration (service/raft/Membership.ts). */
  intent: Schema.optional(Schema.Boolean)
})
export const Challenge = Schema.Struct({
  t: Schema.Literal("challenge"),
  v: Schema.Literal(protocolVersion),
  from: Schema.String,
  nonce: Schema.String,
  mac: Schema.String,
  /** The listener will send a verdict after the dialer's auth frame. */
  verdict: Schema.optional(Schema.Boolean)
})
export const Auth = Schema.Struct({ t: Schema.Literal("auth"), mac: Schema.String })
export const Verdict = Schema.Union(
  Schema.Struct({ t: Schema.Literal("welcome") }),
  Schema.Struct({ t: Schema.Literal("refused"), reason: Schema.String, voters: Schema.Array(Schema.String) })
)

export const decodeHello = Schema.decodeUnknownEither(Schema.parseJson(Hello))
export const decodeChallenge = Schema.decodeUnknownEither(Schema.parseJson(Challenge))
export const decodeAuth = Schema.decodeUnknownEither(Schema.parseJson(Auth))
export const decodeVerdict = Schema.decodeUnknownEither(Schema.parseJson(Verdict))

export const nonce = (): string => crypto.randomBytes(32).toString("base64")

export const mac = (
  secret: string,
  role: "server" | "client",
  client: string,
  server: string,
  clientNonce: string,
  serverNonce: string
): string =>
  secret === ""
    ? ""
    : crypto.createHmac("sha256", secret)
      .update(JSON.stringify(["orchestrator-raft-v1", role, client, server, clientNonce, serverNonce]))
      .digest("base64")

/** Constant-time comparison of two base64 MACs. */
export const macEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a, "base64")
  const y = Buffer.from(b, "base64")
  return x.length === y.length && x.length > 0 && crypto.timingSafeEqual(x, y)
}
