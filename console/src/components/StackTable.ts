/**
 * List tables that become stacked cards on narrow screens (`.table.stack` in styles.css, at
 * max-width 640px): each row is a card and each cell shows its column name, drawn from
 * `data-label` by `td::before`. The CSS turns the table elements into blocks, which makes
 * Chromium drop their table semantics, so every element also carries its ARIA role explicitly:
 * screen readers keep the table with its column headers at every width.
 *
 *   <table className="table stack" role="table">
 *     <thead role="rowgroup"><tr role="row"><th {...columnHeader}>Status</th>…</tr></thead>
 *     <tbody role="rowgroup"><tr role="row"><td {...cell('Status')}>…</td>…</tr></tbody>
 *   </table>
 *
 * `cell`'s label must be the text of the column's header.
 */
export const columnHeader = { scope: 'col', role: 'columnheader' } as const

export function cell(label: string): { role: 'cell'; 'data-label': string } {
  return { role: 'cell', 'data-label': label }
}
