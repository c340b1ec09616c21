import { useEffect, useId, useRef, useState } from 'react';
import { describeAllowed, fieldByName, formatValue, parseValue, updateConfig, type Config, type Field } from '../config/schema';
import { matchesPreset, PRESETS } from '../config/presets';
import { parse } from '../config/url';
import { useLab, useLabState } from './labContext';

type EditableField = Exclude<Field, { kind: 'normalization' }>;

type Group = { title: string; fields: EditableField['name'][] };

/** The controls, grouped as a reader of the paper thinks of them; every field comes from the schema. */
const GROUPS: Group[] = [
  { title: 'Training', fields: ['learningRate', 'momentum', 'batchSize', 'steps'] },
  { title: 'Network', fields: ['hiddenLayers', 'hiddenUnits', 'activation', 'initSigma'] },
  { title: 'Batch normalization', fields: ['inferenceStatistics', 'noiseStrength'] },
  { title: 'Measurement', fields: ['trackedUnit'] },
  { title: 'Run', fields: ['seed'] },
];

/** Choices that matter to an expert re-running the experiment, not to a first look: folded away. */
const ADVANCED_GROUPS: Group[] = [
  { title: 'Batch normalization', fields: ['epsilon', 'movingAverageDecay', 'populationBatches', 'ghostBatchSize'] },
  { title: 'Measurement', fields: ['metricsInterval', 'santurkarInterval', 'probeSize'] },
  { title: 'Engine', fields: ['backend', 'gradients'] },
];

function FieldGroup({ group }: { group: Group }) {
  return (
    <fieldset>
      <legend>{group.title}</legend>
      {group.fields.map((name) => (
        <FieldControl key={name} field={fieldByName(name) as EditableField} />
      ))}
    </fieldset>
  );
}

/**
 * A select that commits a choice made with the pointer at once, but one made by arrow keys on the
 * closed list (which change the value at every press) only on Enter or when focus leaves: every
 * commit restarts the run, and walking through the options must not restart it at each step.
 */
function SelectControl({
  id,
  field,
  value,
  commit,
}: {
  id: string;
  field: Extract<EditableField, { kind: 'enum' }>;
  value: string;
  commit: (raw: string) => void;
}) {
  const [shown, setShown] = useState(value);
  const keyHeld = useRef(false);
  useEffect(() => setShown(value), [value]);
  const pending = shown !== value;
  return (
    <>
      <select
        id={id}
        value={shown}
        aria-describedby={pending ? `${id}-pending` : undefined}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit(e.currentTarget.value);
          else keyHeld.current = true;
        }}
        onKeyUp={() => (keyHeld.current = false)}
        // A key pressed here whose release lands elsewhere (Tab) must not hold a later pointer choice back.
        onFocus={() => (keyHeld.current = false)}
        onChange={(e) => {
          setShown(e.target.value);
          if (!keyHeld.current) commit(e.target.value);
        }}
        onBlur={(e) => e.target.value !== value && commit(e.target.value)}
      >
        {field.values.map((v) => (
          <option key={v} value={v}>
            {field.valueLabels[v] ?? v}
          </option>
        ))}
      </select>
      {pending && (
        <span className="field-hint" id={`${id}-pending`}>
          Enter or leaving the list applies it
        </span>
      )}
    </>
  );
}

/**
 * One field: a number box that applies on Enter or when it loses focus (not per keystroke: each
 * change restarts the run), or a select. Text that is not a valid value is refused with the reason.
 */
function FieldControl({ field }: { field: EditableField }) {
  const { runner } = useLab();
  const config = useLabState((s) => s.config);
  const value = config[field.name];
  const id = useId();
  const [text, setText] = useState(formatValue(field, value));
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => setText(formatValue(field, value)), [field, value]);

  const apply = (raw: string) => {
    const parsed = parseValue(field, raw.trim());
    if ('reason' in parsed) {
      setMessage(`${parsed.reason}; allowed: ${describeAllowed(field)}`);
      setText(formatValue(field, value));
      return;
    }
    const { config: next, problems } = updateConfig(config, { [field.name]: parsed.value } as Partial<Config>);
    // A change can move another field too (fewer units than the tracked unit): say which, here,
    // where the user is looking.
    const said = problems.map((p) =>
      p.field === field.name || p.field === null ? `${p.reason}; used ${p.used}` : `${fieldByName(p.field).label}: ${p.reason}; used ${p.used}`,
    );
    setMessage(said.length > 0 ? said.join('. ') : null);
    if (formatValue(field, next[field.name]) !== formatValue(field, value)) runner.setConfig(next);
    else setText(formatValue(field, value));
  };

  return (
    <div className={field.kind === 'enum' ? 'field field-select' : 'field'}>
      <label htmlFor={id} title={field.help}>
        {field.label}
        {field.unit && <span className="unit"> ({field.unit})</span>}
      </label>
      {field.kind === 'enum' ? (
        <SelectControl id={id} field={field} value={String(value)} commit={apply} />
      ) : (
        <input
          id={id}
          type="text"
          inputMode="decimal"
          value={text}
          aria-describedby={message ? `${id}-message` : undefined}
          onChange={(e) => setText(e.target.value)}
          // Leaving a field that was not edited since its last apply must not clear that apply's message.
          onBlur={(e) => e.target.value !== formatValue(field, value) && apply(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && apply(e.currentTarget.value)}
        />
      )}
      {field.name === 'seed' && (
        <button type="button" onClick={() => apply(String(Math.floor(Math.random() * 2 ** 31)))}>
          New seed
        </button>
      )}
      {message && (
        <span className="field-message" id={`${id}-message`} role="status">
          {message}
        </span>
      )}
    </div>
  );
}

export function Transport() {
  const { runner } = useLab();
  const status = useLabState((s) => s.status);
  const running = status === 'running';
  return (
    <div className="transport" role="group" aria-label="Run controls">
      <button type="button" className="primary" onClick={() => (running ? runner.pause() : runner.play())}>
        {running ? 'Pause' : 'Play'}
      </button>
      {/* Pressed while the data and backend load, Step is taken as soon as both arms are ready. */}
      <button type="button" onClick={() => runner.stepOnce()} disabled={status !== 'paused' && status !== 'loading'}>
        Step
      </button>
      <button type="button" onClick={() => runner.reset()}>
        Reset
      </button>
    </div>
  );
}

function Presets() {
  const { runner, store } = useLab();
  const config = useLabState((s) => s.config);
  return (
    <div className="presets" role="group" aria-label="Presets">
      {PRESETS.map((preset) => (
        <button
          type="button"
          key={preset.id}
          title={preset.description}
          aria-pressed={matchesPreset(preset, config)}
          onClick={() => {
            store.setState({ problems: [] });
            runner.setConfig(parse(preset.query).config);
          }}
        >
          {preset.title}
        </button>
      ))}
    </div>
  );
}

export function Controls() {
  return (
    <section className="panel controls" aria-labelledby="controls-title">
      <h2 id="controls-title">Experiment</h2>
      <Presets />
      {GROUPS.map((group) => (
        <FieldGroup key={group.title} group={group} />
      ))}
      <details className="advanced">
        <summary>Advanced</summary>
        {ADVANCED_GROUPS.map((group) => (
          <FieldGroup key={group.title} group={group} />
        ))}
      </details>
      <p className="caption">Every change restarts both arms from step 0 with the same seed, so the comparison stays fair.</p>
    </section>
  );
}
