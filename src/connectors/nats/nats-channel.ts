import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node'
import {
  BatchError, ConnectorError, compileTemplate, compileValue, untilAborted,
  type Channel, type ChannelMessage,
} from '../../connector-api/index.js'
import type { NatsParams } from './config-schema.js'
import type { NatsLink } from './nats-connector.js'

const encoder = new TextEncoder()
/** The server's default control line limit is 4096 bytes; the line also carries a reply inbox and lengths. */
const MAX_SUBJECT_BYTES = 4000

/** Why `subject` cannot be published to, or undefined. */
export function subjectProblem(subject: string): string | undefined {
  if (subject === '') return 'is empty'
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(subject)) return 'contains a space or a control character'
  if (Buffer.byteLength(subject) > MAX_SUBJECT_BYTES) return `is longer than ${MAX_SUBJECT_BYTES} bytes`
  const tokens = subject.split('.')
  if (tokens.some((t) => t === '*' || t === '>')) return 'contains a wildcard (* or >), which only subscriptions may use'
  if (tokens.some((t) => t === '')) return 'has an empty token (a leading, trailing or double dot)'
  return undefined
}

/** A header or message ID template: a lone placeholder without a value means "leave it out". */
function optionalText(template: string): (m: ChannelMessage) => string | undefined {
  const lone = /^\s*\$\{[^}]*\}\s*$/.test(template)
  const value = compileValue(template)
  const text = compileTemplate(template)
  return (m) => (lone && (value(m) === undefined || value(m) === null) ? undefined : text(m))
}

interface Rendered { readonly subject: string; readonly payload: Uint8Array; readonly headers: MsgHdrs | undefined; readonly msgID: string | undefined }

/** One rule action: renders messages and publishes them, core or JetStream. */
export class NatsChannel implements Channel {
  private readonly subject
  private readonly payload
  private readonly headers
  private readonly msgId

  constructor(private readonly link: NatsLink, private readonly params: NatsParams, private readonly classify: (err: unknown, subject?: string) => ConnectorError) {
    try {
      this.subject = compileTemplate(params.subject)
      this.payload = compileTemplate(params.payload)
      this.headers = Object.entries(params.headers).map(([name, v]) => [name, optionalText(v)] as const)
      this.msgId = params.msgId === undefined ? undefined : optionalText(params.msgId)
    } catch (err) {
      throw new ConnectorError('INVALID_PARAMS', `Invalid template: ${(err as Error).message}`, { kind: 'permanent', hint: 'Check the placeholders of subject, payload, headers and msgId.' })
    }
  }

  private render(m: ChannelMessage): Rendered {
    const subject = this.subject(m)
    const problem = subjectProblem(subject)
    if (problem) {
      throw new ConnectorError('INVALID_TOPIC', `The subject "${subject.slice(0, 200)}" ${problem}`, { kind: 'permanent', hint: "Change the action's subject template, or the data it reads." })
    }
    let headers: MsgHdrs | undefined
    for (const [name, value] of this.headers) {
      const v = value(m)
      if (v === undefined) continue
      if (/[\r\n]/.test(v)) throw new ConnectorError('INVALID_DATA', `Header "${name}" would contain a line break`, { kind: 'permanent', hint: 'NATS header values are single lines; change the header template.' })
      ;(headers ??= natsHeaders()).append(name, v)
    }
    const msgID = this.params.mode === 'jetstream' ? this.msgId?.(m) : undefined
    return { subject, payload: encoder.encode(this.payload(m)), headers, msgID }
  }

  async send(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    const [failure] = await this.publish([message], signal)
    if (failure) throw failure.error
  }

  async sendBatch(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void> {
    const failures = await this.publish(messages, signal)
    if (failures.length === 0) return
    // Every message failed the same way (the connection is gone): one error, so the runtime holds the batch.
    if (failures.length === messages.length && failures.every((f) => f.error.kind !== 'permanent')) throw failures[0]!.error
    throw new BatchError(failures)
  }

  /**
   * Publishes all messages at once (nats.js writes what one tick published in one socket write),
   * then waits: for every PubAck in JetStream mode, for one flush (PING/PONG) in core mode.
   */
  private async publish(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<Array<{ index: number; error: ConnectorError }>> {
    const { nc, js } = this.link.live()
    const failures: Array<{ index: number; error: ConnectorError }> = []
    const fail = (index: number, err: unknown) => failures.push({ index, error: err instanceof ConnectorError ? err : this.classifyPublish(err, messages[index]!) })
    if (this.params.mode === 'core') {
      messages.forEach((m, index) => {
        try {
          const r = this.render(m)
          nc.publish(r.subject, r.payload, r.headers ? { headers: r.headers } : undefined)
        } catch (err) {
          fail(index, err)
        }
      })
      if (failures.length === messages.length) return failures
      try {
        await untilAborted(nc.flush(), signal, this.late)
      } catch (err) {
        const e = this.classify(err)
        const failed = new Set(failures.map((f) => f.index))
        return messages.map((_, index) => ({ index, error: failed.has(index) ? failures.find((f) => f.index === index)!.error : e }))
      }
      return failures
    }
    const acks = messages.map((m) => {
      try {
        const r = this.render(m)
        return js.publish(r.subject, r.payload, { timeout: this.params.ackTimeoutMs, ...(r.headers ? { headers: r.headers } : {}), ...(r.msgID === undefined ? {} : { msgID: r.msgID }) })
      } catch (err) {
        return Promise.reject(err)
      }
    })
    const results = await untilAborted(Promise.allSettled(acks), signal, this.late)
    results.forEach((r, index) => { if (r.status === 'rejected') fail(index, r.reason) })
    return failures
  }

  private classifyPublish(err: unknown, m: ChannelMessage): ConnectorError {
    let subject: string | undefined
    try {
      subject = this.subject(m)
    } catch {
      subject = undefined
    }
    return this.classify(err, subject)
  }

  /** The send's deadline passed: the messages may still land (a `msgId` lets the stream drop the resend). */
  private late = () => new ConnectorError('TIMEOUT', `No acknowledgement from ${this.link.target} before the send's deadline`, {
    kind: 'retryable', hint: 'Check that the server is up and not overloaded; the message is retried.',
  })
}
