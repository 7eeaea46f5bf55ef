/** The two ways to keep mail, side by side, each with its one-line consequence (SEMANTICS.md). */
import type { ProtocolMode } from '../../../../shared/model';
import { Icon } from '../../components/icons';
import { MODE_EXPLANATIONS } from './setup-form';

export function ModeChoice({
  value,
  onChange,
  available = ['imap', 'pop3'],
  providerName = null,
}: {
  value: ProtocolMode;
  onChange(mode: ProtocolMode): void;
  /** The modes the provider offers; the others are shown, disabled, with the reason. */
  available?: readonly ProtocolMode[];
  providerName?: string | null;
}) {
  return (
    <fieldset className="mode-choice">
      <legend>How should Whereabouts keep this account’s mail?</legend>
      <div className="mode-choice__options">
        {(['imap', 'pop3'] as const).map((mode) => {
          const text = MODE_EXPLANATIONS[mode];
          const offered = available.includes(mode);
          return (
            <label
              key={mode}
              className={`mode-card ${value === mode ? 'mode-card--selected' : ''} ${offered ? '' : 'mode-card--unavailable'}`}
            >
              <input
                type="radio"
                name="account-mode"
                value={mode}
                checked={value === mode}
                disabled={!offered}
                onChange={() => onChange(mode)}
              />
              <span className="mode-card__icon">
                <Icon name={mode === 'imap' ? 'server' : 'computer'} size={22} />
              </span>
              <span className="mode-card__title">{text.title}</span>
              <span className="mode-card__summary">{text.summary}</span>
              <span className="mode-card__detail">
                {offered ? text.detail : `${providerName ?? 'This provider'} does not offer ${mode.toUpperCase()}.`}
              </span>
            </label>
          );
        })}
      </div>
      <p className="field__hint">You can switch later without losing a message.</p>
    </fieldset>
  );
}
