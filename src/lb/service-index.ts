/**
 * Finds the service of a packet's destination (protocol, VIP, port) in one probe
 * sequence of an open-addressed table, whatever the number of services: this is the
 * lookup a new flow pays, and it must cost the same with 1 or 10,000 services. A second
 * table answers "is this address a VIP at all" (echo requests to a VIP are answered).
 * Rebuilt whole on every change of the service set (control path).
 */
import { finishHash, mixAddress, mixWord } from './hash.js';
import type { Service } from './service.js';

const EMPTY = -1;
const SEED = 0x5e1ec7ed;

export class ServiceIndex {
  private slots = new Int32Array(8).fill(EMPTY);
  private addressSlots = new Int32Array(8).fill(EMPTY);
  private mask = 7;
  private byId: readonly (Service | undefined)[] = [];

  /** Indexes `services` (id → service; holes allowed). */
  rebuild(byId: readonly (Service | undefined)[]): void {
    let n = 0;
    for (const s of byId) if (s !== undefined && !s.deleted) n++;
    let size = 8;
    while (size < n * 2) size *= 2;
    this.slots = new Int32Array(size).fill(EMPTY);
    this.addressSlots = new Int32Array(size).fill(EMPTY);
    this.mask = size - 1;
    this.byId = byId;
    for (const s of byId) {
      if (s === undefined || s.deleted) continue;
      const alen = s.family === 4 ? 4 : 16;
      let i = keyHash(s.proto, s.family, s.vip, 0, s.port, alen) & this.mask;
      while (this.slots[i] !== EMPTY) i = (i + 1) & this.mask;
      this.slots[i] = s.id;
      if (this.hasAddress(s.family, s.vip, 0)) continue;
      let j = keyHash(0, s.family, s.vip, 0, 0, alen) & this.mask;
      while (this.addressSlots[j] !== EMPTY) j = (j + 1) & this.mask;
      this.addressSlots[j] = s.id;
    }
  }

  /** The service at (proto, address in buf at off, port), or null. */
  find(proto: number, family: number, buf: Uint8Array, off: number, port: number): Service | null {
    const alen = family === 4 ? 4 : 16;
    for (let i = keyHash(proto, family, buf, off, port, alen) & this.mask; ; i = (i + 1) & this.mask) {
      const id = this.slots[i];
      if (id === EMPTY) return null;
      const s = this.byId[id];
      if (s !== undefined && s.proto === proto && s.port === port && s.family === family && sameAddress(s.vip, buf, off, alen)) return s;
    }
  }

  /** True when some service listens on this address (any port, any protocol). */
  hasAddress(family: number, buf: Uint8Array, off: number): boolean {
    const alen = family === 4 ? 4 : 16;
    for (let i = keyHash(0, family, buf, off, 0, alen) & this.mask; ; i = (i + 1) & this.mask) {
      const id = this.addressSlots[i];
      if (id === EMPTY) return false;
      const s = this.byId[id];
      if (s !== undefined && s.family === family && sameAddress(s.vip, buf, off, alen)) return true;
    }
  }
}

function keyHash(proto: number, family: number, buf: Uint8Array, off: number, port: number, alen: number): number {
  return finishHash(mixAddress(mixWord(SEED, (proto << 24) | (family << 16) | port), buf, off, alen), alen + 4);
}

function sameAddress(vip: Uint8Array, buf: Uint8Array, off: number, alen: number): boolean {
  for (let i = 0; i < alen; i++) if (vip[i] !== buf[off + i]) return false;
  return true;
}
