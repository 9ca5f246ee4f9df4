/** An `INSERT ... VALUES (<row>)` statement (with `?` parameters) written for many rows. */
export interface MultiRowInsert {
  text(rows: number): string
  /** The table written, as in the SQL (`t`, `db.t`, backticks): its engine decides whether batches may be multi-row. */
  readonly table: string
}

/**
 * Recognises `INSERT|REPLACE ... VALUES|VALUE (<row>) [rest]` with every `?` inside the one row (`ON DUPLICATE KEY UPDATE c = VALUES(c)`
 * is fine), skipping quoted text. Comments, several rows or a `?` outside the row: undefined (batches then run once per message).
 */
export function multiRowInsert(sql: string): MultiRowInsert | undefined {
  const head = /^\s*(?:INSERT|REPLACE)\s+(?:(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE)\s+)*(?:INTO\s+)?((?:`(?:[^`]|``)+`|[\w$]+)(?:\s*\.\s*(?:`(?:[^`]|``)+`|[\w$]+))?)/i.exec(sql)
  let [depth, open, close, outside] = [0, -1, -1, false]
  for (let i = 0; head && i < sql.length; i++) {
    const c = sql[i]!
    if (c === "'" || c === '"' || c === '`') {
      // To the closing quote; a doubled quote, or a backslash escape in a string, stays inside.
      for (i++; i < sql.length && sql[i] !== c; i++) if (sql[i] === '\\' && c !== '`') i++
      if (sql[i + 1] === c) return undefined
    } else if (c === '#' || sql.startsWith('--', i) || sql.startsWith('/*', i)) return undefined
    else if (c === '?') outside ||= open < 0 || close >= 0
    else if (c === '(' && depth++ === 0 && open < 0 && /\bVALUES?\s*$/i.test(sql.slice(0, i))) open = i
    else if (c === ')' && --depth === 0 && open >= 0 && close < 0) close = i
  }
  if (!head || close < 0 || outside || /^\s*,/.test(sql.slice(close + 1))) return undefined
  const [before, row, after] = [sql.slice(0, open), sql.slice(open, close + 1), sql.slice(close + 1)]
  return { table: head[1]!, text: (rows) => `${before}${row}${`,${row}`.repeat(rows - 1)}${after}` }
}
