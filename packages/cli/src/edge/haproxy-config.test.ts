import { describe, expect, it } from 'vitest';
import { renderHaproxyConfig } from './haproxy-config.js';

const base = {
  listenPort: 8765,
  upstream: { kind: 'colors' as const, hosts: { blue: 'app-blue', green: 'app-green' }, active: 'green' as const },
  appPort: 8765,
  protocolPorts: {},
  allow: [],
  drainTimeoutSeconds: 30,
};

describe('renderHaproxyConfig', () => {
  it('checks both colours on /readyz and weights only the active one', () => {
    const cfg = renderHaproxyConfig(base);
    expect(cfg).toContain('option httpchk GET /readyz');
    expect(cfg).toMatch(/server blue app-blue:8765 weight 0 check port 8765 .* resolvers docker init-addr last,libc,none/u);
    expect(cfg).toMatch(/server green app-green:8765 weight 100 check/u);
    expect(cfg).toContain('bind :8765\n');
    expect(cfg).toContain('timeout tunnel 4h');
    // Issue 15: trickled requests and silent sockets are cut in seconds, and one address holds at most 64 connections.
    expect(cfg).toContain('timeout http-request 10s');
    expect(cfg).toContain('timeout http-keep-alive 5s');
    expect(cfg).toContain('maxconn 4096');
    expect(cfg).toContain('tcp-request connection reject if { sc_conn_cur(0) gt 64 }');
    expect(cfg).toContain('hard-stop-after 35s');
    expect(cfg).not.toContain('tcp-request connection reject unless');
    expect(cfg).not.toContain('frontend vosk');
  });

  it('gives each protocol port its frontend and backend, checked on the main port', () => {
    const cfg = renderHaproxyConfig({ ...base, protocolPorts: { vosk: 2700, funasr: 10095 } });
    expect(cfg).toMatch(/frontend vosk\n {4}bind :2700\n[\s\S]*? {4}default_backend app_vosk/u);
    expect(cfg).toMatch(/frontend funasr\n {4}bind :10095\n[\s\S]*? {4}default_backend app_funasr/u);
    expect(cfg).toMatch(/backend app_vosk\n[\s\S]*server green app-green:2700 weight 100 check port 8765/u);
    expect(cfg).toMatch(/backend app_funasr\n[\s\S]*server blue app-blue:10095 weight 0 check port 8765/u);
  });

  it('terminates TLS and applies the allowlist when given', () => {
    const cfg = renderHaproxyConfig({ ...base, tls: { pemPath: '/etc/tls.pem', sha256: 'ab12' }, allow: ['10.0.0.0/8', '2001:db8::/32'] });
    expect(cfg).toContain('bind :8765 ssl crt /etc/tls.pem alpn http/1.1');
    expect(cfg).toContain('# certificate sha256 ab12');
    expect(cfg).toContain('tcp-request connection reject unless { src 10.0.0.0/8 2001:db8::/32 }');
  });

  it('on Swarm, fills server slots from the healthy tasks Docker DNS lists, and retries a task that is stopping', () => {
    const cfg = renderHaproxyConfig({
      ...base,
      upstream: { kind: 'tasks', dnsName: 'tasks.asr_app', slots: 64 },
      protocolPorts: { vosk: 2700 },
    });
    expect(cfg).toContain(
      'server-template task 1-64 tasks.asr_app:8765 check port 8765 inter 1s fall 2 rise 1 resolvers docker init-addr none',
    );
    expect(cfg).toMatch(/backend app_vosk\n[\s\S]*server-template task 1-64 tasks.asr_app:2700 check port 8765/u);
    expect(cfg).toContain('retry-on conn-failure empty-response response-timeout 503');
    expect(cfg).toContain('option redispatch 1');
    expect(cfg).toMatch(/backend app\n[^]*?timeout connect 1s\n {4}timeout server 2s\n/u);
    expect(cfg).not.toMatch(/server (blue|green)/u);
    expect(renderHaproxyConfig(base)).not.toContain('retry-on');
  });
});
