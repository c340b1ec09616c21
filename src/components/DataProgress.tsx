import { useLabState } from './labContext';

const megabytes = (bytes: number) => (bytes / 1e6).toFixed(1);

/**
 * The digits' download while it runs: a labelled progress bar and its value as text. Gone once the
 * digits are in; a failed download is reported by the notices (with the button to try again).
 */
export function DataProgress() {
  const data = useLabState((state) => state.data);
  if (data.status !== 'loading') return null;
  const { loadedBytes, totalBytes } = data;
  const text =
    totalBytes === null
      ? `Loading MNIST digits: ${megabytes(loadedBytes)} MB`
      : `Loading MNIST digits: ${megabytes(loadedBytes)} of ${megabytes(totalBytes)} MB`;
  return (
    <div className="data-progress">
      <label htmlFor="data-progress">{text}</label> {/* Without a max the bar is indeterminate: the size is unknown, so there is no share to show. */}
      {totalBytes === null ? (
        <progress id="data-progress" aria-valuetext={text} />
      ) : (
        <progress
          id="data-progress"
          max={totalBytes}
          value={loadedBytes}
          aria-valuemin={0}
          aria-valuemax={totalBytes}
          aria-valuenow={loadedBytes}
          aria-valuetext={text}
        />
      )}
    </div>
  );
}
