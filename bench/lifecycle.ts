// What every long bench does around its work: progress lines with the time since start, one clean-up however the
// run ends (done, failed, or interrupted with Ctrl-C), and an exit code that says whether its checks held.

/** `[tag   12.3 s] text` on stderr, the time counted from this call. */
export function progress(tag: string): (text: string) => void {
  const started = performance.now();
  return (text) =>
    process.stderr.write(
      `[${tag} ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}\n`,
    );
}

/**
 * Runs `main` and exits with its code (1 when it throws, 130 on Ctrl-C), after `cleanUp` in every case. `cleanUp`
 * must be safe to call twice (an interrupt during the final clean-up waits for the same one).
 */
export async function runBench(
  say: (text: string) => void,
  main: () => Promise<number>,
  cleanUp: () => Promise<void>,
): Promise<never> {
  process.once('SIGINT', () => {
    say('interrupted; cleaning up');
    void cleanUp().finally(() => process.exit(130));
  });
  let exitCode = 1;
  try {
    exitCode = await main();
  } catch (e) {
    say(`ERROR: ${(e as Error).stack ?? String(e)}`);
  } finally {
    await cleanUp();
  }
  say(`done (exit code ${exitCode})`);
  process.exit(exitCode);
}
