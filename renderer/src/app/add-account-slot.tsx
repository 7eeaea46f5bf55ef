/**
 * Where the account setup feature mounts. Until it exists the screen says so honestly and offers
 * the way back.
 */
export function AddAccountSlot({ onBack }: { onBack(): void }) {
  return (
    <main className="empty-state" aria-labelledby="add-account-title">
      <div className="empty-state__content">
        <h1 id="add-account-title">Add an account</h1>
        <p className="empty-state__lead">Account setup is not part of this build of Whereabouts yet.</p>
        <button type="button" className="button" onClick={onBack} autoFocus>
          Back
        </button>
      </div>
    </main>
  );
}
