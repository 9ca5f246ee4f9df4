import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node'
import { BatchError, ConnectorError, compileTemplate, compileValue, toText, untilAborted, type Channel, type ChannelMessage } from '../../connector-api/index.js'
import type { NatsParams } from './config-schema.js'
import type { NatsConnector } from './nats-connector.js'

const encoder = new TextEncoder()

/** Why `subject` cannot be published to, or undefined. 4000 bytes: the server's control line (4096) also carries a reply inbox. */
export function subjectProblem(subject: string): string | undefined {
  const tokens = subject.split('.')
  if (subject === '') return 'is empty'
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(subject)) return 'contains a space or a control character'
  if (Buffer.byteLength(subject) > 4000) return 'is longer than 4000 bytes'
  if (tokens.some((t) => t === '*' || t === '>')) return 'contains a wildcard (* or >), which only subscriptions may use'
  if (tokens.some((t) => t === '')) return 'has an empty token (a leading, trailing or double dot)'
  return undefined
}

/** A header or message ID template: a lone placeholder without a value means "leave it out". */
function optionalText(template: string): (m: ChannelMessage) => string | undefined {
  const value = compileValue(template)
  return /^\s*\$\{[^}]*\}\s*$/.test(template) ? (m) => { const v = value(m); return v === undefined || v === null ? undefined : toText(v) } : compileTemplate(template)
}

/** One rule action: renders messages and publishes them, core or JetStream. */
export class NatsChannel implements Channel {
  private readonly subject; private readonly payload; private readonly headers; private readonly msgId
  // Batches in flight: more only queue at the server (~7k PubAcks/s here) until their acks time out and resend.
  readonly concurrency = 4
  constructor(private readonly link: NatsConnector, private readonly params: NatsParams) {
    try {
      this.subject = compileTemplate(params.subject)
      this.payload = compileTemplate(params.payload)
      this.headers = Object.entries(params.headers).map(([name, v]) => [name, optionalText(v)] as const)
      this.msgId = params.msgId === undefined || params.mode === 'core' ? undefined : optionalText(params.msgId)
    } catch (err) {
      throw new ConnectorError('INVALID_PARAMS', `Invalid template: ${(err as Error).message}`, { kind: 'permanent', hint: 'Check the placeholders of subject, payload, headers and msgId.' })
    }
  }

  private render(m: ChannelMessage, subject: string): { payload: Uint8Array; headers?: MsgHdrs; msgID?: string } {
    const problem = subjectProblem(subject)
    if (problem) throw new ConnectorError('INVALID_TOPIC', `The subject "${subject.slice(0, 200)}" ${problem}`, { kind: 'permanent', hint: "Change the action's subject template, or the data it reads." })
    let headers: MsgHdrs | undefined
    for (const [name, value] of this.headers) {
      const v = value(m)
      if (v === undefined) continue
      if (/[\r\n]/.test(v)) throw new ConnectorError('INVALID_DATA', `Header "${name}" would contain a line break`, { kind: 'permanent', hint: 'NATS header values are single lines; change the header template.' })
      ;(headers ??= natsHeaders()).append(name, v)
    }
    const msgID = this.msgId?.(m)
    return { payload: encoder.encode(this.payload(m)), ...(headers ? { headers } : {}), ...(msgID === undefined ? {} : { msgID }) }
  }

  // The send's deadline passed: the messages may still land (a `msgId` lets the stream drop the resend).
  private late = () => new ConnectorError('TIMEOUT', `No acknowledgement from ${this.link.target} before the send's deadline`, { kind: 'retryable', hint: 'The message is retried.' })

  async send(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    const [failure] = await this.publish([message], signal)
    if (failure) throw failure.error
  }

  async sendBatch(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void> {
    const failures = await this.publish(messages, signal)
    if (failures.length === 0) return
    // Every message failed alike (the connection is gone): one error, so the runtime holds the batch.
    if (failures.length === messages.length && failures.every((f) => f.error.kind !== 'permanent')) throw failures[0]!.error
    throw new BatchError(failures)
  }

  /**
   * Publishes every message at once (nats.js writes what one tick published in one socket write),
   * then waits: for every PubAck in JetStream mode, for one flush (PING/PONG) in core mode.
   */
  private async publish(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<Array<{ index: number; error: ConnectorError }>> {
    const { nc, js } = this.link.live()
    const failures: Array<{ index: number; error: ConnectorError }> = []
    const core = this.params.mode === 'core'
    const acks = messages.map(async (m, index) => {
      let subject: string | undefined
      try {
        subject = this.subject(m)
        const { payload, ...opts } = this.render(m, subject)
        if (core) nc.publish(subject, payload, opts)
        else await js.publish(subject, payload, { ...opts, timeout: this.params.ackTimeoutMs })
      } catch (err) {
        failures.push({ index, error: this.link.classify(err, this.link.target, subject) })
      }
    })
    try {
      await untilAborted<unknown>(!core ? Promise.all(acks) : failures.length < messages.length ? nc.flush() : Promise.resolve(), signal, this.late)
    } catch (err) {
      return messages.map((_, index) => failures.find((f) => f.index === index) ?? { index, error: this.link.classify(err) })
    }
    return failures.sort((a, b) => a.index - b.index)
  }
}
