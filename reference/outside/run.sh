#!/usr/bin/env bash
# find-pool against servers this project did not write, each as Debian packages and configures it (bookworm), each
# with its defaults and, for the newer ones, once more with one setting changed. Every endpoint sleeps D = 1 s.
#   Python: gunicorn (one sync worker), waitress (4 threads), Apache mpm_event with mod_wsgi in daemon mode (15
#           threads) and embedded (MaxRequestWorkers 150)
#   PHP:    php-fpm's www pool behind nginx (pm.max_children = 5, pm = dynamic)
#   Java:   Tomcat 10 (the HTTP connector's maxThreads 200, acceptCount 100; and maxThreads="50"), Jetty 9 (its
#           QueuedThreadPool of 200, some of them its acceptor and selectors; and jetty.threadPool.maxThreads=40)
#   Ruby:   Puma 5 (threads 0:5, one process; and -t 8:8), Unicorn 6 (worker_processes 1; and 3)
# Results go to $OUT/<server>/find-pool.json (OUT: results/outside by default; a run writes only its servers' folders).
#
#   apt-get install python3-flask python3-gunicorn python3-waitress php8.2-fpm nginx apache2 libapache2-mod-wsgi-py3 \
#     tomcat10 jetty9 puma unicorn ruby-rack
#   bash reference/outside/run.sh                      # all of them, as root (several switch to www-data), ~8 min
#   OUT=/tmp/outside bash reference/outside/run.sh tomcat tomcat-50     # some, elsewhere
#
# Every server is started in the foreground of a background job and stopped by that job's PID, also on Ctrl-C. All of
# them stop on SIGTERM (the JVMs run their shutdown hooks; Puma and Unicorn exit at once): none needs SIGINT. Jetty's
# listen backlog is Java's default of 50 (its acceptQueueSize is 0): bursts beyond 51 lose connections to a SYN sent
# again a second later, which find-pool reads as its intake.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${OUT:-$root/results/outside}
run=$(mktemp -d)
chmod 755 "$run" # the servers' www-data user reads the apps from here
cp "$here"/app.py "$here"/app.wsgi "$here"/sleep.php "$here"/fast.php "$here"/config.ru "$here"/unicorn.rb "$run"/
for conf in nginx.conf httpd.conf; do sed "s#@DIR@#$run#g" "$here/$conf.in" > "$run/$conf"; done

pids=()
# SIGTERM to each, then up to 15 s for it to go (a JVM runs its shutdown hooks), then SIGKILL: Jetty once let a SIGTERM
# sent right after its start pass, and stopped on the next.
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
trap 'stop; rm -rf "$run"' EXIT
trap 'exit 130' INT TERM

# Waits until the URL answers 2xx (a JVM takes seconds to start, and compiles a JSP on its first request).
ready() { for _ in $(seq 1 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done; echo "no answer at $1" >&2; exit 1; }
find_pool() {
  rm -rf "${out:?}/$2"
  (cd "$root" && npx tsx scripts/find-pool.ts --url "$1" --out "$out/$2" --quiet) &&
    echo "$2: $(node -e "console.log(require('$out/$2/find-pool.json').findings[0].sentence)")"
}

# A Tomcat of its own (CATALINA_BASE in the run's folder): Debian's /etc/tomcat10 configuration, the HTTP connector
# on $2 with the attributes $3 added, the JSPs as its ROOT webapp. catalina.sh run execs the JVM: its PID is the job's.
tomcat() {
  local base=$run/$1
  mkdir -p "$base"/{conf,logs,work,temp,webapps/ROOT}
  cp -r /etc/tomcat10/. "$base/conf/"
  sed -i "s#<Connector port=\"8080\" protocol=\"HTTP/1.1\"#<Connector port=\"$2\" address=\"127.0.0.1\" protocol=\"HTTP/1.1\" $3#" "$base/conf/server.xml"
  cp "$here"/sleep.jsp "$here"/fast.jsp "$base/webapps/ROOT/"
  CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE=$base /usr/share/tomcat10/bin/catalina.sh run >"$base/logs/out.log" 2>&1 &
  pids+=($!)
  ready "http://127.0.0.1:$2/fast.jsp" && curl -sf -o /dev/null "http://127.0.0.1:$2/sleep.jsp"
  find_pool "http://127.0.0.1:$2/sleep.jsp" "$1"
  stop
}

# A Jetty of its own (jetty.base in the run's folder): the http, deploy and jsp modules, on $2, with $3 given.
jetty() {
  local base=$run/$1
  mkdir -p "$base"/{webapps/ROOT,logs}
  cp "$here"/sleep.jsp "$here"/fast.jsp "$base/webapps/ROOT/"
  (cd "$base" && exec java -jar /usr/share/jetty9/start.jar jetty.home=/usr/share/jetty9 jetty.base="$base" \
    --module=http,deploy,jsp jetty.http.host=127.0.0.1 jetty.http.port="$2" $3 >"$base/logs/out.log" 2>&1) &
  pids+=($!)
  ready "http://127.0.0.1:$2/fast.jsp" && curl -sf -o /dev/null "http://127.0.0.1:$2/sleep.jsp"
  find_pool "http://127.0.0.1:$2/sleep.jsp" "$1"
  stop
}

gunicorn_() {
  (cd "$run" && exec gunicorn -b 127.0.0.1:8101 app:app 2>"$run/gunicorn.log") & pids+=($!)
  ready http://127.0.0.1:8101/fast && find_pool http://127.0.0.1:8101/sleep gunicorn
  stop
}

waitress_() {
  (cd "$run" && exec waitress-serve --listen=127.0.0.1:8102 app:app 2>"$run/waitress.log") & pids+=($!)
  ready http://127.0.0.1:8102/fast && find_pool http://127.0.0.1:8102/sleep waitress
  stop
}

php_fpm() {
  mkdir -p /run/php
  php-fpm8.2 -F -y /etc/php/8.2/fpm/php-fpm.conf 2>"$run/php-fpm.log" & pids+=($!)
  nginx -g 'daemon off;' -c "$run/nginx.conf" 2>"$run/nginx.log" & pids+=($!)
  ready http://127.0.0.1:8105/fast.php && find_pool http://127.0.0.1:8105/sleep.php php-fpm
  stop
}

apache() {
  apache2 -f "$run/httpd.conf" -DFOREGROUND 2>"$run/apache2.log" & pids+=($!)
  ready http://127.0.0.1:8106/dmn/fast && find_pool http://127.0.0.1:8106/dmn/sleep mod_wsgi-daemon
  sleep 5 # what find-pool's last burst gave up on is done before the next
  find_pool http://127.0.0.1:8106/emb/sleep apache-embedded
  stop
}

# Puma and Unicorn run config.ru from the run's folder; exec, so the job's PID is the server's.
puma_() {
  (cd "$run" && exec puma -b "tcp://127.0.0.1:$2" $3 config.ru >"$run/$1.log" 2>&1) & pids+=($!)
  ready "http://127.0.0.1:$2/fast" && find_pool "http://127.0.0.1:$2/sleep" "$1"
  stop
}

unicorn_() {
  (cd "$run" && exec unicorn -l "127.0.0.1:$2" $3 config.ru >"$run/$1.log" 2>&1) & pids+=($!)
  ready "http://127.0.0.1:$2/fast" && find_pool "http://127.0.0.1:$2/sleep" "$1"
  stop
}

run_one() {
  case $1 in
    gunicorn) gunicorn_ ;;
    waitress) waitress_ ;;
    php-fpm) php_fpm ;;
    apache) apache ;; # mod_wsgi-daemon and apache-embedded
    tomcat) tomcat tomcat 8110 '' ;;
    tomcat-50) tomcat tomcat-50 8111 'maxThreads="50"' ;;
    jetty) jetty jetty 8112 '' ;;
    jetty-40) jetty jetty-40 8113 'jetty.threadPool.maxThreads=40' ;;
    puma) puma_ puma 8120 '' ;;
    puma-8) puma_ puma-8 8121 '-t 8:8' ;;
    unicorn) unicorn_ unicorn 8122 '' ;;
    unicorn-3) unicorn_ unicorn-3 8123 '-c unicorn.rb' ;;
    *) echo "unknown server: $1" >&2; exit 2 ;;
  esac
}

mkdir -p "$out"
servers=("$@")
[ ${#servers[@]} -gt 0 ] || servers=(gunicorn waitress php-fpm apache tomcat tomcat-50 jetty jetty-40 puma puma-8 unicorn unicorn-3)
for server in "${servers[@]}"; do run_one "$server"; done
