import { useRef, useState } from 'react';

export interface ExportChoice {
  /** Visible text of the choice, e.g. "PNG". */
  text: string;
  /** Its accessible name, which holds the visible text (e.g. "PNG of Figure 1(a)"). */
  name: string;
  /** Builds the file and hands it to the browser; a rejection is shown beside the menu. */
  save: () => Promise<void>;
}

/**
 * A small "Export" disclosure beside a chart or the run: a native <details>, so it opens with the
 * keyboard and a screen reader announces its state without any script of ours.
 */
export function ExportMenu({ what, choices, testId }: { what: string; choices: ExportChoice[]; testId?: string }) {
  const [message, setMessage] = useState<string | null>(null);
  const details = useRef<HTMLDetailsElement>(null);
  const run = async (choice: ExportChoice) => {
    setMessage(null);
    try {
      await choice.save();
      details.current!.open = false;
    } catch (error) {
      setMessage(`Export failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  return (
    <details ref={details} className="export-menu" data-testid={testId}>
      <summary aria-label={`Export ${what}`}>Export</summary>
      <div className="export-choices">
        {choices.map((choice) => (
          <button key={choice.text} type="button" aria-label={choice.name} onClick={() => void run(choice)}>
            {choice.text}
          </button>
        ))}
        <span role="status" aria-live="polite">
          {message}
        </span>
      </div>
    </details>
  );
}
