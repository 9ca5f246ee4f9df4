import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type pg from 'pg'
import { ConnectorError } from '../../connector-api/index.js'
import { PostgresqlChannel, type PgChannelHost } from './postgresql-channel.js'
import type { PipelinedStatement } from './pipelined-statement.js'

/** A pool of one fake connection that records the statements it is given (the statement choice is pure logic). */
function recordingHost(): { host: PgChannelHost; queries: Array<{ name: string; text: string; values: unknown[] }> } {
  const queries: Array<{ name: string; text: string; values: unknown[] }> = []
  const client = {
    query(statement: PipelinedStatement) {
      queries.push({ name: statement.name, text: statement.text, values: statement.rows.flat() })
      statement.handleReadyForQuery()
    },
  } as unknown as pg.PoolClient
  const host: PgChannelHost = {
    acquire: async () => client,
    release: () => undefined,
    classify: (err) => new ConnectorError('QUERY_FAILED', String(err), { kind: 'permanent' }),
    target: 'fake',
  }
  return { host, queries }
}

const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ seq: i, clientid: `dev-${i}` }))

describe('PostgreSQL channel statements', () => {
  it('prepares multi-row INSERTs of the first 8 batch sizes as named statements, the rest unnamed', async () => {
    const { host, queries } = recordingHost()
    const ch = new PostgresqlChannel('INSERT INTO t (seq, clientid) VALUES (${seq}, ${clientid})', host)
    const signal = new AbortController().signal
    for (const n of [100, 100, 2, 3, 4, 5, 6, 7, 8, 9, 100, 9]) await ch.sendBatch(batch(n), signal)
    const names = queries.map((q) => q.name)
    // One name per row count, the same every time it comes back.
    assert.equal(names[0], names[1])
    assert.equal(names[0], names[10])
    assert.match(names[0]!, /^junction_[0-9a-f]{24}_100$/)
    assert.equal(new Set(names.slice(0, 9)).size, 8, 'sizes 100 and 2..8: eight statements')
    assert.equal(names[9], '', 'a ninth size runs unnamed')
    assert.equal(names[11], '')
    assert.equal(queries[0]!.values.length, 200, 'two parameters per row')
    assert.match(queries[2]!.text, /VALUES \(\$1, \$2\), \(\$3, \$4\)$/)
  })
})
