import { describe, expect, it } from 'vitest';
import { brief } from './brief.js';

describe('brief', () => {
  it('keeps a short message as it is', () => {
    expect(brief('the edge does not answer')).toBe('the edge does not answer');
  });

  it('puts a multi-line answer on one line and cuts its middle, saying how much was left out', () => {
    const csv = `# pxname,svname,qcur\n${'app,blue,0\n'.repeat(2000)}stats end`;
    const shown = brief(csv);
    expect(shown).not.toContain('\n');
    expect(shown.length).toBeLessThan(260);
    expect(shown).toMatch(/^# pxname,svname,qcur ⏎ app,blue,0 ⏎ .* …\(\d+ characters left out\)… .*app,blue,0 ⏎ stats end$/u);
  });
});
