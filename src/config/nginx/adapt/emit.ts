// The adapted config as YAML text: what `gatehouse adapt` prints and what `run`/`check` on a .conf
// read through the native pipeline, so both give the same Config. Each site and route is preceded by
// the `FILE:LINE` of its server or location block.
import { Document, isMap, isSeq, type Node } from 'yaml';
import type { RawConfig } from '../../schema.js';
import type { SourcePos } from '../../types.js';
import type { AdaptCtx } from './context.js';

export function emitYaml(origins: AdaptCtx['origins'], raw: RawConfig, header: string): string {
  const doc = new Document(raw, { keepUndefined: false });
  doc.commentBefore = header;
  for (const { path, pos } of origins) {
    const last = path[path.length - 1];
    const isBlock = typeof last === 'number' && (path[path.length - 2] === 'sites' || path[path.length - 2] === 'routes');
    if (!isBlock) continue;
    const node = doc.getIn(path, true) as Node | undefined;
    if (!node || !isMap(node)) continue;
    node.commentBefore = ` ${where(pos)}`;
  }
  for (const pair of isMap(doc.contents) ? doc.contents.items : []) {
    const value = pair.value as Node | null;
    if (isSeq(value) || isMap(value)) value.spaceBefore = false;
  }
  return doc.toString({ lineWidth: 0, singleQuote: true });
}

function where(pos: SourcePos): string {
  return `${pos.file}:${pos.line}`;
}
