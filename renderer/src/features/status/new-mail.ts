/**
 * New mail: a system notification when the user has already allowed them (we never ask on our
 * own), otherwise a toast in the window.
 */
import type { MailEvents } from '../../../../shared/api';
import { plural } from '../../components/format';
import type { ToastInput } from '../../components/toast';

export function announceNewMail(
  payload: MailEvents['newMail'],
  accountName: string,
  showToast: (toast: ToastInput) => void,
  onOpen: () => void,
): void {
  const title = `${plural(payload.count, 'new message', 'new messages')} for ${accountName}`;
  const body = payload.subjects.slice(0, 3).join('\n') || null;
  if (typeof Notification !== 'undefined' && Notification.permission === 'granted') {
    const notification = new Notification(title, { body: body ?? undefined, tag: `new-mail-${payload.accountId}` });
    notification.onclick = () => {
      window.focus();
      onOpen();
    };
    return;
  }
  showToast({ kind: 'info', title, body, action: { label: 'Show', run: onOpen } });
}
