// Helpers for the connector tests that drive a rule action's channel directly.
import assert from 'node:assert/strict'
import type { Channel, ChannelMessage } from '../../src/connector-api/index.js'
import { ConnectorError } from '../../src/connector-api/index.js'

/** A channel that sends batches (PostgreSQL and Kafka channels do). */
export type BatchChannel = Channel & { sendBatch(messages: readonly ChannelMessage[], signal: AbortSignal): Promise<void> }

export function asBatchChannel(channel: Channel): BatchChannel {
  assert.ok(channel.sendBatch, 'the channel sends batches')
  return channel as BatchChannel
}

/** The ConnectorError a promise rejects with; fails the test when it resolves or throws anything else. */
export async function rejection(work: Promise<unknown>): Promise<ConnectorError> {
  try {
    await work
  } catch (err) {
    assert.ok(err instanceof ConnectorError, `a ConnectorError, got ${String(err)}`)
    return err
  }
  return assert.fail('expected a failure')
}
