import { describe, expect, it } from 'vitest';
import { rpcUrl, tokenFromLocation } from './select-transport';

describe('the session key in the page address', () => {
  it('is read from the fragment, or else the query', () => {
    expect(tokenFromLocation({ hash: '#token=abc-DEF_1', search: '' })).toBe('abc-DEF_1');
    expect(tokenFromLocation({ hash: '', search: '?token=xyz' })).toBe('xyz');
    expect(tokenFromLocation({ hash: '#token=fragment', search: '?token=query' })).toBe('fragment');
  });

  it('is absent when missing or empty', () => {
    expect(tokenFromLocation({ hash: '', search: '' })).toBeNull();
    expect(tokenFromLocation({ hash: '#token=', search: '' })).toBeNull();
  });

  it('goes to the bridge on the same host, escaped', () => {
    expect(rpcUrl({ protocol: 'http:', host: '127.0.0.1:4321' }, 'a+b/c')).toBe(
      'ws://127.0.0.1:4321/rpc?token=a%2Bb%2Fc',
    );
  });
});
