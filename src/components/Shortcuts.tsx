/**
 * Keyboard shortcuts for the run (Space, S or ., R) and `?` for the dialog that lists them. They
 * stay out of the way of typing and of the controls' own keys: nothing fires while an input, a
 * select or a text area has focus, with Ctrl, Alt or Meta held, or (for Space) on a control that
 * Space already presses.
 */
import { useEffect, useRef } from 'react';
import type { Runner } from '../state/runner';
import type { LabStore } from '../state/store';

const SHORTCUTS: readonly { keys: readonly string[]; action: string }[] = [
  { keys: ['Space'], action: 'Play or pause both arms' },
  { keys: ['S', '.'], action: 'Train one step (while paused)' },
  { keys: ['R'], action: 'Reset: both arms back to step 0, same seed' },
  { keys: ['?'], action: 'Show this list' },
];

/** Where a key belongs to the element itself: typing, choosing, or pressing with Space. */
function ownsKey(target: EventTarget | null, key: string): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.closest('input, select, textarea, dialog')) return true;
  return key === ' ' && target.closest('button, summary, a[href], [role="button"]') !== null;
}

/** Listens on the window for the shortcuts; `showList` opens the dialog. */
function useShortcutKeys(store: LabStore, runner: Runner, showList: () => void): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || event.repeat) return;
      if (ownsKey(event.target, event.key)) return;
      const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      const act = {
        ' ': () => (store.getState().status === 'running' ? runner.pause() : runner.play()),
        s: () => runner.stepOnce(),
        '.': () => runner.stepOnce(),
        r: () => runner.reset(),
        '?': showList,
      }[key];
      if (!act) return;
      // Space would also scroll the page.
      event.preventDefault();
      act();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [store, runner, showList]);
}

/** The "Keyboard shortcuts" button and the dialog it opens (also opened by `?`). */
export function Shortcuts({ store, runner }: { store: LabStore; runner: Runner }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const show = useRef(() => {
    if (dialog.current && !dialog.current.open) dialog.current.showModal();
  }).current;
  useShortcutKeys(store, runner, show);
  return (
    <>
      <button type="button" aria-haspopup="dialog" onClick={show}>
        Keyboard shortcuts <kbd>?</kbd>
      </button>
      <dialog ref={dialog} className="shortcuts" aria-labelledby="shortcuts-title">
        <h2 id="shortcuts-title">Keyboard shortcuts</h2>
        <table>
          <caption className="visually-hidden">Keys and what they do</caption>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {SHORTCUTS.map(({ keys, action }) => (
              <tr key={action}>
                <td>
                  {keys.map((key, i) => (
                    <span key={key}>
                      {i > 0 && ' or '}
                      <kbd>{key}</kbd>
                    </span>
                  ))}
                </td>
                <td>{action}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="caption">
          Not while typing in a field or choosing in a list. On a focused chart the arrow keys, Home, End, Page Up and Page Down move the step cursor.
        </p>
        <form method="dialog">
          <button type="submit">Close</button>
        </form>
      </dialog>
    </>
  );
}
