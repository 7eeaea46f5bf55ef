/**
 * What the reader, the list and the keyboard can ask the app to do with messages. The app shell
 * implements it once (service calls, toasts, composer), so every entry point behaves the same.
 */
import type { AccountView, Address, FolderView, MessageDetail, MessageSummary } from '../../../shared/model';

export interface MailActions {
  compose(to?: Address[]): void;
  reply(message: MessageDetail, all: boolean): void;
  forward(message: MessageDetail): void;
  /** POP3 (SEMANTICS S6): `fromServer` also deletes the copy left on the server. */
  remove(messages: MessageSummary[], options?: { fromServer?: boolean }): void;
  archive(messages: MessageSummary[]): void;
  move(messages: MessageSummary[], folder: FolderView): void;
  copy(messages: MessageSummary[], folder: FolderView): void;
  setRead(messages: MessageSummary[], read: boolean): void;
  setFlagged(messages: MessageSummary[], flagged: boolean): void;
  download(messages: MessageSummary[]): void;
  viewSource(message: MessageSummary): void;
  /** Folders a message of this account can be moved to. */
  moveTargets(accountId: string): FolderView[];
  account(accountId: string): AccountView | null;
}
