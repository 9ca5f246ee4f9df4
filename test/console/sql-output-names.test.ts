// The rule form's template help: which placeholders a rule's SELECT list outputs (pure logic).
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { sqlOutputNames } from '../../console/src/lib/sql-output-names.ts'

it('aliases, bare paths, functions with commas, quoted aliases; * is the whole event', () => {
  assert.deepEqual(sqlOutputNames('SELECT clientid, payload.temp AS temp FROM "t/#"'), ['clientid', 'temp'])
  assert.deepEqual(sqlOutputNames('select payload.a.b, concat(topic, \'x,y\') as joined\nfrom "a"'), ['payload.a.b', 'joined'])
  assert.deepEqual(sqlOutputNames('SELECT -- note, here\n  qos AS "q" FROM "a"'), ['q'])
  assert.equal(sqlOutputNames('SELECT * FROM "a"'), null)
  assert.deepEqual(sqlOutputNames('not sql'), [])
})
