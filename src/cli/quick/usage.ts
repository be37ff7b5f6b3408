/** wg-quick's usage text (with ferry's name and lookup), and the help of each verb. */

export type QuickVerb = 'up' | 'down' | 'save' | 'strip';

/** The wg-quick verbs: name, one-line description, help text (`ferry VERB --help`). */
export const QUICK_VERBS: readonly { verb: QuickVerb; description: string; help: string }[] = [
  {
    verb: 'up',
    description: 'Brings up a WireGuard interface from a wg-quick configuration file',
    help: `Starts ferryd for the interface, runs the PreUp hooks, applies the file with
setconf, adds the addresses, sets the MTU (MTU, or the smallest MTU towards the peers
minus 80) and brings the link up, sets DNS through resolvconf, adds a route for every
allowed IP (Table = off: none; a full tunnel 0.0.0.0/0 or ::/0 uses fwmark and policy
rules), then runs the PostUp hooks. Every step is printed as "[#] COMMAND"; if one
fails, what was done is undone. ferryd re-reads the file on SIGHUP.
FERRYD overrides the daemon command.`,
  },
  {
    verb: 'down',
    description: 'Takes down an interface brought up by up',
    help: `Runs the PreDown hooks, saves the running configuration to the file when
SaveConfig = true, removes the full tunnel's rules and the interface (ferryd exits
with it), DNS and firewall rules, then runs the PostDown hooks.`,
  },
  {
    verb: 'save',
    description: 'Saves the running configuration of an interface to its file',
    help: `Writes the interface's current peers and settings, its addresses, DNS, MTU,
Table, SaveConfig and hooks to the configuration file (atomically, mode 0600).
Comments are not kept; [Ferry…] sections are.`,
  },
  {
    verb: 'strip',
    description: 'Prints the configuration file without the wg-quick keys, for wg setconf',
    help: `Prints the file as wg setconf/syncconf read it: without Address, DNS, MTU,
Table, the hooks, SaveConfig and the [Ferry…] sections, with key files replaced by
their keys. The usual live reload is \`ferry syncconf wg0 <(ferry strip wg0)\`.`,
  },
];

/** wg-quick's cmd_usage, for ferry. */
export function quickUsage(prog: string): string {
  return `Usage: ${prog} [ up | down | save | strip ] [ CONFIG_FILE | INTERFACE ]

  CONFIG_FILE is a configuration file, whose filename is the interface name
  followed by \`.conf'. Otherwise, INTERFACE is an interface name, with
  configuration found at /etc/ferry/INTERFACE.conf or else
  /etc/wireguard/INTERFACE.conf. It is to be readable by wg(8)'s \`setconf'
  sub-command, with the exception of the following additions to the [Interface]
  section, which are handled by ${prog}:

  - Address: may be specified one or more times and contains one or more
    IP addresses (with an optional CIDR mask) to be set for the interface.
  - DNS: an optional DNS server to use while the device is up.
  - MTU: an optional MTU for the interface; if unspecified, auto-calculated.
  - Table: an optional routing table to which routes will be added; if
    unspecified or \`auto', the default table is used. If \`off', no routes
    are added.
  - PreUp, PostUp, PreDown, PostDown: script snippets which will be executed
    by bash(1) at the corresponding phases of the link, most commonly used
    to configure DNS. The string \`%i' is expanded to INTERFACE.
  - SaveConfig: if set to \`true', the configuration is saved from the current
    state of the interface upon shutdown.

See wg-quick(8) for more info and examples.
`;
}

/** `ferry VERB --help`. */
export function quickVerbHelp(prog: string, verb: QuickVerb): string {
  const v = QUICK_VERBS.find((x) => x.verb === verb);
  return `Usage: ${prog} ${verb} [ CONFIG_FILE | INTERFACE ]\n\n${v?.description ?? ''}.\n\n${v?.help ?? ''}\n`;
}
