/** The POP3 leave-a-copy policy (SEMANTICS S10): off, forever, N days, or until deleted here. */
import type { LeaveOnServer } from '../../../../shared/model';
import { TextField } from '../../components/field';
import { LEAVE_ON_SERVER_LABELS, type FieldErrors, type LeaveOnServerForm } from './setup-form';

export function LeaveOnServerField({
  value,
  onChange,
  errors,
}: {
  value: LeaveOnServerForm;
  onChange(next: LeaveOnServerForm): void;
  errors: FieldErrors;
}) {
  return (
    <fieldset className="choice-list">
      <legend>After downloading a message</legend>
      {(Object.keys(LEAVE_ON_SERVER_LABELS) as LeaveOnServer['kind'][]).map((kind) => (
        <label key={kind} className="radio">
          <input
            type="radio"
            name="leave-on-server"
            value={kind}
            checked={value.kind === kind}
            onChange={() => onChange({ ...value, kind })}
          />
          <span>{LEAVE_ON_SERVER_LABELS[kind]}</span>
        </label>
      ))}
      {value.kind === 'days' && (
        <TextField
          label="Days to keep the copy on the server"
          error={errors['leave.days']}
          className="field--narrow"
          value={value.days}
          onChange={(days) => onChange({ ...value, days })}
          input={{ type: 'text', inputMode: 'numeric' }}
        />
      )}
    </fieldset>
  );
}
