/** ferryd's command line: which of its three ways to run, from argv and the environment. */
import { sidecarRequested } from './service/sidecar.js';

export const USAGE = `Usage: ferryd [-f/--foreground] INTERFACE-NAME
       ferryd --up CONFIG_FILE | INTERFACE
       ferryd --sidecar
       ferryd --version

ferryd INTERFACE-NAME creates the WireGuard interface INTERFACE-NAME (a TUN device) and
its UAPI socket /var/run/wireguard/INTERFACE-NAME.sock, then runs in the background unless
-f is given or WG_PROCESS_FOREGROUND=1. Configure it with wg(8) or ferry(8).

ferryd --up does in the foreground what \`ferry up\` does (the config is looked up as
/etc/ferry/INTERFACE.conf, then /etc/wireguard/INTERFACE.conf), tells systemd when it is
ready, reloads the file on SIGHUP or \`ferry reload\`, and does what \`ferry down\` does on
SIGTERM. This is what ferry@.service runs.

ferryd --sidecar (or FERRY_SIDECAR=1 ferryd) is --up for a container: the config file
is FERRY_CONFIG, and /dev/net/tun is created when missing.

Environment: LOG_LEVEL=verbose|error|silent (or a pino level), WG_PROCESS_FOREGROUND=1,
FERRY_HTTP=ADDRESS:PORT (serve /livez, /readyz, /metrics), FERRY_CONFIG, FERRY_SIDECAR=1,
FERRY_OFFLOAD=off (no TUN offloads).
`;

type FerrydArgs =
  | { mode: 'interface'; foreground: boolean; ifname: string }
  | { mode: 'up'; config: string }
  | { mode: 'sidecar' }
  | { help: true }
  | { version: true }
  | { error: string };

function checkIfname(ifname: string): string | null {
  if (ifname.length > 15 || !/^[A-Za-z0-9_.=+-]+$/.test(ifname) || ifname === '.' || ifname === '..') {
    return `invalid interface name "${ifname}" (at most 15 characters, no / or spaces)`;
  }
  return null;
}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = {}): FerrydArgs {
  let foreground = false;
  let up: string | null = null;
  let sidecar = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-f' || a === '--foreground') foreground = true;
    else if (a === '-h' || a === '--help') return { help: true };
    else if (a === '-v' || a === '--version') return { version: true };
    else if (a === '--sidecar') sidecar = true;
    else if (a === '--up' || a.startsWith('--up=')) {
      const value = a === '--up' ? argv[++i] : a.slice(5);
      if (value === undefined || value === '') return { error: '--up needs a CONFIG_FILE or INTERFACE' };
      up = value;
    } else if (a.startsWith('-')) return { error: `unknown option ${a}` };
    else rest.push(a);
  }
  if (sidecar || (up === null && rest.length === 0 && sidecarRequested(env))) {
    if (up !== null || rest.length > 0 || foreground) return { error: '--sidecar takes no other arguments (the config is FERRY_CONFIG)' };
    return { mode: 'sidecar' };
  }
  if (up !== null) {
    if (rest.length > 0) return { error: '--up takes one CONFIG_FILE or INTERFACE' };
    return { mode: 'up', config: up };
  }
  if (rest.length !== 1) return { error: rest.length === 0 ? 'missing INTERFACE-NAME' : 'too many arguments' };
  const bad = checkIfname(rest[0]);
  return bad !== null ? { error: bad } : { mode: 'interface', foreground, ifname: rest[0] };
}
