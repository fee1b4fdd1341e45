// Shared helpers of the Nix checks.
import { execFile } from "node:child_process"
import { readdirSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

export const run = promisify(execFile)
export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..")
export const registry = "https://registry.invalid"

export const INSTALL_HINT =
  "nix-instantiate is not on PATH. The Nix packaging checks need it: install it with " +
  "`apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nix-bin` (Debian/Ubuntu), " +
  "or any Nix installation."

export const hasNixInstantiate = (): Promise<boolean> =>
  run("nix-instantiate", ["--version"]).then(
    () => true,
    () => false
  )

export const nixInstantiate = async (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<string> => {
  try {
    const { stdout } = await run("nix-instantiate", [...args], {
      cwd: root,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024
    })
    return stdout
  } catch (e) {
    const err = e as { stderr?: string; message: string }
    throw new Error(`nix-instantiate ${args.join(" ")} failed:\n${err.stderr ?? err.message}`)
  }
}

export const evalJson = async (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<unknown> =>
  JSON.parse(await nixInstantiate(["--eval", "--strict", "--json", ...args], env))

export const nixFiles = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === "node_modules" || entry.name === ".git" || entry.name === "dist") return []
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return nixFiles(path)
    return entry.isFile() && entry.name.endsWith(".nix") ? [path] : []
  })

export interface LockEntry {
  readonly version?: string
  readonly name?: string
  readonly resolved?: string
  readonly link?: boolean
  readonly inBundle?: boolean
}
export interface Lock {
  readonly packages: Record<string, LockEntry>
}
