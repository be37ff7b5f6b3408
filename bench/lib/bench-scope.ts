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
