import {
  ConnectorError, TemplateParamsError, compilePublishProperties, compileTemplate, errorMessage,
  type Channel, type ChannelMessage, type OnSkipped, type PublishProperties, type Render, type RenderProperties,
} from '../../connector-api/index.js'
import type { MqttParams } from './config-schema.js'

/** What a channel needs from its connector: one publish on the live connection. */
export interface Publisher {
  /**
   * Publishes one message; resolves when the broker acknowledged it (QoS 1 and 2) or it was
   * written to the socket (QoS 0). Throws a classified ConnectorError.
   */
  publish(message: OutgoingMessage, signal: AbortSignal): Promise<void>
  /** The broker's maximum packet size (MQTT 5 CONNACK), if it announced one. */
  readonly maximumPacketSize: number | undefined
}

export interface OutgoingMessage {
  readonly topic: string
  readonly payload: Buffer
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
  /** MQTT 5 PUBLISH properties (none on MQTT 3.1.1). */
  readonly properties: PublishProperties | undefined
}

export interface ChannelOptions {
  /** Whether the connection speaks MQTT 5; 3.1.1 carries no properties. */
  readonly mqtt5: boolean
  /** Told about a property value left out of a message because the property cannot take it. */
  readonly onSkipped?: OnSkipped
}

/**
 * One rule action publishing to the broker: topic, payload and MQTT 5 property templates are
 * compiled once; each message is rendered, checked and published. Nothing is queued here: a
 * message that cannot be sent now fails at once with an error whose kind tells the runtime what
 * to do (the runtime's queue is the only buffer). MQTT has no batch request: a batch is sent by
 * the runtime as separate sends, all in flight at once within the broker's Receive Maximum.
 */
export class MqttChannel implements Channel {
  private readonly topic: Render
  private readonly payload: Render
  private readonly properties: RenderProperties

  constructor(private readonly publisher: Publisher, private readonly params: MqttParams, options: ChannelOptions = { mqtt5: true }) {
    this.topic = compile(params.topic, 'topic')
    this.payload = compile(params.payload, 'payload')
    try {
      this.properties = options.mqtt5 ? compilePublishProperties(params, options.onSkipped) : () => undefined
    } catch (err) {
      if (!(err instanceof TemplateParamsError)) throw err
      throw new ConnectorError('INVALID_PARAMS', `The ${err.path} param is invalid: ${err.message}`, { kind: 'permanent', hint: err.hint })
    }
  }

  async send(message: ChannelMessage, signal: AbortSignal): Promise<void> {
    await this.publisher.publish(this.render(message), signal)
  }

  /** The MQTT message for one rule output, or a `permanent` error when it cannot be valid. */
  render(message: ChannelMessage): OutgoingMessage {
    const topic = this.topic(message)
    const problem = topicProblem(topic)
    if (problem) {
      throw new ConnectorError('INVALID_TOPIC', `Cannot publish: ${problem}`, {
        kind: 'permanent',
        hint: `Check the action's topic template (${this.params.topic}): it must render to a topic name without + or #, and not be empty.`,
      })
    }
    const payload = Buffer.from(this.payload(message), 'utf8')
    const properties = this.properties(message)
    const max = this.publisher.maximumPacketSize
    // A lower bound of the PUBLISH packet's size: the broker would drop the connection for a larger one.
    if (max !== undefined && payload.length + Buffer.byteLength(topic) + propertiesSize(properties) + 4 > max) {
      throw new ConnectorError('MESSAGE_TOO_LARGE', `Cannot publish ${payload.length} bytes to "${topic}": the broker accepts packets of at most ${max} bytes`, {
        kind: 'permanent', hint: "Make the payload smaller (e.g. select fewer fields), or raise the broker's maximum packet size.",
      })
    }
    return { topic, payload, qos: this.params.qos, retain: this.params.retain, properties }
  }
}

/** Bytes the properties' values take at least (names, ids and length prefixes not counted). */
function propertiesSize(p: PublishProperties | undefined): number {
  if (!p) return 0
  let n = Buffer.byteLength(p.contentType ?? '') + Buffer.byteLength(p.responseTopic ?? '') + (p.correlationData?.length ?? 0)
  for (const [name, value] of Object.entries(p.userProperties ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) n += Buffer.byteLength(name) + Buffer.byteLength(v)
  }
  return n
}

/** Why `topic` cannot be published to, or undefined when it can (MQTT 3.1.1 section 4.7, MQTT 5 section 4.7). */
export function topicProblem(topic: string): string | undefined {
  if (topic === '') return 'the topic renders empty'
  if (topic.includes('+') || topic.includes('#')) return `the topic "${topic}" contains a wildcard (+ or #)`
  if (topic.includes('\u0000')) return 'the topic contains a NUL character'
  if (Buffer.byteLength(topic, 'utf8') > 65_535) return 'the topic is longer than 65535 bytes'
  return undefined
}

function compile(template: string, field: string): Render {
  try {
    return compileTemplate(template)
  } catch (err) {
    throw new ConnectorError('INVALID_PARAMS', `The ${field} template is invalid: ${errorMessage(err)}`, {
      kind: 'permanent', hint: 'Placeholders look like ${payload.temp} or ${clientid}; indexes like ${payload.list[1]}.',
    })
  }
}
