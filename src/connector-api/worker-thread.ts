import { Worker, type MessagePort, type WorkerOptions } from 'node:worker_threads'
import type { ConnectorLogger } from './contract.js'
import type { ConnectorErrorCode, FailureKind } from './error-codes.js'
import { ConnectorError } from './errors.js'
import { errorMessage } from './probe.js'

/**
 * Starts a connector's worker thread from `entry`, the compiled module's URL (`./x-worker.js`
 * beside the caller), whether Junction runs compiled or from source under tsx. Node passes
 * `--import tsx` on to workers, but on Node 20 tsx registers its hooks on the main thread only,
 * so from source the `.ts` entry is imported by a small bootstrap: when Node refuses the `.ts`
 * extension, it registers tsx's API and imports the entry again under another URL (the failed
 * load is cached under the first). Where tsx does register in workers, the first import works.
 */
export function startWorkerThread(entry: URL, options: WorkerOptions & { name: string }): Worker {
  // The kit and the connectors run the same way: this module's extension says which.
  if (!import.meta.url.endsWith('.ts')) return new Worker(entry, options)
  const source = new URL(entry.href.replace(/\.js$/, '.ts'))
  const tsx = import.meta.resolve('tsx/esm/api')
  const bootstrap = `
    const entry = ${JSON.stringify(source.href)}
    import(entry).catch(async (err) => {
      if (err?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err
      const { register } = await import(${JSON.stringify(tsx)})
      register()
      await import(entry + '?tsx')
    })`
  return new Worker(bootstrap, { ...options, eval: true })
}

/**
 * An error as it crosses a thread boundary. Structured clone keeps only an Error's name, message
 * and stack; this keeps its other plain fields too (a library's `code`, `type`, `retriable`...),
 * the `cause` chain, and a ConnectorError's code, kind and hint, so the receiving thread
 * classifies it as the sending one would have.
 */
export interface WireError {
  readonly name?: string
  readonly message?: string
  readonly stack?: string
  /** Own fields whose values are strings, numbers or booleans. */
  readonly fields?: Readonly<Record<string, string | number | boolean>>
  readonly cause?: WireError
  /** Set when the error was a ConnectorError. */
  readonly connector?: { readonly code: ConnectorErrorCode; readonly kind: FailureKind; readonly hint?: string }
}

/** Libraries wrap errors a few levels deep at most; more is a loop. */
const MAX_CAUSES = 5

export function errorToWire(err: unknown, depth = 0): WireError {
  if (typeof err !== 'object' || err === null) return { message: String(err) }
  const e = err as Record<string, unknown>
  const w: { -readonly [K in keyof WireError]: WireError[K] } = {}
  if (typeof e.name === 'string') w.name = e.name
  if (typeof e.message === 'string') w.message = e.message
  if (typeof e.stack === 'string') w.stack = e.stack
  const fields: Record<string, string | number | boolean> = {}
  for (const [k, v] of Object.entries(e)) {
    if (k !== 'name' && k !== 'message' && k !== 'stack' && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) fields[k] = v
  }
  if (Object.keys(fields).length > 0) w.fields = fields
  if (err instanceof ConnectorError) w.connector = { code: err.code, kind: err.kind, ...(err.hint === undefined ? {} : { hint: err.hint }) }
  if (depth < MAX_CAUSES && typeof e.cause === 'object' && e.cause !== null) w.cause = errorToWire(e.cause, depth + 1)
  return w
}

/** The error again: a ConnectorError as it was made, anything else an Error carrying the same fields. */
export function errorFromWire(w: WireError): Error {
  const cause = w.cause === undefined ? undefined : errorFromWire(w.cause)
  if (w.connector) {
    const { code, kind, hint } = w.connector
    return new ConnectorError(code, w.message ?? '', { kind, ...(hint === undefined ? {} : { hint }), ...(cause === undefined ? {} : { cause }) })
  }
  const err = Object.assign(new Error(w.message ?? ''), w.fields) as Error & Record<string, unknown>
  // An error without a name stays without one (classifiers read `name ?? ...`).
  err.name = w.name ?? (undefined as unknown as string)
  if (w.stack !== undefined) err.stack = w.stack
  if (cause !== undefined) err.cause = cause
  return err
}

/** A worker's answer to the request `id`: success (with the handler's value, if any), or the error it failed with. */
export interface WorkerReply {
  readonly t: 'reply'
  readonly id: number
  readonly error?: WireError
  /** What the handler resolved with (structured clone); absent for none. */
  readonly value?: unknown
}

/**
 * The connector's side of a worker thread that runs its client: requests posted with an id and
 * answered by a reply of the same id (`answerRequests` on the worker's side), any other message
 * the worker posts (logs) handed to `onMessage`. A worker that fails or exits fails every request,
 * those waiting and later ones, as `not_connected`: the connection is gone, and the runtime
 * replaces the instance (and with it the thread).
 */
export class WorkerRequests<Request extends object> {
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(err: unknown): void }>()
  private nextId = 1
  private failure: ConnectorError | undefined

  constructor(readonly worker: Worker, o: { label: string; logger: ConnectorLogger; onMessage?: (message: unknown) => void }) {
    worker.on('message', (m: WorkerReply | { t?: undefined }) => {
      if (m.t !== 'reply') return o.onMessage?.(m)
      const p = this.pending.get(m.id)
      if (!p) return
      this.pending.delete(m.id)
      if (m.error === undefined) p.resolve(m.value)
      else p.reject(errorFromWire(m.error))
    })
    worker.on('error', (err) => {
      // An uncaught exception in the worker (or an entry that failed to load): it exits next.
      o.logger.error(`${o.label} worker thread failed`, { error: errorMessage(err) })
      this.fail(new ConnectorError('CONNECTION_LOST', `The ${o.label} worker thread failed: ${errorMessage(err)}`, {
        kind: 'not_connected', hint: 'Junction restarts the connector; check the log for the cause.', cause: err,
      }))
    })
    worker.on('exit', (code) => {
      this.fail(new ConnectorError('CONNECTION_LOST', `The ${o.label} worker thread exited (code ${code})`, {
        kind: 'not_connected', hint: 'Junction restarts the connector.',
      }))
    })
  }

  /** Why requests fail now (the worker is gone), or undefined while it runs. */
  get failed(): ConnectorError | undefined {
    return this.failure
  }

  /** Posts `request` (moving `transfer`) and resolves (with the handler's value, typed by the caller) or rejects with the worker's reply. */
  request<T = void>(request: Request, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failure) return Promise.reject(this.failure)
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.worker.postMessage({ ...request, id }, transfer)
    })
  }

  /** From now on every request fails with `error` (the first one given stays); those waiting fail with it too. */
  fail(error: ConnectorError): void {
    this.failure ??= error
    const waiting = [...this.pending.values()]
    this.pending.clear()
    for (const p of waiting) p.reject(this.failure)
  }

  /** Fails what is left with `error` and ends the thread, which closes its sockets. */
  async terminate(error: ConnectorError): Promise<void> {
    this.fail(error)
    await this.worker.terminate()
  }
}

/** The worker's side of `WorkerRequests`: each request handled in turn, each answered by its id. */
export function answerRequests<Request extends object>(port: MessagePort, handle: (request: Request) => Promise<unknown> | unknown): void {
  port.on('message', (m: Request & { id: number }) => {
    let work: Promise<unknown>
    try {
      work = Promise.resolve(handle(m))
    } catch (err) {
      work = Promise.reject(err)
    }
    work.then(
      (value) => port.postMessage((value === undefined ? { t: 'reply', id: m.id } : { t: 'reply', id: m.id, value }) satisfies WorkerReply),
      (err: unknown) => port.postMessage({ t: 'reply', id: m.id, error: errorToWire(err) } satisfies WorkerReply),
    )
  })
}
