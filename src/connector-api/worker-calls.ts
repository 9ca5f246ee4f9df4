import { setMaxListeners } from 'node:events'
import type { MessagePort, Worker } from 'node:worker_threads'
import type { ConnectorLogger } from './contract.js'
import { ConnectorError } from './errors.js'
import { errorMessage } from './probe.js'
import { errorFromWire, errorToWire, type WireError } from './worker-thread.js'

/*
 * Many small calls (one per message) to a connector's worker thread. A postMessage costs about
 * as much as the work it hands over would on the main thread, so calls are gathered and posted
 * once per turn of the event loop, and answered the same way. A call's abort signal is not
 * cloneable: calls are grouped by signal (the runtime shares one per deadline slot), each group
 * with one listener here and one AbortController in the worker, so an abort costs one message
 * and a call costs no listener of its own.
 */

/** Main -> worker: `[id, group, call]` triples, flattened. */
interface CallsMessage { readonly t: 'calls'; readonly calls: unknown[] }
/** Main -> worker: the signal of `group` aborted. */
interface AbortMessage { readonly t: 'abort'; readonly group: number }
/** Worker -> main: `[id, answer, error]` triples, flattened (error undefined on success). */
interface AnswersMessage { readonly t: 'answers'; readonly answers: unknown[] }

interface Pending<Answer> {
  resolve(answer: Answer): void
  reject(err: unknown): void
  readonly group: SignalGroup
}

interface SignalGroup {
  readonly id: number
  readonly signal: AbortSignal
  readonly calls: Set<number>
  readonly onAbort: () => void
}

/**
 * The connector's side: `call(x, signal)` resolves with the worker's answer or rejects with its
 * error (a ConnectorError arrives as one). On abort a call rejects at once with `onAbort()`'s error
 * and the worker aborts it too. A worker that fails or exits fails every call, waiting and later,
 * as `not_connected`. Other messages the worker posts go to `onMessage`.
 */
export class WorkerCalls<Call, Answer> {
  private readonly pending = new Map<number, Pending<Answer>>()
  private readonly groups = new Map<AbortSignal, SignalGroup>()
  private outbox: unknown[] = []
  private nextId = 1
  private nextGroup = 1
  private failure: ConnectorError | undefined

  constructor(readonly worker: Worker, private readonly o: { label: string; logger: ConnectorLogger; onAbort: () => ConnectorError; onMessage?: (message: unknown) => void }) {
    worker.on('message', (m: AnswersMessage | { t?: undefined }) => (m.t === 'answers' ? this.settle(m.answers) : o.onMessage?.(m)))
    worker.on('error', (err) => {
      o.logger.error(`${o.label} worker thread failed`, { error: errorMessage(err) })
      this.fail(new ConnectorError('CONNECTION_LOST', `The ${o.label} worker thread failed: ${errorMessage(err)}`, {
        kind: 'not_connected', hint: 'Junction restarts the connector; check the log for the cause.', cause: err,
      }))
    })
    worker.on('exit', (code) => this.fail(new ConnectorError('CONNECTION_LOST', `The ${o.label} worker thread exited (code ${code})`, { kind: 'not_connected', hint: 'Junction restarts the connector.' })))
  }

  /** Calls waiting for their answer. */
  get waiting(): number {
    return this.pending.size
  }

  /** Resolves once no call waits for its answer (a stop's polite wait). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await new Promise((r) => setTimeout(r, 10))
  }

  call(call: Call, signal: AbortSignal): Promise<Answer> {
    if (this.failure) return Promise.reject(this.failure)
    if (signal.aborted) return Promise.reject(this.o.onAbort())
    const group = this.groupOf(signal)
    const id = this.nextId++
    group.calls.add(id)
    if (this.outbox.length === 0) setImmediate(() => this.flush())
    this.outbox.push(id, group.id, call)
    return new Promise<Answer>((resolve, reject) => this.pending.set(id, { resolve, reject, group }))
  }

  /** From now on every call fails with `error` (the first one given stays); those waiting fail with it too. */
  fail(error: ConnectorError): void {
    this.failure ??= error
    const waiting = [...this.pending.values()]
    this.pending.clear()
    for (const g of this.groups.values()) g.signal.removeEventListener('abort', g.onAbort)
    this.groups.clear()
    this.outbox = []
    for (const p of waiting) p.reject(this.failure)
  }

  private flush(): void {
    if (this.outbox.length === 0 || this.failure) return
    const calls = this.outbox
    this.outbox = []
    this.worker.postMessage({ t: 'calls', calls } satisfies CallsMessage)
  }

  private groupOf(signal: AbortSignal): SignalGroup {
    let g = this.groups.get(signal)
    if (g) return g
    const created: SignalGroup = { id: this.nextGroup++, signal, calls: new Set(), onAbort: () => this.abortGroup(created) }
    signal.addEventListener('abort', created.onAbort, { once: true })
    this.groups.set(signal, created)
    return created
  }

  private abortGroup(g: SignalGroup): void {
    this.groups.delete(g.signal)
    const error = this.o.onAbort()
    for (const id of g.calls) {
      const p = this.pending.get(id)
      this.pending.delete(id)
      p?.reject(error)
    }
    // A call still in the outbox goes with it and is aborted as it arrives.
    if (!this.failure) this.worker.postMessage({ t: 'abort', group: g.id } satisfies AbortMessage)
  }

  private settle(answers: unknown[]): void {
    for (let i = 0; i < answers.length; i += 3) {
      const id = answers[i] as number
      const p = this.pending.get(id)
      if (!p) continue
      this.pending.delete(id)
      const g = p.group
      g.calls.delete(id)
      if (g.calls.size === 0 && this.groups.get(g.signal) === g) {
        this.groups.delete(g.signal)
        g.signal.removeEventListener('abort', g.onAbort)
      }
      const error = answers[i + 2] as WireError | undefined
      if (error === undefined) p.resolve(answers[i + 1] as Answer)
      else p.reject(errorFromWire(error))
    }
  }
}

/**
 * The worker's side of `WorkerCalls`: each call handled as it arrives (they run concurrently),
 * with a signal that aborts when the caller's does; answers posted once per turn of the loop.
 * Messages that are not calls go to `onOther`.
 */
export function answerCalls<Call, Answer>(port: MessagePort, handle: (call: Call, signal: AbortSignal) => Promise<Answer>, onOther: (message: unknown) => void = () => {}): void {
  const groups = new Map<number, { controller: AbortController; running: number }>()
  let answers: unknown[] = []
  const answer = (id: number, value: unknown, error: WireError | undefined) => {
    if (answers.length === 0) {
      setImmediate(() => {
        const out = answers
        answers = []
        port.postMessage({ t: 'answers', answers: out } satisfies AnswersMessage)
      })
    }
    answers.push(id, value, error)
  }
  port.on('message', (m: CallsMessage | AbortMessage | { t?: undefined }) => {
    if (m.t === 'abort') return void groups.get(m.group)?.controller.abort()
    if (m.t !== 'calls') return onOther(m)
    const calls = m.calls
    for (let i = 0; i < calls.length; i += 3) {
      const id = calls[i] as number
      const groupId = calls[i + 1] as number
      let g = groups.get(groupId)
      if (!g) {
        g = { controller: new AbortController(), running: 0 }
        // Every call of the group listens to its signal (undici does): many listeners is the design.
        setMaxListeners(0, g.controller.signal)
        groups.set(groupId, g)
      }
      g.running++
      const group = g
      let work: Promise<Answer>
      try {
        work = handle(calls[i + 2] as Call, group.controller.signal)
      } catch (err) {
        work = Promise.reject(err)
      }
      work.then((value) => answer(id, value, undefined), (err: unknown) => answer(id, undefined, errorToWire(err))).finally(() => {
        if (--group.running === 0 && groups.get(groupId) === group) groups.delete(groupId)
      })
    }
  })
}
