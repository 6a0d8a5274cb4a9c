#!/usr/bin/env bash
# Regenerates the golden pcap fixtures in packages/protocol/fixtures/ from real third-party peers.
#
# A developer tool: tests never run it, they only read the committed .pcap files. Needs root, Linux
# network namespaces and the Debian packages busybox, isc-dhcp-client, dhcpcd, klibc-utils, bootpc,
# tftp-hpa, atftp, atftpd, curl, dnsmasq, isc-dhcp-relay, tcpdump, qemu-system-x86 and ipxe-qemu.
#
# Usage: sudo [TFTPD_HPA=/path/to/in.tftpd] scripts/capture-fixtures.sh [OUT_DIR] [ONLY_NAME_SUBSTRING]
#
# tftpd-hpa conflicts with atftpd in apt; to include it as a third TFTP server, unpack it without
# installing: `apt-get download tftpd-hpa && dpkg -x tftpd-hpa_*.deb DIR`, then TFTPD_HPA=DIR/usr/sbin/in.tftpd.
#
# Safety: every packet stays inside namespaces this script creates (prefix bpt-cap-<pid>-<random>,
# subnets 10.213.7.0/24 and 10.213.8.0/24). DHCP clients run in a private mount and UTS namespace
# with /etc/resolv.conf, /run, /var/lib/dhcp and /var/lib/dhcpcd bound to scratch files, so nothing
# on the machine is rewritten. Everything is deleted by the EXIT trap; processes are ended by PID.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT_DIR=$(realpath -m "${1:-$ROOT/packages/protocol/fixtures}")
ONLY=${2:-}
TFTPD_HPA=${TFTPD_HPA:-}
P="bpt-cap-$$-$RANDOM"
WORK=$(mktemp -d /tmp/bpt-cap.XXXXXX)
STARTED_PIDS=()

log() { printf '[capture] %s\n' "$*" >&2; }

cleanup() {
  set +e
  for pid in "${STARTED_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  sleep 0.3
  for pid in "${STARTED_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  # Daemons that forked (dhclient, dhcpcd helpers) live only in our namespaces: end them by PID.
  for ns in $(ip netns list | awk -v p="$P-" 'index($1, p) == 1 { print $1 }'); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns"
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

in_ns() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }

# Runs a client in namespace $1 inside a private mount+UTS namespace with scratch state directories.
sandboxed() {
  local ns=$1; shift
  local box="$WORK/box-$ns"
  mkdir -p "$box/run/dhcpcd" "$box/dhcp" "$box/dhcpcd"
  : >"$box/resolv.conf"
  in_ns "$ns" unshare --mount --uts --propagation private sh -c '
    box=$1; shift
    mount --bind "$box/resolv.conf" /etc/resolv.conf &&
    mount --bind "$box/run" /run &&
    mount --bind "$box/dhcp" /var/lib/dhcp &&
    mount --bind "$box/dhcpcd" /var/lib/dhcpcd &&
    hostname fixture-host &&
    exec "$@"' sandbox "$box" "$@"
}

# add_host NS BRIDGE_NS IFNAME MAC [ADDR/24]: a veth from the bridge to a namespace (created if absent).
add_host() {
  local ns=$1 br=$2 ifname=$3 mac=$4 addr=${5:-}
  local port="p-$ns-$ifname"
  ip netns list | grep -q "^$P-$ns\b" || { ip netns add "$P-$ns"; in_ns "$ns" ip link set lo up; }
  ip -n "$P-$br" link add "${port:0:15}" type veth peer name "$ifname" netns "$P-$ns"
  ip -n "$P-$br" link set "${port:0:15}" master br0 up
  in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$P-$ns" link set "$ifname" address "$mac"
  ip -n "$P-$ns" link set "$ifname" up
  if [ -n "$addr" ]; then ip -n "$P-$ns" addr add "$addr" dev "$ifname"; fi
}

add_bridge() {
  ip netns add "$P-$1"
  ip -n "$P-$1" link add br0 type bridge forward_delay 0
  ip -n "$P-$1" link set br0 up
  in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# Starts a background process in a namespace; prints nothing, records its PID in LAST_PID.
start_bg() {
  local ns=$1 logfile=$2; shift 2
  # A simple command (not a shell function) so that $! is the PID of the program itself.
  ip netns exec "$P-$ns" "$@" >"$logfile" 2>&1 &
  LAST_PID=$!
  STARTED_PIDS+=("$LAST_PID")
}

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

wanted() { [ -z "$ONLY" ] || [[ "$1" == *"$ONLY"* ]]; }

# cap_start FILE NS IFACE [tcpdump args...]: classic pcap (tcpdump's -w format), IPv6 left out.
cap_start() {
  local file=$1 ns=$2 ifc=$3; shift 3
  CAP_FILE=$file
  start_bg "$ns" "$WORK/$file.tcpdump.log" tcpdump -i "$ifc" -Z root --immediate-mode -U -n -s 0 "$@" -w "$WORK/$file" 'not ip6'
  CAP_PID=$LAST_PID
  for _ in $(seq 50); do grep -q 'listening on' "$WORK/$file.tcpdump.log" && return 0; sleep 0.1; done
  log "tcpdump did not start for $file"; cat "$WORK/$file.tcpdump.log" >&2; return 1
}

cap_stop() {
  sleep 0.5
  kill -TERM "$CAP_PID" 2>/dev/null || true
  wait "$CAP_PID" 2>/dev/null || true
  mv "$WORK/$CAP_FILE" "$OUT_DIR/$CAP_FILE"
  log "wrote $CAP_FILE ($(stat -c %s "$OUT_DIR/$CAP_FILE") bytes)"
}

set_client_mac() {
  ip -n "$P-$1" addr flush dev eth0
  ip -n "$P-$1" link set eth0 down
  ip -n "$P-$1" link set eth0 address "$2"
  ip -n "$P-$1" link set eth0 up
}

mkdir -p "$OUT_DIR"
log "namespaces $P-*, scratch $WORK, output $OUT_DIR"

# ---- files served over TFTP: 3000 bytes (5 x 600 exactly, 5 x 512 + 440) and an iPXE script ----
mkdir -p "$WORK/tftp"
head -c 3000 /dev/zero | tr '\0' 'B' >"$WORK/tftp/small.bin"
printf '#!ipxe\nimgfetch small.bin\necho BPT-FIXTURE-DONE\n' >"$WORK/tftp/boot.ipxe"
chmod -R a+rwX "$WORK/tftp"
chmod a+x "$WORK"

cat >"$WORK/hook.sh" <<'EOF'
#!/bin/sh
# Fixture hook for udhcpc and dhclient: puts the leased address on the namespace's interface, nothing else.
addr="${ip:-${new_ip_address:-}}"
case "${1:-}${reason:-}" in
  bound* | renew* | BOUND* | RENEW* | REBIND* | REBOOT*)
    [ -n "$addr" ] && ip addr replace "$addr/24" dev "${interface:-eth0}" ;;
esac
exit 0
EOF
chmod +x "$WORK/hook.sh"

# ---- topology ----
# LAN A (10.213.7.0/24): bridge ns "br", dnsmasq on "srv" .1, atftpd on "ats" .3, relay "rly" eth1 .2,
# the client namespace "cli". LAN B (10.213.8.0/24): bridge ns "br2", relay "rly" eth0 .1, client "rcli".
add_bridge br
add_bridge br2
add_host srv br eth0 02:b7:00:07:00:01 10.213.7.1/24
add_host ats br eth0 02:b7:00:07:00:03 10.213.7.3/24
add_host cli br eth0 02:b7:00:07:00:10
add_host rly br2 eth0 02:b7:00:08:00:01 10.213.8.1/24
add_host rly br eth1 02:b7:00:07:00:02 10.213.7.2/24
add_host rcli br2 eth0 02:b7:00:08:00:20
in_ns rly sysctl -qw net.ipv4.ip_forward=1
ip -n "$P-srv" route add 10.213.8.0/24 via 10.213.7.2
ip -n "$P-cli" route add 255.255.255.255/32 dev eth0
for ns in srv ats cli; do ip -n "$P-$ns" route add 224.0.0.0/4 dev eth0; done

cat >"$WORK/dnsmasq.conf" <<EOF
port=0
user=root
interface=eth0
bind-interfaces
no-ping
log-dhcp
dhcp-authoritative
dhcp-leasefile=$WORK/dnsmasq.leases
dhcp-range=10.213.7.100,10.213.7.150,255.255.255.0,1h
dhcp-range=10.213.8.100,10.213.8.150,255.255.255.0,1h
dhcp-host=02:b7:00:07:00:11,10.213.7.50,fixture-reserved
dhcp-host=52:54:00:12:34:56,10.213.7.60,fixture-ipxe
dhcp-option=option:router,10.213.7.1
dhcp-option=tag:ipxe-skip,encap:175,176,1b
dhcp-match=set:ipxe-skip,175
bootp-dynamic
dhcp-boot=boot.ipxe,fixture-server,10.213.7.1
enable-tftp
tftp-root=$WORK/tftp
EOF
start_bg srv "$WORK/dnsmasq.log" dnsmasq --keep-in-foreground --log-facility=- --conf-file="$WORK/dnsmasq.conf"
DNSMASQ_PID=$LAST_PID

mkdir -p "$WORK/atftpd"
cp "$WORK/tftp/small.bin" "$WORK/atftpd/small.bin"
chmod -R a+rwX "$WORK/atftpd"
start_bg ats "$WORK/atftpd.log" atftpd --daemon --no-fork --user root --group root --port 69 \
  --bind-address 10.213.7.3 --mcast-addr 239.255.213.1-20 --mcast-port 1758-1768 --mcast-ttl 1 \
  --logfile - "$WORK/atftpd"
ATFTPD_PID=$LAST_PID
TFTP_SERVERS="atftpd:10.213.7.3 dnsmasq:10.213.7.1"
if [ -n "$TFTPD_HPA" ]; then
  add_host hpa br eth0 02:b7:00:07:00:04 10.213.7.4/24
  start_bg hpa "$WORK/tftpd-hpa.log" "$TFTPD_HPA" --foreground --listen --address 10.213.7.4:69 --secure \
    --user root --verbose "$WORK/tftp"
  TFTPD_HPA_PID=$LAST_PID
  TFTP_SERVERS="$TFTP_SERVERS tftpdhpa:10.213.7.4"
fi
sleep 1
kill -0 "$DNSMASQ_PID" || { cat "$WORK/dnsmasq.log" >&2; exit 1; }
kill -0 "$ATFTPD_PID" || { cat "$WORK/atftpd.log" >&2; exit 1; }

# ---- DHCP / BOOTP clients against dnsmasq (captured on LAN A's bridge) ----
if wanted dhcp-udhcpc; then
  set_client_mac cli 02:b7:00:07:00:11
  cap_start dhcp-udhcpc-dnsmasq.pcap br br0
  sandboxed cli timeout 20 busybox udhcpc -i eth0 -f -q -n -t 3 -T 1 -s "$WORK/hook.sh" -O bootfile \
    -x hostname:fixture-udhcpc -V bootpt-fixture
  cap_stop
fi

if wanted dhcp-dhclient; then
  set_client_mac cli 02:b7:00:07:00:12
  printf 'send host-name "fixture-dhclient";\nrequest subnet-mask, broadcast-address, routers, host-name, tftp-server-name, bootfile-name;\n' \
    >"$WORK/dhclient.conf"
  cap_start dhcp-dhclient-dnsmasq.pcap br br0
  sandboxed cli timeout 20 dhclient -1 -v -cf "$WORK/dhclient.conf" -sf "$WORK/hook.sh" \
    -lf "$WORK/dhclient.leases" -pf "$WORK/dhclient.pid" eth0
  sleep 0.5
  # -r releases the lease (a DHCPRELEASE on the wire) and stops the backgrounded dhclient.
  sandboxed cli timeout 20 dhclient -r -v -cf "$WORK/dhclient.conf" -sf "$WORK/hook.sh" \
    -lf "$WORK/dhclient.leases" -pf "$WORK/dhclient.pid" eth0
  cap_stop
fi

if wanted dhcp-dhcpcd; then
  set_client_mac cli 02:b7:00:07:00:13
  cap_start dhcp-dhcpcd-dnsmasq.pcap br br0
  sandboxed cli timeout 30 dhcpcd -4 -1 -B -A -t 8 -f /dev/null -c "$WORK/hook.sh" eth0
  cap_stop
fi

if wanted bootp-klibc; then
  set_client_mac cli 02:b7:00:07:00:14
  cap_start bootp-klibc-ipconfig-dnsmasq.pcap br br0
  sandboxed cli timeout 20 /usr/lib/klibc/bin/ipconfig -n -t 5 -c bootp -d eth0
  cap_stop
fi

if wanted bootp-bootpc; then
  set_client_mac cli 02:b7:00:07:00:15
  ip -n "$P-cli" route replace 255.255.255.255/32 dev eth0
  cap_start bootp-bootpc-dnsmasq.pcap br br0
  sandboxed cli timeout 20 bootpc --dev eth0 --timeoutwait 5 --serverbcast
  cap_stop
fi

# ---- relayed exchange: udhcpc on LAN B, dhcrelay in the middle, dnsmasq on LAN A ----
# Captured on every interface of the relay namespace, as Linux cooked v2 (SLL2) frames.
if wanted dhcp-relay; then
  start_bg rly "$WORK/dhcrelay.log" dhcrelay -4 -d -pf "$WORK/dhcrelay.pid" -id eth0 -iu eth1 10.213.7.1
  RELAY_PID=$LAST_PID
  sleep 1
  cap_start dhcp-udhcpc-dhcrelay-dnsmasq-sll2.pcap rly any -y LINUX_SLL2
  sandboxed rcli timeout 20 busybox udhcpc -i eth0 -f -q -n -t 3 -T 1 -s "$WORK/hook.sh" -O bootfile
  cap_stop
  stop_pid "$RELAY_PID"
fi

# ---- TFTP clients against atftpd (.3) and dnsmasq (.1) ----
set_client_mac cli 02:b7:00:07:00:20
ip -n "$P-cli" addr add 10.213.7.20/24 dev eth0
ip -n "$P-cli" route replace 224.0.0.0/4 dev eth0

tftp_case() { # name server_ip client_command...
  local name=$1 server=$2; shift 2
  wanted "$name" || return 0
  rm -f "$WORK/out.bin"
  cap_start "$name.pcap" br br0
  in_ns cli timeout 30 "$@" || log "client exited non-zero for $name"
  cap_stop
  cmp -s "$WORK/out.bin" "$WORK/tftp/small.bin" || log "WARNING: $name: transferred file differs (server $server)"
}

for srv in $TFTP_SERVERS; do
  s=${srv%%:*} ip=${srv#*:}
  tftp_case "tftp-tftphpa-$s" "$ip" tftp "$ip" 69 -m binary -c get small.bin "$WORK/out.bin"
  tftp_case "tftp-curl-blksize1428-$s" "$ip" curl -sS -o "$WORK/out.bin" --tftp-blksize 1428 "tftp://$ip:69/small.bin"
  tftp_case "tftp-busybox-blksize1024-$s" "$ip" busybox tftp -g -r small.bin -l "$WORK/out.bin" -b 1024 "$ip" 69
  tftp_case "tftp-atftp-blksize600-windowsize3-tsize-$s" "$ip" atftp -g -r small.bin -l "$WORK/out.bin" \
    --option "blksize 600" --option "windowsize 3" --option "tsize 0" "$ip" 69
done
tftp_case tftp-atftp-multicast-atftpd 10.213.7.3 atftp -g -r small.bin -l "$WORK/out.bin" \
  --option multicast --option "blksize 1024" 10.213.7.3 69

# Same transfer seen from the dnsmasq host on every interface, as Linux cooked v1 (SLL) frames.
if wanted tftp-tftphpa-dnsmasq-sll; then
  rm -f "$WORK/out.bin"
  cap_start tftp-tftphpa-dnsmasq-sll.pcap srv any -y LINUX_SLL
  in_ns cli timeout 30 tftp 10.213.7.1 69 -m binary -c get small.bin "$WORK/out.bin"
  cap_stop
fi

# ---- iPXE (QEMU e1000 option ROM) DHCP + TFTP of boot.ipxe and small.bin; nanosecond pcap ----
if wanted ipxe; then
  ip -n "$P-br" tuntap add dev tap0 mode tap
  ip -n "$P-br" link set tap0 master br0 up
  cap_start dhcp-tftp-ipxe-qemu-dnsmasq-nsec.pcap br br0 --time-stamp-precision=nano
  start_bg br "$WORK/qemu.out" timeout 120 qemu-system-x86_64 -accel tcg -m 256 -display none -nodefaults \
    -device sga -serial "file:$WORK/qemu.log" -monitor none \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
    -device e1000,netdev=n0,mac=52:54:00:12:34:56 -boot n -no-reboot
  QEMU_PID=$LAST_PID
  for _ in $(seq 240); do
    grep -q BPT-FIXTURE-DONE "$WORK/qemu.log" 2>/dev/null && break
    kill -0 "$QEMU_PID" 2>/dev/null || break
    sleep 0.5
  done
  grep -q BPT-FIXTURE-DONE "$WORK/qemu.log" 2>/dev/null || log "WARNING: iPXE did not print the marker"
  stop_pid "$QEMU_PID"
  cap_stop
fi

stop_pid "$ATFTPD_PID"
[ -z "$TFTPD_HPA" ] || stop_pid "$TFTPD_HPA_PID"
stop_pid "$DNSMASQ_PID"
{ echo "--- versions"; dnsmasq --version | head -1; atftpd --version 2>&1 | head -1; tcpdump --version 2>&1 | head -2; } >&2
log "done"
