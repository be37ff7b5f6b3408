/**
 * pcapng blocks (draft-ietf-opsawg-pcapng), written little-endian into a caller's buffer:
 * the Section Header, one Interface Description per capture point, Enhanced Packet
 * blocks with flags and a comment, and Decryption Secrets blocks. Each writer returns
 * the offset after the block, or -1 when the block does not fit (nothing is written).
 */

export const BlockType = {
  SectionHeader: 0x0a0d0d0a,
  InterfaceDescription: 0x00000001,
  EnhancedPacket: 0x00000006,
  DecryptionSecrets: 0x0000000a,
} as const;

export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** LINKTYPE_RAW: the packet begins with an IPv4 or IPv6 header. */
export const LINKTYPE_RAW = 101;
/** Decryption Secrets type of a WireGuard key log. */
export const SECRETS_WIREGUARD = 0x57474b4c;

export const Option = {
  End: 0,
  Comment: 1,
  ShbUserAppl: 4,
  IfName: 2,
  IfDescription: 3,
  IfTsresol: 9,
  EpbFlags: 2,
} as const;

/** epb_flags direction bits. */
export const EPB_INBOUND = 1;
export const EPB_OUTBOUND = 2;

const encoder = new TextEncoder();

const pad4 = (n: number): number => (n + 3) & ~3;

function u32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v & 0xff;
  buf[at + 1] = (v >>> 8) & 0xff;
  buf[at + 2] = (v >>> 16) & 0xff;
  buf[at + 3] = (v >>> 24) & 0xff;
}

function u16(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v & 0xff;
  buf[at + 1] = (v >>> 8) & 0xff;
}

/** Room an option with a value of `len` bytes takes. */
const optionSize = (len: number): number => 4 + pad4(len);

/** Writes one option (code, length, value, zero padding); returns the offset after it. */
function writeOption(buf: Uint8Array, at: number, code: number, value: Uint8Array, vOff: number, vLen: number): number {
  u16(buf, at, code);
  u16(buf, at + 2, vLen);
  buf.set(value.subarray(vOff, vOff + vLen), at + 4);
  buf.fill(0, at + 4 + vLen, at + 4 + pad4(vLen));
  return at + 4 + pad4(vLen);
}

function endBlock(buf: Uint8Array, start: number, at: number): number {
  u32(buf, at, 0); // opt_endofopt
  const total = at + 4 + 4 - start;
  u32(buf, start + 4, total);
  u32(buf, at + 4, total);
  return at + 8;
}

export function writeSectionHeader(buf: Uint8Array, at: number, application: string): number {
  const appl = encoder.encode(application);
  const size = 28 + optionSize(appl.length) + 4;
  if (at + size > buf.length) return -1;
  u32(buf, at, BlockType.SectionHeader);
  u32(buf, at + 8, BYTE_ORDER_MAGIC);
  u16(buf, at + 12, 1);
  u16(buf, at + 14, 0);
  // Section length unknown: -1 (a stream).
  u32(buf, at + 16, 0xffffffff);
  u32(buf, at + 20, 0xffffffff);
  const p = writeOption(buf, at + 24, Option.ShbUserAppl, appl, 0, appl.length);
  return endBlock(buf, at, p);
}

export function writeInterfaceDescription(buf: Uint8Array, at: number, name: string, description: string, snaplen: number, linktype = LINKTYPE_RAW): number {
  const n = encoder.encode(name);
  const d = encoder.encode(description);
  const tsresol = Uint8Array.of(6); // microseconds
  const size = 20 + optionSize(n.length) + optionSize(d.length) + optionSize(1) + 4;
  if (at + size > buf.length) return -1;
  u32(buf, at, BlockType.InterfaceDescription);
  u16(buf, at + 8, linktype);
  u16(buf, at + 10, 0);
  u32(buf, at + 12, snaplen);
  let p = writeOption(buf, at + 16, Option.IfName, n, 0, n.length);
  p = writeOption(buf, p, Option.IfDescription, d, 0, d.length);
  p = writeOption(buf, p, Option.IfTsresol, tsresol, 0, 1);
  return endBlock(buf, at, p);
}

/** Bytes an Enhanced Packet block takes for `caplen` bytes of data and a comment of `commentLen` bytes. */
export function enhancedPacketSize(caplen: number, commentLen: number): number {
  return 28 + pad4(caplen) + optionSize(4) + (commentLen > 0 ? optionSize(commentLen) : 0) + 4 + 4;
}

/**
 * An Enhanced Packet block: `caplen` bytes of `data` from `dOff`, the packet's original
 * length, a timestamp in microseconds since the epoch, the direction flags, and a comment
 * (already UTF-8, `commentLen` bytes from `cOff`; 0 for none).
 */
export function writeEnhancedPacket(
  buf: Uint8Array,
  at: number,
  interfaceId: number,
  timestampUs: number,
  data: Uint8Array,
  dOff: number,
  caplen: number,
  origLen: number,
  flags: number,
  comment: Uint8Array,
  cOff: number,
  commentLen: number,
): number {
  if (at + enhancedPacketSize(caplen, commentLen) > buf.length) return -1;
  u32(buf, at, BlockType.EnhancedPacket);
  u32(buf, at + 8, interfaceId);
  const hi = Math.floor(timestampUs / 0x1_0000_0000);
  u32(buf, at + 12, hi);
  u32(buf, at + 16, timestampUs - hi * 0x1_0000_0000);
  u32(buf, at + 20, caplen);
  u32(buf, at + 24, origLen);
  buf.set(data.subarray(dOff, dOff + caplen), at + 28);
  let p = at + 28 + caplen;
  buf.fill(0, p, at + 28 + pad4(caplen));
  p = at + 28 + pad4(caplen);
  u16(buf, p, Option.EpbFlags);
  u16(buf, p + 2, 4);
  u32(buf, p + 4, flags);
  p += 8;
  if (commentLen > 0) p = writeOption(buf, p, Option.Comment, comment, cOff, commentLen);
  return endBlock(buf, at, p);
}

/** Bytes a Decryption Secrets block (without options) takes for `len` bytes of secrets. */
export function decryptionSecretsSize(len: number): number {
  return 20 + pad4(len);
}

/** A Decryption Secrets block of `type` holding `len` bytes of `secrets` from `sOff`. */
export function writeDecryptionSecrets(buf: Uint8Array, at: number, type: number, secrets: Uint8Array, sOff: number, len: number): number {
  const size = decryptionSecretsSize(len);
  if (at + size > buf.length) return -1;
  u32(buf, at, BlockType.DecryptionSecrets);
  u32(buf, at + 4, size);
  u32(buf, at + 8, type);
  u32(buf, at + 12, len);
  buf.set(secrets.subarray(sOff, sOff + len), at + 16);
  buf.fill(0, at + 16 + len, at + 16 + pad4(len));
  u32(buf, at + 16 + pad4(len), size);
  return at + size;
}
