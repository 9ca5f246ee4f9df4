import { createInbox, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node'
import { BatchError, ConnectorError, compileTemplate, compileValue, toText, untilAborted, type Channel, type ChannelMessage } from '../../connector-api/index.js'
import type { NatsParams } from './config-schema.js'

const encoder = new TextEncoder()
const PENDING = Symbol('pending')
type Outgoing = { readonly subject: string; readonly payload: Uint8Array; readonly headers: MsgHdrs | undefined }
type AckBatch = { readonly first: number; readonly items: ReadonlyArray<Outgoing | ConnectorError>; readonly results: unknown[]; awaited: number; finish(): void }
type Link = { readonly target: string; live(): { nc: NatsConnection; acks: PubAcks }; classify(err: unknown, target?: string, subject?: string): ConnectorError }

/** Why `subject` cannot be published to, or undefined. 4000 bytes: the server's control line (4096) also carries a reply inbox. */
export function subjectProblem(subject: string): string | undefined {
  if (subject === '' || /[\s\u0000-\u001f\u007f]/.test(subject)) return 'is empty or contains a space or a control character'
  if (Buffer.byteLength(subject) > 4000) return 'is longer than 4000 bytes'
  if (/(?:^|\.)[*>](?:\.|$)/.test(subject)) return 'contains a wildcard (* or >), which only subscriptions may use'
  if (/^\.|\.\.|\.$/.test(subject)) return 'has an empty token (a leading, trailing or double dot)'
  return undefined
}

/** A header or message ID template: a lone placeholder without a value means "leave it out". */
function optionalText(template: string): (m: ChannelMessage) => string | undefined {
  const value = compileValue(template)
  return /^\s*\$\{[^}]*\}\s*$/.test(template) ? (m) => { const v = value(m); return v === undefined || v === null ? undefined : toText(v) } : compileTemplate(template)
}

function header(headers: MsgHdrs | undefined, name: string, v: string | undefined): MsgHdrs | undefined {
  if (v === undefined) return headers
  if (/[\r\n]/.test(v)) throw new ConnectorError('INVALID_DATA', `Header "${name}" would contain a line break`, { kind: 'permanent', hint: 'NATS header values are single lines; change the template.' })
  ;(headers ??= natsHeaders()).append(name, v)
  return headers
}

function publishNow(nc: NatsConnection, o: Outgoing, reply?: string): unknown {
  try {
    nc.publish(o.subject, o.payload, { headers: o.headers, reply })
  } catch (err) {
    return err
  }
}

const STORED = encoder.encode('{"stream":')

/** What a PubAck (or the server's no-responders status) says went wrong, or undefined when stored. */
function pubAckError(m: Msg): Error | undefined {
  if (m.headers?.code === 503 && m.data.length === 0) return Object.assign(new Error('no responders'), { name: 'NoRespondersError' })
  // The server encodes a PubAck's "error" before its stream (Go's field order): an ack that starts `{"stream":` is stored, no JSON parse needed.
  const data = m.data
  let i = 0
  while (i < STORED.length && data[i] === STORED[i]) i++
  if (i === STORED.length) return undefined
  try {
    const { error } = m.json<{ error?: { err_code?: number; description?: string } }>()
    return error && Object.assign(new Error(error.description), { name: 'JetStreamApiError', code: error.err_code })
  } catch {
    return new Error('unreadable PubAck')
  }
}

/**
 * JetStream publishes as core publishes with reply subjects `<inbox>.<n>` on one wildcard subscription per connection, PubAcks matched by n:
 * nats.js's `js.publish` (a request, timer and stack trace per message) costs 19-46 µs of CPU a message. Per batch, not per message: one
 * entry in `batches` (a few are in flight), one timer; a reply number finds its batch by range.
 */
export class PubAcks {
  private readonly inbox = createInbox()
  private next = 0
  private readonly batches = new Set<AckBatch>()

  constructor(private readonly nc: NatsConnection) {
    nc.subscribe(`${this.inbox}.*`, { callback: (_, m) => this.settle(Number(m.subject.slice(this.inbox.length + 1)), pubAckError(m)) })
    void nc.closed().then(() => { for (const b of [...this.batches]) b.results.forEach((r, i) => r === PENDING && this.settle(b.first + i, new Error('connection closed'))) })
    // A publish the server's permissions deny gets no PubAck, only an asynchronous -ERR naming the subject.
    void (async () => {
      for await (const s of nc.status()) {
        const e = s.type === 'error' ? (s.error as Error & { operation?: string; subject?: string }) : undefined
        if (e?.operation === 'publish') for (const b of [...this.batches]) b.items.forEach((o, i) => (o as Outgoing).subject === e.subject && this.settle(b.first + i, e))
      }
    })()
  }

  private settle(n: number, err: unknown): void {
    for (const batch of this.batches) {
      const i = n - batch.first
      if (i < 0 || i >= batch.items.length) continue
      // A second answer (a duplicate PubAck, an -ERR after the PubAck) changes nothing.
      if (batch.results[i] !== PENDING) return
      batch.results[i] = err
      if (--batch.awaited === 0) batch.finish()
      return
    }
  }

  /** Publishes the messages; each result is undefined (stored), its error, or `late()` when no PubAck came within `ms` or before `signal` aborted. */
  publish(items: ReadonlyArray<Outgoing | ConnectorError>, signal: AbortSignal, ms: number, late: () => ConnectorError): Promise<unknown[]> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined, done = false
      const batch: AckBatch = { first: this.next, items, results: items.slice(), awaited: 0, finish: () => {
        if (done) return
        done = true
        this.batches.delete(batch)
        clearTimeout(timer)
        signal.removeEventListener('abort', batch.finish)
        resolve(batch.awaited === 0 ? batch.results : batch.results.map((r) => (r === PENDING ? late() : r)))
      } }
      this.next += items.length
      // A PubAck arrives in a later event-loop turn, so each message is counted after its publish.
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!
        if (item instanceof ConnectorError) continue
        batch.results[i] = publishNow(this.nc, item, `${this.inbox}.${batch.first + i}`) ?? PENDING
        if (batch.results[i] === PENDING) batch.awaited++
      }
      if (batch.awaited === 0 || signal.aborted) return batch.finish()
      this.batches.add(batch)
      timer = setTimeout(batch.finish, ms)
      signal.addEventListener('abort', batch.finish, { once: true })
    })
  }
}

/** One rule action: renders messages and publishes them, core or JetStream. */
export class NatsChannel implements Channel {
  private readonly subject; private readonly payload; private readonly headers; private readonly msgId; private valid = ''
  // Batches in flight: 4 keep the server busy; the runtime's 100 only queued PubAcks until they timed out (and resent).
  readonly concurrency = 4

  constructor(private readonly link: Link, private readonly params: NatsParams) {
    try {
      this.subject = compileTemplate(params.subject)
      this.payload = compileTemplate(params.payload)
      this.headers = Object.entries(params.headers).map(([name, v]) => [name, optionalText(v)] as const)
      this.msgId = params.msgId === undefined || params.mode === 'core' ? undefined : optionalText(params.msgId)
    } catch (err) {
      throw new ConnectorError('INVALID_PARAMS', `Invalid template: ${(err as Error).message}`, { kind: 'permanent', hint: 'Check the placeholders of subject, payload, headers and msgId.' })
    }
  }

  private render(m: ChannelMessage): Outgoing | ConnectorError {
    let subject: string | undefined
    try {
      subject = this.subject(m)
      // Most messages of an action go to the subject of the one before: checked once.
      const problem = subject === this.valid ? undefined : subjectProblem(subject)
      if (problem) throw new ConnectorError('INVALID_TOPIC', `The subject "${subject.slice(0, 200)}" ${problem}`, { kind: 'permanent', hint: "Change the action's subject template, or the data it reads." })
      let headers: MsgHdrs | undefined
      for (const [name, value] of this.headers) headers = header(headers, name, value(m))
      if (this.msgId) headers = header(headers, 'Nats-Msg-Id', this.msgId(m))
      this.valid = subject
      return { subject, payload: encoder.encode(this.payload(m)), headers }
    } catch (err) {
      return this.link.classify(err, this.link.target, subject)
    }
  }

  // No answer in time: the messages may still land (a `msgId` lets the stream drop the resend).
  private late = () => new ConnectorError('TIMEOUT', `No acknowledgement from ${this.link.target} in time`, { kind: 'retryable', hint: 'The message is retried.' })

  send = (message: ChannelMessage, signal: AbortSignal): Promise<void> => this.publish([message], signal).then(([failure]) => { if (failure) throw failure.error })

  async sendBatch(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void> {
    const failures = await this.publish(messages, signal)
    if (failures.length === 0) return
    // Every message failed alike (the connection is gone): one error, so the runtime holds the batch.
    if (failures.length === messages.length && failures.every((f) => f.error.kind !== 'permanent')) throw failures[0]!.error
    throw new BatchError(failures)
  }

  /** Publishes every message at once (one socket write), then awaits every PubAck, or one flush (PING/PONG) in core mode. */
  private async publish(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<Array<{ index: number; error: ConnectorError }>> {
    const { nc, acks } = this.link.live()
    const items = messages.map((m) => this.render(m))
    let results: unknown[]
    if (this.params.mode === 'jetstream') results = await acks.publish(items, signal, this.params.ackTimeoutMs, this.late)
    else {
      results = items.map((item) => (item instanceof ConnectorError ? item : publishNow(nc, item)))
      if (results.includes(undefined)) await untilAborted(nc.flush(), signal, this.late).catch((err: unknown) => { results = results.map((r) => r ?? err) })
    }
    return results.flatMap((r, index) => (r === undefined ? [] : [{ index, error: this.link.classify(r, this.link.target, (items[index] as Outgoing).subject) }]))
  }
}
