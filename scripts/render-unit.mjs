// The shipped units (systemd/) name the commands in /usr/local/bin; an install writes
// them with the directory npm actually put the commands in.
export const SHIPPED_BINDIR = '/usr/local/bin';

/** A unit's text with its /usr/local/bin/ferry and /usr/local/bin/ferryd paths moved to bindir. */
export function renderUnit(text, bindir) {
  return text.replace(/\/usr\/local\/bin\/(ferryd?)(?=[\s]|$)/gm, (_m, cmd) => `${bindir}/${cmd}`);
}
