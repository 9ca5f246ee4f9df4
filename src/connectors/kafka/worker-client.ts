import type { Worker } from 'node:worker_threads'
import { ConnectorError, deadline, errorFromWire, errorMessage, settleWithin, startWorkerThread, timedOut, untilAborted, type ConnectorLogger } from '../../connector-api/index.js'
import type { KafkaConfig } from './config-schema.js'
import { CLOSE_TIMEOUT_MS, notConnected, type KafkaClient, type KafkaLogSink, type WriteRequest } from './kafka-client.js'
import { packRecords, type WorkerInit, type WorkerMessage, type WorkerRequest } from './worker-protocol.js'

/** How long stop() waits for the worker to disconnect its clients before terminating it. */
const STOP_WAIT_MS = CLOSE_TIMEOUT_MS + 1_000

/**
 * The kafkajs clients of one connector in a worker thread of their own, so that record encoding
 * (RecordBatch, CRC-32C, buffers and their garbage) and the sockets use another core than the
 * MQTT broker and the rules. The main thread posts plain records and gets back success or a
 * serialised error. A worker that dies fails every request (pending and later) as `not_connected`;
 * health says so, and the runtime replaces the connector instance (and with it the worker).
 */
export class WorkerKafkaClient implements KafkaClient {
  private readonly worker: Worker
  private readonly pending = new Map<number, { resolve(): void; reject(err: unknown): void }>()
  private nextId = 1
  /** Why requests fail now: the worker exited, or the client was closed. */
  private gone: ConnectorError | undefined
  private closing: Promise<void> | undefined
  /** start() succeeded: stop() lets the worker disconnect its clients before ending it. */
  private started = false
  constructor(private readonly config: KafkaConfig, log: KafkaLogSink, private readonly logger: ConnectorLogger) {
    const init: WorkerInit = { config }
    this.worker = startWorkerThread(new URL('./kafka-worker.js', import.meta.url), { workerData: init, name: 'junction-kafka' })
    this.worker.on('message', (m: WorkerMessage) => {
      if (m.t === 'log') {
        log(m.level, m.message, m.data)
        return
      }
      const p = this.pending.get(m.id)
      if (!p) return
      this.pending.delete(m.id)
      if (m.error === undefined) p.resolve()
      else p.reject(errorFromWire(m.error))
    })
    this.worker.on('error', (err) => {
      // An uncaught exception in the worker (or an entry that failed to load): it exits next.
      this.logger.error('Kafka worker thread failed', { error: errorMessage(err) })
      this.fail(new ConnectorError('CONNECTION_LOST', `The Kafka worker thread failed: ${errorMessage(err)}`, {
        kind: 'not_connected', hint: 'Junction restarts the connector; check the log for the cause.', cause: err,
      }))
    })
    this.worker.on('exit', (code) => {
      this.fail(new ConnectorError('CONNECTION_LOST', `The Kafka worker thread exited (code ${code})`, {
        kind: 'not_connected', hint: 'Junction restarts the connector.',
      }))
    })
  }

  async start(signal: AbortSignal): Promise<void> {
    await untilAborted(this.request({ op: 'start', id: this.nextId++ }), signal, () => timedOut(this.config.bootstrapServers))
    this.started = true
  }

  write(request: WriteRequest): Promise<void> {
    const { packed, transfer } = packRecords(request.records)
    return this.request({ op: 'write', id: this.nextId++, request: { ...request, records: packed } }, transfer)
  }

  /** The worker bounds the check by requestTimeoutMs too; this bound also covers a worker too busy to answer. */
  health(signal: AbortSignal): Promise<void> {
    return untilAborted(this.request({ op: 'health', id: this.nextId++ }), deadline(signal, this.config.requestTimeoutMs), () => timedOut(this.config.bootstrapServers))
  }

  release(channel: number): void {
    if (!this.gone) this.worker.postMessage({ op: 'release', id: 0, channel } satisfies WorkerRequest)
  }

  /**
   * Lets a started worker disconnect its clients (at most STOP_WAIT_MS, or until `signal`), then
   * terminates it. A worker whose start failed or is still connecting has nothing to flush: it is
   * terminated at once (its sockets close with it) rather than waiting for kafkajs to give up connecting.
   */
  close(signal: AbortSignal): Promise<void> {
    return (this.closing ??= (async () => {
      // Terminating the worker closes its sockets whatever the polite close did.
      if (this.started && !this.gone) await settleWithin(this.request({ op: 'stop', id: this.nextId++ }), deadline(signal, STOP_WAIT_MS))
      this.fail(notConnected())
      await this.worker.terminate()
    })())
  }

  private request(message: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<void> {
    if (this.gone) return Promise.reject(this.gone)
    return new Promise<void>((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject })
      this.worker.postMessage(message, transfer)
    })
  }

  /** From now on every request fails with `error`; those waiting fail with it too. */
  private fail(error: ConnectorError): void {
    this.gone ??= error
    const waiting = [...this.pending.values()]
    this.pending.clear()
    for (const p of waiting) p.reject(this.gone)
  }
}
