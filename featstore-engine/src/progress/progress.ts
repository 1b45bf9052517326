import type { Logger } from "@gplay/common";

/** What a long step reports: its phase, rows handled so far, bytes of the object read so far. */
export interface ProgressState {
  phase: string;
  rows: number;
  bytes: number;
  /** Size of the object being read, when known (the bar's denominator). */
  totalBytes?: number;
  /** Items written to the feature store so far. */
  items: number;
}

/** One tracked job (one object ingested, one snapshot built). Updates are cheap: call them per batch. */
export interface ProgressTask {
  phase(name: string): void;
  /** Adds rows and bytes read. */
  advance(rows: number, bytes?: number): void;
  /** Adds feature-store items written. */
  wrote(items: number): void;
  /** Stops reporting (a last line or a finished bar). */
  end(): void;
}

/** Starts tracked jobs; `task` names the job (the object key, "snapshot"). */
export interface Progress {
  begin(task: string, totalBytes?: number): ProgressTask;
}

/** Reports nothing (tests, and whenever progress is not wanted). */
export const noProgress: Progress = {
  begin: () => ({ phase() {}, advance() {}, wrote() {}, end() {} }),
};

/** Rows per second between two observations; 0 before any time has passed. */
export function rate(rows: number, previousRows: number, elapsedMs: number): number {
  return elapsedMs <= 0 ? 0 : ((rows - previousRows) * 1000) / elapsedMs;
}

function mb(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

/** One line of the terminal bar, e.g. `treino.csv read [#####-----] 48% 12.0/25.0 MB 120,000 rows 45,000 rows/s`. */
export function renderBar(task: string, state: ProgressState, rowsPerSecond: number, width = 24): string {
  const fraction =
    state.totalBytes !== undefined && state.totalBytes > 0 ? Math.min(1, state.bytes / state.totalBytes) : 0;
  const filled = Math.round(fraction * width);
  const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
  const size =
    state.totalBytes === undefined ? mb(state.bytes) : `${mb(state.bytes)}/${mb(state.totalBytes)}`;
  const percent = `${Math.round(fraction * 100)}%`.padStart(4);
  const items = state.items > 0 ? ` ${state.items.toLocaleString("en-US")} items` : "";
  return `${task} ${state.phase.padEnd(8)} ${bar} ${percent} ${size} ${state.rows.toLocaleString("en-US")} rows ${Math.round(rowsPerSecond).toLocaleString("en-US")} rows/s${items}`;
}

export interface ProgressOptions {
  /** Where the bar is drawn when it is a terminal (stderr). */
  stream: { isTTY?: boolean; write(text: string): unknown; columns?: number };
  /** Where structured lines go when `stream` is not a terminal. */
  logger: Logger;
  /** Log line interval when not a terminal (default 10 s); the bar redraws every 200 ms. */
  intervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Timer, for tests; returns a cancel function. */
  every?: (ms: number, tick: () => void) => () => void;
}

const defaultEvery = (ms: number, tick: () => void) => {
  const timer = setInterval(tick, ms);
  timer.unref();
  return () => clearInterval(timer);
};

/**
 * Progress on a terminal (a bar redrawn in place on stderr) or, when stderr is not a terminal (ECS,
 * CI, a pipe), structured log lines every `intervalMs`: `{task, phase, rows, rowsPerSecond, bytes,
 * totalBytes, items}`. Timers are unref'd: reporting never keeps the process alive.
 */
export function createProgress(options: ProgressOptions): Progress {
  const tty = options.stream.isTTY === true;
  const now = options.now ?? Date.now;
  const every = options.every ?? defaultEvery;
  const interval = tty ? 200 : (options.intervalMs ?? 10_000);
  return {
    begin(task, totalBytes) {
      const state: ProgressState = {
        phase: "start",
        rows: 0,
        bytes: 0,
        items: 0,
        ...(totalBytes === undefined ? {} : { totalBytes }),
      };
      const started = now();
      let last = { at: started, rows: 0 };
      const log = options.logger.child({ task });
      const report = (final: boolean) => {
        const at = now();
        const rowsPerSecond = final
          ? rate(state.rows, 0, at - started)
          : rate(state.rows, last.rows, at - last.at);
        last = { at, rows: state.rows };
        if (tty) {
          const line = renderBar(task, state, rowsPerSecond).slice(
            0,
            Math.max(20, (options.stream.columns ?? 120) - 1),
          );
          options.stream.write(`\r\x1b[2K${line}${final ? "\n" : ""}`);
        } else
          log.info(
            {
              phase: state.phase,
              rows: state.rows,
              rowsPerSecond: Math.round(rowsPerSecond),
              bytes: state.bytes,
              ...(state.totalBytes === undefined ? {} : { totalBytes: state.totalBytes }),
              items: state.items,
              elapsedMs: at - started,
            },
            final ? "progress: done" : "progress",
          );
      };
      const stop = every(interval, () => report(false));
      let ended = false;
      return {
        phase(name) {
          state.phase = name;
        },
        advance(rows, bytes = 0) {
          state.rows += rows;
          state.bytes += bytes;
        },
        wrote(items) {
          state.items += items;
        },
        end() {
          if (ended) return;
          ended = true;
          stop();
          report(true);
        },
      };
    },
  };
}
