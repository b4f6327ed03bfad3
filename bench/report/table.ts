import type { Row } from './row.js'

const HEADERS = ['', 'metric', 'services', 'naive', 'ours/naive', 'target', 'met'] as const

function cells(row: Row): string[] {
  const met = row.met === undefined ? '' : row.met ? 'yes' : 'NO'
  return [row.id, row.metric, row.ours, row.naive ?? '', row.ratio ?? '', row.target ?? '', met]
}

/** The table as the terminal shows it: columns padded to their widest cell. */
export function textTable(rows: readonly Row[]): string {
  const all = [[...HEADERS], ...rows.map(cells)]
  const widths = HEADERS.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)))
  const line = (r: string[]) =>
    r
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd()
  return [
    line(all[0] as string[]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...all.slice(1).map(line),
  ].join('\n')
}

const escapeCell = (cell: string) => cell.replaceAll('|', '\\|')

/** The same table in Markdown. */
export function markdownTable(rows: readonly Row[]): string {
  const head = `| ${HEADERS.map((h) => h || 'id').join(' | ')} |`
  const rule = `| ${HEADERS.map(() => '---').join(' | ')} |`
  return [head, rule, ...rows.map((row) => `| ${cells(row).map(escapeCell).join(' | ')} |`)].join('\n')
}
