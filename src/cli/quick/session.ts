/**
 * One run of a wg-quick verb on one interface: the config, the host, the UAPI device, and
 * wg-quick's two ways of printing (`cmd`: "[#] COMMAND" on stderr, then run it, stopping
 * at the first failure as `set -e` does; `die`: "ferry: MESSAGE" and exit 1). It also
 * remembers what `up` changed beyond the interface (HAVE_SET_DNS, HAVE_SET_FIREWALL) so
 * the rollback undoes exactly that.
 */
import type { WgQuickConfig } from '../../config/model.js';
import type { Device } from '../../uapi/model.js';
import { describeUapiError, type QuickDevice } from './device.js';
import type { ExecOptions, ExecResult, Host } from './host.js';
import { QuickExit, type QuickIo } from './io.js';

export const PROGRAM = 'ferry';

interface SessionOptions {
  io: QuickIo;
  host: Host;
  device: QuickDevice;
  ifname: string;
  /** The config file, symlinks resolved (wg-quick's `readlink -f`): save writes here. */
  path: string;
  config: WgQuickConfig;
  env?: NodeJS.ProcessEnv;
  /** add_if's replacement when the interface is made in this process (ferryd --up) instead of by a ferryd child. */
  addInterface?: (s: Session) => Promise<void>;
}

export class Session {
  readonly io: QuickIo;
  readonly host: Host;
  readonly device: QuickDevice;
  readonly ifname: string;
  readonly path: string;
  readonly config: WgQuickConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly addInterface: ((s: Session) => Promise<void>) | undefined;
  haveSetDns = false;
  haveSetFirewall = false;

  constructor(o: SessionOptions) {
    this.io = o.io;
    this.host = o.host;
    this.device = o.device;
    this.ifname = o.ifname;
    this.path = o.path;
    this.config = o.config;
    this.env = o.env ?? process.env;
    this.addInterface = o.addInterface;
  }

  /** "[#] TEXT" on stderr, as wg-quick's cmd() prints before running. */
  trace(text: string): void {
    this.io.stderr.write(`[#] ${text}\n`);
  }

  /** Prints and runs a command; a failure ends the verb with the command's status. */
  async cmd(argv: readonly string[], options: ExecOptions & { display?: string } = {}): Promise<void> {
    this.trace(options.display ?? argv.join(' '));
    const r = await this.host.exec(argv, options);
    if (r.status !== 0) throw new QuickExit(r.status, `${argv[0]} failed with status ${r.status}`);
  }

  /** Runs a command whose output is read (wg-quick's `$(…)`): nothing printed, failures returned. */
  query(argv: readonly string[]): Promise<ExecResult> {
    return this.host.exec(argv, { capture: true });
  }

  /** Prints a wg line (when given) for an operation ferry does through UAPI itself, then does it. */
  async wg(display: string | null, action: () => Promise<void>, failure = 'Unable to modify interface'): Promise<void> {
    if (display !== null) this.trace(display);
    try {
      await action();
    } catch (err) {
      if (err instanceof QuickExit) throw err;
      this.io.stderr.write(`${failure}: ${describeUapiError(err)}\n`);
      throw new QuickExit(1, failure);
    }
  }

  /** The running device (wg show), or the end of the verb as wg would end it. */
  async state(): Promise<Device> {
    let state: Device | undefined;
    await this.wg(null, async () => {
      state = await this.device.get(this.ifname);
    }, 'Unable to access interface');
    return state as Device;
  }

  die(message: string): never {
    this.io.stderr.write(`${PROGRAM}: ${message}\n`);
    throw new QuickExit(1, message);
  }
}
