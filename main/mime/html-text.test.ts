/**
 * collapseWhiteSpace: what the preview and the search index get of a body's text. Every run of
 * spaces, tabs, no-break spaces and CRs becomes one space; a line break swallows the blanks and
 * blank lines around it.
 */
import { describe, expect, it } from 'vitest';
import { collapseWhiteSpace } from './html-text';

describe('collapseWhiteSpace', () => {
  it.each([
    ['Hello world', 'Hello world'],
    ['Hello \t  world', 'Hello world'],
    ['Hello\u00a0world', 'Hello world'],
    ['Hello \u00a0\u00a0 world', 'Hello world'],
    ['tab\tseparated\f\vcolumns', 'tab separated columns'],
    ['first line\r\nsecond line', 'first line\nsecond line'],
    ['paragraph one \r\n \r\n\r\n   paragraph two', 'paragraph one\nparagraph two'],
    ['  \t leading and trailing \r\n ', 'leading and trailing'],
    ['a b c', 'a b c'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(collapseWhiteSpace(input)).toBe(expected);
  });
});
