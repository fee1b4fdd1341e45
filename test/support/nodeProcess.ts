/**
 * Runs the real `orchestrator` binary (bin/orchestrator.js over dist/, as users run it) in a child
 * process with a config written to a temp dir; stops it by its pid. Used by end-to-end tests.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { freePort } from "./ports.js"

export const repoRoot = path.resolve(import.meta.dirname, "../..")
export const orchestratorBin = path.join(repoRoot, "bin/orchestrator.js")

export interface NodeProcess {
  readonly port: number
  readonly url: string
  readonly dir: string
  readonly child: ChildProcess
  output(): string
  /** Sends a signal and resolves with the exit code/signal and how long it took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; millis: number }>
}

const live = new Set<ChildProcess>()
process.on("exit", () => {
  for (const c of live) if (c.pid !== undefined && c.exitCode === null) c.kill("SIGKILL")
})

export const runOrchestrator = (args: ReadonlyArray<string>, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [orchestratorBin, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("exit", (code) => resolve({ code, stdout, stderr }))
  })

export const startNode = async (
  config: Record<string, unknown>,
  options: {
    readonly waitHealthyMillis?: number
    readonly env?: NodeJS.ProcessEnv
    /** Run the node as this uid (and gid of the same number): lets nftables match its packets by owner. */
    readonly uid?: number
  } = {}
): Promise<NodeProcess> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-node-"))
  const port = typeof config.ListenAddress === "string"
    ? Number(config.ListenAddress.split(":").pop())
    : await freePort()
  const full = {
    ListenAddress: `127.0.0.1:${port}`,
    BackendDB: "sqlite",
    SQLite3DataFile: path.join(dir, "backend.sqlite3"),
    ...config
  }
  const configFile = path.join(dir, "orchestrator.conf.json")
  fs.writeFileSync(configFile, JSON.stringify(full, null, 2))
  if (options.uid !== undefined) {
    fs.chownSync(dir, options.uid, options.uid)
    fs.chownSync(configFile, options.uid, options.uid)
  }
  const child = spawn(process.execPath, [orchestratorBin, "--config", configFile, "http"], {
    cwd: dir,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid })
  })
  live.add(child)
  let out = ""
  child.stdout!.on("data", (d) => (out += d))
  child.stderr!.on("data", (d) => (out += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      live.delete(child)
      resolve({ code, signal })
    })
  )
  const url = `http://127.0.0.1:${port}`
  const node: NodeProcess = {
    port,
    url,
    dir,
    child,
    output: () => out,
    stop: async (signal = "SIGTERM") => {
      const t0 = Date.now()
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      const r = await exited
      // Only the node's own temp dir goes; data placed elsewhere by the config (clusters) stays.
      fs.rmSync(dir, { recursive: true, force: true })
      return { ...r, millis: Date.now() - t0 }
    }
  }
  const deadline = Date.now() + (options.waitHealthyMillis ?? 60_000)
  for (;;) {
    if (child.exitCode !== null) throw new Error(`orchestrator exited with ${child.exitCode} before becoming healthy:\n${out}`)
    try {
      const r = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1000) })
      if (r.status === 200) return node
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await node.stop("SIGKILL")
      throw new Error(`orchestrator did not become healthy on ${url}:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 25))
  }
}
