import { createHash } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SEED,
  ENCODED_SUBJECT_SHARE,
  generateCorpus,
  KIND_SHARE,
  KILOBYTE,
  LARGE_ATTACHMENT_BYTES,
  LARGE_ATTACHMENT_SHARE,
  MEGABYTE,
  planMessage,
  renderMessage,
  REPLY_SHARE,
  summarizePlans,
} from './corpus';

function corpusHash(seed: number, count: number): string {
  const hash = createHash('sha256');
  for (const { raw } of generateCorpus({ seed, count })) hash.update(raw);
  return hash.digest('hex');
}

describe('the benchmark corpus', () => {
  it('is deterministic: the same seed gives the same bytes, another seed other bytes', () => {
    const first = corpusHash(DEFAULT_SEED, 200);
    expect(corpusHash(DEFAULT_SEED, 200)).toBe(first);
    expect(corpusHash(DEFAULT_SEED + 1, 200)).not.toBe(first);
    // A message does not depend on the ones generated before it: the 100,000 variant extends the 10,000 one.
    const [alone] = generateCorpus({ seed: DEFAULT_SEED, count: 1, first: 150 });
    expect(alone.raw.equals(renderMessage(DEFAULT_SEED, planMessage(DEFAULT_SEED, 150)))).toBe(true);
  });

  it('has the specified mix over 10,000 messages: kinds, encoded subjects, threads, attachment sizes', () => {
    const plans = Array.from({ length: 10_000 }, (_unused, index) => planMessage(DEFAULT_SEED, index));
    const summary = summarizePlans(plans);
    for (const kind of ['plain', 'alternative', 'attachments'] as const) {
      expect(summary.kinds[kind] / plans.length).toBeCloseTo(KIND_SHARE[kind], 1);
    }
    expect(Math.abs(summary.encodedSubjects / plans.length - ENCODED_SUBJECT_SHARE)).toBeLessThan(0.03);
    expect(Math.abs(summary.replies / plans.length - REPLY_SHARE)).toBeLessThan(0.03);
    expect(summary.smallestAttachment).toBeGreaterThanOrEqual(1 * KILOBYTE);
    expect(summary.largestAttachment).toBeLessThanOrEqual(2 * MEGABYTE);
    expect(summary.largestAttachment).toBeGreaterThan(1.5 * MEGABYTE);
    const attachments = plans.flatMap((plan) => plan.attachments);
    const large = attachments.filter((attachment) => attachment.bytes >= LARGE_ATTACHMENT_BYTES).length;
    expect(Math.abs(large / attachments.length - LARGE_ATTACHMENT_SHARE)).toBeLessThan(0.02);
    // Arrival order: dates grow with the index.
    expect(plans.every((plan, index) => index === 0 || plan.date > plans[index - 1].date)).toBe(true);
  });

  it('weighs about 200 MB per 10,000 messages, CRLF only, no line over 998 octets', () => {
    let bytes = 0;
    let bareLineFeeds = 0;
    let longLines = 0;
    for (const { raw } of generateCorpus({ seed: DEFAULT_SEED, count: 10_000 })) {
      bytes += raw.length;
      let lineStart = 0;
      for (let at = raw.indexOf(0x0a); at >= 0; at = raw.indexOf(0x0a, at + 1)) {
        if (at === 0 || raw[at - 1] !== 0x0d) bareLineFeeds += 1;
        // RFC 5322 §2.1.1: at most 998 characters before the CRLF.
        if (at - 1 - lineStart > 998) longLines += 1;
        lineStart = at + 1;
      }
    }
    expect(bytes / MEGABYTE).toBeGreaterThan(180);
    expect(bytes / MEGABYTE).toBeLessThan(230);
    expect(bareLineFeeds).toBe(0);
    expect(longLines).toBe(0);
  });

  it('parses as real mail: RFC 2047 subjects decode, replies point at their parent, attachments have their size', async () => {
    const messages = [...generateCorpus({ seed: DEFAULT_SEED, count: 200 })];
    const encoded = messages.filter(({ plan }) => plan.subjectEncoding !== 'ascii');
    expect(encoded.length).toBeGreaterThan(20);
    for (const { raw } of encoded.slice(0, 30)) {
      const parsed = await simpleParser(raw);
      expect(raw.toString('latin1')).toMatch(/^Subject: (Re: )?=\?(UTF-8|ISO-8859-1)\?[BQ]\?/m);
      // Decoded, the subject is the text itself: no encoded-word syntax left, and non-ASCII letters present.
      expect(parsed.subject).not.toMatch(/=\?/);
      expect(parsed.subject).toMatch(/[^\x20-\x7e]/);
    }
    const reply = messages.find(({ plan }) => plan.parent !== null);
    expect(reply).toBeDefined();
    if (reply && reply.plan.parent !== null) {
      const parsedReply = await simpleParser(reply.raw);
      const parent = await simpleParser(messages[reply.plan.parent].raw);
      expect(parsedReply.inReplyTo).toBe(parent.messageId);
      expect(parsedReply.subject).toBe(`Re: ${(parent.subject ?? '').replace(/^Re: /, '')}`);
    }
    const withAttachments = messages.find(({ plan }) => plan.attachments.length > 0);
    expect(withAttachments).toBeDefined();
    if (withAttachments) {
      const parsed = await simpleParser(withAttachments.raw);
      expect(parsed.attachments.map((attachment) => attachment.size)).toEqual(
        withAttachments.plan.attachments.map((attachment) => attachment.bytes),
      );
      expect(parsed.html).toContain('<p>');
      expect(parsed.text?.length ?? 0).toBeGreaterThan(100);
    }
  });
});
