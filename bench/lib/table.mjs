// Markdown tables that also read well as plain text on a terminal.

/** A table with padded columns: `head` is a list of cells, `rows` a list of such lists. */
export function table(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}

/** A bench's targets: what, target, measured, and whether it was met ('said': a figure told, not judged). */
export function targetsTable(targets) {
  return table(
    ['what', 'target', 'measured', ''],
    targets.map((t) => [
      t.what,
      t.target,
      String(t.measured),
      t.met === 'said' || t.met === null ? '–' : t.met === 'unresolved' ? 'unresolved' : t.met ? 'met' : '**missed**',
    ]),
  )
}
