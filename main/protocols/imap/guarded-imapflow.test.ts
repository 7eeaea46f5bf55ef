/**
 * imapflow's second, logging-only compile of every untagged response is skipped (guarded-imapflow.ts):
 * what goes on the wire, and the text of commands and tagged answers imapflow puts into errors,
 * stay exactly as imapflow's own compiler makes them.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { imapflowHandler } from './guarded-imapflow';

type Compile = (node: unknown, options?: { isLogging?: boolean; asArray?: boolean }) => Promise<Buffer | Buffer[]>;
const original = (createRequire(__filename)('imapflow/lib/handler/imap-compiler.js') as { default: Compile }).default;
const patched = imapflowHandler.compiler as Compile;

const fetchResponse = {
  tag: '*',
  command: '12',
  attributes: [
    { type: 'ATOM', value: 'FETCH' },
    [
      { type: 'ATOM', value: 'UID' },
      { type: 'ATOM', value: '4827' },
      { type: 'ATOM', value: 'RFC822.SIZE' },
      { type: 'ATOM', value: '2313' },
    ],
  ],
};
const taggedNo = { tag: 'A7', command: 'NO', attributes: [{ type: 'TEXT', value: 'Mailbox does not exist' }] };
const command = {
  tag: 'A8',
  command: 'UID FETCH',
  attributes: [{ type: 'SEQUENCE', value: '1:250' }, [{ type: 'ATOM', value: 'ENVELOPE' }]],
};

describe('imapflow with its logging compile of untagged responses skipped', () => {
  it('is the compiler imapflow itself calls (the shipped CommonJS build)', () => {
    const handler = createRequire(__filename)('imapflow/lib/handler/imap-handler.js') as { compiler: unknown };
    expect(handler.compiler).toBe(patched);
    expect(patched).not.toBe(original);
  });

  it('produces nothing for the logging text of an untagged response', async () => {
    expect((await original(fetchResponse, { isLogging: true })).toString()).toContain('FETCH');
    expect((await patched(fetchResponse, { isLogging: true })).toString()).toBe('');
  });

  it('compiles for the wire, and logs commands and tagged answers, byte for byte as imapflow does', async () => {
    for (const node of [fetchResponse, taggedNo, command]) {
      expect(await patched(node)).toEqual(await original(node));
      expect(await patched(node, { asArray: true })).toEqual(await original(node, { asArray: true }));
    }
    for (const node of [taggedNo, command]) {
      expect(await patched(node, { isLogging: true })).toEqual(await original(node, { isLogging: true }));
    }
  });

  it('names FETCH items as imapflow does, also when a key comes again', async () => {
    const keys = [
      { type: 'ATOM', value: 'UID' },
      { type: 'ATOM', value: 'FLAGS' },
      {
        type: 'ATOM',
        value: 'BODY',
        section: [
          { type: 'ATOM', value: 'HEADER.FIELDS' },
          [
            { type: 'ATOM', value: 'MESSAGE-ID' },
            { type: 'ATOM', value: 'REFERENCES' },
          ],
        ],
      },
      { type: 'ATOM', value: 'BODY', section: [{ type: 'ATOM', value: 'HEADER' }] },
    ];
    for (let round = 0; round < 3; round += 1) {
      for (const key of keys) {
        const node = { attributes: [key] };
        expect((await patched(node)).toString()).toBe((await original(node)).toString());
      }
    }
    expect((await patched({ attributes: [keys[2]] })).toString()).toBe('BODY[HEADER.FIELDS (MESSAGE-ID REFERENCES)]');
  });
});
