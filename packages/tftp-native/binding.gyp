{
  "targets": [
    {
      "target_name": "tftp_native",
      "sources": ["src/lockstep.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
    }
  ]
}
