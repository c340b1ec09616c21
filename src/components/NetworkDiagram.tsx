import type { Config, Normalization } from '../config/schema';
import { describeNormalization, NORMALIZATION_INFO, NORMALIZATIONS } from '../config/schema';
import { useLab, useLabState } from './labContext';

const ARMS = [
  { name: 'A', field: 'normalizationA' },
  { name: 'B', field: 'normalizationB' },
] as const;

/**
 * Both arms' layers, input to output. Each hidden layer of each arm has one choice of its
 * normalization, with every value the schema knows: one select rather than switches, so that a
 * screen reader hears the layer's state by its name and no combination of switches can stand for
 * a state that does not exist. Its visible label is part of its accessible name. Any change
 * restarts the run from step 0 with the same seed, both arms, so the comparison stays fair.
 */
export function NetworkDiagram() {
  const { runner } = useLab();
  const config = useLabState((s) => s.config);

  const set = (field: (typeof ARMS)[number]['field'], layer: number, normalization: Normalization) => {
    const list: Normalization[] = config[field].map((n, i) => (i === layer ? normalization : n));
    runner.setConfig({ ...config, [field]: list } satisfies Config);
  };
  const ghost = config.ghostBatchSize === 0 ? 'the whole mini-batch' : `${config.ghostBatchSize} examples`;

  return (
    <section className="panel network" aria-labelledby="network-title">
      <h2 id="network-title">The network</h2>
      <p className="caption">
        Two copies of one {config.activation} network, same initial weights, same mini-batches. Each hidden layer normalizes as its choice says, and a change
        restarts both arms from step 0: BN before the nonlinearity, <code>g(BN(Wx))</code>, as the paper places it; noisy BN (Santurkar et al. 2018), whose
        output gets noise in training, each example its own draw from a distribution per unit whose mean and spread are redrawn at every step (the last choice
        is the noisy BN of links before v4: <code>y·s + b</code>, one <code>s</code> and <code>b</code> per unit and step); LayerNorm (Ba et al. 2016), each
        example over its own units; BN after the nonlinearity, <code>BN(g(Wx + b))</code> feeding the next layer; ghost BN (Hoffer et al. 2017), BN with the
        statistics of each virtual batch of {ghost} (the ghost batch size, under Advanced).
      </p>
      {ARMS.map(({ name, field }) => (
        <div className={`arm-row arm-${name}`} key={name} role="group" aria-label={`Arm ${name} layers`}>
          <span className="arm-label" data-testid={`arm-label-${name}`}>
            {name}: {describeNormalization(config[field])}
          </span>
          <span className="layer io">784 pixels</span>
          {config[field].map((normalization, layer) => {
            const id = `normalization-${name}-${layer}`;
            return (
              <span className="layer hidden" key={layer}>
                <span className="layer-size">
                  {config.hiddenUnits} {config.activation}
                </span>
                <label className="normalization-choice" htmlFor={id}>
                  <span className="visually-hidden">Arm {name}, </span>layer {layer + 1}
                  <span className="visually-hidden"> normalization</span>
                </label>
                <select
                  id={id}
                  className={`normalization-select ${normalization}`}
                  value={normalization}
                  onChange={(event) => set(field, layer, event.target.value as Normalization)}
                >
                  {NORMALIZATIONS.map((value) => (
                    <option key={value} value={value}>
                      {NORMALIZATION_INFO[value].label}
                    </option>
                  ))}
                </select>
              </span>
            );
          })}
          <span className="layer io">10 softmax</span>
        </div>
      ))}
    </section>
  );
}
