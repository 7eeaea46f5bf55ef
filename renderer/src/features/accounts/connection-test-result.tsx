/**
 * What the connection test found, per server, in words: and for a certificate this computer does
 * not trust, its fingerprint and the choice to trust exactly that certificate.
 */
import type { ConnectionTestResult } from '../../../../shared/api';
import type { ErrorPayload } from '../../../../shared/errors';
import { describeError } from '../../api/error-text';
import { formatFingerprint } from '../../components/format';
import { Icon } from '../../components/icons';

const CERTIFICATE_CODES = new Set(['CERT_UNTRUSTED', 'CERT_HOSTNAME_MISMATCH', 'CERT_EXPIRED']);

export function ConnectionTestResultView({
  result,
  incomingLabel,
  onTrust,
}: {
  result: ConnectionTestResult;
  incomingLabel: string;
  onTrust(server: 'incoming' | 'smtp', fingerprint: string): void;
}) {
  return (
    <ul className="test-results" aria-label="Connection test results">
      <TestRow label={incomingLabel} outcome={result.incoming} onTrust={(print) => onTrust('incoming', print)} />
      {result.smtp === null ? (
        <li className="test-result test-result--skipped">
          <Icon name="sent" />
          <div>
            <p className="test-result__title">Outgoing mail (SMTP) was not tested.</p>
          </div>
        </li>
      ) : (
        <TestRow label="Outgoing mail (SMTP)" outcome={result.smtp} onTrust={(print) => onTrust('smtp', print)} />
      )}
    </ul>
  );
}

function TestRow({
  label,
  outcome,
  onTrust,
}: {
  label: string;
  outcome: { ok: true } | { ok: false; error: ErrorPayload };
  onTrust(fingerprint: string): void;
}) {
  if (outcome.ok) {
    return (
      <li className="test-result test-result--ok">
        <Icon name="check" />
        <div>
          <p className="test-result__title">{label}: connected and signed in.</p>
        </div>
      </li>
    );
  }
  const text = describeError(outcome.error);
  const fingerprint = outcome.error.details?.fingerprint;
  return (
    <li className="test-result test-result--error">
      <Icon name="warning" />
      <div>
        <p className="test-result__title">
          {label}: {text.title}
        </p>
        {text.advice && <p className="test-result__advice">{text.advice}</p>}
        {text.detail && <p className="test-result__detail">{text.detail}</p>}
        {fingerprint !== undefined && CERTIFICATE_CODES.has(outcome.error.code) && (
          <div className="trust">
            <p>
              The server presented a certificate with this SHA-256 fingerprint:
              <code className="fingerprint fingerprint--block">{formatFingerprint(fingerprint)}</code>
            </p>
            <button type="button" className="button" onClick={() => onTrust(fingerprint)}>
              <Icon name="lock" /> Trust this certificate and test again
            </button>
          </div>
        )}
      </div>
    </li>
  );
}
