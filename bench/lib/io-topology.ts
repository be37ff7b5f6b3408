/**
 * The io benchmark's two hosts, built once and reused by every run:
 *
 *   ns A: source --> TUN-A ==[forwarder A]==> veth A ---- veth B ==[forwarder B]==> TUN-B --> sink :ns B
 *
 * TUN-A and TUN-B are persistent devices (`ip tuntap add`), so their addresses and
 * routes survive while forwarders come and go; a forwarder attaches by name. The source
 * sends from TUN-A's address to TUN-B's, which ns A routes into TUN-A; ns B owns TUN-B's
 * address, so what a forwarder writes there is delivered locally. Every address lives
 * only inside these namespaces.
 */
import { Netns, run, tryRun, uniqueName, vethPair } from '../../test/support/netns.js';

export interface IoTopology {
  nsA: Netns;
  nsB: Netns;
  tunA: string;
  tunB: string;
  /** Underlay (veth) addresses. */
  underlayA: string;
  underlayB: string;
  /** Source address (on TUN-A) and sink address (on TUN-B). */
  source: string;
  sink: string;
  destroy(): void;
}

const NET = '10.213';

export function buildIoTopology(): IoTopology {
  const made: Netns[] = [];
  const destroy = () => {
    for (const ns of made.splice(0)) ns.destroy();
  };
  try {
    const nsA = new Netns('fyioa');
    made.push(nsA);
    const nsB = new Netns('fyiob');
    made.push(nsB);
    const topo: IoTopology = {
      nsA,
      nsB,
      tunA: uniqueName('fyta'),
      tunB: uniqueName('fytb'),
      underlayA: `${NET}.0.1`,
      underlayB: `${NET}.0.2`,
      source: `${NET}.1.1`,
      sink: `${NET}.2.1`,
      destroy: () => {
        // Persistent TUNs go with their namespace; deleting them first says so explicitly.
        tryRun('ip', ['netns', 'exec', nsA.name, 'ip', 'tuntap', 'del', 'dev', topo.tunA, 'mode', 'tun']);
        tryRun('ip', ['netns', 'exec', nsB.name, 'ip', 'tuntap', 'del', 'dev', topo.tunB, 'mode', 'tun']);
        destroy();
      },
    };
    vethPair(nsA, `${topo.underlayA}/24`, nsB, `${topo.underlayB}/24`);
    for (const [ns, tun, addr, peerNet] of [
      [nsA, topo.tunA, topo.source, `${NET}.2.0/24`],
      [nsB, topo.tunB, topo.sink, `${NET}.1.0/24`],
    ] as const) {
      ns.run('ip', ['tuntap', 'add', 'dev', tun, 'mode', 'tun']);
      ns.run('ip', ['addr', 'add', `${addr}/24`, 'dev', tun]);
      ns.run('ip', ['link', 'set', tun, 'up']);
      // The far side's network lies behind this TUN (and passes reverse-path checks).
      ns.run('ip', ['route', 'add', peerNet, 'dev', tun]);
    }
    return topo;
  } catch (err) {
    destroy();
    throw err;
  }
}

/** Names of links in the root namespace (to check that nothing leaked). */
export function rootLinks(): string[] {
  return run('ip', ['-o', 'link', 'show'])
    .split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0])
    .filter((n): n is string => n !== undefined && n !== '');
}
