/**
 * EMQX's `jq(Program, JSON)` and `jq(Program, JSON, TimeoutMs)`: runs a jq program on a JSON value
 * and returns the list of its results (EMQX's jq/2,3: a binary is JSON text, anything else is
 * encoded as JSON first; the results are decoded).
 *
 * jq is the real one, jq 1.7 compiled to WebAssembly (the `jq-web` package), so programs mean
 * exactly what they mean in jq. Rule functions are synchronous and WebAssembly cannot be
 * interrupted on the thread that runs it, so jq runs in a worker thread (jq-worker.ts) and the
 * caller waits for its answer synchronously (Atomics.wait on a shared flag, then
 * receiveMessageOnPort): the function stays synchronous, and a program that runs past its timeout
 * is stopped by terminating that thread (a new one starts for the next call).
 *
 * Waiting blocks the broker thread, so the bounds are tighter than EMQX's: a call waits at most
 * JQ_MAX_TIMEOUT_MS (EMQX's default, 10 s; a larger TimeoutMs is lowered to it), and a program that
 * timed out fails at once, without running, for JQ_QUARANTINE_MS afterwards (for calls with the
 * same or a shorter timeout), so one runaway program costs one wait per minute rather than one per
 * message.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads'
import { startWorkerThread } from '../../connector-api/worker-thread.js'
import { FLAG_ANSWERED, FLAG_READY, type JqAnswer, type JqRequest, type JqWorkerData } from './jq-protocol.js'
import { MAX_VALUE_SIZE, binaryText, decodeJson, describe, encodeJson, fail, isBinary, spec, type FunctionFamily } from './values.js'

/** EMQX's `rule_engine.jq_function_default_timeout`. */
export const JQ_DEFAULT_TIMEOUT_MS = 10_000
/** The longest one call may block the broker thread, whatever TimeoutMs says. */
export const JQ_MAX_TIMEOUT_MS = 10_000
/** How long a program that timed out is refused without running. */
export const JQ_QUARANTINE_MS = 60_000
/** How long the first call waits for the jq thread to start (loading the WebAssembly module). */
export const JQ_START_TIMEOUT_MS = 30_000
/** Memory of the jq thread's JavaScript heap (jq-web buffers jq's output there). */
const JQ_HEAP_MB = 256
const MAX_QUARANTINED = 256

/** The jq thread and the synchronous call into it. */
class JqThread {
  private worker: Worker | undefined
  private port: MessagePort | undefined
  private flags: Int32Array | undefined
  private nextId = 1
  /** Program text -> until when, and up to which timeout, it is refused (it timed out with that timeout). */
  private readonly quarantine = new Map<string, { until: number; timeoutMs: number }>()

  /** Starts the thread if it is not running (it loads jq in the background). */
  start(): void {
    if (this.worker !== undefined) return
    const { port1, port2 } = new MessageChannel()
    const shared = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT)
    const data: JqWorkerData & { port: MessagePort } = { port: port2, flags: shared, maxOutput: MAX_VALUE_SIZE }
    const worker = startWorkerThread(new URL('./jq-worker.js', import.meta.url), {
      name: 'junction-jq',
      workerData: data,
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb: JQ_HEAP_MB },
    })
    // The thread serves calls only: it never keeps the process alive.
    worker.unref()
    port1.unref()
    const forget = (): void => {
      if (this.worker === worker) this.discard()
    }
    worker.on('error', forget)
    worker.on('exit', forget)
    this.worker = worker
    this.port = port1
    this.flags = new Int32Array(shared)
  }

  /** Runs `program` on the JSON text `input`; throws RuleFunctionError on a jq error or a timeout. */
  run(program: string, input: string, timeoutMs: number): string {
    const timedOut = this.quarantine.get(program)
    if (timedOut !== undefined) {
      if (Date.now() >= timedOut.until) this.quarantine.delete(program)
      else if (timeoutMs <= timedOut.timeoutMs) {
        return fail('jq', `timeout: the program ran for more than ${timedOut.timeoutMs} ms less than ${JQ_QUARANTINE_MS / 1000} s ago, and is refused without running until then`)
      }
    }
    this.start()
    this.waitStarted()
    const port = this.port!
    const flags = this.flags!
    const id = this.nextId++
    port.postMessage({ id, program, input } satisfies JqRequest)
    const deadline = performance.now() + timeoutMs
    for (;;) {
      // The count is read before the port is, so an answer posted in between ends the wait at once.
      const seen = Atomics.load(flags, FLAG_ANSWERED)
      const received = receiveMessageOnPort(port)
      if (received !== undefined) {
        const answer = received.message as JqAnswer
        if (answer.id !== id) continue // a late answer to a call that gave up (cannot happen after a restart, kept safe)
        if ('output' in answer) return answer.output
        if (answer.broken === true) this.discard()
        return fail('jq', answer.error)
      }
      const left = deadline - performance.now()
      if (left <= 0) {
        this.discard()
        if (this.quarantine.size >= MAX_QUARANTINED) this.quarantine.delete(this.quarantine.keys().next().value!)
        this.quarantine.set(program, { until: Date.now() + JQ_QUARANTINE_MS, timeoutMs })
        return fail('jq', `timeout: the program ran for more than ${timeoutMs} ms`)
      }
      Atomics.wait(flags, FLAG_ANSWERED, seen, left)
    }
  }

  private waitStarted(): void {
    const flags = this.flags!
    const deadline = performance.now() + JQ_START_TIMEOUT_MS
    while (Atomics.load(flags, FLAG_READY) === 0) {
      const left = deadline - performance.now()
      if (left <= 0) {
        this.discard()
        return fail('jq', `the jq engine did not start within ${JQ_START_TIMEOUT_MS / 1000} s`)
      }
      Atomics.wait(flags, FLAG_READY, 0, left)
    }
    if (Atomics.load(flags, FLAG_READY) !== 1) {
      this.discard()
      return fail('jq', 'the jq engine failed to load')
    }
  }

  /** Stops the thread (a runaway program with it); the next call starts another. */
  private discard(): void {
    const worker = this.worker
    this.worker = undefined
    this.port?.close()
    this.port = undefined
    this.flags = undefined
    if (worker !== undefined) void worker.terminate().catch(() => undefined)
  }

  /** For tests: whether a thread is running. */
  get running(): boolean {
    return this.worker !== undefined
  }
}

export const jqThread = new JqThread()

function jq(program: unknown, json: unknown, timeout: unknown = JQ_DEFAULT_TIMEOUT_MS): unknown[] {
  if (!isBinary(program)) return fail('jq', `expected a jq program (a string), got ${describe(program)}`)
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0) {
    return fail('jq', `expected a timeout in milliseconds (an integer of 0 or more), got ${describe(timeout)}`)
  }
  const text = binaryText('jq', program, 'a jq program')
  // EMQX: a binary is JSON text as it is; any other value is encoded as JSON.
  const input = isBinary(json) ? binaryText('jq', json, 'JSON text') : encodeJson('jq', json)
  const output = jqThread.run(text, input, Math.min(Math.max(timeout, 1), JQ_MAX_TIMEOUT_MS))
  const results: unknown[] = []
  // jq -c writes one result per line; a newline inside a string is escaped.
  for (const line of output.split('\n')) if (line !== '') results.push(decodeJson('jq', line))
  return results
}

export const jqFunctions: FunctionFamily = {
  // A rule that calls jq starts the thread when it is compiled, so its first message does not wait for jq to load.
  jq: spec(2, 3, jq as (...args: unknown[]) => unknown, () => {
    try {
      jqThread.start()
    } catch {
      // Starting early is an optimisation: the first call starts it again and reports the failure.
    }
  }),
}
