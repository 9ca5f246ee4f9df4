import { WorkerRequests, deadline, settleWithin, startWorkerThread, timedOut, untilAborted, type ConnectorLogger } from '../../connector-api/index.js'
import type { KafkaConfig } from './config-schema.js'
import { CLOSE_TIMEOUT_MS, notConnected, type KafkaClient, type KafkaLogSink, type TopicInfo, type WriteRequest } from './kafka-client.js'
import { packRecords, type WorkerInit, type WorkerLog, type WorkerRequest } from './worker-protocol.js'

/** How long stop() waits for the worker to disconnect its clients before terminating it. */
const STOP_WAIT_MS = CLOSE_TIMEOUT_MS + 1_000

/**
 * The kafkajs clients of one connector in a worker thread of their own, so that record encoding
 * (RecordBatch, CRC-32C, buffers and their garbage) and the sockets use another core than the
 * MQTT broker and the rules. The main thread posts plain records and gets back success or a
 * serialised error (the kit's WorkerRequests). A worker that dies fails every request (pending
 * and later) as `not_connected`; health says so, and the runtime replaces the connector instance
 * (and with it the worker).
 */
export class WorkerKafkaClient implements KafkaClient {
  private readonly requests: WorkerRequests<WorkerRequest>
  private closing: Promise<void> | undefined
  /** start() succeeded: stop() lets the worker disconnect its clients before ending it. */
  private started = false

  constructor(private readonly config: KafkaConfig, log: KafkaLogSink, logger: ConnectorLogger) {
    const init: WorkerInit = { config }
    const worker = startWorkerThread(new URL('./kafka-worker.js', import.meta.url), { workerData: init, name: 'junction-kafka' })
    this.requests = new WorkerRequests(worker, { label: 'Kafka', logger, onMessage: (m) => {
      const l = m as WorkerLog
      log(l.level, l.message, l.data)
    } })
  }

  async start(signal: AbortSignal): Promise<void> {
    await untilAborted(this.requests.request({ op: 'start' }), signal, () => timedOut(this.config.bootstrapServers))
    this.started = true
  }

  write(request: WriteRequest): Promise<void> {
    const { packed, transfer } = packRecords(request.records)
    return this.requests.request({ op: 'write', request: { ...request, records: packed } }, transfer)
  }

  /** The worker bounds the check by requestTimeoutMs too; this bound also covers a worker too busy to answer. */
  health(signal: AbortSignal): Promise<void> {
    return untilAborted(this.requests.request({ op: 'health' }), deadline(signal, this.config.requestTimeoutMs), () => timedOut(this.config.bootstrapServers))
  }

  /** The worker bounds it by requestTimeoutMs too. */
  topic(topic: string, signal: AbortSignal): Promise<TopicInfo> {
    return untilAborted(this.requests.request<TopicInfo>({ op: 'topic', topic }), deadline(signal, this.config.requestTimeoutMs), () => timedOut(this.config.bootstrapServers))
  }

  release(channel: number): void {
    this.requests.request({ op: 'release', channel }).catch(() => {})
  }

  /**
   * Lets a started worker disconnect its clients (at most STOP_WAIT_MS, or until `signal`), then
   * terminates it. A worker whose start failed or is still connecting has nothing to flush: it is
   * terminated at once (its sockets close with it) rather than waiting for kafkajs to give up connecting.
   */
  close(signal: AbortSignal): Promise<void> {
    return (this.closing ??= (async () => {
      if (this.started && !this.requests.failed) await settleWithin(this.requests.request({ op: 'stop' }), deadline(signal, STOP_WAIT_MS))
      await this.requests.terminate(notConnected())
    })())
  }
}
