/**
 * Kernel packet counters, read in the caller's own network namespace (a process started
 * with `ip netns exec` sees that namespace's /sys/class/net and /proc/net). Control path.
 */
import { readFileSync } from 'node:fs';

export interface LinkStats {
  rxPackets: number;
  rxDropped: number;
  txPackets: number;
  txDropped: number;
}

function stat(dev: string, name: string): number {
  return Number(readFileSync(`/sys/class/net/${dev}/statistics/${name}`, 'utf8'));
}

/**
 * For a TUN: tx is what the kernel queued for the reader (tx_dropped: the reader's queue
 * was full), rx is what the writer injected (rx_dropped: refused).
 */
export function linkStats(dev: string): LinkStats {
  return {
    rxPackets: stat(dev, 'rx_packets'),
    rxDropped: stat(dev, 'rx_dropped'),
    txPackets: stat(dev, 'tx_packets'),
    txDropped: stat(dev, 'tx_dropped'),
  };
}

/** The namespace's UDP MIB (/proc/net/snmp "Udp:" lines) as name -> value. */
export function udpSnmp(): Record<string, number> {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0].split(/\s+/).slice(1);
  const values = lines[1].split(/\s+/).slice(1).map(Number);
  const out: Record<string, number> = {};
  names.forEach((n, i) => (out[n] = values[i]));
  return out;
}
