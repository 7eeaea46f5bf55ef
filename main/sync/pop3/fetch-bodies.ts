/**
 * Whole messages for header-only rows (downloaded with TOP, or skipped as too large): on open, or
 * when the user asks. A short session of its own: no new mail is fetched and nothing is deleted
 * here; the next pass applies the leave-a-copy policy to these messages like to any other.
 */
import { MailError } from '../../../shared/errors';
import type { MessageRecord } from '../../store/message-store';
import type { EngineContext } from '../engine';
import {
  droppingConnectionOnCancel,
  indexByUidl,
  listServerMessages,
  openAccountMailbox,
  requirePop3Account,
} from './pop3-session';
import { retrieveIntoStore, STREAMED_MESSAGE_MIN_BYTES } from './streamed-retrieve';

export interface FetchSettings {
  pipelining: boolean;
  now: () => Date;
  signal?: AbortSignal;
}

export async function fetchPop3Bodies(
  context: EngineContext,
  messageIds: readonly string[],
  settings: FetchSettings,
): Promise<void> {
  const { store } = context;
  const account = requirePop3Account(context.account());
  const wanted: Array<MessageRecord & { popUidl: string }> = [];
  for (const messageId of new Set(messageIds)) {
    const record = store.getMessageRecord(messageId);
    if (!record) throw new MailError('NOT_FOUND', 'This message is no longer here.');
    if (record.localPath !== null) continue;
    if (record.accountId !== account.id || record.popUidl === null) {
      throw new MailError(
        'NOT_AVAILABLE_IN_MODE',
        'This message cannot be downloaded by POP3: it did not come from it.',
      );
    }
    wanted.push(record as MessageRecord & { popUidl: string });
  }
  if (wanted.length === 0) return;
  settings.signal?.throwIfAborted();

  const mailbox = await openAccountMailbox(context);
  const vanished: MessageRecord[] = [];
  try {
    const server = indexByUidl(await listServerMessages(mailbox));
    const byNumber = new Map<number, MessageRecord>();
    const sizes = new Map<number, number>();
    for (const record of wanted) {
      const message = server.get(record.popUidl);
      if (message) {
        byNumber.set(message.number, record);
        sizes.set(message.number, message.size);
      } else vanished.push(record);
    }
    const numbers = [...byNumber.keys()].sort((left, right) => left - right);
    const attach = async (number: number, bytes: Buffer): Promise<void> => {
      const record = byNumber.get(number);
      if (record) await store.attachBody(record.id, bytes);
    };
    const sizeOf = (number: number): number => sizes.get(number) ?? 0;
    const small = numbers.filter((number) => sizeOf(number) <= STREAMED_MESSAGE_MIN_BYTES);
    await droppingConnectionOnCancel(mailbox, settings.signal, async () => {
      if (settings.pipelining) await mailbox.retrieveMany(small, attach);
      else for (const number of small) await attach(number, await mailbox.retrieve(number));
      // Large messages (often the very ones skipped as too large for a pass) streamed, never held whole.
      for (const number of numbers) {
        const record = byNumber.get(number);
        if (record && sizeOf(number) > STREAMED_MESSAGE_MIN_BYTES) {
          await retrieveIntoStore(mailbox, number, (source) => store.attachBody(record.id, source));
        }
      }
    });
    await mailbox.quit();
  } catch (error) {
    mailbox.close();
    throw error;
  }
  if (vanished.length > 0) {
    // Only the headers were here and the server copy is gone: nothing of these is left anywhere.
    await store.markGoneFromServer(
      vanished.map((record) => record.id),
      settings.now().toISOString(),
    );
    throw new MailError(
      'NOT_FOUND',
      vanished.length === 1
        ? 'This message is no longer on the server (another program or the provider deleted it).'
        : `${vanished.length} of these messages are no longer on the server (another program or the provider deleted them).`,
    );
  }
}
