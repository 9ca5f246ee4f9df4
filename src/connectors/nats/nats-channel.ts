import { createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node'
import { BatchError, ConnectorError, compileOptionalTemplate, compileTemplate, untilAborted, type Channel, type ChannelMessage } from '../../connector-api/index.js'
import { natsWriter, readFirst } from '../../library-patches/nats.js'
import type { NatsParams } from './config-schema.js'

const PENDING = Symbol('pending')
/** A rendered message: subject, header block (`NATS/1.0`, values trimmed as nats.js writes them; or empty) and payload. */
type Outgoing = { readonly subject: string; readonly head: string; readonly payload: string }
type Item = Outgoing | ConnectorError
type AckBatch = { readonly first: number; readonly items: readonly Item[]; readonly results: unknown[]; awaited: number; finish(): void }
type Link = { readonly target: string; live(): { nc: NatsConnection; wire: NatsWire }; classify(err: unknown, target?: string, subject?: string): ConnectorError }

/** Why `subject` cannot be published to, or undefined. 4000 bytes: the server's control line (4096) also carries a reply inbox. */
export function subjectProblem(subject: string): string | undefined {
  if (subject === '' || /[\s\u0000-\u001f\u007f]/.test(subject)) return 'is empty or contains a space or a control character'
  if (Buffer.byteLength(subject) > 4000) return 'is longer than 4000 bytes'
  if (/(?:^|\.)[*>](?:\.|$)/.test(subject)) return 'contains a wildcard (* or >), which only subscriptions may use'
  if (/^\.|\.\.|\.$/.test(subject)) return 'has an empty token (a leading, trailing or double dot)'
  return undefined
}

/** A stored PubAck starts so: the server writes an ack's "error" before its "stream" (Go's field order). */
const STORED = Buffer.from('{"stream":')
/** What a PubAck (or the server's no-responders status) says went wrong, or undefined when stored. */
export function pubAckError(m: Pick<Msg, 'data' | 'headers' | 'json'>): Error | undefined {
  if (m.headers?.code === 503 && m.data.length === 0) return Object.assign(new Error('no responders'), { name: 'NoRespondersError' })
  if (STORED.every((b, i) => m.data[i] === b)) return undefined
  try {
    const { error } = m.json<{ error?: { err_code?: number; description?: string } }>()
    return error && Object.assign(new Error(error.description), { name: 'JetStreamApiError', code: error.err_code })
  } catch {
    return new Error('unreadable PubAck')
  }
}

/**
 * A connection's publishing side: a batch's PUB/HPUB commands encoded into one buffer (nats.js's `publish`: ~2 µs a message more, see
 * library-patches/nats.ts); a JetStream publish has reply subject `<inbox>.<n>` on one wildcard subscription, its PubAck matched by n
 * (`js.publish`: a request, timer and stack trace a message, 19-46 µs); per batch: one entry in `batches` (a few in flight), one timer.
 */
export class NatsWire {
  private readonly inbox = createInbox()
  private readonly write: (bytes: Uint8Array) => void
  private next = 0
  private readonly batches = new Set<AckBatch>()
  // `info`: the INFO the connection started with (nats.js drops it on close, when a send still needs max_payload).
  constructor(private readonly nc: NatsConnection, private readonly info = nc.info!) {
    this.write = natsWriter(nc)
    const acks = nc.subscribe(`${this.inbox}.*`, { callback: (_, m) => this.settle(Number(m.subject.slice(this.inbox.length + 1)), pubAckError(m)) })
    // A stored PubAck is settled from its bytes; any other (an error, the no-responders status) reaches the callback above.
    readFirst(nc, acks, (f) => { const n = f.dataStartsWith(STORED) ? f.subjectNumber(this.inbox.length + 1) : -1; return n >= 0 && (this.settle(n, undefined), true) })
    const settleWhere = (err: unknown, which: (b: AckBatch, i: number) => boolean) => { for (const b of [...this.batches]) b.items.forEach((_, i) => which(b, i) && this.settle(b.first + i, err)) }
    void nc.closed().then(() => settleWhere(new Error('connection closed'), () => true))
    // A publish the server's permissions deny gets no PubAck, only an asynchronous -ERR naming the subject.
    void (async () => {
      type Status = { type: string; error?: Error & { operation?: string; subject?: string } }
      for await (const { type, error: e } of nc.status() as AsyncIterable<Status>) if (type === 'error' && e?.operation === 'publish') settleWhere(e, (b, i) => (b.items[i] as Outgoing).subject === e.subject)
    })()
  }

  /** Writes every message of `items` at once; `results[i]` becomes PENDING when written, or its error. How many were written. */
  send(items: readonly Item[], results: unknown[], first?: number): number {
    const { max_payload: max, headers: headersOk } = this.info
    let wire = '', sent = 0
    for (let i = 0; i < items.length; i++) {
      const o = items[i]!
      if (o instanceof ConnectorError) continue
      const to = first === undefined ? o.subject : `${o.subject} ${this.inbox}.${first + i}`
      const hlen = o.head === '' ? 0 : Buffer.byteLength(o.head), size = hlen + Buffer.byteLength(o.payload)
      if (size > max || (hlen > 0 && !headersOk)) results[i] = new Error(size > max ? `${size} bytes exceed the server's max_payload (${max})` : 'the server takes no headers')
      else results[i] = PENDING, sent++, wire += hlen === 0 ? `PUB ${to} ${size}\r\n${o.payload}\r\n` : `HPUB ${to} ${hlen} ${size}\r\n${o.head}${o.payload}\r\n`
    }
    try { if (sent > 0) this.write(Buffer.from(wire)) } catch (err) { return results.forEach((r, i) => { if (r === PENDING) results[i] = err }), 0 }
    return sent
  }

  private settle(n: number, err: unknown): void {
    for (const batch of this.batches) {
      const i = n - batch.first
      // A second answer (a duplicate PubAck, an -ERR after the PubAck) changes nothing.
      if (i < 0 || i >= batch.items.length || batch.results[i] !== PENDING) continue
      batch.results[i] = err
      if (--batch.awaited === 0) batch.finish()
    }
  }

  /** JetStream: each result is undefined (stored), its error, or `late()` when no PubAck came within `ms` or before `signal` aborted (PubAcks arrive in a later turn: the batch is registered after its write). */
  publish(items: readonly Item[], signal: AbortSignal, ms: number, late: () => ConnectorError): Promise<unknown[]> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined, done = false
      const batch: AckBatch = { first: this.next, items, results: items.slice(), awaited: 0, finish: () => {
        if (done) return
        done = true, this.batches.delete(batch), clearTimeout(timer), signal.removeEventListener('abort', batch.finish)
        resolve(batch.awaited === 0 ? batch.results : batch.results.map((r) => (r === PENDING ? late() : r)))
      } }
      this.next += items.length
      batch.awaited = this.send(items, batch.results, batch.first)
      if (batch.awaited === 0 || signal.aborted) return batch.finish()
      this.batches.add(batch)
      timer = setTimeout(batch.finish, ms)
      signal.addEventListener('abort', batch.finish, { once: true })
    })
  }
}

/** One rule action: renders messages and publishes them, core or JetStream. */
export class NatsChannel implements Channel {
  private readonly subject; private readonly payload; private readonly headers; private valid = ''
  // Batches in flight: 4 keep the server busy; the runtime's 100 only queued PubAcks until they timed out (and resent).
  readonly concurrency = 4

  constructor(private readonly link: Link, private readonly params: NatsParams) {
    try {
      this.subject = compileTemplate(params.subject)
      this.payload = compileTemplate(params.payload)
      const msgId = params.msgId === undefined || params.mode === 'core' ? {} : { 'Nats-Msg-Id': params.msgId }
      this.headers = Object.entries({ ...params.headers, ...msgId }).map(([name, v]) => [name, compileOptionalTemplate(v)] as const)
    } catch (err) {
      throw new ConnectorError('INVALID_PARAMS', `Invalid template: ${(err as Error).message}`, { kind: 'permanent', hint: 'Check the placeholders of subject, payload, headers and msgId.' })
    }
  }

  private render(m: ChannelMessage): Item {
    let subject: string | undefined
    try {
      subject = this.subject(m)
      // Most messages of an action go to the subject of the one before: checked once.
      const problem = subject === this.valid ? undefined : subjectProblem(subject)
      if (problem) throw new ConnectorError('INVALID_TOPIC', `The subject "${subject.slice(0, 200)}" ${problem}`, { kind: 'permanent', hint: "Change the action's subject template, or the data it reads." })
      let head = ''
      for (const [name, render] of this.headers) {
        const v = render(m)
        if (v !== undefined && /[\r\n]/.test(v)) throw new ConnectorError('INVALID_DATA', `Header "${name}" would contain a line break`, { kind: 'permanent', hint: 'NATS header values are single lines; change the template.' })
        if (v !== undefined) head += `${name}: ${v.trim()}\r\n`
      }
      this.valid = subject
      return { subject, head: head && `NATS/1.0\r\n${head}\r\n`, payload: this.payload(m) }
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
    const { nc, wire } = this.link.live()
    const items = messages.map((m) => this.render(m))
    let results: unknown[] = items.slice()
    if (this.params.mode === 'jetstream') results = await wire.publish(items, signal, this.params.ackTimeoutMs, this.late)
    else if (wire.send(items, results) > 0) {
      const flushed = await untilAborted(nc.flush(), signal, this.late).then(() => undefined, (err: unknown) => err)
      results = results.map((r) => (r === PENDING ? flushed : r))
    }
    return results.flatMap((r, index) => (r === undefined ? [] : [{ index, error: this.link.classify(r, this.link.target, (items[index] as Outgoing).subject) }]))
  }
}
