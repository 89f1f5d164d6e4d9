import { describe, expect, it } from 'vitest';
import { explainTaskError } from './swarm-state.js';

describe('explainTaskError', () => {
  it('says a node could not pull from the registry an image named with one, and to use --registry otherwise', () => {
    // Before, both said "deploy with --registry", also to a deploy that had used it (its registry was down).
    expect(explainTaskError('No such image: 10.77.0.1:5000/rs1-app:e186f05bc146-mx69eru1')).toBe(
      'No such image: 10.77.0.1:5000/rs1-app:e186f05bc146-mx69eru1\n    that node could not pull it from 10.77.0.1:5000: is the registry up, and reachable from that node (asrctl deploy checks it from this host only)?',
    );
    expect(explainTaskError('No such image: asrctl/rs1-app:e186f05bc146-mx69eru1')).toBe(
      'No such image: asrctl/rs1-app:e186f05bc146-mx69eru1\n    that node cannot get the image: deploy with --registry so every node pulls it',
    );
  });
});
