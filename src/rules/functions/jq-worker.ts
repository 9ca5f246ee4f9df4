/**
 * The worker thread that runs jq (jq-web: jq 1.7 compiled to WebAssembly) for the rule function
 * `jq`. WebAssembly cannot be interrupted on the thread that runs it, so it runs here, where the
 * calling thread can stop it by terminating this thread (see jq.ts). Requests come on the port in
 * workerData; each answer is posted back on it and then signalled through the shared flag, which
 * the caller waits on synchronously.
 */
import { createRequire } from 'node:module'
import { workerData, type MessagePort } from 'node:worker_threads'
import { FLAG_ANSWERED, FLAG_READY, type JqAnswer, type JqRequest, type JqWorkerData } from './jq-protocol.js'

interface JqWeb {
  raw(json: string, filter: string, flags?: string[]): string | undefined
}

const { port, flags, maxOutput } = workerData as JqWorkerData & { port: MessagePort }
const signal = new Int32Array(flags)

function answer(a: JqAnswer): void {
  port.postMessage(a)
  Atomics.add(signal, FLAG_ANSWERED, 1)
  Atomics.notify(signal, FLAG_ANSWERED)
}

/** jq's own message, without jq-web's "Non-zero exit code" line, its repetition of stderr and the "jq: " prefixes. */
function jqMessage(err: unknown): string {
  const e = err as { stderr?: unknown; message?: unknown }
  // jq-web appends stderr to an undefined field once ("undefined<stderr>") and sets it again after.
  const text = typeof e.stderr === 'string' && e.stderr !== '' ? e.stderr.replace(/^undefined/, '') : String(e.message ?? err)
  const lines: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^jq: /, '').trim()
    if (line === '' || line.startsWith('Non-zero exit code') || /^\d+ compile errors?$/.test(line) || lines.includes(line)) continue
    lines.push(line)
  }
  return lines.join(' ') || 'jq failed'
}

async function main(): Promise<void> {
  const jq = (await (createRequire(import.meta.url)('jq-web') as Promise<JqWeb>))
  port.on('message', (r: JqRequest) => {
    let out: string | undefined
    try {
      out = jq.raw(r.input, r.program, ['-c']) ?? ''
    } catch (err) {
      const exitCode = (err as { exitCode?: unknown }).exitCode
      // An exit code is jq's own error (2 usage, 3 compile, 5 runtime); anything else is the
      // WebAssembly runtime failing (an abort), after which this instance is not trusted again.
      answer({ id: r.id, error: jqMessage(err), ...(typeof exitCode === 'number' ? { exitCode } : { broken: true }) })
      return
    }
    if (out.length > Math.max(maxOutput, 2 * r.input.length)) {
      answer({ id: r.id, error: `the results take ${out.length} characters as JSON, over the limit of ${Math.max(maxOutput, 2 * r.input.length)}` })
      return
    }
    answer({ id: r.id, output: out })
  })
  Atomics.store(signal, FLAG_READY, 1)
  Atomics.notify(signal, FLAG_READY)
}

main().catch((err: unknown) => {
  Atomics.store(signal, FLAG_READY, 2)
  Atomics.notify(signal, FLAG_READY)
  throw err
})
