/**
 * Sink for the io benchmark, run inside ns B: binds the destination port on TUN-B's
 * address and never reads (so delivery costs the kernel one enqueue or one drop, and no
 * ICMP port-unreachable is generated). Answers "mark" with TUN-B's counters (writes into
 * a TUN count as its rx) and the namespace's UDP MIB.
 *   node --import tsx bench/lib/udp-sink.ts --address B --port P --tun TUNB
 */
import { BufferPool } from '../../src/buffer/pool.js';
import { UdpSocket } from '../../src/io/udp.js';
import { parseArgs, serveControl } from './control.js';
import { linkStats, udpSnmp } from './link-stats.js';

const args = parseArgs(process.argv.slice(2), ['address', 'port', 'tun']);
const pool = new BufferPool({ slotCount: 1, debug: false });
const sock = UdpSocket.open({ pool, family: 4, address: args.address, port: Number(args.port), rcvbuf: 4096, reserve: 1, gso: false, gro: false });

serveControl(
  { role: 'sink', port: sock.localPort },
  {
    mark: () => {
      const tun = linkStats(args.tun);
      const udp = udpSnmp();
      return { tunRx: tun.rxPackets, tunRxDropped: tun.rxDropped, udpIn: udp.InDatagrams, udpRcvbufErrors: udp.RcvbufErrors, udpNoPorts: udp.NoPorts, udpInErrors: udp.InErrors };
    },
    close: () => sock.close(),
  },
);
