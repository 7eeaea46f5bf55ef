import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_EXPANDED_UIDS, MAX_UID, chunk, formatUidSet, parseUidSet } from './uid-set';

describe('UID sets', () => {
  it('writes runs compactly', () => {
    expect(formatUidSet([8, 1, 2, 3, 5, 7, 3])).toBe('1:3,5,7:8');
    expect(formatUidSet([MAX_UID])).toBe('4294967295');
    expect(() => formatUidSet([])).toThrow(RangeError);
    expect(() => formatUidSet([0])).toThrow(RangeError);
  });

  it('reads back exactly what it wrote, for any set of UIDs', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 300 }), (uids) => {
        const sorted = [...uids].sort((left, right) => left - right);
        expect(parseUidSet(formatUidSet(uids))).toEqual(sorted);
      }),
    );
  });

  it('keeps the server’s order (COPYUID pairs UIDs by position) and refuses what is not a UID set', () => {
    expect(parseUidSet('5,3:1')).toEqual([5, 3, 2, 1]);
    for (const bad of ['', '*', '1:*', '0', '1,,2', '1:2:3', 'a', '01', '4294967296', ' 1']) {
      expect(parseUidSet(bad)).toBeNull();
    }
    expect(parseUidSet(`1:${MAX_EXPANDED_UIDS + 1}`)).toBeNull();
  });

  it('splits lists into batches', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(() => chunk([1], 0)).toThrow(RangeError);
  });
});
