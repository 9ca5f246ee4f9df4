/** The messages between a Kafka connector (main thread) and its worker thread (kafka-worker.ts). */
import { ConnectorError, type FailureKind } from '../../connector-api/index.js'
import type { KafkaConfig } from './config-schema.js'
import type { WriteRequest } from './kafka-client.js'

/** What the worker gets at start (structured clone; the config holds secrets, which stay in the process). */
export interface WorkerInit {
  readonly config: KafkaConfig
}

/** A request to the worker. Every one but `release` is answered with a reply of the same id. */
export type WorkerRequest =
  | { readonly op: 'start'; readonly id: number }
  | { readonly op: 'write'; readonly id: number; readonly request: WriteRequest }
  | { readonly op: 'health'; readonly id: number }
  | { readonly op: 'release'; readonly id: number; readonly channel: number }
  | { readonly op: 'stop'; readonly id: number }

export type WorkerMessage =
  /** The request `id` succeeded (no `error`) or failed. */
  | { readonly t: 'reply'; readonly id: number; readonly error?: WireError }
  /** A kafkajs warning or error, already filtered and de-duplicated by the worker. */
  | { readonly t: 'log'; readonly level: 'error' | 'warn'; readonly message: string; readonly data: Record<string, unknown> }

/**
 * An error as it crosses the thread boundary: the fields classify-error.ts reads (kafkajs's
 * name, Kafka's error type, the socket or protocol code, kafkajs's retriable flag, the broker),
 * the cause chain kafkajs wraps errors in, and a ConnectorError's own code, kind and hint.
 * (Structured clone keeps only an Error's name, message and stack.)
 */
export interface WireError {
  readonly name?: string
  readonly message?: string
  readonly type?: string
  readonly code?: string | number
  readonly retriable?: boolean
  readonly broker?: string
  readonly stack?: string
  readonly cause?: WireError
  /** Set when the error was a ConnectorError (made by the client itself, e.g. "not started"). */
  readonly connector?: { readonly code: string; readonly kind: FailureKind; readonly hint?: string }
}

/** kafkajs wraps at most a few levels (retries exceeded -> protocol error); more is a loop. */
const MAX_CAUSES = 5

export function toWire(err: unknown, depth = 0): WireError {
  if (typeof err !== 'object' || err === null) return { message: String(err) }
  const e = err as Record<string, unknown>
  const w: { -readonly [K in keyof WireError]: WireError[K] } = {}
  if (typeof e.name === 'string') w.name = e.name
  if (typeof e.message === 'string') w.message = e.message
  if (typeof e.type === 'string') w.type = e.type
  if (typeof e.code === 'string' || typeof e.code === 'number') w.code = e.code
  if (typeof e.retriable === 'boolean') w.retriable = e.retriable
  if (typeof e.broker === 'string') w.broker = e.broker
  if (typeof e.stack === 'string') w.stack = e.stack
  if (err instanceof ConnectorError) w.connector = { code: err.code, kind: err.kind, ...(err.hint === undefined ? {} : { hint: err.hint }) }
  if (depth < MAX_CAUSES && typeof e.cause === 'object' && e.cause !== null) w.cause = toWire(e.cause, depth + 1)
  return w
}

/**
 * The error back on the main thread: a ConnectorError as it was made, anything else an Error
 * carrying the same fields, so classifyKafkaError gives the same answer as on the worker's thread.
 */
export function fromWire(w: WireError): Error {
  const cause = w.cause === undefined ? undefined : fromWire(w.cause)
  if (w.connector) {
    const { code, kind, hint } = w.connector
    return new ConnectorError(code, w.message ?? '', { kind, ...(hint === undefined ? {} : { hint }), ...(cause === undefined ? {} : { cause }) })
  }
  const err = new Error(w.message ?? '') as Error & Record<string, unknown>
  // An error without a name stays without one (the classifier reads `name ?? ...`).
  err.name = w.name ?? (undefined as unknown as string)
  if (w.type !== undefined) err.type = w.type
  if (w.code !== undefined) err.code = w.code
  if (w.retriable !== undefined) err.retriable = w.retriable
  if (w.broker !== undefined) err.broker = w.broker
  if (w.stack !== undefined) err.stack = w.stack
  if (cause !== undefined) err.cause = cause
  return err
}
