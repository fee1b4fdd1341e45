/**
 * The shape of one HTTP API route (see Routes.ts for the table). Route groups live in
 * core/api/routes/*.ts, one file per area, and are concatenated in Routes.ts.
 */
import { Schema } from "effect"

export interface RouteDef {
  readonly name: string
  /** Path below `/api/`, with `:param` segments. */
  readonly path: string
  readonly params: Schema.Schema.AnyNoContext
  /**
   * false = answered by whichever node receives it (orchestrator's NoProxy set: health and
   * leader checks, raft introspection). true = a client request: served by the leader, and
   * forwarded to it by followers.
   */
  readonly proxy: boolean
  /** "write" routes mutate (orchestrator's `isAuthorizedForAction` guard): leader only, authorized users only. */
  readonly access: "read" | "write"
  /** Open routes need no credentials even when authentication is on (health and leader checks). */
  readonly open: boolean
}

export const route = <const Name extends string, P extends Schema.Schema.AnyNoContext>(
  name: Name,
  path: string,
  params: P,
  options: { readonly proxy: boolean; readonly access?: "read" | "write"; readonly open?: boolean }
) => ({ name, path, params, proxy: options.proxy, access: options.access ?? "read", open: options.open ?? false }) as const

export const NoParams = Schema.Struct({})
export const S = Schema.Struct
/** Client requests: forwarded to the leader by followers; W mutates, R reads. */
export const W = { proxy: true, access: "write" } as const
export const R = { proxy: true } as const
