import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  stateDiagram,
  stateDiagramsMarkdown,
  TRANSITIONS,
} from '../../src/modules/marketplace/transitions.js';

const DOC = readFileSync(new URL('../../docs/marketplace.md', import.meta.url), 'utf8');
const START = '<!-- state diagrams: generated from src/modules/marketplace/transitions.ts -->\n';
const END = '\n<!-- end of state diagrams -->';

describe('docs/marketplace.md', () => {
  it('holds the state diagrams generated from the transition table, unchanged', () => {
    const from = DOC.indexOf(START);
    const to = DOC.indexOf(END);
    expect(from, 'the start marker').toBeGreaterThanOrEqual(0);
    expect(to, 'the end marker').toBeGreaterThan(from);
    expect(
      DOC.slice(from + START.length, to),
      'regenerate the section with stateDiagramsMarkdown()',
    ).toBe(stateDiagramsMarkdown());
  });

  it('draws every transition of the table as an edge from each of its from-states', () => {
    for (const transition of Object.values(TRANSITIONS)) {
      const diagram = stateDiagram(transition.entity);
      const verb = transition.name.split('.')[1];
      const sources = transition.from.length === 0 ? ['[*]'] : transition.from;
      for (const from of sources) {
        expect(diagram).toContain(`${from} --> ${transition.to}: ${verb} (`);
      }
    }
  });
});
