import type { Config, Normalization } from '../config/schema';
import { describeNormalization } from '../config/schema';
import { useLab, useLabState } from './labContext';

const ARMS = [
  { name: 'A', field: 'normalizationA' },
  { name: 'B', field: 'normalizationB' },
] as const;

/**
 * Both arms' layers, input to output. Each hidden layer carries a BN switch per arm; flipping one
 * restarts the run from step 0 with the same seed, both arms, so the comparison stays fair.
 */
export function NetworkDiagram() {
  const { runner } = useLab();
  const config = useLabState((s) => s.config);

  const toggle = (field: (typeof ARMS)[number]['field'], layer: number) => {
    const list: Normalization[] = config[field].map((n, i) => (i === layer ? (n === 'batchnorm' ? 'none' : 'batchnorm') : n));
    runner.setConfig({ ...config, [field]: list } satisfies Config);
  };

  return (
    <section className="panel network" aria-labelledby="network-title">
      <h2 id="network-title">The network</h2>
      <p className="caption">
        Two copies of one {config.activation} network, same initial weights, same mini-batches. A switch puts batch
        normalization before that layer&apos;s nonlinearity, <code>g(BN(Wx))</code>, and restarts both arms from step 0.
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
                className={`bn-switch ${normalization === 'batchnorm' ? 'on' : 'off'}`}
                aria-pressed={normalization === 'batchnorm'}
                aria-label={`Arm ${name}, hidden layer ${layer + 1}: batch normalization`}
                onClick={() => toggle(field, layer)}
              >
                BN {normalization === 'batchnorm' ? 'on' : 'off'}
              </button>
            </span>
          ))}
          <span className="layer io">10 softmax</span>
        </div>
      ))}
    </section>
  );
}
