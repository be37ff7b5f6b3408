/** What a netns benchmark needs around its run: numeric `--name value` options, and one cleanup scope (also on Ctrl-C). */

/** `--name N` from the command line, or `dflt`. */
export function numberOption(name: string, dflt: number, argv = process.argv.slice(2)): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
}

/** A Scope for the test helpers (netns, daemons); cleanup() runs what they registered, last first. */
export function benchScope(): { scope: { after(fn: () => void | Promise<void>): void }; cleanup(): Promise<void> } {
  const cleanups: (() => void | Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await fn();
    cleanups.length = 0;
  };
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
  return { scope: { after: (fn) => void cleanups.push(fn) }, cleanup };
}

/** Runs a benchmark's main: exit 0 when it ends, else clean up, say why and exit 1. */
export function runBench(name: string, main: () => Promise<void>, cleanup: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    async (err) => {
      await cleanup();
      console.error(`bench ${name} failed: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
