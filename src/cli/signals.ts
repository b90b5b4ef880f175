import { type RunOutcome, run } from '../run/run.js';
import type { Config } from './config.js';

/** After the cancel, the process leaves by then whatever it is still waiting on. */
export const LEAVE_AFTER_CANCEL_MS = 20_000;
/** An interrupted run that has returned lets the process exit at once; longer means something holds it. */
const EXIT_AFTER_RUN_MS = 2_000;

/**
 * Ctrl-C (or SIGTERM) once: dispatch stops at once (a listing in progress is abandoned) and
 * in-flight objects get --grace seconds to finish, then they are cancelled (uploads aborted). Twice:
 * cancelled at once. Either way the manifest is flushed, the summary printed and the exit code is
 * 130. Objects still aborting 15 s after the cancel are reported as abandoned; if the process still
 * cannot leave 20 s after the cancel (or its threads cannot be stopped), it ends itself by the
 * signal it received (see leave()). With --to -, the single stream is stopped at the first Ctrl-C.
 */
export async function runWithSignals(config: Config): Promise<RunOutcome> {
  const stop = new AbortController();
  const cancel = new AbortController();
  let received: NodeJS.Signals = 'SIGINT';
  let graceTimer: NodeJS.Timeout | undefined;
  cancel.signal.addEventListener(
    'abort',
    () => {
      const why = `still cancelling ${LEAVE_AFTER_CANCEL_MS / 1000} s after the cancel`;
      setTimeout(() => leave(received, why), LEAVE_AFTER_CANCEL_MS).unref();
    },
    { once: true },
  );
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stop.signal.aborted) {
      received = signal;
      process.stderr.write(
        `\nflowhose: interrupted: no new objects; ${config.graceSeconds} s for those in flight (Ctrl-C again to abort them now)\n`,
      );
      stop.abort();
      graceTimer = setTimeout(() => cancel.abort(), config.graceSeconds * 1000);
      graceTimer.unref();
    } else if (!cancel.signal.aborted) {
      process.stderr.write('flowhose: aborting the objects in flight\n');
      cancel.abort();
    }
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  let outcome: RunOutcome;
  try {
    outcome = await run(config, {
      stderr: process.stderr,
      stdout: process.stdout,
      stop: stop.signal,
      cancel: cancel.signal,
    });
  } finally {
    clearTimeout(graceTimer);
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
  if (outcome.stuck) leave(received, outcome.stuck);
  else if (outcome.interrupted) {
    // Unref'd: it fires only if something keeps the event loop alive, such as a file read that
    // cannot finish (a FIFO nobody writes to, converted with --to -).
    const why = `the process had not exited ${EXIT_AFTER_RUN_MS / 1000} s after the run ended`;
    setTimeout(() => leave(received, why), EXIT_AFTER_RUN_MS).unref();
  }
  return outcome;
}

/**
 * Ends the process now, by the signal it received with that signal's default action: a shell
 * reports it as 128 + the signal number, 130 for SIGINT, as for the normal exit code. exit() is no
 * way out: Node joins its threads on exit (worker threads, libuv's pool), and a thread blocked in a
 * system call that never returns, such as opening a FIFO nobody writes to, would hang it for good.
 */
function leave(signal: NodeJS.Signals, why: string): void {
  process.stderr.write(`flowhose: ${why}; leaving now\n`);
  process.removeAllListeners(signal); // back to the default action
  process.kill(process.pid, signal);
}
