// A radix tree over location prefixes: the longest-prefix lookup costs one step per matching edge,
// whatever the number of locations (nginx builds a similar tree in ngx_http_init_static_location_trees).
// Prefixes are compared byte for byte, case-sensitively, as ngx_filename_cmp does on Unix.

interface Node<T> {
  edge: string;
  value?: T;
  children: Map<number, Node<T>>;
}

export interface PrefixHit<T> {
  value: T;
  /** Length of the matched prefix. */
  length: number;
}

export class PrefixTree<T> {
  private readonly root: Node<T> = { edge: '', children: new Map() };
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Returns false (and changes nothing) when `key` is already present. */
  insert(key: string, value: T): boolean {
    let node = this.root;
    let pos = 0;
    for (;;) {
      if (pos === key.length) {
        if (node.value !== undefined) return false;
        node.value = value;
        this.count++;
        return true;
      }
      const c = key.charCodeAt(pos);
      const child = node.children.get(c);
      if (!child) {
        node.children.set(c, { edge: key.slice(pos), value, children: new Map() });
        this.count++;
        return true;
      }
      const n = commonLength(child.edge, key, pos);
      if (n < child.edge.length) {
        const mid: Node<T> = { edge: child.edge.slice(0, n), children: new Map() };
        child.edge = child.edge.slice(n);
        mid.children.set(child.edge.charCodeAt(0), child);
        node.children.set(c, mid);
        node = mid;
      } else {
        node = child;
      }
      pos += n;
    }
  }

  get(key: string): T | undefined {
    const hit = this.longest(key);
    return hit && hit.length === key.length ? hit.value : undefined;
  }

  /** The value of the longest key that `path` starts with. */
  longest(path: string): PrefixHit<T> | undefined {
    let node = this.root;
    let pos = 0;
    let best = node.value;
    let bestLength = 0;
    for (;;) {
      const child = node.children.get(path.charCodeAt(pos));
      if (!child || !path.startsWith(child.edge, pos)) break;
      pos += child.edge.length;
      if (child.value !== undefined) {
        best = child.value;
        bestLength = pos;
      }
      node = child;
    }
    return best === undefined ? undefined : { value: best, length: bestLength };
  }
}

function commonLength(edge: string, key: string, pos: number): number {
  const max = Math.min(edge.length, key.length - pos);
  let i = 0;
  while (i < max && edge.charCodeAt(i) === key.charCodeAt(pos + i)) i++;
  return i;
}
