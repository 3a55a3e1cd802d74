// A `rewrite:` list compiled once per configuration into the steps run.ts executes.
import { compileRegex } from '../config/rewrite.js';
import type { RewriteFlag, RewriteStep } from '../config/types.js';
import { compileTemplate, type Template } from '../http/variables.js';
import type { RequestContext } from '../request/context.js';
import { compileCondition, type Condition } from './condition.js';
import { compileReplacement, type Replacement } from './replacement.js';
import { compileReturnStep } from './return.js';

export type Op =
  | { op: 'rewrite'; re: RegExp; replacement: Replacement; flag: RewriteFlag | undefined; status: 301 | 302 }
  | { op: 'set'; name: string; value: Template }
  | { op: 'args'; value: Template }
  | { op: 'return'; respond: (ctx: RequestContext) => void }
  | { op: 'break' }
  | { op: 'if'; condition: Condition; then: readonly Op[] };

export interface Program {
  readonly ops: readonly Op[];
}

export function compileSteps(steps: readonly RewriteStep[]): Op[] {
  return steps.map((s): Op => {
    switch (s.kind) {
      case 'rewrite': {
        const explicit = s.flag === 'redirect' || s.flag === 'permanent';
        return {
          op: 'rewrite',
          re: compileRegex(s.regex, false),
          replacement: compileReplacement(s.replacement, explicit),
          flag: s.flag,
          status: s.flag === 'permanent' ? 301 : 302,
        };
      }
      case 'set':
        if (s.name === 'args') return { op: 'args', value: compileTemplate(s.value) };
        return { op: 'set', name: s.name, value: compileTemplate(s.value) };
      case 'return':
        return { op: 'return', respond: compileReturnStep(s.status, s.text) };
      case 'break':
        return { op: 'break' };
      case 'if':
        return { op: 'if', condition: compileCondition(s.condition), then: compileSteps(s.then) };
    }
  });
}

const programs = new WeakMap<readonly RewriteStep[], Program>();

/** The compiled form of a step list, compiled once (snapshot build) and shared by its requests. */
export function rewriteProgram(steps: readonly RewriteStep[]): Program {
  let p = programs.get(steps);
  if (!p) {
    p = { ops: compileSteps(steps) };
    programs.set(steps, p);
  }
  return p;
}
