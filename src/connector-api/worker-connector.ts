import type { MessagePort } from 'node:worker_threads'
import type { Channel, ChannelMessage, Connector, ConnectorContext, ConnectorLogger, Health } from './contract.js'
import type { ProbeResult } from './probe.js'
import { timedOut } from './deadline.js'
import { BatchError, ConnectorError } from './errors.js'
import { notStarted } from './health.js'
import { WorkerCalls, answerCalls } from './worker-calls.js'
import { errorFromWire, errorToWire, startWorkerThread, type WireError } from './worker-thread.js'

/*
 * A connector whose running side lives in a worker thread: the type's own connector, created in
 * the thread from the same config, runs start, health, stop and its channels' sends there, so
 * that its client (encoding, sockets, acknowledgements) uses another core than the MQTT broker and
 * the rules. The main thread posts one call per batch (the messages cross as a structured clone)
 * and gets back the indexes that failed. The Test stays on the main thread (a connector made
 * there). A thread that fails or exits fails every call `not_connected`: the runtime replaces the
 * instance, and with it the thread.
 */

type Call =
  | { readonly op: 'start' | 'health' | 'stop' }
  | { readonly op: 'open'; readonly channel: number; readonly params: unknown }
  | { readonly op: 'send'; readonly channel: number; readonly messages: readonly ChannelMessage[] }
  | { readonly op: 'close'; readonly channel: number }

/** A batch's answer: `[index, error]` of each message that failed (none: all sent). */
type Failures = Array<[number, WireError]>

interface WorkerLog { readonly t: 'log'; readonly level: keyof ConnectorLogger; readonly message: string; readonly data?: Record<string, unknown> }

/** What the thread is started with: the config and the connector's ID (the entry creates the type's connector from them). */
export interface WorkerConnectorData { readonly config: unknown; readonly connectorId: string }

export class WorkerConnector<P> implements Connector<P> {
  private calls: WorkerCalls<Call, unknown> | undefined
  private nextChannel = 1

  /**
   * `entry`: the thread's module (`serveConnector` with the type's factory); `probing`: a connector
   * of the same config on this thread, for the Test.
   */
  constructor(private readonly entry: URL, private readonly o: { label: string; target: string; config: unknown; ctx: ConnectorContext; probing: Connector<P> }) {}

  probe(signal: AbortSignal): Promise<ProbeResult> {
    return this.o.probing.probe(signal)
  }

  async start(signal: AbortSignal): Promise<void> {
    const { label, ctx } = this.o
    const worker = startWorkerThread(this.entry, { name: `${label} ${ctx.connectorId}`, workerData: { config: this.o.config, connectorId: ctx.connectorId } satisfies WorkerConnectorData })
    const calls = (this.calls = new WorkerCalls<Call, unknown>(worker, {
      label, logger: ctx.logger, onAbort: () => timedOut(this.o.target),
      onMessage: (m) => { const l = m as WorkerLog; if (l.t === 'log') ctx.logger[l.level](l.message, l.data) },
    }))
    await calls.call({ op: 'start' }, signal).catch(async (err: unknown) => {
      this.calls = undefined
      await worker.terminate()
      throw err
    })
  }

  async health(signal: AbortSignal): Promise<Health> {
    if (!this.calls) return { status: 'disconnected', code: 'CONNECTION_FAILED', reason: 'The connector is not started.' }
    return (this.calls.call({ op: 'health' }, signal) as Promise<Health>).catch((err: unknown) => {
      const e = err instanceof ConnectorError ? err : timedOut(this.o.target, err)
      return { status: 'disconnected', code: e.code, reason: e.message }
    })
  }

  async stop(signal: AbortSignal): Promise<void> {
    const calls = this.calls
    this.calls = undefined
    if (!calls) return
    await calls.call({ op: 'stop' }, signal).catch(() => {})
    await calls.worker.terminate()
  }

  async openChannel(params: P): Promise<Channel> {
    const calls = this.calls
    if (!calls) throw notStarted('Junction opens the action again once connected.')
    const channel = this.nextChannel++
    const { concurrency } = (await calls.call({ op: 'open', channel, params }, AbortSignal.timeout(30_000))) as { concurrency?: number }
    const sendBatch = async (messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void> => {
      const failures = (await calls.call({ op: 'send', channel, messages }, signal)) as Failures
      if (failures.length > 0) throw new BatchError(failures.map(([index, w]) => ({ index, error: errorFromWire(w) as ConnectorError })))
    }
    return {
      ...(concurrency === undefined ? {} : { concurrency }),
      sendBatch,
      // One message fails with its own error, as the type's send would.
      send: (message, signal) => sendBatch([message], signal).catch((err: unknown) => { throw err instanceof BatchError ? err.failures[0]!.error : err }),
      close: () => calls.call({ op: 'close', channel }, AbortSignal.timeout(5_000)).then(() => {}, () => {}),
    }
  }
}

/** The thread's side: creates the type's connector from `data` and answers the main thread's calls with it. */
export function serveConnector(port: MessagePort, data: WorkerConnectorData, create: (config: unknown, ctx: ConnectorContext) => Connector): void {
  const log = (level: WorkerLog['level']) => (message: string, d?: Record<string, unknown>) => port.postMessage({ t: 'log', level, message, ...(d === undefined ? {} : { data: d }) } satisfies WorkerLog)
  const connector = create(data.config, { connectorId: data.connectorId, logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } as ConnectorLogger })
  const channels = new Map<number, Channel>()
  answerCalls<Call, unknown>(port, async (call, signal) => {
    switch (call.op) {
      case 'start': return connector.start(signal)
      case 'health': return connector.health(signal)
      case 'stop': return connector.stop(signal)
      case 'open': {
        const channel = await connector.openChannel!(call.params)
        channels.set(call.channel, channel)
        return channel.concurrency === undefined ? {} : { concurrency: channel.concurrency }
      }
      case 'close': {
        const channel = channels.get(call.channel)
        channels.delete(call.channel)
        return channel?.close?.()
      }
      case 'send': {
        const channel = channels.get(call.channel)
        if (!channel) throw notStarted('Junction opens the action again.')
        const batch = channel.sendBatch ? (m: readonly ChannelMessage[]) => channel.sendBatch!(m, signal) : async (m: readonly ChannelMessage[]) => {
          const results = await Promise.all(m.map((x) => channel.send(x, signal).then(() => undefined, (err: unknown) => err)))
          const failures = results.flatMap((e, index) => (e === undefined ? [] : [{ index, error: e as ConnectorError }]))
          if (failures.length > 0) throw new BatchError(failures)
        }
        return batch(call.messages).then((): Failures => [], (err: unknown) => {
          if (err instanceof BatchError) return err.failures.map(({ index, error }): [number, WireError] => [index, errorToWire(error)])
          throw err
        })
      }
    }
  })
}
