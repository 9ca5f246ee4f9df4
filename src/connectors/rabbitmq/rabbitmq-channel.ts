import type { ConfirmChannel, Message, Options } from 'amqplib'
import { BatchError, ConnectorError, compileTemplate, compileValue, timedOut, toText, untilAborted } from '../../connector-api/index.js'
import type { Channel, ChannelMessage } from '../../connector-api/index.js'
import { PROPERTY_NAMES, type RabbitmqParams } from './config-schema.js'

/** What a channel needs from its connector: fresh confirm channels on the live connection, and the error switch. */
export interface AmqpSession {
  readonly target: string
  confirmChannel(): Promise<ConfirmChannel>
  classify(err: unknown): ConnectorError
}

/** A message published and not yet confirmed; `returned` once the broker sent it back as unroutable. */
interface Unconfirmed { readonly routingKey: string; readonly content: Buffer; returned: boolean }
interface LaneState { readonly ch: ConfirmChannel; closedBy: unknown; readonly unconfirmed: Set<Unconfirmed> }

/** One AMQP confirm channel of an action: opened on first use, and again after the broker closed it. */
class Lane {
  private current: LaneState | undefined
  private opening: Promise<LaneState> | undefined

  constructor(private readonly session: AmqpSession) {}

  get(): Promise<LaneState> {
    if (this.current) return Promise.resolve(this.current)
    return (this.opening ??= this.session.confirmChannel().then((ch) => {
      const state: LaneState = { ch, closedBy: undefined, unconfirmed: new Set() }
      // amqplib emits `error` (with the AMQP reply code) before `close` fails the unconfirmed messages.
      ch.on('error', (err) => { state.closedBy = err })
      ch.on('close', () => { if (this.current === state) this.current = undefined })
      // RabbitMQ sends basic.return before the confirm of the same message, on the same channel.
      ch.on('return', (m: Message) => {
        for (const u of state.unconfirmed) {
          if (!u.returned && u.routingKey === m.fields.routingKey && u.content.equals(m.content)) return void (u.returned = true)
        }
      })
      return (this.current = state)
    }).finally(() => { this.opening = undefined }))
  }

  async close(): Promise<void> {
    await this.current?.ch.close().catch(() => {})
  }
}

/** A template whose missing value leaves the field out: a lone placeholder renders its value, or nothing. */
function optionalText(template: string): (o: ChannelMessage) => string | undefined {
  if (!/^\s*\$\{[^}]*\}\s*$/.test(template)) return compileTemplate(template)
  const value = compileValue(template)
  return (o) => { const v = value(o); return v === undefined || v === null ? undefined : toText(v) }
}

const unroutable = (exchange: string, routingKey: string) => new ConnectorError('UNROUTABLE', `No queue is bound to exchange "${exchange}" for routing key "${routingKey}"`,
  { kind: 'permanent', hint: 'Bind a queue that matches this routing key, or fix the routing key template.' })
/** A value that cannot be rendered (JSON of a BigInt...) fails its message, not the batch. */
const attempt = <T>(work: () => T, onError: (err: unknown) => T): T => { try { return work() } catch (err) { return onError(err) } }
const invalid = (message: string) => new ConnectorError('INVALID_DATA', message, { kind: 'permanent', hint: 'Fix the template or the rule output it reads.' })

/**
 * One rule action: renders each output into a publication and publishes it to the action's
 * exchange over one of `poolSize` confirm channels, waiting for the broker's confirms.
 */
export class RabbitmqChannel implements Channel {
  readonly concurrency: number
  private readonly lanes: Lane[]
  private next = 0
  private readonly routingKey: (o: ChannelMessage) => string
  private readonly payload: (o: ChannelMessage) => string
  private readonly headers: ReadonlyArray<readonly [string, (o: ChannelMessage) => string | undefined]>
  private readonly properties: ReadonlyArray<readonly [string, (o: ChannelMessage) => string | undefined]>

  constructor(private readonly session: AmqpSession, private readonly params: RabbitmqParams, poolSize: number) {
    this.concurrency = poolSize
    this.lanes = Array.from({ length: poolSize }, () => new Lane(session))
    this.routingKey = compileTemplate(params.routingKey)
    this.payload = compileTemplate(params.payload)
    this.headers = Object.entries(params.headers ?? {}).map(([k, t]) => [k, optionalText(t)])
    this.properties = PROPERTY_NAMES.flatMap((k) => (params.properties?.[k] === undefined ? [] : [[k, optionalText(params.properties[k])] as const]))
  }

  /** Checks (passively) that the exchange exists; never declares it. The default exchange always does. */
  async open(signal: AbortSignal): Promise<void> {
    if (this.params.exchange === '') return
    const ch = await this.session.confirmChannel()
    ch.on('error', () => {})
    await untilAborted(ch.checkExchange(this.params.exchange), signal, () => timedOut(this.session.target))
      .catch((err: unknown) => { throw this.session.classify(err) })
      .finally(() => ch.close().catch(() => {}))
  }

  send(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    return this.sendBatch([message], signal)
  }

  async sendBatch(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void> {
    const lane = this.lanes[this.next++ % this.lanes.length]!
    const state = await untilAborted(lane.get(), signal, () => timedOut(this.session.target)).catch((err: unknown) => { throw this.session.classify(err) })
    const results = await this.publishAll(state, messages, signal)
    const failed = results.flatMap((error, index) => (error ? [{ index, error }] : []))
    if (failed.length === 0) return
    if (failed.length === messages.length && failed.every((f) => f.error.code === failed[0]!.error.code)) throw failed[0]!.error
    throw new BatchError(failed)
  }

  /** Publishes every message, then waits for their confirms until `confirmTimeoutMs` (a timer: AbortSignal.any costs ~65 µs a call on Node 20) or `signal`; an error or nothing per message. */
  private publishAll(state: LaneState, messages: readonly ChannelMessage[], signal: AbortSignal): Promise<Array<ConnectorError | undefined>> {
    const results = new Array<ConnectorError | undefined>(messages.length)
    const settled = new Array<boolean>(messages.length)
    const settle = (i: number, error?: ConnectorError) => { results[i] = error; settled[i] = true }
    const confirm = this.params.waitForConfirms
    return new Promise((resolve) => {
      let waiting = 0
      let done = false
      let timer: NodeJS.Timeout | undefined
      const finish = () => {
        if (done) return
        done = true
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        resolve(results)
      }
      const onAbort = () => {
        for (let i = 0; i < messages.length; i++) if (!settled[i]) results[i] = timedOut(this.session.target)
        finish()
      }
      for (let i = 0; i < messages.length; i++) {
        const p = attempt(() => this.render(messages[i]!), (err) => invalid(`The message cannot be rendered: ${String(err)}`))
        if (p instanceof ConnectorError) {
          settle(i, p)
          continue
        }
        const pending: Unconfirmed = { routingKey: p.routingKey, content: p.content, returned: false }
        try {
          state.ch.publish(this.params.exchange, p.routingKey, p.content, p.options, confirm ? (err: unknown) => {
            state.unconfirmed.delete(pending)
            if (done) return
            settle(i, err ? this.session.classify(state.closedBy ?? err) : pending.returned ? unroutable(this.params.exchange, p.routingKey) : undefined)
            if (--waiting === 0) finish()
          } : undefined)
        } catch (err) {
          settle(i, this.session.classify(state.closedBy ?? err))
          continue
        }
        if (!confirm) settle(i)
        else {
          state.unconfirmed.add(pending)
          waiting++
        }
      }
      if (waiting === 0) return finish()
      if (signal.aborted) return onAbort()
      timer = setTimeout(onAbort, this.params.confirmTimeoutMs)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  private render(o: ChannelMessage): { routingKey: string; content: Buffer; options: Options.Publish } | ConnectorError {
    const routingKey = this.routingKey(o)
    if (Buffer.byteLength(routingKey) > 255) return invalid(`The routing key is longer than 255 bytes: ${routingKey.slice(0, 40)}...`)
    const options: Options.Publish = { persistent: this.params.deliveryMode === 'persistent', mandatory: this.params.waitForConfirms }
    if (this.headers.length > 0) options.headers = Object.fromEntries(this.headers.flatMap(([name, render]) => { const v = render(o); return v === undefined ? [] : [[name, v]] }))
    for (const [name, render] of this.properties) {
      const v = render(o)
      if (v === undefined) continue
      // RabbitMQ closes the whole channel on an expiration that is not a number of milliseconds.
      if (name === 'expiration' && !/^\d{1,15}$/.test(v)) return invalid(`The expiration property must be milliseconds, got "${v.slice(0, 40)}"`)
      if (Buffer.byteLength(v) > 255) return invalid(`The ${name} property is longer than 255 bytes`)
      ;(options as Record<string, unknown>)[name] = v
    }
    return { routingKey, content: Buffer.from(this.payload(o)), options }
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.close()))
  }
}
