/**
 * Prints `{ title, columns, rows, notes? }` as an aligned text table (and returns the text).
 * Numbers are right-aligned; everything else left-aligned.
 */
export function formatTable({ title, columns, rows, notes = [] }) {
  const cells = rows.map((row) => row.map((cell) => formatCell(cell)));
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...cells.map((row) => (row[i] ?? '').length)),
  );
  const line = (row, raw) =>
    row
      .map((cell, i) =>
        typeof raw?.[i] === 'number' ? cell.padStart(widths[i]) : cell.padEnd(widths[i]),
      )
      .join('  ')
      .trimEnd();
  const out = [
    `\n${title}`,
    line(columns),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map((row, r) => line(row, rows[r])),
    ...notes.map((note) => `  ${note}`),
  ];
  return out.join('\n');
}

/** The same table as GitHub Markdown, for docs/BENCHMARKS.md. */
export function markdownTable({ title, columns, rows, notes = [] }) {
  const out = [
    `#### ${title}`,
    '',
    `| ${columns.join(' | ')} |`,
    `|${columns.map((_, i) => (typeof rows[0]?.[i] === 'number' ? '---:' : '---')).join('|')}|`,
    ...rows.map((row) => `| ${row.map((cell) => formatCell(cell)).join(' | ')} |`),
    '',
    ...notes.map((note) => `- ${note}`),
  ];
  return out.join('\n');
}

function formatCell(cell) {
  if (typeof cell === 'number') {
    if (!Number.isFinite(cell)) return '–';
    return Number.isInteger(cell)
      ? cell.toLocaleString('en-US')
      : cell.toLocaleString('en-US', { maximumFractionDigits: 2 });
  }
  return String(cell ?? '–');
}
