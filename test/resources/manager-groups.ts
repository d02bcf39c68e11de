import { parseHaresources as parse } from '../../lib/config/haresources/parse.js';
import type { ResourceGroup } from '../../lib/config/haresources/parse.js';

export function parseHaresources(text: string): readonly ResourceGroup[] {
  return parse(text, 'haresources', { nodes: ['node1', 'node2'] }).config.groups;
}
