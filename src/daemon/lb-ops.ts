/**
 * The load balancer's operations on the ferry control socket: `ferry service
 * list|show|add|del|set-backend|drain` and `ferry conntrack`. Changes go through the
 * config in force (lb-edits.ts) and LoadBalancer.apply, as a reload does, so a service
 * or backend that a change leaves alone keeps its flows. Filters are checked with the
 * config file's value parsers, so a bad address reads the same here as in a file.
 */
import type { ControlServer } from '../control/control-server.js';
import { parseEndpoint, parseIpAddress, parseProtocol } from '../config/lb-values.js';
import type { WgQuickConfig } from '../config/model.js';
import { BadValue } from '../config/values.js';
import { IPProto } from '../packet/constants.js';
import { addressText } from '../lb/address-text.js';
import { CONNTRACK_STATE_FILTERS, type ConntrackFilter, listConntrack } from '../lb/conntrack-list.js';
import type { ApplyResult, LoadBalancer } from '../lb/load-balancer.js';
import { serviceView } from '../lb/service-view.js';
import { editedSettings, withBackend, withDrain, withoutService, withService } from './lb-edits.js';

const CONNTRACK_DEFAULT_LIMIT = 100;
const CONNTRACK_MAX_LIMIT = 10_000;

interface LbOpsSource {
  lb: LoadBalancer;
  /** The config in force: the file, with the changes made here since. */
  config(): WgQuickConfig;
  /** Makes `next` the config in force (its LB settings applied already) and logs the change. */
  changed(next: WgQuickConfig, what: string, result: ApplyResult): void;
  /** Monotonic ms: the datapath's clock, which the table's expiry times follow. */
  now(): number;
}

function text(request: Record<string, unknown>, key: string): string {
  const v = request[key];
  if (typeof v !== 'string' || v === '') throw new BadValue(`${key} is missing: expected a string`);
  return v;
}

function optional(request: Record<string, unknown>, key: string): string | undefined {
  const v = request[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new BadValue(`${key} must be a string`);
  return v;
}

function words(request: Record<string, unknown>, key: string): string[] {
  const v = request[key] ?? [];
  if (!Array.isArray(v) || v.some((w) => typeof w !== 'string')) throw new BadValue(`${key} must be a list of strings`);
  return v as string[];
}

/** ADDRESS or ADDRESS:PORT ([V6]:PORT) as a filter's address and port. */
function addressFilter(key: string, value: string): { address: string; port?: number } {
  if (value.startsWith('[') || /^[^:]+:\d+$/.test(value)) {
    const ep = parseEndpoint(key, value);
    return { address: addressText(ep.family, ep.bytes), port: ep.port };
  }
  const a = parseIpAddress(key, value);
  return { address: addressText(a.family, a.bytes) };
}

function conntrackFilter(request: Record<string, unknown>): ConntrackFilter {
  const f: ConntrackFilter = {};
  const proto = optional(request, 'proto');
  if (proto !== undefined) f.proto = parseProtocol(proto) === IPProto.UDP ? 'udp' : 'tcp';
  const src = optional(request, 'origSrc');
  if (src !== undefined) f.origSrc = addressFilter('--orig-src', src).address;
  const dst = optional(request, 'origDst');
  if (dst !== undefined) {
    const d = addressFilter('--orig-dst', dst);
    f.origDst = d.address;
    f.origDport = d.port;
  }
  const backend = optional(request, 'backend');
  if (backend !== undefined) {
    const b = addressFilter('--backend', backend);
    f.backend = b.address;
    f.backendPort = b.port;
  }
  const state = optional(request, 'state');
  if (state !== undefined) {
    if (!CONNTRACK_STATE_FILTERS.includes(state.toUpperCase())) throw new BadValue(`--state ${JSON.stringify(state)} is invalid: expected one of ${CONNTRACK_STATE_FILTERS.join(', ')}`);
    f.state = state.toUpperCase();
  }
  f.service = optional(request, 'service');
  return f;
}

function limitOf(request: Record<string, unknown>): number {
  const v = request.limit ?? CONNTRACK_DEFAULT_LIMIT;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > CONNTRACK_MAX_LIMIT) throw new BadValue(`--limit must be an integer from 1 to ${CONNTRACK_MAX_LIMIT}`);
  return v;
}

export function registerLbOps(control: ControlServer, src: LbOpsSource): void {
  const { lb } = src;
  const health = lb.health;
  const find = (name: string) => {
    const s = lb.balancer.get(name);
    if (s === undefined) throw new BadValue(`no service ${JSON.stringify(name)}`);
    return s;
  };
  const change = (next: WgQuickConfig, what: string, service: string) => {
    const result = lb.apply(editedSettings(next));
    src.changed(next, what, result);
    const s = lb.balancer.get(service);
    return s === undefined ? { removed: service } : serviceView(s, health);
  };

  control.handle('service-list', () => lb.balancer.list().map((s) => {
    const { backends, ...rest } = serviceView(s, health);
    return { ...rest, backends: backends.length, up: backends.filter((b) => b.state === 'up').length };
  }));
  control.handle('service-show', (request) => {
    const name = optional(request, 'service');
    return (name === undefined ? lb.balancer.list() : [find(name)]).map((s) => serviceView(s, health));
  });
  control.handle('service-add', (request) => {
    const name = text(request, 'service');
    return change(withService(src.config(), name, text(request, 'address'), words(request, 'options')), 'service added', name);
  });
  control.handle('service-del', (request) => {
    const name = text(request, 'service');
    return change(withoutService(src.config(), name), 'service deleted', name);
  });
  control.handle('service-set-backend', (request) => {
    const name = text(request, 'service');
    const opts = words(request, 'options');
    const remove = opts.length === 1 && opts[0] === 'remove';
    const value = [text(request, 'backend'), ...(remove ? [] : opts)].join(' ');
    return change(withBackend(src.config(), name, value, remove), remove ? 'backend removed' : 'backend set', name);
  });
  control.handle('service-drain', (request) => {
    const name = text(request, 'service');
    const drain = request.drain !== false;
    return change(withDrain(src.config(), name, text(request, 'backend'), drain), drain ? 'backend drained' : 'backend undrained', name);
  });
  control.handle('conntrack', (request) => listConntrack(lb.conntrack, lb.balancer, conntrackFilter(request), limitOf(request), src.now()));
}
