/**
 * Polls a URL every 100 ms until its stdin closes, then prints the response times (ms) as JSON.
 * A process of its own, so the load clients' event loop does not inflate the figures. Says "ready"
 * on stderr after its first request, so its start-up stays outside the measured window.
 */
const url = process.argv[2]!;
const times: number[] = [];
let running = true;
process.stdin.on('end', () => (running = false)).resume();
while (running) {
  const started = performance.now();
  await fetch(url).then((r) => r.text());
  if (times.length === 0) process.stderr.write('ready\n');
  times.push(performance.now() - started);
  await new Promise((r) => setTimeout(r, 100));
}
process.stdout.write(JSON.stringify(times.slice(1)));
