/**
 * Where a benchmark's results go: `<out>/<name>.json` (every run, the summaries, the options
 * and the machine), `<out>/<name>.md` (the table as printed) and one SVG per plot. Scratch runs
 * go to results/ (not committed); the run that docs/benchmarks.md shows is written to
 * docs/bench/ with `--out docs/bench`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { machineInfo, type MachineInfo } from './machine.js';
import { formatTable, type Table } from './table.js';

/** Default directory of scratch results, relative to the working directory. */
export const DEFAULT_OUT_DIR = 'results';

/** When a bench started, and how busy the machine was then. */
export interface StartMark {
  readonly at: Date;
  /** The 1-minute load average at the start (other processes compete for the 2 cores). */
  readonly load1m: number;
}

/** Marks the start of a bench. */
export function startMark(): StartMark {
  return { at: new Date(), load1m: loadavg()[0]! };
}

/** The top of every result file. */
export interface ResultHeader {
  readonly bench: string;
  /** Bump when the layout of the file changes. */
  readonly format: 1;
  /** The command that reproduces the run. */
  readonly command: string;
  readonly startedAt: string;
  readonly durationS: number;
  readonly machine: MachineInfo;
  /** 1-minute load averages at the start and at the end: above ~1 before the bench starts, the
   * machine was shared with other work and the times are pessimistic. */
  readonly loadAverage: { readonly atStart: number; readonly atEnd: number };
  /** Empty when every run gave the right result. */
  readonly problems: readonly string[];
}

/** Builds the header of a result file for a bench that started at `start`. */
export function resultHeader(
  bench: string,
  command: string,
  start: StartMark,
  problems: readonly string[],
): ResultHeader {
  const load = (x: number): number => Math.round(x * 100) / 100;
  return {
    bench,
    format: 1,
    command,
    startedAt: start.at.toISOString(),
    durationS: Math.round((Date.now() - start.at.getTime()) / 100) / 10,
    machine: machineInfo(),
    loadAverage: { atStart: load(start.load1m), atEnd: load(loadavg()[0]!) },
    problems,
  };
}

/** Files of one bench, by file name (e.g. `double.json`, `double.svg`). */
export type ResultFiles = Readonly<Record<string, string>>;

/**
 * The stem of a bench's file names: the bench's name, with the latency when there is one, so a
 * run with `--latency-ms 5` (`double-latency5ms.json`) does not overwrite one without.
 */
export function fileStem(bench: string, latencyMs: number): string {
  return latencyMs > 0 ? `${bench}-latency${latencyMs}ms` : bench;
}

/** JSON with bigints as strings and two-space indentation, ending in a newline. */
export function toJson(value: unknown): string {
  const text = JSON.stringify(
    value,
    (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v),
    2,
  );
  return text + '\n';
}

/** Writes every file into `dir` (created if needed); returns the paths, relative to cwd. */
export function writeResults(dir: string, files: ResultFiles): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(files).map(([name, text]) => {
    if (name.includes('/') || name.includes('\\')) {
      throw new RangeError(`writeResults: file name ${name} must not contain a path separator`);
    }
    const path = join(dir, name);
    writeFileSync(path, text);
    return relative(process.cwd(), path) || path;
  });
}

/**
 * A bench's Markdown report: a title line, the machine, its load and the command as a list, then
 * the table.
 */
export function markdownReport(title: string, caption: string, h: ResultHeader, t: Table): string {
  const { atStart, atEnd } = h.loadAverage;
  const busy = atStart > 1 ? ' (other work was running: times are pessimistic)' : '';
  return [
    title,
    '',
    `- machine: ${caption}`,
    `- load average (1 min): ${atStart} at the start${busy}, ${atEnd} at the end`,
    `- command: \`${h.command}\``,
    '',
    formatTable(t),
  ].join('\n');
}
