/**
 * A scripted mail service for the UI specs: the whole contract answered from memory, with
 * synthetic accounts, folders and up to 100,000 messages generated on demand, served by the REAL
 * loopback host, so the renderer cannot tell it from the real service. It exists to show every
 * screen in a known state (screenshots, the 100k list, hostile mail in the reader) independently
 * of the sync engines; the account-setup specs use the real service against the real servers.
 *
 * Each method also records its calls, so a spec can assert what the UI asked for.
 */
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import type {
  AccountResidency,
  ChangePlan,
  MailApi,
  MailEvent,
  MailEvents,
  MessagePage,
  OutboxItem,
  OutgoingMessage,
  PlanEntry,
  ProposedChange,
} from '../../shared/api';
import { MailError } from '../../shared/errors';
import type {
  AccountView,
  Address,
  FolderView,
  MessageDetail,
  MessageSummary,
  Residency,
  ResidencyTotals,
  Security,
} from '../../shared/model';
import type { MailService, ServiceEventListener } from '../../main/service/create-service';
import { startWebHost, type WebHost } from '../../main/web/web-host';
import { PROJECT_ROOT } from './browser-app';
import { NEWSLETTER_HTML } from './hostile-html';

const NAMES: Address[] = [
  { name: 'Ada Lovelace', address: 'ada@analytical.example' },
  { name: 'Grace Hopper', address: 'grace@navy.example' },
  { name: 'Alan Turing', address: 'alan@bletchley.example' },
  { name: 'Katherine Johnson', address: 'katherine@nasa.example' },
  { name: 'Edsger Dijkstra', address: 'ewd@eindhoven.example' },
  { name: 'Barbara Liskov', address: 'liskov@mit.example' },
  { name: 'Donald Knuth', address: 'knuth@stanford.example' },
  { name: 'Radia Perlman', address: 'radia@spanning.example' },
  { name: 'Ken Thompson', address: 'ken@bell.example' },
  { name: 'Frances Allen', address: 'fran@ibm.example' },
];
const SUBJECTS = [
  'Quarterly planning notes',
  'Re: Lunch on Thursday?',
  'The compiler finally passes all tests',
  'Invoice 2024-0117',
  'Photos from the trip',
  'Draft: conference talk outline',
  'Your package is on its way',
  'Re: Re: Spanning tree question',
  'Reading list for the weekend',
  'Budget review — action needed',
  'Welcome to the team!',
  'Minutes of the design meeting',
];
const PREVIEWS = [
  'Thanks for sending these over. I went through the numbers and I think we can make the deadline if',
  'Sounds good to me. The usual place at noon? I can book a table for four if the others join.',
  'After three weeks of chasing one bug it turned out to be an off-by-one in the register allocator.',
  'Please find attached the invoice for last month. Payment is due within thirty days.',
  'Here are the best ones. The mountain view from the second day is my favourite by far.',
];
/** 2024-06-01T09:00Z: a fixed "now" for stable screenshots; message i is 37 minutes older than i-1. */
const NEWEST_MS = Date.UTC(2024, 5, 1, 9, 0, 0);
const MESSAGE_SPACING_MS = 37 * 60 * 1000;

export const ME = { work: 'me@work.example', home: 'me@home.example' };

/** A PNG (RFC 2083) of one colour fading to another, left to right: a stand-in for a newsletter's banner. */
function bannerPng(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, index) => {
    let value = index;
    for (let bit = 0; bit < 8; bit += 1) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    return value >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let value = 0xffffffff;
    for (const byte of bytes) value = crcTable[(value ^ byte) & 0xff] ^ (value >>> 8);
    return (value ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const check = Buffer.alloc(4);
    check.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, check]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x += 1) {
    const share = x / (width - 1);
    row.set([Math.round(29 + share * 180), Math.round(78 + share * 20), Math.round(216 - share * 120)], 1 + x * 3);
  }
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** What fetchRemoteImages answers for any .png/.gif/.jpg URL, as main would return it. */
export const REMOTE_PIXEL_BASE64 = bannerPng(480, 72).toString('base64');

/** The bytes getAttachment answers for a part: distinct per message and part, and not text. */
export function attachmentBytes(messageId: string, partId: string): Buffer {
  const seed = Buffer.from(`${messageId}/${partId}`, 'utf8');
  return Buffer.concat([Buffer.from([0x25, 0x50, 0x44, 0x46, 0x2d, 0x00, 0xff, 0x80]), seed]);
}

export interface ScriptedFolder {
  view: FolderView;
  /** How many synthetic messages the folder holds. */
  count: number;
}

export interface ScriptedOptions {
  /** Messages in Work's inbox (the 100k case); 240 by default. */
  inboxSize?: number;
  /** Extra messages (with full details) put first in Work's inbox. */
  specialMessages?: MessageDetail[];
}

function folder(
  accountId: string,
  id: string,
  name: string,
  role: FolderView['role'],
  kind: FolderView['kind'],
  pathName = name,
): FolderView {
  return {
    id,
    accountId,
    name,
    path: pathName,
    delimiter: '/',
    role,
    kind,
    subscribed: true,
    keepOffline: false,
    total: 0,
    unread: 0,
  };
}

export function scriptedAccount(id: string, name: string, email: string, mode: 'imap' | 'pop3'): AccountView {
  const endpoint = (host: string, port: number) => ({
    host,
    port,
    security: 'tls' as const,
    allowPlaintext: false,
    pinnedFingerprint: null,
  });
  return {
    id,
    name,
    email,
    mode,
    username: email,
    // Both incoming servers are known, so either mode can be switched to.
    imap: endpoint(`imap.${email.split('@')[1]}`, 993),
    pop3: endpoint(`pop.${email.split('@')[1]}`, 995),
    smtp: endpoint(`smtp.${email.split('@')[1]}`, 465),
    leaveOnServer: mode === 'pop3' ? { kind: 'days', days: 14 } : { kind: 'off' },
    offlineFolders: mode === 'imap' ? ['INBOX'] : [],
    checkIntervalMinutes: 10,
    createdAt: '2024-01-01T00:00:00.000Z',
    connectivity: 'online',
    lastError: null,
    lastSyncAt: '2024-06-01T08:58:00.000Z',
  };
}

export interface ScriptedService {
  api: MailApi;
  onEvent(listener: ServiceEventListener): () => void;
  close(): Promise<void>;
  emit<E extends MailEvent>(name: E, payload: MailEvents[E]): void;
  calls: { method: string; request: unknown }[];
  accounts: AccountView[];
  folders: ScriptedFolder[];
  outbox: OutboxItem[];
  /** Makes every later call of `method` fail with `error`, as the real service would report it. */
  fail(method: keyof MailApi, error: MailError | null): void;
  /** Every sign-in started, in order: sign-in-1, sign-in-2… */
  signInIds: string[];
  /** Ends a started sign-in as the browser would, and announces it (oauthSignInFinished). */
  finishSignIn(signInId: string, outcome: { ok: true } | { ok: false; error: MailError }): void;
}

export function createScriptedService(options: ScriptedOptions = {}): ScriptedService {
  const listeners = new Set<ServiceEventListener>();
  const calls: { method: string; request: unknown }[] = [];
  const accounts: AccountView[] = [
    scriptedAccount('work', 'Work', ME.work, 'imap'),
    scriptedAccount('home', 'Home', ME.home, 'pop3'),
  ];
  const special = options.specialMessages ?? [];
  const folders: ScriptedFolder[] = [
    {
      view: folder('work', 'work-inbox', 'Inbox', 'inbox', 'server', 'INBOX'),
      count: (options.inboxSize ?? 240) + special.length,
    },
    { view: folder('work', 'work-drafts', 'Drafts', 'drafts', 'server'), count: 2 },
    { view: folder('work', 'work-sent', 'Sent', 'sent', 'server'), count: 58 },
    { view: folder('work', 'work-archive', 'Archive', 'archive', 'server'), count: 1200 },
    { view: folder('work', 'work-projects', 'Projects', null, 'server'), count: 12 },
    { view: folder('work', 'work-alpha', 'Alpha', null, 'server', 'Projects/Alpha'), count: 31 },
    { view: folder('work', 'work-trash', 'Trash', 'trash', 'server'), count: 9 },
    { view: folder('work', 'work-receipts', 'Receipts', null, 'local'), count: 44 },
    { view: folder('home', 'home-inbox', 'Inbox', 'inbox', 'server', 'INBOX'), count: 86 },
    { view: folder('home', 'home-sent', 'Sent', 'sent', 'local'), count: 23 },
    { view: folder('home', 'home-family', 'Family', null, 'local'), count: 17 },
  ];
  const signInIds: string[] = [];
  const signIns = new Map<string, { email: string; provider: string; accountId: string | null; finished: boolean }>();
  const seen = new Set<string>();
  const unseen = new Set<string>();
  const deleted = new Set<string>();
  const drafts = new Map<string, OutgoingMessage>();
  const outbox: OutboxItem[] = [
    {
      id: 'out-1',
      accountId: 'work',
      subject: 'Re: Quarterly planning notes',
      to: ['ada@analytical.example'],
      state: 'sent',
      createdAt: '2024-06-01T08:40:00.000Z',
      lastError: null,
    },
    {
      id: 'out-2',
      accountId: 'home',
      subject: 'Holiday photos',
      to: ['family@home.example'],
      state: 'queued',
      createdAt: '2024-06-01T08:55:00.000Z',
      lastError: null,
    },
    {
      id: 'out-3',
      accountId: 'work',
      subject: 'Large report',
      to: ['board@work.example'],
      state: 'delivery-unknown',
      createdAt: '2024-05-31T17:02:00.000Z',
      lastError: 'The connection broke after the message was sent, before the server confirmed it.',
    },
  ];

  /** Where a message lives: generated ids are "folderId:index"; the special messages are in Work's inbox. */
  const folderOf = (id: string): string => (id.includes(':') ? id.split(':')[0] : 'work-inbox');
  const changed = (messageIds: string[]) => {
    const folderIds = [...new Set(messageIds.map(folderOf))];
    for (const accountId of new Set(folderIds.map((id) => folderById(id).view.accountId))) {
      emit('messagesChanged', {
        accountId,
        folderIds: folderIds.filter((id) => folderById(id).view.accountId === accountId),
      });
    }
  };

  const emit = <E extends MailEvent>(name: E, payload: MailEvents[E]) => {
    for (const listener of listeners) listener(name, payload);
  };

  const folderById = (id: string): ScriptedFolder => {
    const found = folders.find((candidate) => candidate.view.id === id);
    if (found === undefined) throw new MailError('NOT_FOUND', `There is no folder ${id}.`);
    return found;
  };

  function residencyOf(scripted: ScriptedFolder, index: number): Residency {
    if (scripted.view.kind === 'local') return 'local';
    const account = accounts.find((candidate) => candidate.id === scripted.view.accountId);
    if (account?.mode === 'pop3') return index % 4 === 0 ? 'both' : 'local';
    return index % 3 === 0 ? 'server' : 'both';
  }

  function generated(scripted: ScriptedFolder, index: number): MessageSummary {
    const id = `${scripted.view.id}:${index}`;
    const from = scripted.view.role === 'sent' ? { name: 'Me', address: ME.work } : NAMES[index % NAMES.length];
    const baseSeen = index % 4 !== 0;
    const isSeen = seen.has(id) || (baseSeen && !unseen.has(id));
    const flags = [...(isSeen ? ['\\Seen'] : []), ...(index % 23 === 5 ? ['\\Flagged'] : [])];
    return {
      id,
      accountId: scripted.view.accountId,
      folderId: scripted.view.id,
      messageId: `<${id}@scripted.example>`,
      threadId: `thread-${scripted.view.id}-${Math.floor(index / 3)}`,
      subject: `${SUBJECTS[index % SUBJECTS.length]}${index >= SUBJECTS.length ? ` #${index}` : ''}`,
      from,
      to: [{ name: 'Me', address: ME.work }],
      date: new Date(NEWEST_MS - index * MESSAGE_SPACING_MS).toISOString(),
      size: 2_000 + ((index * 7919) % 180_000),
      flags,
      residency: residencyOf(scripted, index),
      hasAttachments: index % 6 === 3,
      preview: PREVIEWS[index % PREVIEWS.length],
    };
  }

  /** Summaries of a folder in its natural order (specials first in Work's inbox). */
  function summaryAt(scripted: ScriptedFolder, position: number): MessageSummary {
    if (scripted.view.id === 'work-inbox' && position < special.length) {
      const detail = special[position];
      const isSeen = seen.has(detail.id) || (detail.flags.includes('\\Seen') && !unseen.has(detail.id));
      return { ...summarize(detail), flags: isSeen ? ['\\Seen'] : [] };
    }
    const offset = scripted.view.id === 'work-inbox' ? special.length : 0;
    return generated(scripted, position - offset);
  }

  const orders = new Map<string, number[]>();
  function order(scripted: ScriptedFolder, sort: string, direction: string, residency: Residency | null): number[] {
    const key = `${scripted.view.id}|${sort}|${direction}|${residency ?? '*'}|${deleted.size}`;
    const cached = orders.get(key);
    if (cached !== undefined) return cached;
    let positions = Array.from({ length: scripted.count }, (_, position) => position).filter(
      (position) => !deleted.has(summaryAt(scripted, position).id),
    );
    if (residency !== null)
      positions = positions.filter((position) => summaryAt(scripted, position).residency === residency);
    if (sort === 'from' || sort === 'subject') {
      // One label per message, then one sort: 100,000 messages sort in well under a second.
      const labels = new Map(
        positions.map((position) => {
          const summary = summaryAt(scripted, position);
          return [position, sort === 'from' ? (summary.from?.name ?? '') : summary.subject];
        }),
      );
      const collator = new Intl.Collator('en');
      positions.sort(
        (left, right) => collator.compare(labels.get(left) ?? '', labels.get(right) ?? '') || left - right,
      );
      if (direction === 'desc') positions.reverse();
    } else if (direction === 'asc') positions.reverse();
    orders.set(key, positions);
    return positions;
  }

  const conversationCache = new Map<number[], { heads: number[]; members: Map<string, number[]> }>();
  /** A folder's conversations in the listed order: heads (newest member) and members newest first. */
  function conversationsOf(scripted: ScriptedFolder, positions: number[], residency: Residency | null) {
    const cached = conversationCache.get(positions);
    if (cached !== undefined) return cached;
    const byDate = order(scripted, 'date', 'desc', residency);
    const members = new Map<string, number[]>();
    const newest = new Map<string, number>();
    for (const position of byDate) {
      const summary = summaryAt(scripted, position);
      const key = summary.threadId ?? summary.id;
      const list = members.get(key);
      if (list === undefined) {
        members.set(key, [position]);
        newest.set(key, position);
      } else list.push(position);
    }
    const heads = positions.filter((position) => {
      const summary = summaryAt(scripted, position);
      return newest.get(summary.threadId ?? summary.id) === position;
    });
    const result = { heads, members };
    conversationCache.set(positions, result);
    return result;
  }

  function counted(scripted: ScriptedFolder): FolderView {
    let unread = 0;
    const sample = Math.min(scripted.count, 20_000);
    for (let position = 0; position < sample; position += 1) {
      const summary = summaryAt(scripted, position);
      if (!deleted.has(summary.id) && !summary.flags.includes('\\Seen')) unread += 1;
    }
    return {
      ...scripted.view,
      total: scripted.count - [...deleted].filter((id) => id.startsWith(`${scripted.view.id}:`)).length,
      unread,
    };
  }

  function allSummaries(): MessageSummary[] {
    const result: MessageSummary[] = [];
    for (const scripted of folders) {
      const limit = Math.min(scripted.count, 2_000);
      for (let position = 0; position < limit; position += 1) {
        const summary = summaryAt(scripted, position);
        if (!deleted.has(summary.id)) result.push(summary);
      }
    }
    return result;
  }

  function detailOf(id: string): MessageDetail {
    const specialDetail = special.find((candidate) => candidate.id === id);
    if (specialDetail !== undefined)
      return { ...specialDetail, flags: seen.has(id) ? ['\\Seen'] : specialDetail.flags };
    const [folderId, index] = id.split(':');
    const scripted = folderById(folderId);
    const summary = generated(scripted, Number(index));
    const text = `Hello,\n\n${summary.preview} we will see how it goes.\n\nThe full notes are at https://notes.work.example/plan and I will bring printed copies.\n\n> On Monday you wrote:\n> Could you send the notes before the meeting?\n\nBest,\n${summary.from?.name ?? ''}`;
    return {
      ...summary,
      cc: Number(index) % 5 === 0 ? [NAMES[(Number(index) + 3) % NAMES.length]] : [],
      bcc: [],
      replyTo: [],
      inReplyTo: null,
      references: [],
      parts:
        summary.residency === 'server' && Number(index) % 2 === 1
          ? null
          : Number(index) % 2 === 0
            ? [{ partId: '1', kind: 'html', content: NEWSLETTER_HTML }]
            : [{ partId: '1', kind: 'text', content: text }],
      attachments: summary.hasAttachments
        ? [
            { partId: '2', filename: 'notes.pdf', contentType: 'application/pdf', size: 184_320 },
            { partId: '3', filename: 'budget.xlsx', contentType: 'application/vnd.ms-excel', size: 48_200 },
          ]
        : [],
      sha256: null,
      parseWarning: null,
    };
  }

  function totalsOf(scripted: ScriptedFolder): ResidencyTotals {
    const totals: ResidencyTotals = {
      server: { count: 0, bytes: 0 },
      local: { count: 0, bytes: 0 },
      both: { count: 0, bytes: 0 },
    };
    for (let position = 0; position < scripted.count; position += 1) {
      const summary = summaryAt(scripted, position);
      if (deleted.has(summary.id)) continue;
      totals[summary.residency].count += 1;
      totals[summary.residency].bytes += summary.size;
    }
    return totals;
  }

  function add(target: ResidencyTotals, more: ResidencyTotals): ResidencyTotals {
    return {
      server: { count: target.server.count + more.server.count, bytes: target.server.bytes + more.server.bytes },
      local: { count: target.local.count + more.local.count, bytes: target.local.bytes + more.local.bytes },
      both: { count: target.both.count + more.both.count, bytes: target.both.bytes + more.both.bytes },
    };
  }
  const ZERO: ResidencyTotals = {
    server: { count: 0, bytes: 0 },
    local: { count: 0, bytes: 0 },
    both: { count: 0, bytes: 0 },
  };

  function accountResidency(account: AccountView): AccountResidency {
    const mine = folders.filter((scripted) => scripted.view.accountId === account.id);
    const folderResidency = mine.map((scripted) => ({
      folderId: scripted.view.id,
      path: scripted.view.path,
      kind: scripted.view.kind,
      totals: totalsOf(scripted),
    }));
    const totals = folderResidency.reduce((sum, item) => add(sum, item.totals), ZERO);
    return {
      accountId: account.id,
      mode: account.mode,
      totals,
      folders: folderResidency,
      quota: account.mode === 'imap' ? { usage: 1_932_735_283, limit: 2_147_483_648, warning: true } : null,
      diskBytes: totals.local.bytes + totals.both.bytes,
      confirmedAt: '2024-06-01T08:58:00.000Z',
    };
  }

  function plan(accountId: string, change: ProposedChange): ChangePlan {
    const account = accounts.find((candidate) => candidate.id === accountId);
    if (account === undefined) throw new MailError('NOT_FOUND', 'No such account.');
    const entries = (scripted: ScriptedFolder, residency: Residency, limit: number): PlanEntry[] => {
      const result: PlanEntry[] = [];
      for (let position = 0; position < scripted.count && result.length < limit; position += 1) {
        const summary = summaryAt(scripted, position);
        if (summary.residency === residency && !deleted.has(summary.id)) {
          result.push({
            messageId: summary.id,
            subject: summary.subject,
            folder: scripted.view.path,
            bytes: summary.size,
          });
        }
      }
      return result;
    };
    const sum = (list: PlanEntry[]) => ({
      count: list.length,
      bytes: list.reduce((total, entry) => total + entry.bytes, 0),
    });
    const mine = folders.filter((scripted) => scripted.view.accountId === accountId);
    const inbox = mine.find((scripted) => scripted.view.role === 'inbox') as ScriptedFolder;
    const residency = accountResidency(account);
    if (change.kind === 'switch-mode' && change.to === 'pop3') {
      const download = entries(inbox, 'server', 5_000);
      const unreachable = mine
        .filter((scripted) => scripted !== inbox && scripted.view.kind === 'server')
        .flatMap((scripted) => entries(scripted, 'server', 1_000));
      const deleteOnServer = change.leaveOnServer.kind === 'off' ? [...download, ...entries(inbox, 'both', 5_000)] : [];
      return {
        accountId,
        change,
        download,
        upload: [],
        deleteOnServer,
        unreachable,
        skippedDuplicates: residency.totals.both.count,
        totals: {
          download: sum(download),
          upload: { count: 0, bytes: 0 },
          deleteOnServer: sum(deleteOnServer),
          unreachable: sum(unreachable),
        },
        after: {
          server: residency.totals.server,
          local: residency.totals.local,
          both: {
            count: residency.totals.both.count + download.length,
            bytes: residency.totals.both.bytes + sum(download).bytes,
          },
        },
      };
    }
    const upload =
      change.kind === 'switch-mode' && change.to === 'imap' && change.uploadLocalTo !== null
        ? mine.flatMap((scripted) => entries(scripted, 'local', 2_000))
        : [];
    const deleteOnServer =
      change.kind === 'leave-on-server' && change.leaveOnServer.kind === 'off' ? entries(inbox, 'both', 5_000) : [];
    return {
      accountId,
      change,
      download: [],
      upload,
      deleteOnServer,
      unreachable: [],
      skippedDuplicates: 3,
      totals: {
        download: { count: 0, bytes: 0 },
        upload: sum(upload),
        deleteOnServer: sum(deleteOnServer),
        unreachable: { count: 0, bytes: 0 },
      },
      after: {
        server: residency.totals.server,
        local: {
          count: residency.totals.local.count - upload.length,
          bytes: residency.totals.local.bytes - sum(upload).bytes,
        },
        both: {
          count: residency.totals.both.count + upload.length,
          bytes: residency.totals.both.bytes + sum(upload).bytes,
        },
      },
    };
  }

  const api: MailApi = {
    getAppInfo: async () => ({ version: '0.1.0', shell: 'browser', profileDir: '/scripted' }),
    listAccounts: async () => accounts,
    addAccount: async ({ settings, signInId }) => {
      if (settings.auth?.kind === 'oauth2' && !signIns.get(signInId ?? '')?.finished) {
        throw new MailError('INVALID_INPUT', 'This sign-in is unknown or has expired. Sign in again.');
      }
      const account: AccountView = {
        ...settings,
        id: `added-${accounts.length + 1}`,
        createdAt: new Date(NEWEST_MS).toISOString(),
        connectivity: 'online',
        lastError: null,
        lastSyncAt: null,
      };
      accounts.push(account);
      folders.push({ view: folder(account.id, `${account.id}-inbox`, 'Inbox', 'inbox', 'server', 'INBOX'), count: 3 });
      emit('accountsChanged', { accounts });
      return account;
    },
    removeAccount: async () => undefined,
    testConnection: async () => ({ incoming: { ok: true }, smtp: { ok: true } }),
    listFolders: async ({ accountId }) =>
      folders.filter((scripted) => scripted.view.accountId === accountId).map(counted),
    async listMessages(request): Promise<MessagePage> {
      const scripted = folderById(request.folderId);
      const positions = order(scripted, request.sort ?? 'date', request.direction ?? 'desc', request.residency ?? null);
      if (request.threads || request.threadId) {
        // Conversations like the service groups them: each at its newest message (first in date order).
        const grouped = conversationsOf(scripted, positions, request.residency ?? null);
        if (request.threadId) {
          const members = (grouped.members.get(request.threadId) ?? []).map((position) =>
            summaryAt(scripted, position),
          );
          return {
            total: members.length,
            offset: request.offset,
            items: members.slice(request.offset, request.offset + request.limit),
          };
        }
        const heads = grouped.heads.slice(request.offset, request.offset + request.limit);
        const items = heads.map((position) => summaryAt(scripted, position));
        const threads = items.map((item) => {
          const members = grouped.members.get(item.threadId ?? item.id) ?? [];
          const unread = members.filter((position) => !summaryAt(scripted, position).flags.includes('\\Seen')).length;
          return { messages: members.length, unread };
        });
        return { total: grouped.heads.length, offset: request.offset, items, threads, messages: positions.length };
      }
      const items = positions
        .slice(request.offset, request.offset + request.limit)
        .map((position) => summaryAt(scripted, position));
      return { total: positions.length, offset: request.offset, items };
    },
    getMessage: async ({ messageId }) => detailOf(messageId),
    syncAccount: async ({ accountId }) => {
      emit('syncProgress', { accountId, phase: 'headers', folder: 'INBOX', done: 1_200, total: 5_000, bytes: 0 });
    },
    updateAccount: async ({ accountId, settings }) => {
      const index = accounts.findIndex((candidate) => candidate.id === accountId);
      accounts[index] = { ...accounts[index], ...settings };
      emit('accountsChanged', { accounts });
      return accounts[index];
    },
    getRawMessage: async ({ messageId }) => {
      const detail = detailOf(messageId);
      const raw = `From: ${detail.from?.name} <${detail.from?.address}>\r\nTo: me@work.example\r\nSubject: ${detail.subject}\r\nDate: ${detail.date}\r\nMessage-ID: ${detail.messageId}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${detail.preview}\r\n`;
      return { base64: Buffer.from(raw, 'utf8').toString('base64') };
    },
    setFlags: async ({ messageIds, add: added, remove }) => {
      for (const id of messageIds) {
        if (added?.includes('\\Seen')) {
          seen.add(id);
          unseen.delete(id);
        }
        if (remove?.includes('\\Seen')) {
          seen.delete(id);
          unseen.add(id);
        }
      }
      changed(messageIds);
    },
    moveMessages: async ({ messageIds }) => {
      for (const id of messageIds) deleted.add(id);
      changed(messageIds);
    },
    copyMessages: async ({ folderId }) => {
      const target = folderById(folderId);
      target.count += 1;
      emit('messagesChanged', { accountId: target.view.accountId, folderIds: [folderId] });
    },
    deleteMessages: async ({ messageIds }) => {
      for (const id of messageIds) deleted.add(id);
      changed(messageIds);
    },
    createFolder: async ({ accountId, name, parentId, kind }) => {
      const account = accounts.find((candidate) => candidate.id === accountId);
      if (account?.mode === 'pop3' && kind === 'server') {
        throw new MailError(
          'NOT_AVAILABLE_IN_MODE',
          'POP3 has no folders on the server: create the folder on this computer, or switch the account to IMAP.',
        );
      }
      const parent = parentId ? folderById(parentId).view : null;
      const created = folder(
        accountId,
        `${accountId}-folder-${folders.length + 1}`,
        name,
        null,
        kind,
        parent ? `${parent.path}/${name}` : name,
      );
      folders.push({ view: created, count: 0 });
      emit('foldersChanged', { accountId });
      return created;
    },
    renameFolder: async ({ folderId, name }) => {
      const target = folderById(folderId);
      const cut = target.view.path.lastIndexOf('/');
      target.view = { ...target.view, name, path: cut < 0 ? name : `${target.view.path.slice(0, cut)}/${name}` };
      emit('foldersChanged', { accountId: target.view.accountId });
    },
    deleteFolder: async ({ folderId }) => {
      const target = folderById(folderId);
      folders.splice(folders.indexOf(target), 1);
      emit('foldersChanged', { accountId: target.view.accountId });
    },
    downloadMessages: async () => undefined,
    search: async ({ query, accountId, limit }) => {
      const needle = query.toLowerCase();
      return allSummaries()
        .filter((summary) => accountId === null || accountId === undefined || summary.accountId === accountId)
        .filter(
          (summary) =>
            summary.subject.toLowerCase().includes(needle) || (summary.from?.name ?? '').toLowerCase().includes(needle),
        )
        .slice(0, limit ?? 100);
    },
    sendMessage: async (message) => {
      const item: OutboxItem = {
        id: `out-${outbox.length + 1}`,
        accountId: message.accountId,
        subject: message.subject,
        to: message.to.map((address) => address.address),
        state: 'queued',
        createdAt: new Date(NEWEST_MS).toISOString(),
        lastError: null,
      };
      outbox.push(item);
      emit('outboxChanged', { accountId: message.accountId });
      return item;
    },
    listOutbox: async () => outbox,
    saveDraft: async ({ draftId, message }) => {
      const id = `draft-${drafts.size + 1}`;
      if (draftId) drafts.delete(draftId);
      drafts.set(id, message);
      return { draftId: id, folderId: 'drafts', location: 'local', savedAt: new Date(NEWEST_MS).toISOString() };
    },
    getDraft: async ({ draftId }) => {
      const message = drafts.get(draftId);
      if (!message) throw new MailError('NOT_FOUND', 'That draft no longer exists.');
      return { draftId, message };
    },
    deleteDraft: async ({ draftId }) => {
      drafts.delete(draftId);
    },
    suggestAddresses: async ({ query, limit }) => {
      const needle = query.trim().toLowerCase();
      const known = new Map<string, { name: string; address: string; uses: number }>();
      for (const summary of allSummaries()) {
        for (const address of [...(summary.from ? [summary.from] : []), ...summary.to]) {
          const key = address.address.toLowerCase();
          if (needle === '' || !(key.startsWith(needle) || address.name.toLowerCase().startsWith(needle))) continue;
          const entry = known.get(key) ?? { name: address.name, address: key, uses: 0 };
          entry.uses += 1;
          known.set(key, entry);
        }
      }
      return [...known.values()].sort((left, right) => right.uses - left.uses).slice(0, limit ?? 8);
    },
    getResidency: async ({ accountId }) => {
      const chosen = accounts.filter(
        (account) => accountId === null || accountId === undefined || account.id === accountId,
      );
      const list = chosen.map(accountResidency);
      return {
        accounts: list,
        totals: list.reduce((sum, item) => add(sum, item.totals), ZERO),
        diskBytes: list.reduce((sum, item) => sum + item.diskBytes, 0),
      };
    },
    planChange: async ({ accountId, change }) => plan(accountId, change),
    discoverSettings: async ({ email }) => {
      // One domain publishes its settings (an autoconfig document and SRV records); the rest do not.
      if (email.endsWith('@published.example')) {
        const server = (protocol: 'imap' | 'pop3' | 'smtp', host: string, port: number, security: Security) => ({
          protocol,
          host,
          port,
          security,
          username: email.split('@')[0],
          source: `https://autoconfig.published.example/mail/config-v1.1.xml (${protocol})`,
        });
        return {
          email,
          displayName: 'Published Mail',
          imap: [server('imap', 'mail.published.example', 993, 'tls')],
          pop3: [server('pop3', 'mail.published.example', 995, 'tls')],
          smtp: [server('smtp', 'submit.published.example', 587, 'starttls')],
          reasons: [],
        };
      }
      return {
        email,
        displayName: null,
        imap: [],
        pop3: [],
        smtp: [],
        reasons: ['DNS: no SRV records (RFC 6186) for this domain.'],
      };
    },
    lookUpProvider: async ({ email }) => {
      const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
      const endpoint = (host: string, port: number) => ({ host, port, security: 'tls' as const });
      if (domain === 'gmail.com') {
        return {
          id: 'gmail',
          displayName: 'Gmail',
          modes: ['imap', 'pop3'],
          imap: endpoint('imap.gmail.com', 993),
          pop3: endpoint('pop.gmail.com', 995),
          smtp: endpoint('smtp.gmail.com', 465),
          username: email,
          signIn: { kind: 'oauth2', provider: 'google', displayName: 'Google', available: true },
        };
      }
      if (domain === 'icloud.com') {
        return {
          id: 'icloud',
          displayName: 'iCloud Mail',
          modes: ['imap'],
          imap: endpoint('imap.mail.me.com', 993),
          pop3: null,
          smtp: { host: 'smtp.mail.me.com', port: 587, security: 'starttls' },
          username: email,
          signIn: { kind: 'app-password', helpUrl: 'https://support.apple.com/102654' },
        };
      }
      return null;
    },
    startOAuthSignIn: async ({ email, provider, accountId }) => {
      signInIds.push(`sign-in-${signInIds.length + 1}`);
      const signInId = signInIds[signInIds.length - 1];
      signIns.set(signInId, { email, provider, accountId: accountId ?? null, finished: false });
      return {
        signInId,
        authorizationUrl: `https://accounts.${provider}.example/authorize?login_hint=${encodeURIComponent(email)}`,
        browserOpened: false,
      };
    },
    cancelOAuthSignIn: async ({ signInId }) => {
      signIns.delete(signInId);
    },
    cancelWork: async () => ({ stopped: false }),
    exportFolder: async () => {
      throw new MailError('NOT_AVAILABLE_IN_MODE', 'The scripted service does not export folders.');
    },
    getAttachment: async ({ messageId, partId }) => {
      const detail = detailOf(messageId);
      const attachment = detail.attachments.find((candidate) => candidate.partId === partId);
      if (attachment === undefined) throw new MailError('NOT_FOUND', 'That attachment no longer exists.');
      return {
        filename: attachment.filename,
        contentType: attachment.contentType,
        base64: attachmentBytes(messageId, partId).toString('base64'),
      };
    },
    fetchRemoteImages: async ({ urls }) => {
      const images: Record<string, string> = {};
      const failed: Array<{ url: string; reason: string }> = [];
      for (const url of urls) {
        if (/\.(?:png|gif|jpe?g)(?:\?|$)/.test(url)) images[url] = `data:image/png;base64,${REMOTE_PIXEL_BASE64}`;
        else failed.push({ url, reason: 'the server answered 404' });
      }
      return { images, failed };
    },
    switchMode: async ({ accountId, change }) => {
      const result = plan(accountId, change);
      const total = result.totals.download.count + result.totals.upload.count;
      emit('syncProgress', {
        accountId,
        phase: 'switch',
        folder: 'INBOX',
        done: Math.floor(total / 2),
        total,
        bytes: 1_048_576,
      });
      return result;
    },
  };

  const failures = new Map<string, MailError>();
  const recorded = Object.fromEntries(
    Object.entries(api).map(([method, handler]) => [
      method,
      async (request: unknown) => {
        calls.push({ method, request });
        const failure = failures.get(method);
        if (failure !== undefined) throw failure;
        return (handler as (request: unknown) => Promise<unknown>)(request);
      },
    ]),
  ) as unknown as MailApi;

  return {
    api: recorded,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
    },
    emit,
    calls,
    accounts,
    folders,
    outbox,
    fail(method, error) {
      if (error === null) failures.delete(method);
      else failures.set(method, error);
    },
    signInIds,
    finishSignIn(signInId, outcome) {
      const entry = signIns.get(signInId);
      if (entry === undefined) throw new Error(`no sign-in ${signInId} is waiting`);
      if (outcome.ok) {
        entry.finished = true;
        emit('oauthSignInFinished', {
          signInId,
          ok: true,
          email: entry.email,
          provider: entry.provider,
          accountId: entry.accountId,
        });
      } else {
        signIns.delete(signInId);
        emit('oauthSignInFinished', {
          signInId,
          ok: false,
          error: outcome.error.toPayload(),
          accountId: entry.accountId,
        });
      }
    },
  };
}

function summarize(detail: MessageDetail): MessageSummary {
  const {
    id,
    accountId,
    folderId,
    messageId,
    threadId,
    subject,
    from,
    to,
    date,
    size,
    flags,
    residency,
    hasAttachments,
    preview,
  } = detail;
  return {
    id,
    accountId,
    folderId,
    messageId,
    threadId,
    subject,
    from,
    to,
    date,
    size,
    flags,
    residency,
    hasAttachments,
    preview,
  };
}

/**
 * Serves a scripted service on the real loopback host. The host needs only `api` and `onEvent`;
 * the service's internals (store, engines) are for the CLI and the service's own tests.
 */
export function serveScripted(service: Pick<MailService, 'api' | 'onEvent' | 'close'>): Promise<WebHost> {
  return startWebHost({
    service: service as MailService,
    rendererDir: path.join(PROJECT_ROOT, 'out', 'renderer'),
  });
}

/** A message for the reader specs, with the given HTML as its one body part. */
export function htmlMessage(id: string, subject: string, html: string, from: Address = NAMES[0]): MessageDetail {
  return {
    id,
    accountId: 'work',
    folderId: 'work-inbox',
    messageId: `<${id}@scripted.example>`,
    threadId: null,
    subject,
    from,
    to: [{ name: 'Me', address: ME.work }],
    date: new Date(NEWEST_MS + 60_000).toISOString(),
    size: html.length + 600,
    flags: [],
    residency: 'both',
    hasAttachments: false,
    preview: 'An HTML message',
    cc: [],
    bcc: [],
    replyTo: [],
    inReplyTo: null,
    references: [],
    parts: [{ partId: '1', kind: 'html', content: html }],
    attachments: [],
    sha256: null,
    parseWarning: null,
  };
}
