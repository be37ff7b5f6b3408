/**
 * Reads back the pcapng blocks this package writes (little-endian sections only): enough
 * to check a capture in tests and to count what a stream carried. Never throws on a short
 * or damaged input: it stops at the first block that does not fit.
 */
import { BlockType, BYTE_ORDER_MAGIC, Option } from './pcapng.js';

interface PcapngInterface {
  linktype: number;
  snaplen: number;
  name: string;
  description: string;
}

interface PcapngPacket {
  interfaceId: number;
  timestampUs: number;
  origLen: number;
  data: Uint8Array;
  flags: number;
  comment: string;
}

interface PcapngSecrets {
  type: number;
  data: Uint8Array;
}

export interface PcapngContents {
  sections: number;
  userAppl: string[];
  interfaces: PcapngInterface[];
  packets: PcapngPacket[];
  secrets: PcapngSecrets[];
  /** Blocks in file order, by kind: 'shb' | 'idb' | 'epb' | 'dsb' | 'other'. */
  order: string[];
  /** Bytes left unread at the end (a partial block). */
  trailing: number;
}

const decoder = new TextDecoder();

function options(buf: Uint8Array, view: DataView, from: number, to: number): Map<number, Uint8Array[]> {
  const out = new Map<number, Uint8Array[]>();
  let p = from;
  while (p + 4 <= to) {
    const code = view.getUint16(p, true);
    const len = view.getUint16(p + 2, true);
    if (code === Option.End || p + 4 + len > to) break;
    const list = out.get(code) ?? [];
    list.push(buf.subarray(p + 4, p + 4 + len));
    out.set(code, list);
    p += 4 + ((len + 3) & ~3);
  }
  return out;
}

const text = (o: Map<number, Uint8Array[]>, code: number): string => {
  const v = o.get(code);
  return v === undefined ? '' : decoder.decode(v[0]);
};

export function readPcapng(buf: Uint8Array): PcapngContents {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const c: PcapngContents = { sections: 0, userAppl: [], interfaces: [], packets: [], secrets: [], order: [], trailing: 0 };
  let p = 0;
  while (p + 12 <= buf.length) {
    const type = view.getUint32(p, true);
    const total = view.getUint32(p + 4, true);
    if (total < 12 || total % 4 !== 0 || p + total > buf.length || view.getUint32(p + total - 4, true) !== total) break;
    const end = p + total - 4;
    if (type === BlockType.SectionHeader) {
      if (view.getUint32(p + 8, true) !== BYTE_ORDER_MAGIC) break;
      c.sections++;
      c.interfaces = [];
      c.userAppl.push(text(options(buf, view, p + 24, end), Option.ShbUserAppl));
      c.order.push('shb');
    } else if (type === BlockType.InterfaceDescription) {
      const o = options(buf, view, p + 16, end);
      c.interfaces.push({ linktype: view.getUint16(p + 8, true), snaplen: view.getUint32(p + 12, true), name: text(o, Option.IfName), description: text(o, Option.IfDescription) });
      c.order.push('idb');
    } else if (type === BlockType.EnhancedPacket) {
      const caplen = view.getUint32(p + 20, true);
      const dataEnd = p + 28 + ((caplen + 3) & ~3);
      if (dataEnd > end) break;
      const o = options(buf, view, dataEnd, end);
      const flags = o.get(Option.EpbFlags)?.[0];
      c.packets.push({
        interfaceId: view.getUint32(p + 8, true),
        timestampUs: view.getUint32(p + 12, true) * 0x1_0000_0000 + view.getUint32(p + 16, true),
        origLen: view.getUint32(p + 24, true),
        data: buf.slice(p + 28, p + 28 + caplen),
        flags: flags !== undefined && flags.length === 4 ? new DataView(flags.buffer, flags.byteOffset, 4).getUint32(0, true) : 0,
        comment: text(o, Option.Comment),
      });
      c.order.push('epb');
    } else if (type === BlockType.DecryptionSecrets) {
      const len = view.getUint32(p + 12, true);
      if (p + 16 + len > end) break;
      c.secrets.push({ type: view.getUint32(p + 8, true), data: buf.slice(p + 16, p + 16 + len) });
      c.order.push('dsb');
    } else {
      c.order.push('other');
    }
    p += total;
  }
  c.trailing = buf.length - p;
  return c;
}
