import { useRef, useState } from 'react';
import type { ExportChoice } from './exportFiles';

/**
 * A small "Export" disclosure beside a chart or the run: a native <details>, so it opens with the
 * keyboard and a screen reader announces its state without any script of ours.
 */
export function ExportMenu({ what, choices, testId, text = 'Export' }: { what: string; choices: ExportChoice[]; testId?: string; text?: string }) {
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
      {/* The name begins with the visible words, so speech input ("click Export") finds it. */}
      <summary aria-label={`Export ${what}`}>{text}</summary>
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
