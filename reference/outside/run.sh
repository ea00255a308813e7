#!/usr/bin/env bash
# find-pool against servers this project did not write, each as Debian packages and configures it (bookworm):
#   gunicorn (one sync worker), waitress (4 threads), php-fpm's www pool behind nginx (pm.max_children = 5,
#   pm = dynamic), Apache mpm_event with mod_wsgi in daemon mode (15 threads) and embedded (MaxRequestWorkers 150).
# Each endpoint sleeps 1 s. Results go to results/outside/<server>/find-pool.json.
#
#   apt-get install python3-flask python3-gunicorn python3-waitress php8.2-fpm nginx apache2 libapache2-mod-wsgi-py3
#   bash reference/outside/run.sh            # as root (nginx, php-fpm and Apache switch to www-data), ~80 s
#
# Every server is started in the foreground of a background job and stopped by that job's PID, also on Ctrl-C.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/results/outside
run=$(mktemp -d)
chmod 755 "$run" # the servers' www-data user reads the apps from here
cp "$here"/app.py "$here"/app.wsgi "$here"/sleep.php "$here"/fast.php "$run"/
for conf in nginx.conf httpd.conf; do sed "s#@DIR@#$run#g" "$here/$conf.in" > "$run/$conf"; done

pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap 'stop; rm -rf "$run"' EXIT
trap 'exit 130' INT TERM

ready() { for _ in $(seq 1 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done; echo "no answer at $1" >&2; exit 1; }
find_pool() { (cd "$root" && npx tsx scripts/find-pool.ts --url "$1" --out "$out/$2" --quiet) && echo "$2: $(node -e "console.log(require('$out/$2/find-pool.json').findings[0].sentence)")"; }

rm -rf "$out"
mkdir -p "$out"

cd "$run"
gunicorn -b 127.0.0.1:8101 app:app 2>"$run/gunicorn.log" & pids+=($!)
ready http://127.0.0.1:8101/fast && find_pool http://127.0.0.1:8101/sleep gunicorn
stop

waitress-serve --listen=127.0.0.1:8102 app:app 2>"$run/waitress.log" & pids+=($!)
ready http://127.0.0.1:8102/fast && find_pool http://127.0.0.1:8102/sleep waitress
stop

mkdir -p /run/php
php-fpm8.2 -F -y /etc/php/8.2/fpm/php-fpm.conf 2>"$run/php-fpm.log" & pids+=($!)
nginx -g 'daemon off;' -c "$run/nginx.conf" 2>"$run/nginx.log" & pids+=($!)
ready http://127.0.0.1:8105/fast.php && find_pool http://127.0.0.1:8105/sleep.php php-fpm
stop

apache2 -f "$run/httpd.conf" -DFOREGROUND 2>"$run/apache2.log" & pids+=($!)
ready http://127.0.0.1:8106/dmn/fast && find_pool http://127.0.0.1:8106/dmn/sleep mod_wsgi-daemon
sleep 5 # what find-pool's last burst gave up on is done before the next
find_pool http://127.0.0.1:8106/emb/sleep apache-embedded
stop
