/**
 * The CLI's commands, one small function each, all through the service's typed API (plus the
 * few internals the contract does not expose: export and import of files).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ProposedChange } from '../../shared/api';
import { MailError } from '../../shared/errors';
import type { AccountSettings, FolderView, LeaveOnServer, MessageSummary, Security } from '../../shared/model';
import type { MailService } from '../service/create-service';
import { exportFolder, importMessages } from '../service/export-import';
import { parseArguments, requirePositionals, requireValue, type OptionSpec, type ParsedArguments } from './arguments';

export interface CommandContext {
  service: MailService;
  json: boolean;
  tty: boolean;
  print(text: string): void;
  printJson(value: unknown): void;
  progress(text: string): void;
}

interface Command {
  summary: string;
  options: Record<string, OptionSpec>;
  run(args: string[], context: CommandContext): Promise<number>;
}

const flag: OptionSpec = { type: 'flag' };
const value: OptionSpec = { type: 'value' };
const list: OptionSpec = { type: 'list' };

function command(
  summary: string,
  options: Record<string, OptionSpec>,
  run: (parsed: ParsedArguments, context: CommandContext) => Promise<number | void>,
): Command {
  return {
    summary,
    options,
    async run(args, context) {
      const parsed = parseArguments(args, options);
      return (await run(parsed, context)) ?? 0;
    },
  };
}

function parseSecurity(text: string, option: string): Security {
  if (text === 'tls' || text === 'starttls' || text === 'none') return text;
  throw new MailError('INVALID_INPUT', `--${option} must be tls, starttls or none.`);
}

function parsePort(text: string | undefined, fallback: number, option: string): number {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new MailError('INVALID_INPUT', `--${option} must be a port number from 1 to 65535.`);
  }
  return port;
}

export function parseLeaveOnServer(text: string): LeaveOnServer {
  if (text === 'off' || text === 'forever' || text === 'until-deleted') return { kind: text };
  const match = /^days:(\d{1,5})$/.exec(text);
  if (match) return { kind: 'days', days: Number(match[1]) };
  throw new MailError('INVALID_INPUT', '--leave-on-server must be off, forever, days:N or until-deleted.');
}

const DEFAULT_PORTS = {
  imap: { tls: 993, starttls: 143, none: 143 },
  pop3: { tls: 995, starttls: 110, none: 110 },
  smtp: { tls: 465, starttls: 587, none: 25 },
} as const;

async function findFolder(context: CommandContext, nameOrId: string, accountOption?: string): Promise<FolderView> {
  const { api } = context.service;
  const accounts = accountOption
    ? [await context.service.internals.resolveAccount(accountOption)]
    : await api.listAccounts();
  const matches: FolderView[] = [];
  for (const account of accounts) {
    for (const folder of await api.listFolders({ accountId: account.id })) {
      if (folder.id === nameOrId || folder.path === nameOrId || folder.name === nameOrId) matches.push(folder);
    }
  }
  // A path that names both a server and a local folder means the server one, unless local: is given.
  const preferred = nameOrId.startsWith('local:')
    ? await findFolder(context, nameOrId.slice('local:'.length), accountOption).then((folder) =>
        folder.kind === 'local' ? [folder] : [],
      )
    : matches.filter((folder) => folder.kind === 'server').length === 1 && matches.length > 1
      ? matches.filter((folder) => folder.kind === 'server')
      : matches;
  if (preferred.length === 1) return preferred[0];
  if (preferred.length === 0) throw new MailError('NOT_FOUND', `There is no folder "${nameOrId}".`);
  throw new MailError('INVALID_INPUT', `"${nameOrId}" names folders in several accounts: add --account.`);
}

async function defaultAccountId(context: CommandContext, accountOption: string | undefined): Promise<string> {
  if (accountOption) return (await context.service.internals.resolveAccount(accountOption)).id;
  const accounts = await context.service.api.listAccounts();
  if (accounts.length === 1) return accounts[0].id;
  if (accounts.length === 0) throw new MailError('NOT_FOUND', 'There is no account yet: add one with "account add".');
  throw new MailError('INVALID_INPUT', 'There are several accounts: say which one with --account.');
}

function describeMessage(message: MessageSummary, folderPath: string): Record<string, unknown> {
  const record = message as MessageSummary & { sha256?: string | null; localPath?: string | null };
  return {
    id: message.id,
    folder: folderPath,
    messageId: message.messageId,
    subject: message.subject,
    from: message.from ? message.from.address : null,
    date: message.date,
    size: message.size,
    flags: message.flags,
    residency: message.residency,
    sha256: record.sha256 ?? null,
    path: record.localPath ?? null,
  };
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

async function runSync(context: CommandContext, accountIds: string[]): Promise<void> {
  const unsubscribe = context.service.onEvent((name, payload) => {
    if (name !== 'syncProgress') return;
    const progress = payload as { phase: string; folder: string | null; done: number; total: number };
    context.progress(`${progress.phase} ${progress.folder ?? ''} ${progress.done}/${progress.total}`);
  });
  try {
    for (const accountId of accountIds) await context.service.api.syncAccount({ accountId });
  } finally {
    unsubscribe();
  }
}

export function parseWhatIf(text: string): ProposedChange {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const [key, ...rest] = part.split('=');
    if (!key || rest.length === 0) throw new MailError('INVALID_INPUT', `--what-if: "${part}" is not key=value.`);
    fields.set(key.trim(), rest.join('=').trim());
  }
  const mode = fields.get('mode');
  const leave = fields.get('leave');
  if (mode === 'pop3') {
    return {
      kind: 'switch-mode',
      to: 'pop3',
      leaveOnServer: parseLeaveOnServer(leave ?? 'forever'),
      allFolders: fields.get('folders') === 'all',
    };
  }
  if (mode === 'imap') return { kind: 'switch-mode', to: 'imap', uploadLocalTo: fields.get('upload') ?? null };
  if (leave) return { kind: 'leave-on-server', leaveOnServer: parseLeaveOnServer(leave) };
  throw new MailError(
    'INVALID_INPUT',
    '--what-if takes mode=pop3[,leave=…][,folders=all], mode=imap[,upload=FOLDER] or leave=….',
  );
}

export const COMMANDS: Record<string, Command> = {
  account: command(
    'account add|list|remove — manage accounts',
    {
      name: value,
      email: value,
      mode: value,
      host: value,
      port: value,
      security: value,
      'allow-plaintext': flag,
      user: value,
      'password-env': value,
      'pin-cert': value,
      'leave-on-server': value,
      'smtp-host': value,
      'smtp-port': value,
      'smtp-security': value,
      'smtp-pin-cert': value,
    },
    async (parsed, context) => {
      const [action, ...rest] = requirePositionals(parsed, 1, 'account add|list|remove');
      const { api } = context.service;
      if (action === 'list') {
        const accounts = await api.listAccounts();
        if (context.json) return context.printJson(accounts);
        if (accounts.length === 0) context.print('No accounts yet.');
        for (const account of accounts) {
          const server = account.mode === 'imap' ? account.imap : account.pop3;
          context.print(
            `${account.name}\t${account.email}\t${account.mode.toUpperCase()}\t${server?.host ?? ''}\t${account.id}`,
          );
        }
        return;
      }
      if (action === 'remove') {
        if (rest.length !== 1) throw new MailError('INVALID_INPUT', 'Usage: account remove NAME');
        const account = await context.service.internals.resolveAccount(rest[0]);
        await api.removeAccount({ accountId: account.id });
        if (context.json) context.printJson({ removed: account.id });
        else
          context.print(`Removed ${account.name}. Its local mail was kept in the profile's removed-accounts folder.`);
        return;
      }
      if (action !== 'add') throw new MailError('INVALID_INPUT', 'Usage: account add|list|remove');
      const mode = requireValue(parsed, 'mode');
      if (mode !== 'imap' && mode !== 'pop3') throw new MailError('INVALID_INPUT', '--mode must be imap or pop3.');
      const security = parseSecurity(parsed.values.get('security') ?? 'tls', 'security');
      const passwordVariable = requireValue(parsed, 'password-env');
      const password = process.env[passwordVariable];
      if (!password)
        throw new MailError('INVALID_INPUT', `The environment variable ${passwordVariable} is empty or unset.`);
      const incoming = {
        host: requireValue(parsed, 'host'),
        port: parsePort(parsed.values.get('port'), DEFAULT_PORTS[mode][security], 'port'),
        security,
        allowPlaintext: parsed.flags.has('allow-plaintext'),
        pinnedFingerprint: parsed.values.get('pin-cert') ?? null,
      };
      const smtpHost = parsed.values.get('smtp-host');
      const smtpSecurity = parseSecurity(parsed.values.get('smtp-security') ?? 'starttls', 'smtp-security');
      const email = requireValue(parsed, 'email');
      const settings: AccountSettings = {
        name: parsed.values.get('name') ?? email,
        email,
        mode,
        username: parsed.values.get('user') ?? email,
        imap: mode === 'imap' ? incoming : null,
        pop3: mode === 'pop3' ? incoming : null,
        smtp: smtpHost
          ? {
              host: smtpHost,
              port: parsePort(parsed.values.get('smtp-port'), DEFAULT_PORTS.smtp[smtpSecurity], 'smtp-port'),
              security: smtpSecurity,
              allowPlaintext: parsed.flags.has('allow-plaintext'),
              pinnedFingerprint: parsed.values.get('smtp-pin-cert') ?? parsed.values.get('pin-cert') ?? null,
            }
          : null,
        leaveOnServer: parseLeaveOnServer(
          parsed.values.get('leave-on-server') ?? (mode === 'pop3' ? 'off' : 'forever'),
        ),
        offlineFolders: ['INBOX'],
        checkIntervalMinutes: 10,
      };
      const account = await api.addAccount({ settings, password });
      if (context.json) context.printJson(account);
      else context.print(`Added ${account.name} (${account.mode.toUpperCase()}), id ${account.id}.`);
    },
  ),

  sync: command('sync [--account N] — one pass, then exit', { account: value }, async (parsed, context) => {
    const accountOption = parsed.values.get('account');
    const accountIds = accountOption
      ? [(await context.service.internals.resolveAccount(accountOption)).id]
      : (await context.service.api.listAccounts()).map((account) => account.id);
    await runSync(context, accountIds);
    if (context.json) context.printJson({ synced: accountIds });
    else context.print(`Synced ${accountIds.length} account(s).`);
  }),

  watch: command(
    'watch [--account N] — stay connected (IDLE / interval) until interrupted',
    { account: value },
    async (parsed, context) => {
      const accountOption = parsed.values.get('account');
      const accountIds = accountOption
        ? [(await context.service.internals.resolveAccount(accountOption)).id]
        : (await context.service.api.listAccounts()).map((account) => account.id);
      const unsubscribe = context.service.onEvent((name, payload) => {
        if (name === 'newMail' || name === 'connectivity') context.print(JSON.stringify({ event: name, ...payload }));
      });
      for (const accountId of accountIds) context.service.internals.engineFor(accountId).startWatching();
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      unsubscribe();
    },
  ),

  folders: command('folders [--account N]', { account: value }, async (parsed, context) => {
    const accountId = await defaultAccountId(context, parsed.values.get('account'));
    const folders = await context.service.api.listFolders({ accountId });
    if (context.json) return context.printJson(folders);
    for (const folder of folders) {
      context.print(
        `${folder.kind === 'local' ? 'local ' : 'server'}\t${folder.path}\t${folder.total} (${folder.unread} unread)${folder.role ? `\t${folder.role}` : ''}`,
      );
    }
  }),

  list: command(
    'list FOLDER [--account N] [--residency server|local|both]',
    { account: value, residency: value, limit: value },
    async (parsed, context) => {
      const [folderName] = requirePositionals(parsed, 1, 'list FOLDER');
      const folder = await findFolder(context, folderName, parsed.values.get('account'));
      const residency = parsed.values.get('residency');
      if (residency !== undefined && residency !== 'server' && residency !== 'local' && residency !== 'both') {
        throw new MailError('INVALID_INPUT', '--residency must be server, local or both.');
      }
      const limit = Number(parsed.values.get('limit') ?? 1000);
      const items: MessageSummary[] = [];
      for (let offset = 0; ; offset += 1000) {
        const page = await context.service.api.listMessages({
          folderId: folder.id,
          offset,
          limit: 1000,
          residency: residency ?? null,
        });
        items.push(...page.items);
        if (page.items.length < 1000 || items.length >= limit) break;
      }
      const store = context.service.internals.store;
      const described = items.slice(0, limit).map((item) => {
        const record = store.getMessageRecord(item.id);
        return describeMessage(
          { ...item, ...(record ? { sha256: record.sha256, localPath: record.localPath } : {}) } as MessageSummary,
          folder.path,
        );
      });
      if (context.json) return context.printJson(described);
      for (const item of described) {
        context.print(`${item.id}\t${item.residency}\t${item.date ?? ''}\t${item.from ?? ''}\t${item.subject}`);
      }
    },
  ),

  show: command('show ID [--raw]', { raw: flag }, async (parsed, context) => {
    const [id] = requirePositionals(parsed, 1, 'show ID [--raw]');
    if (parsed.flags.has('raw')) {
      const { base64 } = await context.service.api.getRawMessage({ messageId: id });
      process.stdout.write(Buffer.from(base64, 'base64'));
      return;
    }
    const detail = await context.service.api.getMessage({ messageId: id });
    if (context.json) return context.printJson(detail);
    context.print(`From: ${detail.from ? `${detail.from.name} <${detail.from.address}>` : ''}`);
    context.print(`To: ${detail.to.map((address) => address.address).join(', ')}`);
    context.print(`Date: ${detail.date ?? ''}`);
    context.print(`Subject: ${detail.subject}`);
    context.print(`Where: ${detail.residency}`);
    context.print('');
    const text = detail.parts?.find((part) => part.kind === 'text') ?? detail.parts?.[0];
    context.print(text ? text.content : '(the body is not on this computer and the server cannot be reached)');
    for (const attachment of detail.attachments)
      context.print(`[attachment] ${attachment.filename} (${formatBytes(attachment.size)})`);
  }),

  search: command('search QUERY [--account N]', { account: value, limit: value }, async (parsed, context) => {
    const query = requirePositionals(parsed, 1, 'search QUERY').join(' ');
    const accountOption = parsed.values.get('account');
    const accountId = accountOption ? (await context.service.internals.resolveAccount(accountOption)).id : null;
    const results = await context.service.api.search({
      query,
      accountId,
      limit: Number(parsed.values.get('limit') ?? 50),
    });
    if (context.json) return context.printJson(results);
    for (const item of results)
      context.print(`${item.id}\t${item.date ?? ''}\t${item.from?.address ?? ''}\t${item.subject}`);
  }),

  flag: command(
    'flag ID… [--seen|--unseen|--flagged|--unflagged] (default --flagged)',
    { seen: flag, unseen: flag, flagged: flag, unflagged: flag },
    async (parsed, context) => {
      const ids = requirePositionals(parsed, 1, 'flag ID…');
      const add: string[] = [];
      const remove: string[] = [];
      if (parsed.flags.has('seen')) add.push('\\Seen');
      if (parsed.flags.has('unseen')) remove.push('\\Seen');
      if (parsed.flags.has('flagged')) add.push('\\Flagged');
      if (parsed.flags.has('unflagged')) remove.push('\\Flagged');
      if (add.length === 0 && remove.length === 0) add.push('\\Flagged');
      await context.service.api.setFlags({ messageIds: ids, add, remove });
      if (context.json) context.printJson({ updated: ids, add, remove });
    },
  ),

  move: command('move ID… FOLDER [--account N]', { account: value }, async (parsed, context) => {
    const words = requirePositionals(parsed, 2, 'move ID… FOLDER');
    const folder = await findFolder(context, words[words.length - 1], parsed.values.get('account'));
    const ids = words.slice(0, -1);
    await context.service.api.moveMessages({ messageIds: ids, folderId: folder.id });
    if (context.json) context.printJson({ moved: ids, folder: folder.path });
  }),

  copy: command('copy ID… FOLDER [--account N]', { account: value }, async (parsed, context) => {
    const words = requirePositionals(parsed, 2, 'copy ID… FOLDER');
    const folder = await findFolder(context, words[words.length - 1], parsed.values.get('account'));
    const ids = words.slice(0, -1);
    await context.service.api.copyMessages({ messageIds: ids, folderId: folder.id });
    if (context.json) context.printJson({ copied: ids, folder: folder.path });
  }),

  delete: command('delete ID… [--server]', { server: flag }, async (parsed, context) => {
    const ids = requirePositionals(parsed, 1, 'delete ID… [--server]');
    await context.service.api.deleteMessages({ messageIds: ids, fromServer: parsed.flags.has('server') });
    if (context.json) context.printJson({ deleted: ids });
  }),

  mkdir: command(
    'mkdir NAME [--account N] [--local] [--parent FOLDER]',
    { account: value, local: flag, parent: value },
    async (parsed, context) => {
      const [name] = requirePositionals(parsed, 1, 'mkdir NAME');
      const accountId = await defaultAccountId(context, parsed.values.get('account'));
      const parentName = parsed.values.get('parent');
      const parent = parentName ? await findFolder(context, parentName, accountId) : null;
      const folder = await context.service.api.createFolder({
        accountId,
        name,
        parentId: parent?.id ?? null,
        kind: parsed.flags.has('local') ? 'local' : 'server',
      });
      if (context.json) context.printJson(folder);
      else context.print(`Created ${folder.kind} folder ${folder.path}.`);
    },
  ),

  rmdir: command('rmdir FOLDER [--account N]', { account: value }, async (parsed, context) => {
    const [name] = requirePositionals(parsed, 1, 'rmdir FOLDER');
    const folder = await findFolder(context, name, parsed.values.get('account'));
    await context.service.api.deleteFolder({ folderId: folder.id });
    if (context.json) context.printJson({ deleted: folder.path });
  }),

  rename: command('rename FOLDER NEWNAME [--account N]', { account: value }, async (parsed, context) => {
    const [name, newName] = requirePositionals(parsed, 2, 'rename FOLDER NEWNAME');
    const folder = await findFolder(context, name, parsed.values.get('account'));
    await context.service.api.renameFolder({ folderId: folder.id, name: newName });
    if (context.json) context.printJson({ renamed: folder.path, to: newName });
  }),

  upload: command(
    'upload ID… FOLDER [--account N] — copy local messages to a server folder',
    { account: value },
    async (parsed, context) => {
      const words = requirePositionals(parsed, 2, 'upload ID… FOLDER');
      const folder = await findFolder(context, words[words.length - 1], parsed.values.get('account'));
      if (folder.kind !== 'server') throw new MailError('INVALID_INPUT', `"${folder.path}" is not a server folder.`);
      const ids = words.slice(0, -1);
      await context.service.api.copyMessages({ messageIds: ids, folderId: folder.id });
      if (context.json) context.printJson({ uploaded: ids, folder: folder.path });
    },
  ),

  download: command('download ID… — bring the full messages to this computer', {}, async (parsed, context) => {
    const ids = requirePositionals(parsed, 1, 'download ID…');
    await context.service.api.downloadMessages({ messageIds: ids });
    if (context.json) context.printJson({ downloaded: ids });
  }),

  send: command(
    'send --account N --to A [--cc A] [--bcc A] --subject S --body-file F [--attach F…]',
    { account: value, to: list, cc: list, bcc: list, subject: value, 'body-file': value, attach: list },
    async (parsed, context) => {
      const accountId = await defaultAccountId(context, parsed.values.get('account'));
      const toAddresses = (name: string) => (parsed.lists.get(name) ?? []).map((address) => ({ name: '', address }));
      const attachments = await Promise.all(
        (parsed.lists.get('attach') ?? []).map(async (file) => ({
          filename: basename(file),
          contentType: 'application/octet-stream',
          contentBase64: (await readFile(file)).toString('base64'),
        })),
      );
      const item = await context.service.api.sendMessage({
        accountId,
        to: toAddresses('to'),
        cc: toAddresses('cc'),
        bcc: toAddresses('bcc'),
        subject: requireValue(parsed, 'subject'),
        text: await readFile(requireValue(parsed, 'body-file'), 'utf8'),
        attachments,
      });
      await context.service.internals.outbox.flush(accountId);
      await context.service.internals
        .engineFor(accountId)
        .syncOnce()
        .catch(() => undefined);
      const [final] = (await context.service.api.listOutbox({ accountId })).filter((entry) => entry.id === item.id);
      if (context.json) context.printJson(final ?? item);
      else context.print(`Message ${final?.state ?? item.state}${final?.lastError ? `: ${final.lastError}` : ''}.`);
      return final && (final.state === 'failed' || final.state === 'delivery-unknown') ? 1 : 0;
    },
  ),

  outbox: command('outbox [--account N]', { account: value }, async (parsed, context) => {
    const accountOption = parsed.values.get('account');
    const accountId = accountOption ? (await context.service.internals.resolveAccount(accountOption)).id : null;
    const items = await context.service.api.listOutbox({ accountId });
    if (context.json) return context.printJson(items);
    for (const item of items)
      context.print(
        `${item.id}\t${item.state}\t${item.to.join(', ')}\t${item.subject}${item.lastError ? `\t${item.lastError}` : ''}`,
      );
  }),

  switch: command(
    'switch ACCOUNT --to imap|pop3 [--upload-local FOLDER] [--leave-on-server P] [--all-folders] [--dry-run]',
    { to: value, 'upload-local': value, 'leave-on-server': value, 'all-folders': flag, 'dry-run': flag },
    async (parsed, context) => {
      const [name] = requirePositionals(parsed, 1, 'switch ACCOUNT --to imap|pop3');
      const account = await context.service.internals.resolveAccount(name);
      const to = requireValue(parsed, 'to');
      let change: ProposedChange;
      if (to === 'pop3') {
        change = {
          kind: 'switch-mode',
          to: 'pop3',
          leaveOnServer: parseLeaveOnServer(parsed.values.get('leave-on-server') ?? 'forever'),
          allFolders: parsed.flags.has('all-folders'),
        };
      } else if (to === 'imap') {
        change = { kind: 'switch-mode', to: 'imap', uploadLocalTo: parsed.values.get('upload-local') ?? null };
      } else throw new MailError('INVALID_INPUT', '--to must be imap or pop3.');
      const plan = parsed.flags.has('dry-run')
        ? await context.service.api.planChange({ accountId: account.id, change })
        : await context.service.api.switchMode({ accountId: account.id, change });
      if (context.json) return context.printJson(plan);
      context.print(
        `${parsed.flags.has('dry-run') ? 'Would' : 'Did'}: download ${plan.totals.download.count} (${formatBytes(plan.totals.download.bytes)}), upload ${plan.totals.upload.count} (${formatBytes(plan.totals.upload.bytes)}), later deleted on the server by policy ${plan.totals.deleteOnServer.count}, unreachable ${plan.totals.unreachable.count}.`,
      );
    },
  ),

  residency: command(
    'residency [--account N] [--what-if mode=pop3,leave=forever]',
    { account: value, 'what-if': value },
    async (parsed, context) => {
      const accountOption = parsed.values.get('account');
      const accountId = accountOption ? (await context.service.internals.resolveAccount(accountOption)).id : null;
      const whatIf = parsed.values.get('what-if');
      if (whatIf) {
        const targetId = accountId ?? (await defaultAccountId(context, undefined));
        const plan = await context.service.api.planChange({ accountId: targetId, change: parseWhatIf(whatIf) });
        const report = await context.service.api.getResidency({ accountId: targetId });
        if (context.json) return context.printJson({ ...report, plan });
        context.print(
          `What if ${whatIf}: download ${plan.totals.download.count}, upload ${plan.totals.upload.count}, deleted on server later ${plan.totals.deleteOnServer.count}, unreachable ${plan.totals.unreachable.count}.`,
        );
        return;
      }
      const report = await context.service.api.getResidency({ accountId });
      if (context.json) return context.printJson(report);
      for (const account of report.accounts) {
        const { server, local, both } = account.totals;
        context.print(
          `${account.accountId} (${account.mode}): server only ${server.count} (${formatBytes(server.bytes)}), here only ${local.count} (${formatBytes(local.bytes)}), both ${both.count} (${formatBytes(both.bytes)}); disk ${formatBytes(account.diskBytes)}${account.quota ? `; quota ${formatBytes(account.quota.usage)} of ${formatBytes(account.quota.limit)}` : ''}`,
        );
      }
    },
  ),

  export: command(
    'export FOLDER --format mbox|eml --out PATH [--account N]',
    { format: value, out: value, account: value },
    async (parsed, context) => {
      const [name] = requirePositionals(parsed, 1, 'export FOLDER --format mbox|eml --out PATH');
      const format = requireValue(parsed, 'format');
      if (format !== 'mbox' && format !== 'eml') throw new MailError('INVALID_INPUT', '--format must be mbox or eml.');
      const folder = await findFolder(context, name, parsed.values.get('account'));
      const result = await exportFolder(
        context.service.internals,
        folder.id,
        format,
        { path: requireValue(parsed, 'out') },
        {
          onProgress: ({ phase, done, total }) =>
            context.progress(`${phase === 'download' ? 'Downloading' : 'Exporting'} ${done}/${total}`),
        },
      );
      if (context.json) context.printJson(result);
      else
        context.print(
          `Exported ${result.exported} message(s) to ${result.path}${result.skipped > 0 ? `; ${result.skipped} whose body is not on this computer were skipped` : ''}.`,
        );
    },
  ),

  import: command(
    'import PATH --folder F [--account N]',
    { folder: value, account: value },
    async (parsed, context) => {
      const [path] = requirePositionals(parsed, 1, 'import PATH --folder F');
      const folder = await findFolder(context, requireValue(parsed, 'folder'), parsed.values.get('account'));
      const result = await importMessages(context.service, path, folder.id);
      if (context.json) context.printJson(result);
      else context.print(`Imported ${result.imported} message(s) into ${folder.path}.`);
    },
  ),
};

export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([, entry]) => `  ${entry.summary}`);
  return `Usage: whereabouts [--profile DIR] [--json] COMMAND …\n\nCommands:\n${lines.join('\n')}\n`;
}
