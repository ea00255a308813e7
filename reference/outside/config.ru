# Minimal Rack app for Puma and Unicorn: /sleep sleeps D = 1 s, anything else answers at once.
run lambda { |env|
  sleep 1 if env['PATH_INFO'] == '/sleep'
  [200, { 'content-type' => 'text/plain' }, ["pid=#{Process.pid} thread=#{Thread.current.object_id}\n"]]
}
