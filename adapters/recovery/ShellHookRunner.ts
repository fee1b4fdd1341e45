/** HookRunner over node:child_process: `ProcessesShellCommand -c <command>`, environment added, killed on timeout. */
import { Effect, Layer } from "effect"
import { spawn } from "node:child_process"
import { HookError, HookRunner } from "../../core/recovery/Hooks.js"

const runOnce = (shell: string, command: string, env: Readonly<Record<string, string>>, timeoutMs: number) =>
  Effect.async<void, HookError>((resume) => {
    let output = ""
    const child = spawn(shell, ["-c", command], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    const keep = (d: Buffer) => {
      if (output.length < 4096) output += d.toString("utf8")
    }
    child.stdout.on("data", keep)
    child.stderr.on("data", keep)
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.once("error", (e) => {
      clearTimeout(timer)
      resume(Effect.fail(new HookError({ command, reason: e.message, cause: e })))
    })
    child.once("close", (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resume(Effect.void)
      else {
        const why = signal !== null ? `killed by ${signal}${signal === "SIGKILL" ? ` (timeout ${timeoutMs} ms)` : ""}` : `exit code ${code}`
        resume(Effect.fail(new HookError({ command, reason: `${why}${output.trim() === "" ? "" : `: ${output.trim().slice(0, 500)}`}` })))
      }
    })
    return Effect.sync(() => {
      clearTimeout(timer)
      child.kill("SIGKILL")
    })
  })

export const layer = Layer.succeed(HookRunner, {
  run: (shell, command, env, options) =>
    options.async
      ? Effect.sync(() => {
        const child = spawn(shell, ["-c", command], { env: { ...process.env, ...env }, stdio: "ignore", detached: true })
        child.on("error", () => undefined)
        child.unref()
      })
      : runOnce(shell, command, env, options.timeoutMs)
})
