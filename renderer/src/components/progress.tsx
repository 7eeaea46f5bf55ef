/** A progress bar: determinate when the total is known, indeterminate before. Native, so it is announced. */
export function ProgressBar({ value, maximum, label }: { value: number; maximum: number; label: string }) {
  const known = maximum > 0;
  return (
    <progress
      className="progress"
      aria-label={label}
      max={known ? maximum : undefined}
      value={known ? Math.min(value, maximum) : undefined}
    />
  );
}
