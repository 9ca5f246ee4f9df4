#!/usr/bin/env -S node --max-semi-space-size=32
// `junction`: the command-line client of the REST API (docs/cli.md). The flag is the server's
// (src/main.ts): `junction serve` runs the server in this process.
import { CommanderError } from 'commander'
import { CliError, ApiCallError } from './client.js'
import { buildProgram, VERSION } from './program.js'
import { EXIT } from './exit-codes.js'

const program = buildProgram()
const args = process.argv.slice(2)
// `--version` alone: the CLI's version (after a command, buildProgram's hook answers it).
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${VERSION}\n`)
  process.exit(EXIT.ok)
}
try {
  await program.parseAsync(process.argv)
} catch (err) {
  process.exitCode = reportError(err)
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander has printed its message (or the help) already.
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? EXIT.ok : EXIT.usage
  }
  if (err instanceof ApiCallError) {
    let text = `junction: ${err.code} (HTTP ${err.status}): ${err.message}\n`
    const fields = (err.body as { error?: { fields?: { path: string; message: string; hint?: string }[] } })?.error?.fields ?? []
    for (const f of fields) text += `  ${f.path || '(body)'}: ${f.message}${f.hint ? ` (${f.hint})` : ''}\n`
    // The API repeats the first field's hint as the error's; once is enough.
    if (err.hint && !fields.some((f) => f.hint === err.hint)) text += `  hint: ${err.hint}\n`
    process.stderr.write(text)
    return err.exitCode
  }
  if (err instanceof CliError) {
    process.stderr.write(`junction: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`)
    return err.exitCode
  }
  process.stderr.write(`junction: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`)
  return EXIT.server
}
