/** Several runs of one measurement, summarised as the table shows it: median and min–max. */
export interface Measure {
  median: number
  min: number
  max: number
  /** Runs behind the numbers (1: a single run, no spread to show). */
  runs: number
  unit: string
}

export function measure(values: readonly number[], unit: string): Measure {
  if (values.length === 0) throw new Error('a measure needs at least one value')
  const sorted = [...values].sort((a, b) => a - b)
  return {
    median: percentile(sorted, 50),
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    runs: values.length,
    unit,
  }
}

/** Nearest-rank percentile of ascending `sorted` values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1] as number
}

export function round(value: number, digits = 0): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/** "12.3 s (11.8–13.0, 3 runs)", or "20 requests" for a single run. */
export function formatMeasure(m: Measure): string {
  const digits =
    Math.abs(m.median) >= 100 || Number.isInteger(m.median) ? 0 : Math.abs(m.median) >= 10 ? 1 : 2
  const fmt = (v: number) => round(v, digits).toLocaleString('en-US')
  const unit = m.unit ? ` ${m.unit}` : ''
  if (m.runs === 1 || m.min === m.max) return `${fmt(m.median)}${unit}${m.runs > 1 ? ` (×${m.runs})` : ''}`
  return `${fmt(m.median)}${unit} (${fmt(m.min)}–${fmt(m.max)}, ${m.runs} runs)`
}

export const elapsedSince = (startedAt: number) => performance.now() - startedAt
