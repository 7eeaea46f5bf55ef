import { describe, expect, it } from 'vitest';
import { richToText, textToRichHtml, type RichNode } from './rich-text';

const text = (value: string, ...marks: string[]): RichNode => ({
  type: 'text',
  text: value,
  ...(marks.length > 0 ? { marks: marks.map((type) => ({ type })) } : {}),
});
const paragraph = (...content: RichNode[]): RichNode => ({ type: 'paragraph', content });

describe('the plain-text alternative of rich text', () => {
  it('writes quotes, lists and links the way plain mail does', () => {
    const doc: RichNode = {
      type: 'doc',
      content: [
        paragraph(text('Hello '), text('world', 'bold'), text('!')),
        paragraph(),
        {
          type: 'bulletList',
          content: [
            { type: 'listItem', content: [paragraph(text('one'))] },
            { type: 'listItem', content: [paragraph(text('two')), paragraph(text('more'))] },
          ],
        },
        {
          type: 'orderedList',
          attrs: { start: 1 },
          content: [{ type: 'listItem', content: [paragraph(text('first'))] }],
        },
        {
          type: 'blockquote',
          content: [
            paragraph(text('quoted')),
            paragraph(),
            { type: 'blockquote', content: [paragraph(text('older'))] },
          ],
        },
        paragraph(
          { type: 'text', text: 'the site', marks: [{ type: 'link', attrs: { href: 'https://example.org/' } }] },
          { type: 'hardBreak' },
          {
            type: 'text',
            text: 'https://same.example',
            marks: [{ type: 'link', attrs: { href: 'https://same.example' } }],
          },
        ),
      ],
    };
    expect(richToText(doc)).toBe(
      [
        'Hello world!',
        '',
        '- one',
        '- two',
        '  more',
        '1. first',
        '> quoted',
        '>',
        '>> older',
        'the site <https://example.org/>',
        'https://same.example',
      ].join('\n'),
    );
  });

  it('an empty editor is empty text', () => {
    expect(richToText({ type: 'doc', content: [paragraph()] })).toBe('');
  });
});

describe('plain text opened in the rich editor', () => {
  it('keeps lines as paragraphs, escapes markup, and turns quoted lines into nested blockquotes', () => {
    expect(textToRichHtml('Hi <b>there</b> & you\n\nOn Monday, Ada wrote:\n> Plans\n>> older\n> end\nbye')).toBe(
      '<p>Hi &lt;b&gt;there&lt;/b&gt; &amp; you</p><p></p><p>On Monday, Ada wrote:</p>' +
        '<blockquote><p>Plans</p><blockquote><p>older</p></blockquote><p>end</p></blockquote><p>bye</p>',
    );
  });
});
