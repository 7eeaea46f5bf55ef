/**
 * Folders as the sidebar shows them: server folders first (the inbox, then special folders in a
 * fixed order, then the rest by name), nested by their hierarchy delimiter; local folders apart.
 */
import type { FolderRole, FolderView } from '../../../../shared/model';

export interface FolderNode {
  folder: FolderView;
  depth: number;
}

const ROLE_ORDER: Record<FolderRole, number> = {
  inbox: 0,
  drafts: 1,
  sent: 2,
  outbox: 3,
  archive: 4,
  junk: 5,
  trash: 6,
};

function compare(left: FolderView, right: FolderView): number {
  const leftRole = left.role === null ? 99 : ROLE_ORDER[left.role];
  const rightRole = right.role === null ? 99 : ROLE_ORDER[right.role];
  if (leftRole !== rightRole) return leftRole - rightRole;
  return left.path.localeCompare(right.path, undefined, { sensitivity: 'base', numeric: true });
}

/** Depth-first order with depth, so a flat list can indent; a child follows its parent. */
export function folderTree(folders: FolderView[], kind: FolderView['kind']): FolderNode[] {
  const ofKind = folders.filter((folder) => folder.kind === kind);
  const byPath = new Map(ofKind.map((folder) => [folder.path, folder]));
  const children = new Map<string | null, FolderView[]>();
  for (const folder of ofKind) {
    const cut = folder.delimiter === '' ? -1 : folder.path.lastIndexOf(folder.delimiter);
    const parentPath = cut > 0 ? folder.path.slice(0, cut) : null;
    const parent = parentPath !== null && byPath.has(parentPath) ? parentPath : null;
    const list = children.get(parent) ?? [];
    list.push(folder);
    children.set(parent, list);
  }
  const result: FolderNode[] = [];
  const visit = (parent: string | null, depth: number) => {
    for (const folder of (children.get(parent) ?? []).sort(compare)) {
      result.push({ folder, depth });
      visit(folder.path, depth + 1);
    }
  };
  visit(null, 0);
  return result;
}

export function archiveFolder(folders: FolderView[]): FolderView | null {
  return folders.find((folder) => folder.role === 'archive') ?? null;
}

export function inboxFolder(folders: FolderView[]): FolderView | null {
  return (
    folders.find((folder) => folder.role === 'inbox') ??
    folders.find((folder) => folder.path.toUpperCase() === 'INBOX') ??
    null
  );
}

/** "INBOX" is the protocol's name (RFC 3501 section 5.1); people read "Inbox". */
export function folderLabel(folder: FolderView): string {
  return folder.role === 'inbox' && folder.name.toUpperCase() === 'INBOX' ? 'Inbox' : folder.name;
}
