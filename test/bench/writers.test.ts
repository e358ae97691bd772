/**
 * The bench's writers on fake numbers: summaries and ratios, the Markdown table, the SVG plot
 * (axes, legends, both sources), and the files of the double and scale benches. Nothing here
 * runs a cluster or asserts a time.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  doubleFiles,
  doubleTable,
  type DoublePoint,
  type DoubleResults,
} from '../../bench/double.js';
import { machineInfo } from '../../bench/machine.js';
import { PAPER_DOUBLE_SECONDS, PAPER_DOUBLE_USERS, paperMs } from '../../bench/paper.js';
import { renderLinePlot, SOURCE_LABELS } from '../../bench/plot.js';
import { resultHeader, startMark, toJson } from '../../bench/results.js';
import { envelopeProblems, scaleTable, type ScalePoint } from '../../bench/scale.js';
import { standardFiles, standardTable, type StandardResults } from '../../bench/standard.js';
import { ratio, spread } from '../../bench/stats.js';
import { formatTable, spreadCell } from '../../bench/table.js';

const S = (median: number, min = median, max = median) => ({ median, min, max });

function fakeDoublePoint(series: DoublePoint['series'], n: number, ms: number): DoublePoint {
  const k = series === 'centralised' ? null : Number(series.slice(2));
  const paper = paperMs(PAPER_DOUBLE_USERS, PAPER_DOUBLE_SECONDS[series], n);
  return {
    label: `double ${series} n=${n}`,
    series,
    k,
    m: 8,
    n,
    genMs: S(1),
    submitMs: k === null ? null : S(ms, ms - 1, ms + 1),
    roundMs: S(ms, ms - 2, ms + 3),
    endToEndMs: S(2 * ms),
    cpuMaxMs: null,
    envelopes: k === null ? null : 224,
    bytes: null,
    paperMs: paper,
    ratioRound: ratio(paper, ms),
    ratioEndToEnd: ratio(paper, 2 * ms),
    samples: [],
  };
}

function fakeScalePoint(n: number, envelopes: number): ScalePoint {
  const sample = {
    round: 2,
    submitMs: n / 10,
    roundMs: n / 20,
    phaseMs: { START: 1 },
    cpuMs: [1, 2],
    envelopes,
    bytes: n * 2000,
    resultBytes: n * 100,
    outcomeHash: '00',
  };
  return {
    label: `double-scale k=3 m=8 n=${n}`,
    k: 3,
    m: 8,
    n,
    submitMs: S(n / 10),
    bidRequestsPerS: 80_000,
    bidRequestBytes: n * 600,
    roundMs: S(n / 20),
    providersDoneMs: S(n / 40),
    cpuMaxMs: S(2),
    envelopes,
    bytes: n * 2000,
    bytesPerUser: 2000,
    resultBytes: n * 100,
    samples: [sample],
  };
}

describe('bench summaries', () => {
  test('spread() takes the median of odd and even samples, and the extremes', () => {
    assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3 });
    assert.deepEqual(spread([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4 });
    assert.throws(() => spread([]), RangeError);
    assert.throws(() => spread([1, Number.NaN]), RangeError);
  });

  test('ratio() is paper / ours, and null when a side is missing', () => {
    assert.equal(ratio(818, 409), 2);
    assert.equal(ratio(null, 5), null);
    assert.equal(ratio(5, 0), null);
  });

  test("paperMs() reads the paper's table in milliseconds", () => {
    assert.equal(paperMs(PAPER_DOUBLE_USERS, PAPER_DOUBLE_SECONDS['k=3'], 1000), 818);
    assert.equal(paperMs(PAPER_DOUBLE_USERS, PAPER_DOUBLE_SECONDS['k=3'], 999), null);
  });
});

describe('bench table', () => {
  test('formatTable() pads columns and writes a Markdown rule', () => {
    const text = formatTable({
      headers: ['series', 'ms'],
      rows: [
        ['k=1', '5.0'],
        ['centralised', '12.5'],
      ],
    });
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.equal(lines[1], '| ----------- | ---: |');
    assert.equal(lines[3], '| centralised | 12.5 |');
    assert.ok(lines.every((l) => l.length === lines[0]!.length));
  });

  test('formatTable() refuses a row of the wrong width', () => {
    assert.throws(() => formatTable({ headers: ['a', 'b'], rows: [['1']] }), RangeError);
  });

  test('spreadCell() shows median [min–max]', () => {
    assert.equal(spreadCell(S(2, 1, 3)), '2.0 [1.0–3.0]');
    assert.equal(spreadCell(null), '–');
  });
});

describe('bench plots', () => {
  test('an SVG has both axes titled, both legends, and a dashed paper series', async () => {
    const svg = await renderLinePlot({
      title: 'Fake figure',
      xTitle: 'users n',
      yTitle: 'seconds per round',
      yLog: true,
      series: [
        { name: 'k=3', source: 'ours', points: [{ x: 25, y: 0.1, lo: 0.09, hi: 0.12 }] },
        {
          name: 'k=3',
          source: 'paper',
          points: [
            { x: 25, y: 0.044 },
            { x: 1000, y: 0.818 },
          ],
        },
      ],
    });
    assert.match(svg, /^<svg /);
    for (const text of ['Fake figure', 'users n', 'seconds per round', 'series', 'source']) {
      assert.ok(svg.includes(text), `the SVG shows "${text}"`);
    }
    assert.ok(svg.includes(SOURCE_LABELS.paper));
    assert.match(svg, /stroke-dasharray="6,4"/);
  });
});

describe('bench result files', () => {
  test('the double bench writes JSON, a table and two SVGs from its points', async () => {
    const points = [fakeDoublePoint('centralised', 1000, 1), fakeDoublePoint('k=3', 1000, 409)];
    const results: DoubleResults = {
      ...resultHeader('double', 'npm run bench -- double', startMark(), []),
      options: { users: [1000], ks: [3], runs: 1, latencyMs: 0, seed: '1', rule: 'safe' },
      points,
    };
    const files = await doubleFiles(results);
    assert.deepEqual(Object.keys(files).sort(), [
      'double-e2e.svg',
      'double.json',
      'double.md',
      'double.svg',
    ]);
    assert.equal(JSON.parse(files['double.json']!).points[1].ratioRound, 2);
    assert.match(files['double.md']!, /\| k=3 +\| +8 \| +1000 \| 409\.0 \[407\.0–412\.0\] \|/);
    assert.match(files['double.svg']!, /^<svg /);
    assert.equal(doubleTable(points).rows.length, 2);
  });

  test('the scale bench flags envelopes that grow with n', () => {
    const same = [fakeScalePoint(100, 224), fakeScalePoint(100_000, 224)];
    assert.deepEqual(envelopeProblems(same), []);
    const grown = [fakeScalePoint(100, 224), fakeScalePoint(100_000, 230)];
    assert.match(envelopeProblems(grown)[0]!, /envelopes per round changed with n/);
    assert.equal(scaleTable(same).rows[1]![0], '100000');
  });

  test('the standard bench writes a log-scale plot with the paper beside ours', async () => {
    const point = {
      label: 'standard p=4 k=1 m=8 n=125 latency=0ms',
      series: 'p=4' as const,
      p: 4,
      k: 1,
      m: 8,
      n: 125,
      wallMs: S(5000, 4000, 6000),
      cpuMaxMs: S(3000),
      paperMs: 137_000,
      ratio: 27.4,
    };
    const results: StandardResults = {
      ...resultHeader('standard', 'npm run bench -- standard', startMark(), []),
      options: { users: [125], runs: 1, latencyMs: 0, seed: '1' },
      points: [point],
    };
    const files = await standardFiles(results);
    assert.match(files['standard.md']!, /\| p=4 +\| +1 \| 125 \| 5000\.0 \[4000\.0–6000\.0\] \|/);
    assert.match(files['standard.svg']!, /stroke-dasharray="6,4"/);
    assert.equal(standardTable([point]).rows[0]![6], '27.40');
    assert.equal(standardTable([point]).rows[0]![7], '–');
    const central = {
      ...point,
      series: 'p=1' as const,
      p: 1,
      k: null,
      solves: { total: 52, search: 3 },
    };
    assert.equal(standardTable([central]).rows[0]![7], '3 of 52');
  });

  test('toJson() writes bigints as strings and records the machine', () => {
    assert.equal(toJson({ a: 10n }), '{\n  "a": "10"\n}\n');
    assert.ok(machineInfo().nproc >= 1);
  });
});
