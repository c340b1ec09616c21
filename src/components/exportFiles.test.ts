import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/schema';
import { parse } from '../config/url';
import { exportFileName, latestStep } from './exportFiles';

describe('exportFileName', () => {
  it("names a run's file by the link's short query and the latest step", () => {
    const { config } = parse('?lr=5&sigma=1');
    expect(exportFileName(config, 2000, 'csv')).toBe('covariate-shift-lab_sigma=1_lr=5_step-2000.csv');
  });

  it('names a run at the defaults by its step alone, and a chart by what it shows', () => {
    expect(exportFileName(DEFAULT_CONFIG, 300, 'json')).toBe('covariate-shift-lab_step-300.json');
    expect(exportFileName(DEFAULT_CONFIG, 300, 'png', 'bands-0-A')).toBe('covariate-shift-lab_step-300_bands-0-A.png');
  });

  it('keeps a normalization list readable and leaves no character a file system refuses', () => {
    const { config } = parse('?bnA=1,1,1&bnB=0,0,1');
    const name = exportFileName(config, 10, 'svg', 'Figure 1 (a)/accuracy');
    expect(name).toBe('covariate-shift-lab_bnA=1,1,1_bnB=0,0,1_step-10_Figure-1-a-accuracy.svg');
    expect(name).not.toMatch(/[\\/:*?"<>|& ]/);
  });
});

describe('latestStep', () => {
  it('is the last step either arm recorded, 0 before any record', () => {
    const series = (steps: number[]) => ({ steps: () => steps });
    expect(latestStep({ series: [series([0, 100]), series([0, 100, 200])] })).toBe(200);
    expect(latestStep({ series: [series([]), series([])] })).toBe(0);
  });
});
