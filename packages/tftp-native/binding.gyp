{
  "targets": [
    {
      "target_name": "tftp_native",
      "sources": ["src/lockstep.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
    },
    {
      "target_name": "tftp_receive",
      "sources": ["src/receive.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
    },
    {
      "target_name": "bootpt_datagram",
      "sources": ["src/datagram.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
    }
  ]
}
