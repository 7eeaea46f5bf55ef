/** The "?" overlay: every keyboard shortcut, from the same table the key handler uses. */
import { Modal } from '../../components/dialog';
import { SHORTCUTS } from './shortcuts';

export function HelpOverlay({ onClose }: { onClose(): void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose} size="small">
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map((shortcut) => (
            <tr key={shortcut.command}>
              <th scope="row">
                {shortcut.keys.map((key, index) => (
                  <span key={key}>
                    {index > 0 && <span className="muted"> or </span>}
                    <kbd>{key}</kbd>
                  </span>
                ))}
              </th>
              <td>{shortcut.description}</td>
            </tr>
          ))}
          <tr>
            <th scope="row">
              <kbd>Shift</kbd> + <kbd>↑</kbd>/<kbd>↓</kbd>, <kbd>Shift</kbd>-click
            </th>
            <td>Select a range of messages</td>
          </tr>
          <tr>
            <th scope="row">
              <kbd>Ctrl</kbd>-click, <kbd>Space</kbd>
            </th>
            <td>Add a message to the selection, or take it out</td>
          </tr>
          <tr>
            <th scope="row">
              <kbd>Ctrl</kbd> + <kbd>Enter</kbd>
            </th>
            <td>Send the message you are writing</td>
          </tr>
        </tbody>
      </table>
    </Modal>
  );
}
