/** Where UAPI sockets live: one unix socket DIR/IFNAME.sock per interface, as wg and wireguard-go agree. */
export const UAPI_DIR = '/var/run/wireguard';

export const UAPI_SOCKET_SUFFIX = '.sock';

export function uapiSocketPath(ifname: string, dir = UAPI_DIR): string {
  return `${dir}/${ifname}${UAPI_SOCKET_SUFFIX}`;
}
