/** One server's connection settings: name, port, security, and the explicit plaintext consent. */
import type { Security } from '../../../../shared/model';
import { Field, TextField } from '../../components/field';
import { formatFingerprint } from '../../components/format';
import {
  DEFAULT_PORTS,
  SERVER_LABELS,
  withSecurity,
  type EndpointForm,
  type FieldErrors,
  type ServerRole,
} from './setup-form';

const SECURITY_LABELS: Record<Security, string> = {
  tls: 'TLS (encrypted from the start)',
  starttls: 'STARTTLS (encrypted after connecting)',
  none: 'None — unencrypted',
};

export function ServerFields({
  role,
  value,
  onChange,
  errors,
  legend,
}: {
  role: ServerRole;
  value: EndpointForm;
  onChange(next: EndpointForm): void;
  errors: FieldErrors;
  legend?: string;
}) {
  const label = SERVER_LABELS[role];
  return (
    <fieldset className="server-fields">
      <legend>{legend ?? `${label} server`}</legend>
      <div className="server-fields__row">
        <TextField
          label="Server name"
          error={errors[`${role}.host`]}
          className="server-fields__host"
          value={value.host}
          onChange={(host) => onChange({ ...value, host })}
          input={{
            type: 'text',
            inputMode: 'url',
            autoComplete: 'off',
            spellCheck: false,
            placeholder:
              role === 'smtp' ? 'smtp.example.org' : role === 'pop3' ? 'pop.example.org' : 'imap.example.org',
          }}
        />
        <TextField
          label="Port"
          error={errors[`${role}.port`]}
          className="server-fields__port"
          value={value.port}
          onChange={(port) => onChange({ ...value, port })}
          input={{ type: 'text', inputMode: 'numeric' }}
        />
      </div>
      <Field
        label="Security"
        hint={value.security === 'tls' ? undefined : `Usual port: ${DEFAULT_PORTS[role][value.security]}.`}
      >
        {(control) => (
          <select
            {...control}
            className="input"
            value={value.security}
            onChange={(event) => onChange(withSecurity(role, value, event.target.value as Security))}
          >
            {(Object.keys(SECURITY_LABELS) as Security[]).map((security) => (
              <option key={security} value={security}>
                {SECURITY_LABELS[security]}
              </option>
            ))}
          </select>
        )}
      </Field>
      {value.security === 'none' && (
        <label className="checkbox checkbox--warning">
          <input
            type="checkbox"
            checked={value.allowPlaintext}
            onChange={(event) => onChange({ ...value, allowPlaintext: event.target.checked })}
          />
          <span>
            Allow sending my password unencrypted to this server. Anyone on the network could read it; choose this only
            if the server offers nothing else.
          </span>
        </label>
      )}
      {value.pinnedFingerprint !== null && value.security !== 'none' && (
        <div className="pinned">
          <p>
            Trusted certificate (SHA-256):{' '}
            <code className="fingerprint">{formatFingerprint(value.pinnedFingerprint)}</code>
          </p>
          <button
            type="button"
            className="button button--small"
            onClick={() => onChange({ ...value, pinnedFingerprint: null })}
          >
            Stop trusting this certificate
          </button>
        </div>
      )}
    </fieldset>
  );
}
