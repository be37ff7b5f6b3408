{
  "targets": [
    {
      "target_name": "ferry",
      "sources": [
        "native/src/addon.c",
        "native/src/tun.c",
        "native/src/tun_offload.c",
        "native/src/fd.c",
        "native/src/udp_socket.c",
        "native/src/udp_endpoint.c",
        "native/src/udp_recv.c",
        "native/src/udp_gro.c",
        "native/src/udp_send.c",
        "native/src/udp_gso.c",
        "native/src/bounds.c",
        "native/src/poll.c",
        "native/src/notify.c",
        "native/src/aead.c",
        "native/src/devnode.c"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"]
    }
  ]
}
