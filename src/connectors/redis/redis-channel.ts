import type { Cluster, Redis } from 'ioredis'
import { BatchError, ConnectorError, timedOut, toConnectorError, untilAborted, type Channel, type ChannelMessage } from '../../connector-api/index.js'
import { classifyRedisError } from './classify-error.js'
import type { CommandTemplate } from './command-template.js'

/**
 * One rule action's command on the connector's live connection. A batch is one pipeline: every
 * command written at once, the replies read in order. In cluster mode the client groups commands
 * by the node that serves their slot (auto-pipelining: one pipeline per node per event-loop turn),
 * since one pipeline may only reach one node.
 */
export class RedisChannel implements Channel {
  constructor(
    private readonly client: Redis | Cluster,
    private readonly command: CommandTemplate,
    private readonly target: string,
  ) {}

  async send(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    try {
      await untilAborted(this.client.call(this.command.name, ...this.command.render(message)), signal, () => timedOut(this.target))
    } catch (err) {
      throw this.classify(err, signal)
    }
  }

  async sendBatch(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void> {
    const { name, render } = this.command
    let errors: Array<unknown>
    try {
      if (this.client.isCluster) {
        // Issued in one turn of the event loop: the client's auto-pipelining sends them as one pipeline per node.
        errors = await untilAborted(Promise.all(messages.map((m) => this.client.call(name, ...render(m)).then(() => undefined, (err: unknown) => err ?? 'failed'))),
          signal, () => timedOut(this.target))
      } else {
        const pipeline = (this.client as Redis).pipeline()
        for (const m of messages) pipeline.call(name, ...render(m))
        const replies = await untilAborted(pipeline.exec(), signal, () => timedOut(this.target))
        if (replies === null) throw new ConnectorError('CONNECTION_LOST', `${this.target}: the pipeline was not sent`, { kind: 'not_connected' })
        errors = replies.map(([err]) => err ?? undefined)
      }
    } catch (err) {
      throw this.classify(err, signal)
    }
    const failures = errors.flatMap((err, index) => (err === undefined ? [] : [{ index, error: this.classify(err, signal) }]))
    if (failures.length === 0) return
    // The connection went away before any reply: the whole batch failed the same way.
    if (failures.length === messages.length && failures.every((f) => f.error.kind === 'not_connected')) throw failures[0]!.error
    throw new BatchError(failures, `${failures.length} of ${messages.length} command(s) failed on ${this.target}: ${failures[0]!.error.message}`)
  }

  private classify(err: unknown, signal: AbortSignal): ConnectorError {
    return toConnectorError(err, this.target, { signal, classify: (e) => classifyRedisError(e, this.target) })
  }
}
