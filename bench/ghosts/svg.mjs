// A hand-written SVG bar chart of the measured runs: three panels (server
// CPU, server context switches, time to reclaim all), one group of bars per
// N, one bar per variant. No plotting library: the repository keeps none.

const COLORS = { heartbeat: '#d9722b', harden: '#2b6cb0' }
const LABELS = {
  heartbeat: '(a) heartbeat 5 s, drop after 2 missed',
  harden: '(b) hardenServer keep-alive 5 + 2 × 5 s',
}
const PANEL_W = 250
const PANEL_GAP = 70
const LEFT = 60
const W = LEFT + 3 * PANEL_W + 2 * PANEL_GAP + 40
const H = 390
const TOP = 104
const PLOT_H = 230

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–'
  if (Number.isInteger(v)) return v.toLocaleString('en-US')
  const a = Math.abs(v)
  if (a >= 1000) return Math.round(v).toLocaleString('en-US')
  if (a >= 100) return v.toFixed(0)
  if (a >= 10) return v.toFixed(1)
  if (a >= 1) return v.toFixed(2)
  if (a === 0) return '0'
  return v.toFixed(3)
}

// A round axis top with its tick step, so ticks read as 0, 0.5, 1... not 0.37.
function niceScale(max) {
  if (!(max > 0)) return { top: 1, step: 0.2 }
  const p = 10 ** Math.floor(Math.log10(max))
  for (const [m, div] of [
    [1, 5],
    [2, 4],
    [2.5, 5],
    [4, 4],
    [5, 5],
    [10, 5],
  ]) {
    if (m * p >= max) return { top: m * p, step: (m * p) / div }
  }
  return { top: 10 * p, step: 2 * p }
}

// Axis labels without float noise or padded zeros: 0.02, 2.5, 10,000.
const tickFmt = (v) => Number(v.toPrecision(6)).toLocaleString('en-US', { maximumFractionDigits: 3 })

function panel(x0, title, unit, groups, variants, { refLine } = {}) {
  const values = groups.flatMap((g) => variants.map((v) => g.values[v] ?? 0))
  const { top, step } = niceScale(Math.max(...values, refLine?.value ?? 0) * 1.08)
  const y = (v) => TOP + PLOT_H - (v / top) * PLOT_H
  const out = []
  out.push(`<text x="${x0 + PANEL_W / 2}" y="${TOP - 30}" class="pt">${esc(title)}</text>`)
  out.push(`<text x="${x0 + PANEL_W / 2}" y="${TOP - 14}" class="unit">${esc(unit)}</text>`)
  // Bounded by construction: at most 6 ticks (see niceScale).
  for (let i = 0; i * step <= top + step / 1000 && i <= 10; i++) {
    const v = i * step
    out.push(`<line x1="${x0}" x2="${x0 + PANEL_W}" y1="${y(v)}" y2="${y(v)}" class="grid"/>`)
    out.push(`<text x="${x0 - 6}" y="${y(v) + 4}" class="tick">${esc(tickFmt(v))}</text>`)
  }
  out.push(`<line x1="${x0}" x2="${x0}" y1="${TOP}" y2="${TOP + PLOT_H}" class="axis"/>`)
  out.push(`<line x1="${x0}" x2="${x0 + PANEL_W}" y1="${TOP + PLOT_H}" y2="${TOP + PLOT_H}" class="axis"/>`)
  const groupW = PANEL_W / groups.length
  const barW = Math.min(48, (groupW * 0.7) / variants.length)
  groups.forEach((g, gi) => {
    const gx = x0 + gi * groupW + (groupW - barW * variants.length) / 2
    variants.forEach((v, vi) => {
      const value = g.values[v]
      if (value === undefined) return
      const bx = gx + vi * barW
      const by = y(value)
      const bh = TOP + PLOT_H - by
      out.push(
        `<rect x="${bx + 2}" y="${by}" width="${barW - 4}" height="${Math.max(bh, 0.5)}" ` +
          `fill="${COLORS[v]}"><title>${esc(`${g.label}, ${LABELS[v]}: ${fmt(value)} ${unit}`)}</title></rect>`,
      )
      out.push(`<text x="${bx + barW / 2}" y="${by - 5}" class="val">${esc(fmt(value))}${g.flags?.[v] ?? ''}</text>`)
      const mark = g.markers?.[v]
      // Only where the first close is visibly earlier than the last.
      if (mark !== undefined && (value - mark) / top > 0.02) {
        out.push(
          `<line x1="${bx + 2}" x2="${bx + barW - 2}" y1="${y(mark)}" y2="${y(mark)}" ` +
            `class="mark"><title>${esc(`first closed at ${fmt(mark)} ${unit}`)}</title></line>`,
        )
      }
    })
    out.push(`<text x="${x0 + gi * groupW + groupW / 2}" y="${TOP + PLOT_H + 18}" class="grp">${esc(g.label)}</text>`)
  })
  if (refLine) {
    out.push(`<line x1="${x0}" x2="${x0 + PANEL_W}" y1="${y(refLine.value)}" y2="${y(refLine.value)}" class="ref"/>`)
  }
  return out.join('\n')
}

/** The chart for `runs` (the bench's result rows) and `meta` (machine, window). */
export function renderSvg(runs, meta) {
  const variants = ['heartbeat', 'harden']
  const ns = [...new Set(runs.map((r) => r.n))].sort((a, b) => a - b)
  const groupsOf = (pick, flag, marker) =>
    ns.map((n) => {
      const values = {}
      const flags = {}
      const markers = {}
      for (const v of variants) {
        const r = runs.find((x) => x.n === n && x.variant === v)
        if (r) {
          values[v] = pick(r)
          if (flag?.(r)) flags[v] = flag(r)
          if (marker) markers[v] = marker(r)
        }
      }
      return { label: `N = ${n.toLocaleString('en-US')}`, values, flags, markers }
    })
  const x = (i) => LEFT + i * (PANEL_W + PANEL_GAP)
  const parts = [
    panel(
      x(0),
      'Server CPU',
      `seconds in ${meta.windowSeconds} s idle`,
      groupsOf((r) => r.server.cpuSeconds),
      variants,
    ),
    panel(
      x(1),
      'Server context switches',
      `all threads, in ${meta.windowSeconds} s idle`,
      groupsOf((r) => r.server.allCtxVoluntary + r.server.allCtxNonvoluntary),
      variants,
    ),
    panel(
      x(2),
      'Time to reclaim all connections',
      's after the cut; dashed 15 s bound; black: first',
      groupsOf(
        (r) => (r.reclaim.lastMs ?? r.reclaim.boundMs) / 1000,
        (r) => (r.reclaim.remaining > 0 ? ` (${r.reclaim.remaining} left)` : ''),
        (r) => r.reclaim.firstMs / 1000,
      ),
      variants,
      { refLine: { value: 15 } },
    ),
  ]
  const legend = variants
    .map((v, i) => {
      const lx = LEFT + i * 400
      return (
        `<rect x="${lx}" y="40" width="12" height="12" fill="${COLORS[v]}"/><text ` +
        `x="${lx + 18}" y="50" class="leg">${esc(LABELS[v])}</text>`
      )
    })
    .join('\n')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">
<style>
  .t { font-size: 16px; font-weight: 600; fill: #111; }
  .pt { font-size: 13px; font-weight: 600; fill: #111; text-anchor: middle; }
  .unit { font-size: 11px; fill: #555; text-anchor: middle; }
  .tick { font-size: 10px; fill: #555; text-anchor: end; }
  .val { font-size: 10px; fill: #111; text-anchor: middle; }
  .grp { font-size: 11px; fill: #333; text-anchor: middle; }
  .leg { font-size: 12px; fill: #222; }
  .foot { font-size: 10px; fill: #666; }
  .grid { stroke: #e5e5e5; stroke-width: 1; }
  .axis { stroke: #888; stroke-width: 1; }
  .ref { stroke: #b00; stroke-width: 1; stroke-dasharray: 4 3; }
  .mark { stroke: #111; stroke-width: 2; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="${LEFT}" y="26" class="t">Idle connections: application heartbeat vs hardenServer (kernel keep-alive)</text>
${legend}
${parts.join('\n')}
<text x="${LEFT}" y="${H - 12}" class="foot">${esc(meta.footer)}</text>
</svg>
`
}
