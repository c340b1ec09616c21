import { useLab, useLabState } from './labContext';

/**
 * What was wrong with the link and what was used instead. Values from the URL are rendered as text
 * by React (never as HTML), already shortened by the parser.
 */
export function Notices() {
  const { store, runner } = useLab();
  const problems = useLabState((s) => s.problems);
  const linkNotices = useLabState((s) => s.linkNotices);
  const error = useLabState((s) => s.error);
  return (
    <>
      {error && (
        <div className="notice error" role="alert">
          <p>{error}</p>
          <p>Your settings are kept.</p>
          <button type="button" onClick={() => runner.restart(false)}>
            Restart training
          </button>
        </div>
      )}
      {linkNotices.length > 0 && (
        <div className="notice" role="status" aria-label="About this link">
          {linkNotices.map((notice) => (
            <p key={notice}>{notice}</p>
          ))}
          <button type="button" onClick={() => store.setState({ linkNotices: [] })}>
            Dismiss
          </button>
        </div>
      )}
      {problems.length > 0 && (
        <div className="notice" role="alert" aria-label="Problems with the link">
          <p>Some settings in the link could not be used:</p>
          <ul>
            {problems.map((problem, i) => (
              <li key={`${problem.key}-${i}`}>
                <code>{problem.key}</code>: {problem.reason} (received <q>{problem.received}</q>, used {problem.used})
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => store.setState({ problems: [] })}>
            Dismiss
          </button>
        </div>
      )}
    </>
  );
}
