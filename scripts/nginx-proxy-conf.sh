#!/usr/bin/env bash
# Writes DIR/nginx.conf: Debian's nginx as a round-robin HTTP and WebSocket load balancer on
# 127.0.0.1:LISTEN_PORT in front of central on 127.0.0.1:UPSTREAM_PORT… (one or more), every
# path (pid, logs, temp files) inside DIR, so it runs without root and beside any system nginx:
#
#   scripts/nginx-proxy-conf.sh "$dir" 8443 8081 8082 8083
#   nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"      # foreground (daemon off)
#   kill -HUP <master pid>                                        # reload after rewriting the file
#
# Used by scripts/bench-pinned.sh, scripts/bench-admissions.sh and the tests' NginxLoadBalancer,
# so they all measure and test the same proxy. docker/nginx-lb.conf is the container version.
# What it sets, and why:
# - no stickiness (round-robin): any instance serves any request;
# - WebSocket upgrades passed through (Upgrade/Connection), unbuffered, 1 h read/send timeouts
#   (the stream's own timers end dead streams);
# - X-Forwarded-For appended, for central's TRUSTED_PROXIES;
# - kept-alive upstream connections, closed after 60 s idle (central closes its own at 75 s),
#   except for /v1/stream: central accepts a WebSocket upgrade only as a connection's first
#   request, so streams go to the instances on fresh connections;
# - a refused or timed-out connection to an instance moves the request to the next one
#   (`proxy_next_upstream error timeout`, 1 s connect timeout) and rests that instance for 5 s.
#   A request that reached an instance is never resent: admissions are not idempotent.
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: $0 DIR LISTEN_PORT UPSTREAM_PORT..." >&2; exit 2; }
dir=$1 listen=$2
shift 2
mkdir -p "$dir"

# ALSO_LISTEN=ADDRESS: listen on ADDRESS:LISTEN_PORT too (a test's network namespace reaches
# the balancer over a veth pair there).
extra_listen=
[ -n "${ALSO_LISTEN:-}" ] && extra_listen=$'\n'"        listen ${ALSO_LISTEN}:$listen;"

servers=
for port in "$@"; do
    servers+="        server 127.0.0.1:$port max_fails=1 fail_timeout=5s;"$'\n'
done

cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log notice;
worker_rlimit_nofile 16384;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    map \$http_upgrade \$connection_upgrade { default upgrade; "" ""; }
    upstream central {
$servers        keepalive 64;
        keepalive_timeout 60s;
    }
    # The same instances for /v1/stream, on fresh connections only: central takes a WebSocket
    # upgrade only as the first request of a connection, so an upgrade sent down a kept-alive
    # connection (one that carried the admission, say) would be refused.
    upstream central_streams {
$servers    }
    server {
        listen 127.0.0.1:$listen;$extra_listen
        location = /v1/stream {
            proxy_pass http://central_streams;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            proxy_connect_timeout 1s;
            proxy_next_upstream error timeout;
        }
        location / {
            proxy_pass http://central;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            proxy_connect_timeout 1s;
            proxy_next_upstream error timeout;
        }
    }
}
EOF
