// Figures from a shared, noisy machine: every variant is measured in the same
// rounds, in an order that rotates each round, and a ratio is taken per round
// (B against the A measured next to it) before the median is.

/** { min, median, max, n } of a list of numbers. */
export function summarize(samples) {
  if (samples.length === 0) throw new Error('summarize: no samples')
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { min: sorted[0], median, max: sorted[sorted.length - 1], n: sorted.length }
}

/**
 * Runs every variant once per round, rotating the order (A B C, B C A, ...)
 * so that drift and warm-up hit each alike. `variants` maps a name to an
 * (async) function returning one sample. Returns { name: [sample per round] }.
 */
export async function alternate(rounds, variants, onSample = () => {}) {
  const names = Object.keys(variants)
  const samples = Object.fromEntries(names.map((n) => [n, []]))
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]
      const sample = await variants[name](r)
      samples[name].push(sample)
      onSample(name, sample, r)
    }
  }
  return samples
}

/** Per-round ratios of `samples` to `baseline` (same rounds), summarized. */
export function ratios(samples, baseline) {
  if (samples.length !== baseline.length) throw new Error('ratios: rounds differ')
  return summarize(samples.map((s, i) => s / baseline[i]))
}

/** ns per call of `fn(i)` over `calls` calls (one sample). */
export function nsPerCall(fn, calls) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) fn(i)
  return Number(process.hrtime.bigint() - start) / calls
}

/** A number with thousands separators and `digits` decimals. */
export function fmt(x, digits = 0) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–'
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** "median (min–max)" of a summary. */
export function fmtSummary(s, digits = 0, unit = '') {
  return `${fmt(s.median, digits)}${unit} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`
}

/** A ratio as a signed percentage: 1.023 → "+2.3%". */
export function pct(ratio, digits = 1) {
  const p = (ratio - 1) * 100
  return `${p >= 0 ? '+' : '−'}${Math.abs(p).toFixed(digits)}%`
}

/** A share as a percentage: 0.023 → "2.3%". */
export function share(fraction, digits = 1) {
  return `${(fraction * 100).toFixed(digits)}%`
}
