"""Hands a TUN interface one IP packet larger than its MTU, as jumbo-mtu.test.ts needs,
and reports the ICMP answer that comes back into the namespace.

    python3 oversize-inject.py IFNAME SRC DST SIZE df|nodf WAIT_SECONDS

The kernel never sends such a packet itself: it fragments or refuses (EMSGSIZE) before
the device, and so does a plain AF_PACKET socket. A packet socket with PACKET_VNET_HDR
is let through when the header announces TCP segmentation offload: the device-MTU check
is skipped for it, and a "segment" whose payload fits its gso_size is not segmented, so
the device receives the whole packet (the path a VM's oversized frame takes through
tap/macvtap). Prints one JSON line:
    {"plain": "EMSGSIZE" | "sent", "icmp": null | {"from", "type", "code", "mtu", "quotedDst"}}
"""
import json
import select
import socket
import struct
import sys
import time

SOL_PACKET = 263
PACKET_VNET_HDR = 15
VIRTIO_NET_HDR_GSO_TCPV4 = 1
VIRTIO_NET_HDR_GSO_TCPV6 = 4


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_segment(pseudo, payload_len):
    seg = struct.pack('!HHIIBBHHH', 40000, 9, 1, 0, 5 << 4, 0x18, 65535, 0, 0) + bytes(payload_len)
    c = checksum(pseudo + seg)
    return seg[:16] + struct.pack('!H', c) + seg[18:]


def build(src, dst, size, df):
    if ':' in dst:
        s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
        plen = size - 40
        seg = tcp_segment(s + d + struct.pack('!IxxxB', plen, 6), plen - 20)
        return struct.pack('!IHBB', 6 << 28, plen, 6, 64) + s + d + seg, 6
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    seg = tcp_segment(s + d + struct.pack('!xBH', 6, size - 20), size - 40)
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, size, 7, 0x4000 if df else 0, 64, 6, 0, s, d)
    ip = ip[:10] + struct.pack('!H', checksum(ip)) + ip[12:]
    return ip + seg, 4


def parse_icmp(data, version):
    """(type, code, mtu, quoted destination) of an ICMP error as a raw socket reads it."""
    if version == 4:
        ihl = (data[0] & 0x0F) * 4
        icmp = data[ihl:]
        return icmp[0], icmp[1], struct.unpack('!H', icmp[6:8])[0], socket.inet_ntoa(icmp[8 + 16:8 + 20])
    return data[0], data[1], struct.unpack('!I', data[4:8])[0], socket.inet_ntop(socket.AF_INET6, data[8 + 24:8 + 40])


def main():
    ifname, src, dst, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    df = sys.argv[5] == 'df'
    wait = float(sys.argv[6])
    packet, version = build(src, dst, size, df)
    proto = 0x0800 if version == 4 else 0x86DD
    if version == 4:
        listener = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    else:
        listener = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)

    plain = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
    try:
        plain.sendto(packet, (ifname, proto))
        plain_result = 'sent'
    except OSError as e:
        plain_result = 'EMSGSIZE' if e.errno == 90 else str(e)
    plain.close()

    vnet = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
    vnet.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    headers = (20 if version == 4 else 40) + 20
    gso = VIRTIO_NET_HDR_GSO_TCPV4 if version == 4 else VIRTIO_NET_HDR_GSO_TCPV6
    # flags, gso_type, hdr_len, gso_size (the whole payload: one segment), csum_start, csum_offset
    header = struct.pack('<BBHHHH', 0, gso, headers, size - headers, 0, 0)
    vnet.sendto(header + packet, (ifname, proto))

    answer = None
    deadline = time.time() + wait
    while answer is None and time.time() < deadline:
        ready, _, _ = select.select([listener], [], [], max(0.0, deadline - time.time()))
        if not ready:
            break
        data, addr = listener.recvfrom(65535)
        kind, code, mtu, quoted_dst = parse_icmp(data, version)
        if quoted_dst == dst and ((version == 4 and kind == 3) or (version == 6 and kind == 2)):
            answer = {'from': addr[0], 'type': kind, 'code': code, 'mtu': mtu, 'quotedDst': quoted_dst}
    print(json.dumps({'plain': plain_result, 'icmp': answer}))


main()
