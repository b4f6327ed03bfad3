/** One line of the table. */
export interface Row {
  /** Scenario id, e.g. "P3". */
  id: string
  metric: string
  ours: string
  /** The naive strategy's number, where the issue asks for one. */
  naive?: string
  /** ours / naive. */
  ratio?: string
  target?: string
  /** Undefined: no target for this line (context only). */
  met?: boolean
  /** For a missed target: why, and what would reach it. */
  gap?: string
}

export const ratio = (ours: number, naive: number): string =>
  naive === 0 ? (ours === 0 ? '—' : '∞') : `${(ours / naive).toFixed(ours / naive < 0.1 ? 3 : 2)}`
