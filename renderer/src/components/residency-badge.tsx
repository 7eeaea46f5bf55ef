/**
 * Where a message lives, as an icon and a word (never colour alone): on the server only, on this
 * computer only, or both (SEMANTICS S14).
 */
import type { Residency } from '../../../shared/model';
import { Icon, type IconName } from './icons';

export const RESIDENCY_TEXT: Record<Residency, { short: string; long: string; icon: IconName }> = {
  server: {
    short: 'Server',
    long: 'Only on the server: just the headers are on this computer',
    icon: 'server',
  },
  local: { short: 'Here', long: 'Only on this computer: the server has no copy', icon: 'computer' },
  both: { short: 'Both', long: 'On the server and on this computer', icon: 'both' },
};

export function ResidencyBadge({ residency, compact = false }: { residency: Residency; compact?: boolean }) {
  const text = RESIDENCY_TEXT[residency];
  return (
    <span className={`residency residency--${residency}`} title={text.long}>
      <Icon name={text.icon} size={14} />
      {compact ? <span className="visually-hidden">{text.long}</span> : <span>{text.short}</span>}
      {!compact && <span className="visually-hidden">: {text.long}</span>}
    </span>
  );
}
