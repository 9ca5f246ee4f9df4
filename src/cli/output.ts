/** Human tables and key/value listings for the terminal; `--json` bypasses all of this. */

export type Column<T> = [header: string, value: (row: T) => unknown]

export function cell(value: unknown): string {
  if (value === null || value === undefined) return '-'
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value).replace(/\s+/g, ' ')
}

/** A cell cut to `n` characters, for columns that can be long (SQL, changed fields). */
export function truncate(value: unknown, n: number): string {
  const t = cell(value)
  return t.length > n ? `${t.slice(0, n - 1)}…` : t
}

export function table<T>(rows: readonly T[], columns: readonly Column<T>[], empty = '(none)'): string {
  if (rows.length === 0) return `${empty}\n`
  const cells = rows.map((r) => columns.map(([, f]) => cell(f(r))))
  const widths = columns.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd()
  return [line(columns.map(([h]) => h.toUpperCase())), ...cells.map(line)].join('\n') + '\n'
}

/** `key: value` lines; objects nest with two spaces per level. */
export function details(record: Record<string, unknown>, indent = ''): string {
  const keys = Object.keys(record)
  const width = Math.max(0, ...keys.map((k) => k.length))
  let out = ''
  for (const k of keys) {
    const v = record[k]
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
      out += `${indent}${k}:\n${details(v as Record<string, unknown>, indent + '  ')}`
    } else if (Array.isArray(v) && v.length > 0 && v.some((x) => x !== null && typeof x === 'object')) {
      out += `${indent}${k}:\n`
      v.forEach((item, i) => {
        out += item !== null && typeof item === 'object' ? `${indent}  [${i}]\n${details(item as Record<string, unknown>, indent + '    ')}` : `${indent}  [${i}] ${cell(item)}\n`
      })
    } else {
      out += `${indent}${`${k}:`.padEnd(width + 1)} ${Array.isArray(v) ? (v.length === 0 ? '[]' : v.map(cell).join(', ')) : cell(v)}\n`
    }
  }
  return out
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n'
}
