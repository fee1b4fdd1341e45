/**
 * HTTP authentication as orchestrator configures it (go/app/http.go, go/http/httpbase.go):
 * - "" (none): everyone may read and act (unless ReadOnly);
 * - basic: HTTPAuthUser/HTTPAuthPassword required on every non-open route; an authenticated user may act;
 * - multi: as basic, plus user `readonly` with any password, who may only read;
 * - proxy: a front proxy authenticates and passes the user in AuthUserHeader (default
 *   X-Forwarded-User); users in PowerAuthUsers ("*" = everyone) may act, others only read;
 * - token, oauth: not supported here; such nodes serve reads and refuse every action.
 * ReadOnly: true refuses every action whatever the method. Health and leader checks stay open.
 */
import { Data, Either } from "effect"
import * as crypto from "node:crypto"
import type { OrchestratorConfig } from "../../core/config/OrchestratorConfig.js"

export interface AuthResult {
  /** The authenticated user, "" when anonymous (orchestrator's getUserId). */
  readonly user: string
  /** May this request run mutating routes (orchestrator's isAuthorizedForAction)? */
  readonly canWrite: boolean
}

export class Unauthenticated extends Data.TaggedError("Unauthenticated")<{ readonly realm: string }> {}

const safeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && crypto.timingSafeEqual(x, y)
}

const basicCredentials = (header: string | undefined): { user: string; password: string } | undefined => {
  if (header === undefined) return undefined
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (!m) return undefined
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8")
  const i = decoded.indexOf(":")
  if (i < 0) return undefined
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) }
}

export type Authenticator = (
  headers: Readonly<Record<string, string | undefined>>,
  open: boolean
) => Either.Either<AuthResult, Unauthenticated>

/** Validates the method's own settings at start-up (orchestrator: multi without a user is fatal). */
export const checkAuthConfig = (c: OrchestratorConfig): string | undefined =>
  c.AuthenticationMethod === "multi" && c.HTTPAuthUser === ""
    ? "AuthenticationMethod is configured as 'multi' but HTTPAuthUser undefined"
    : undefined

export const makeAuthenticator = (c: OrchestratorConfig): Authenticator => {
  const method = c.AuthenticationMethod.toLowerCase()
  const realm = "Authorization Required"
  const writable = (can: boolean) => can && !c.ReadOnly
  return (headers, open) => {
    switch (method) {
      case "basic":
      case "multi": {
        if (method === "basic" && c.HTTPAuthUser === "") return Either.right({ user: "", canWrite: writable(true) })
        const cred = basicCredentials(headers["authorization"])
        if (method === "multi" && cred?.user === "readonly") return Either.right({ user: "readonly", canWrite: false })
        if (cred && safeEqual(cred.user, c.HTTPAuthUser) && safeEqual(cred.password, c.HTTPAuthPassword)) {
          return Either.right({ user: cred.user, canWrite: writable(true) })
        }
        return open ? Either.right({ user: "", canWrite: false }) : Either.left(new Unauthenticated({ realm }))
      }
      case "proxy": {
        const user = headers[c.AuthUserHeader.toLowerCase()] ?? ""
        const power = c.PowerAuthUsers.some((u) => u === "*" || (user !== "" && u === user))
        return Either.right({ user, canWrite: writable(power) })
      }
      case "token":
      case "oauth":
        return Either.right({ user: "", canWrite: false })
      default:
        return Either.right({ user: "", canWrite: writable(true) })
    }
  }
}
