/**
 * Usage lines (wg's, with ferry's name) and the help text of each verb.
 */

export type WgVerb = 'show' | 'showconf' | 'set' | 'setconf' | 'addconf' | 'syncconf' | 'genkey' | 'genpsk' | 'pubkey';

/** wg.c's subcommand table: name and one-line description, in wg's order. */
export const WG_VERBS: readonly { verb: WgVerb; description: string }[] = [
  { verb: 'show', description: 'Shows the current configuration and device information' },
  { verb: 'showconf', description: "Shows the current configuration of a given WireGuard interface, for use with `setconf'" },
  { verb: 'set', description: 'Change the current configuration, add peers, remove peers, or change peers' },
  { verb: 'setconf', description: 'Applies a configuration file to a WireGuard interface' },
  { verb: 'addconf', description: 'Appends a configuration file to a WireGuard interface' },
  { verb: 'syncconf', description: 'Synchronizes a configuration file to a WireGuard interface' },
  { verb: 'genkey', description: 'Generates a new private key and writes it to stdout' },
  { verb: 'genpsk', description: 'Generates a new preshared key and writes it to stdout' },
  { verb: 'pubkey', description: 'Reads a private key from stdin and writes a public key to stdout' },
];

const ARGS: Record<WgVerb, string> = {
  show: '{ <interface> | all | interfaces } [public-key | private-key | listen-port | fwmark | peers | preshared-keys | endpoints | allowed-ips | latest-handshakes | transfer | persistent-keepalive | dump]',
  showconf: '<interface>',
  set: '<interface> [listen-port <port>] [fwmark <mark>] [private-key <file path>] [peer <base64 public key> [remove] [preshared-key <file path>] [endpoint <ip>:<port>] [persistent-keepalive <interval seconds>] [allowed-ips <ip1>/<cidr1>[,<ip2>/<cidr2>]...] ]...',
  setconf: '<interface> <configuration filename>',
  addconf: '<interface> <configuration filename>',
  syncconf: '<interface> <configuration filename>',
  genkey: '',
  genpsk: '',
  pubkey: '',
};

/** "Usage: ferry show { … }", as wg prints it (without the newline). */
export function usageLine(prog: string, verb: WgVerb): string {
  const args = ARGS[verb];
  return `Usage: ${prog} ${verb}${args ? ` ${args}` : ''}`;
}

const DETAILS: Record<WgVerb, string> = {
  show: `With no arguments, or "all", shows every interface; "interfaces" lists their names.
A field name prints only that field (tab-separated, one line per peer); "dump" prints
everything in a tab-separated form for scripts. Colours are used only when stdout is a
terminal (WG_COLOR_MODE=always|never overrides); keys stay "(hidden)" unless
WG_HIDE_KEYS=never.`,
  showconf: `Prints the interface's current configuration in the format setconf reads.`,
  set: `Changes the interface. Keys are read from files ("/dev/stdin" works; an empty file
removes the key). "allowed-ips" replaces the peer's list ("" clears it); endpoints may be
host names, resolved now (WG_ENDPOINT_RESOLUTION_RETRIES, default 15).`,
  setconf: `Replaces the whole configuration of the interface with the file (wg(8) format).`,
  addconf: `Adds the file's peers and settings to the interface, keeping what is there.`,
  syncconf: `Like setconf, but peers that stay keep their sessions: only peers missing from the
file are removed, the others are updated in place.`,
  genkey: `Prints a new random private key (base64).`,
  genpsk: `Prints a new random preshared key (base64).`,
  pubkey: `Reads a private key on stdin and prints its public key.`,
};

/** `ferry VERB --help`: the usage line, the description and the details. */
export function verbHelp(prog: string, verb: WgVerb): string {
  const description = WG_VERBS.find((v) => v.verb === verb)?.description ?? '';
  return `${usageLine(prog, verb)}\n\n${description}.\n\n${DETAILS[verb]}\n`;
}
