// The memory store: primary key -> variants, least recently used evicted first once the byte cap
// is reached (lru-cache's maxSize; an entry larger than the cap is never kept).
import { LRUCache } from 'lru-cache';
import { variantSize, type Variant } from './variant.js';

export class MemoryStore {
  private readonly lru: LRUCache<string, Variant[]>;

  constructor(maxBytes: number) {
    this.lru = new LRUCache<string, Variant[]>({
      maxSize: maxBytes,
      sizeCalculation: (variants) => Math.max(1, variants.reduce((sum, v) => sum + variantSize(v), 0)),
    });
  }

  get(key: string): Variant[] | undefined {
    return this.lru.get(key);
  }

  set(key: string, variants: Variant[]): void {
    this.lru.set(key, variants);
  }

  delete(key: string): boolean {
    return this.lru.delete(key);
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }
}
