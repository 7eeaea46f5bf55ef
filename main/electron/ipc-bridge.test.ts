import { describe, expect, it } from 'vitest';
import { isTrustedSender, parseIpcMessage } from './ipc-bridge';

describe('the IPC bridge', () => {
  it('accepts messages only from the top frame of our own page', () => {
    expect(isTrustedSender({ url: 'app://whereabouts/index.html', parent: null })).toBe(true);
    expect(isTrustedSender({ url: 'app://whereabouts/index.html', parent: {} })).toBe(false);
    expect(isTrustedSender({ url: 'https://evil.example/', parent: null })).toBe(false);
    expect(isTrustedSender({ url: 'app://other/index.html', parent: null })).toBe(false);
    expect(isTrustedSender({ url: 'file:///index.html', parent: null })).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
  });

  it('takes only JSON text that is a protocol message', () => {
    expect(parseIpcMessage('{"kind":"call","id":1,"method":"getAppInfo","params":null}')).toEqual({
      kind: 'call',
      id: 1,
      method: 'getAppInfo',
      params: null,
    });
    expect(parseIpcMessage({ kind: 'call', id: 1, method: 'getAppInfo' })).toBeNull();
    expect(parseIpcMessage('not json')).toBeNull();
    expect(parseIpcMessage('{"kind":"call","id":"1","method":"x"}')).toBeNull();
  });
});
