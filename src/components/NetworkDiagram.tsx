import type { Config, Normalization } from '../config/schema';
import { describeNormalization, isBatchNormalized } from '../config/schema';
import { useLab, useLabState } from './labContext';

const ARMS = [
  { name: 'A', field: 'normalizationA' },
  { name: 'B', field: 'normalizationB' },
] as const;

/**
 * Both arms' layers, input to output. Each hidden layer has three states per arm, set by two
 * switches: BN (off / on) and, on a BN layer, noise after it (Santurkar et al.'s noisy BN). Two
 * pressed/unpressed buttons rather than one three-way cycle, so a screen reader hears each state
 * by its name and one press never lands on a state the user did not ask for. Any change restarts
 * the run from step 0 with the same seed, both arms, so the comparison stays fair.
 */
export function NetworkDiagram() {
  const { runner } = useLab();
  const config = useLabState((s) => s.config);

  const set = (field: (typeof ARMS)[number]['field'], layer: number, normalization: Normalization) => {
    const list: Normalization[] = config[field].map((n, i) => (i === layer ? normalization : n));
    runner.setConfig({ ...config, [field]: list } satisfies Config);
  };

  return (
    <section className="panel network" aria-labelledby="network-title">
      <h2 id="network-title">The network</h2>
      <p className="caption">
        Two copies of one {config.activation} network, same initial weights, same mini-batches. A switch puts batch
        normalization before that layer&apos;s nonlinearity, <code>g(BN(Wx))</code>, and restarts both arms from step 0.
        &ldquo;Noise&rdquo; makes it noisy BN (Santurkar et al. 2018): in training, each unit&apos;s BN output{' '}
        <code>y</code> becomes <code>y·s + b</code>, with <code>s</code> and <code>b</code> redrawn at every step.
      </p>
      {ARMS.map(({ name, field }) => (
        <div className={`arm-row arm-${name}`} key={name} role="group" aria-label={`Arm ${name} layers`}>
          <span className="arm-label" data-testid={`arm-label-${name}`}>
            {name}: {describeNormalization(config[field])}
          </span>
          <span className="layer io">784 pixels</span>
          {config[field].map((normalization, layer) => (
            <span className="layer hidden" key={layer}>
              <span className="layer-size">
                {config.hiddenUnits} {config.activation}
              </span>
              <button
                type="button"
                className={`bn-switch ${isBatchNormalized(normalization) ? 'on' : 'off'}`}
                aria-pressed={isBatchNormalized(normalization)}
                aria-label={`Arm ${name}, hidden layer ${layer + 1}: batch normalization`}
                onClick={() => set(field, layer, isBatchNormalized(normalization) ? 'none' : 'batchnorm')}
              >
                BN {isBatchNormalized(normalization) ? 'on' : 'off'}
              </button>
              <button
                type="button"
                className={`bn-switch noise-switch ${normalization === 'noisy' ? 'on' : 'off'}`}
                aria-pressed={normalization === 'noisy'}
                aria-label={`Arm ${name}, hidden layer ${layer + 1}: noise after BN`}
                title={isBatchNormalized(normalization) ? 'Noise after BN, redrawn at every training step' : 'Noise goes after BN: switch BN on first'}
                disabled={!isBatchNormalized(normalization)}
                onClick={() => set(field, layer, normalization === 'noisy' ? 'batchnorm' : 'noisy')}
              >
                noise {normalization === 'noisy' ? 'on' : 'off'}
              </button>
            </span>
          ))}
          <span className="layer io">10 softmax</span>
        </div>
      ))}
    </section>
  );
}
