import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileSqlTemplate } from '../../connector-api/index.js'
import { multiRowInsert } from './insert-values.js'

const multi = (sql: string, maxBind?: number) => {
  const t = compileSqlTemplate(sql)
  return multiRowInsert(t.text, t.placeholders.length, maxBind)
}

describe('postgresql multi-row INSERT', () => {
  it('repeats the VALUES tuple with renumbered parameters', () => {
    const m = multi('INSERT INTO t(id, temp) VALUES (${clientid}, ${payload.temp})')
    assert.ok(m)
    assert.equal(m.paramsPerRow, 2)
    assert.equal(m.text(1), 'INSERT INTO t(id, temp) VALUES ($1, $2)')
    assert.equal(m.text(3), 'INSERT INTO t(id, temp) VALUES ($1, $2), ($3, $4), ($5, $6)')
    assert.equal(m.text(3), m.text(3), 'cached per row count')
  })

  it('keeps casts, functions, constants, nested parentheses and literals that look like SQL', () => {
    const m = multi("INSERT INTO t (a, b, c, d, e) VALUES (${a}::jsonb, to_timestamp(${b} / 1000.0), 'x''s $9) VALUES (', $$ ( $$, now())")
    assert.ok(m)
    assert.equal(m.paramsPerRow, 2)
    assert.equal(m.text(2), "INSERT INTO t (a, b, c, d, e) VALUES ($1::jsonb, to_timestamp($2 / 1000.0), 'x''s $9) VALUES (', $$ ( $$, now()), ($3::jsonb, to_timestamp($4 / 1000.0), 'x''s $9) VALUES (', $$ ( $$, now())")
  })

  it('keeps ON CONFLICT ... DO NOTHING / EXCLUDED, RETURNING and a final semicolon after the rows', () => {
    const m = multi('insert into t (id, v) values (${id}, ${v}) on conflict (id) do update set v = excluded.v returning id;')
    assert.ok(m)
    assert.equal(m.text(2), 'insert into t (id, v) values ($1, $2), ($3, $4) on conflict (id) do update set v = excluded.v returning id;')
  })

  it('skips comments and quoted identifiers', () => {
    const m = multi('/* a (comment) VALUES */ INSERT INTO "VALUES" ("values") -- VALUES (\nVALUES (${x})')
    assert.ok(m)
    assert.equal(m.text(2), '/* a (comment) VALUES */ INSERT INTO "VALUES" ("values") -- VALUES (\nVALUES ($1), ($2)')
  })

  it('chunks under the bind-parameter limit', () => {
    assert.equal(multi('INSERT INTO t VALUES (${a}, ${b}, ${c})')?.maxRows, 21_845)
    assert.equal(multi('INSERT INTO t VALUES (${a}, ${b}, ${c})', 10)?.maxRows, 3)
    assert.equal(multi('INSERT INTO t VALUES (1, now())')?.maxRows, 1_000)
  })

  for (const sql of [
    'UPDATE t SET v = ${v} WHERE id = ${id}',
    'INSERT INTO t (id) SELECT ${id}',
    'INSERT INTO t (id) SELECT 1 UNION VALUES (${id})',
    'INSERT INTO t DEFAULT VALUES',
    'INSERT INTO t (id) VALUES (${a}), (${b})',
    'INSERT INTO t (id, v) VALUES (${id}, 1) ON CONFLICT (id) DO UPDATE SET v = ${v}',
    'WITH x AS (SELECT 1) INSERT INTO t (id) VALUES (${id})',
    'INSERT INTO t (id) VALUES (${id}); DELETE FROM t',
    "INSERT INTO t (id) VALUES ('unterminated)",
    'CALL p(${a})',
  ]) {
    it(`leaves ${JSON.stringify(sql)} to the pipelined path`, () => {
      assert.equal(multi(sql), undefined)
    })
  }
})
