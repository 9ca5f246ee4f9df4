/**
 * List tables that become stacked cards on narrow screens (`.table.stack` in styles.css, at
 * max-width 640px): each row is a card and each cell shows its column name, drawn from
 * `data-label` by `td::before`. The CSS turns the table elements into blocks, which makes
 * Chromium drop their table semantics, so every element also carries its ARIA role explicitly:
 * screen readers keep the table with its column headers at every width.
 *
 *   <StackTable columns={['Name', { label: 'Rules', className: 'num' }]}>
 *     <tr role="row"><td {...cell('Name')}>…</td><td {...cell('Rules')} className="num">…</td></tr>
 *   </StackTable>
 *
 * `cell`'s label must be the text of the column's header.
 */
import type { ReactNode } from 'react'

export interface StackColumn {
  readonly label: string
  readonly className?: string
}

/** The table with its header row; `children` are the body rows. */
export function StackTable({ columns, compact = false, children }: { columns: ReadonlyArray<string | StackColumn>; compact?: boolean; children: ReactNode }) {
  return (
    <table className={`table${compact ? ' compact' : ''} stack`} role="table">
      <thead role="rowgroup">
        <tr role="row">
          {columns.map((c) => {
            const column = typeof c === 'string' ? { label: c } : c
            return (
              <th key={column.label} scope="col" role="columnheader" className={column.className}>
                {column.label}
              </th>
            )
          })}
        </tr>
      </thead>
      <tbody role="rowgroup">{children}</tbody>
    </table>
  )
}

/** The last column of a list: the row's buttons. */
export const ACTIONS_COLUMN: StackColumn = { label: 'Actions', className: 'actions-col' }

/** The row's cell in ACTIONS_COLUMN; `children` are its buttons, kept together in a row. */
export function ActionsCell({ children }: { children: ReactNode }) {
  return (
    <td {...cell(ACTIONS_COLUMN.label)} className={ACTIONS_COLUMN.className}>
      <span className="row-actions">{children}</span>
    </td>
  )
}

export function cell(label: string): { role: 'cell'; 'data-label': string } {
  return { role: 'cell', 'data-label': label }
}
