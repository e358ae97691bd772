/**
 * Text tables that read well in a terminal and are valid Markdown, so the table a bench prints
 * is the table docs/benchmarks.md shows. Numbers are right-aligned, text left-aligned.
 */
import type { Spread } from './stats.js';

/** A table: column headings and rows of cells, already formatted as text. */
export interface Table {
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Which columns are numeric (right-aligned); by default every column but the first. */
  readonly numeric?: readonly boolean[];
}

/**
 * Formats a table as an aligned Markdown pipe table, one line per row, ending in a newline.
 *
 * @throws RangeError when a row has another number of cells than there are headers
 */
export function formatTable(t: Table): string {
  const cols = t.headers.length;
  t.rows.forEach((r, i) => {
    if (r.length !== cols) {
      throw new RangeError(`formatTable: row ${i} has ${r.length} cells, expected ${cols}`);
    }
  });

  // Widths fit the longest cell of each column; Markdown needs at least 3 dashes.
  const numeric = t.numeric ?? t.headers.map((_, i) => i > 0);
  const width = t.headers.map((h, c) => Math.max(3, h.length, ...t.rows.map((r) => r[c]!.length)));
  const pad = (s: string, c: number): string =>
    numeric[c] ? s.padStart(width[c]!) : s.padEnd(width[c]!);
  const line = (cells: readonly string[]): string =>
    '| ' + cells.map((s, c) => pad(s, c)).join(' | ') + ' |';

  const rule = width.map((w, c) => (numeric[c] ? '-'.repeat(w - 1) + ':' : '-'.repeat(w)));
  const lines = [line(t.headers), '| ' + rule.join(' | ') + ' |', ...t.rows.map(line)];
  return lines.join('\n') + '\n';
}

/** A number with a fixed count of significant decimals for tables: 0.1234 → "0.12". */
export function num(x: number | null, decimals = 1): string {
  return x === null ? '–' : x.toFixed(decimals);
}

/** "median [min–max]", e.g. "312.4 [290.1–355.0]". */
export function spreadCell(s: Spread | null, decimals = 1): string {
  if (s === null) return '–';
  return `${num(s.median, decimals)} [${num(s.min, decimals)}–${num(s.max, decimals)}]`;
}

/** A byte count with a binary unit: 2300312 → "2.19 MiB". */
export function bytesCell(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(2)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** "1 run", "5 runs": a count and its noun, in the singular when the count is 1. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
