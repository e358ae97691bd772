/**
 * Line plots as standalone SVG, drawn with Vega (no browser, no canvas): time against users,
 * one colour per series, our measurements as solid lines with min–max bars and the paper's
 * digitised values as dashed lines of the same colour, axes with titles, and two legends (the
 * series by colour, the source by dash).
 *
 * @example
 *   const svg = await renderLinePlot({
 *     title: 'Double auction', xTitle: 'users n', yTitle: 'seconds',
 *     series: [{ name: 'k=3', source: 'ours', points: [{ x: 25, y: 0.05 }] }],
 *   });
 */
import { parse, View, type Scale, type Spec } from 'vega';

/** Where a series' numbers come from: measured here, or read from the paper's figure. */
export type PlotSource = 'ours' | 'paper';

/** One point; lo and hi draw a bar (e.g. the min and max of the runs). */
export interface PlotPoint {
  readonly x: number;
  readonly y: number;
  readonly lo?: number;
  readonly hi?: number;
}

/** One line of the plot. Series of the same name share a colour whatever their source. */
export interface PlotSeries {
  readonly name: string;
  readonly source: PlotSource;
  readonly points: readonly PlotPoint[];
}

/** What to draw. */
export interface LinePlot {
  readonly title: string;
  readonly subtitle?: string;
  readonly xTitle: string;
  readonly yTitle: string;
  /** Logarithmic axes (values ≤ 0 are left out). */
  readonly xLog?: boolean;
  readonly yLog?: boolean;
  readonly series: readonly PlotSeries[];
  /** Plot area in pixels. @default 640 × 400 */
  readonly width?: number;
  readonly height?: number;
}

/** Legend text of each source. */
export const SOURCE_LABELS: Readonly<Record<PlotSource, string>> = {
  ours: 'ours: median, bar = min–max',
  paper: 'paper (digitised)',
};

/** Renders a plot to an SVG document (a string starting with `<svg`). */
export async function renderLinePlot(p: LinePlot): Promise<string> {
  const view = new View(parse(plotSpec(p)), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The Vega specification of a plot (exported for tests and for re-use in other tools). */
export function plotSpec(p: LinePlot): Spec {
  // One row per point, tagged with its series and its source; log axes cannot show ≤ 0.
  const ok = (v: number | undefined, log: boolean | undefined): boolean =>
    v === undefined || (Number.isFinite(v) && (!log || v > 0));
  const rows = p.series.flatMap((s) =>
    s.points
      .filter(
        (pt) => ok(pt.x, p.xLog) && ok(pt.y, p.yLog) && ok(pt.lo, p.yLog) && ok(pt.hi, p.yLog),
      )
      .map((pt) => ({
        series: s.name,
        source: SOURCE_LABELS[s.source],
        x: pt.x,
        y: pt.y,
        lo: pt.lo ?? pt.y,
        hi: pt.hi ?? pt.y,
      })),
  );
  const names = [...new Set(p.series.map((s) => s.name))];
  const sources = (['ours', 'paper'] as const).filter((src) =>
    p.series.some((s) => s.source === src),
  );

  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    width: p.width ?? 640,
    height: p.height ?? 400,
    padding: 10,
    background: 'white',
    title: { text: p.title, ...(p.subtitle !== undefined && { subtitle: p.subtitle }) },
    data: [{ name: 'points', values: rows }],
    scales: [
      axisScale('x', p.xLog === true, ['x'], 'width'),
      axisScale('y', p.yLog === true, ['lo', 'hi', 'y'], 'height'),
      { name: 'colour', type: 'ordinal', domain: names, range: { scheme: 'category10' } },
      {
        name: 'dash',
        type: 'ordinal',
        domain: sources.map((src) => SOURCE_LABELS[src]),
        range: sources.map((src) => (src === 'ours' ? [1, 0] : [6, 4])),
      },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: p.xTitle, grid: true, gridOpacity: 0.25 },
      { orient: 'left', scale: 'y', title: p.yTitle, grid: true, gridOpacity: 0.25 },
    ],
    legends: [
      {
        stroke: 'colour',
        title: 'series',
        orient: 'right',
        symbolType: 'stroke',
        labelLimit: 400,
      },
      {
        strokeDash: 'dash',
        title: 'source',
        orient: 'right',
        labelLimit: 400,
        symbolType: 'stroke',
        symbolSize: 600,
        encode: { symbols: { update: { stroke: { value: '#444' } } } },
      },
    ],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'line', data: 'points', groupby: ['series', 'source'] } },
        marks: [
          {
            type: 'line',
            from: { data: 'line' },
            sort: { field: 'datum.x' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'x' },
                y: { scale: 'y', field: 'y' },
                stroke: { scale: 'colour', field: 'series' },
                strokeDash: { scale: 'dash', field: 'source' },
                strokeWidth: { value: 2 },
              },
            },
          },
          {
            type: 'rule',
            from: { data: 'line' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'x' },
                y: { scale: 'y', field: 'lo' },
                y2: { scale: 'y', field: 'hi' },
                stroke: { scale: 'colour', field: 'series' },
                strokeWidth: { value: 1.5 },
              },
            },
          },
          {
            type: 'symbol',
            from: { data: 'line' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'x' },
                y: { scale: 'y', field: 'y' },
                fill: { scale: 'colour', field: 'series' },
                size: { value: 30 },
              },
            },
          },
        ],
      },
    ],
  };
}

function axisScale(name: string, log: boolean, fields: string[], range: 'width' | 'height'): Scale {
  const domain = { data: 'points', fields };
  return log
    ? { name, type: 'log', domain, range, nice: true }
    : { name, type: 'linear', domain, range, nice: true, zero: true };
}
