import { describe, expect, it } from 'vitest';
import {
  type ValueType,
  addressRange,
  byteSize,
  ipAddress,
  languageModel,
  oneOf,
  decimalNumber,
  switchedOn,
  webOrigin,
  wholeNumber,
} from './value-types.js';

/** The value, or the problem told about it. */
function parsed<T>(type: ValueType<T>, text: string): T | string {
  const problems: string[] = [];
  const value = type.parse(text, 'setting', problems);
  return problems.length > 0 ? problems.join('; ') : (value as T);
}

describe('value types shared by the server and the CLI', () => {
  it('take whole numbers within their range', () => {
    expect(parsed(wholeNumber(0, 65535), '2700')).toBe(2700);
    for (const bad of ['65536', '-1', '1.5', 'ten'])
      expect(parsed(wholeNumber(0, 65535), bad)).toBe(`setting "${bad}": expected a whole number from 0 to 65535`);
    const cpus = decimalNumber(0.01, 1024);
    expect(parsed(cpus, '1.5')).toBe(1.5);
    // Docker takes 0.01 CPU at least; Infinity, 1e308 and hex reached a spec as no limit or a wrong one.
    for (const bad of ['0', '0.001', '1025', 'Infinity', '1e308', '1e-7', '0x10', '-1', ' 2'])
      expect(parsed(cpus, bad)).toBe(`setting "${bad}": expected a number from 0.01 to 1024, such as 2 or 1.5`);
  });

  it('take sizes in bytes with k, m or g, and no less than their least', () => {
    const size = byteSize(64 * 1024 ** 2);
    expect(parsed(size, '512m')).toBe(512 * 1024 ** 2);
    expect(parsed(size, '1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parsed(size, '65536kb')).toBe(64 * 1024 ** 2);
    // Before, 1k and 0 were sizes: a deploy reached the engine before it was refused, render k8s wrote them out.
    for (const bad of ['lots', '1k', '0', '63.9m', '0.001k'])
      expect(parsed(size, bad)).toBe(`setting "${bad}": expected a size of at least 64m, such as 2g or 512m`);
    expect(parsed(byteSize(1536 * 1024), '1k')).toBe('setting "1k": expected a size of at least 1536k, such as 2g or 512m');
  });

  it('take addresses and CIDR ranges of both families', () => {
    for (const good of ['10.0.0.0/8', '::1', '2001:db8::/32', '192.168.1.7']) expect(parsed(addressRange, good)).toBe(good);
    for (const bad of ['10.0.0.0/33', '::/129', 'host.example', '10.0.0.0/8/1'])
      expect(parsed(addressRange, bad)).toBe(`setting "${bad}": expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8`);
    expect(parsed(ipAddress, '10.0.0.0/8')).toBe('setting "10.0.0.0/8": expected an IP address such as 0.0.0.0 or 127.0.0.1');
  });

  it('take one of their choices, and name them all otherwise', () => {
    expect(parsed(oneOf(['host', 'ingress']), 'host')).toBe('host');
    expect(parsed(oneOf(['a', 'b', 'c']), 'd')).toBe('setting "d": expected a, b or c');
    expect(['true', '1', 'TRUE', 'yes', 'On', 'false', '0', 'False', 'no', 'OFF'].map((t) => parsed(switchedOn, t))).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
    // Before, any text but true and 1 was silently off: --trust-proxy enabled turned it off.
    expect(parsed(switchedOn, 'enabled')).toBe('setting "enabled": expected true or false (or 1/0, yes/no, on/off)');
  });

  it('take a browser origin as browsers send it, or null', () => {
    expect(parsed(webOrigin, 'null')).toBe('null');
    expect(parsed(webOrigin, 'https://app.example')).toBe('https://app.example');
    expect(parsed(webOrigin, 'HTTPS://App.Example:443/')).toBe('https://app.example');
    expect(parsed(webOrigin, 'http://localhost:8080')).toBe('http://localhost:8080');
    expect(parsed(webOrigin, 'chrome-extension://abcdef')).toBe('chrome-extension://abcdef');
    expect(parsed(webOrigin, 'Chrome-Extension://AbC')).toBe('chrome-extension://AbC');
    // Never equal to an Origin header: a 403 for every page, where the operator meant to allow one.
    for (const bad of [
      'app.example',
      'https://app.example/page',
      'https://app.example?x=1',
      '*',
      'https://*.example',
      'https://b.example:99999',
      'file://',
      '',
    ])
      expect(parsed(webOrigin, bad)).toBe(
        `setting "${bad}": expected an origin (scheme and host, no path or wildcard) such as https://app.example, or null`,
      );
  });

  it('take LANG=MODEL with the language normalized (zh is cn)', () => {
    const type = languageModel('expected LANG=DIR');
    expect(parsed(type, 'ZH=/m/cn')).toEqual({ language: 'cn', model: '/m/cn' });
    expect(parsed(type, 'en-us=/m/en')).toEqual({ language: 'en-us', model: '/m/en' });
    expect(parsed(type, '/m/en')).toBe('setting "/m/en": expected LANG=DIR');
    expect(
      parsed(
        languageModel('letters only', (code) => /^[a-z]{2,3}$/u.test(code)),
        'en-us=/m',
      ),
    ).toBe('setting "en-us=/m": letters only');
  });
});
