/**
 * Progress of a benchmark on stderr, drawn only between timed regions. On a terminal it is a
 * cli-progress bar; elsewhere (CI logs, a redirected stderr) one line per finished round.
 *
 * cli-progress redraws on a timer, but only when the drawn text changed; the format below has
 * nothing that changes with the clock (no elapsed time; the ETA is recomputed only on update),
 * and every update is drawn at once, so the timer never writes during a timed round.
 */
import { Presets, SingleBar } from 'cli-progress';

/** Counts finished rounds out of a known total. */
export interface Progress {
  /** One more round finished; `label` names what runs next or what just ran. */
  tick(label: string): void;
  /** Ends the bar (or the lines); call once. */
  stop(): void;
}

/** A progress reporter on `stream` for `total` rounds. */
export function createProgress(
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (!stream.isTTY) return lineProgress(total, stream);

  const bar = new SingleBar(
    {
      stream,
      format: '{bar} {value}/{total} rounds | ETA {eta_formatted} | {label}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 20,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0, { label: 'starting provider processes' });
  bar.render();
  return {
    tick: (label) => {
      bar.increment(1, { label });
      bar.render();
    },
    stop: () => bar.stop(),
  };
}

function lineProgress(total: number, stream: NodeJS.WritableStream): Progress {
  let done = 0;
  const width = String(total).length;
  return {
    tick: (label) => {
      done++;
      stream.write(`[${String(done).padStart(width)}/${total}] ${label}\n`);
    },
    stop: () => undefined,
  };
}
