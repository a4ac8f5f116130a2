// Where stages run and listen, checked across sections: every `host` a stage names is declared
// under `hosts`, ipc:// is not asked to cross machines, and no two sockets bind one endpoint.
import type { Finding } from './problems.js';
import type { PipelineSpec } from './schema.js';
import { presentStages } from './topology.js';

type PlacementParts = Pick<PipelineSpec, 'stages' | 'hosts' | 'transport' | 'metrics'>;

export function checkPlacement(spec: PlacementParts): Finding[] {
  const findings: Finding[] = [];
  const declared = Object.keys(spec.hosts);
  const boundBy = new Map<string, string>();
  if (spec.metrics.endpoint !== undefined) boundBy.set(spec.metrics.endpoint, 'metrics.endpoint');
  for (const name of presentStages(spec.stages)) {
    const stage = spec.stages[name]!;
    if (stage.host !== undefined && !declared.includes(stage.host)) {
      const known = declared.length === 0 ? 'none are declared' : `declared: ${declared.join(', ')}`;
      findings.push({ path: ['stages', name, 'host'], message: `host ${stage.host} is not declared under hosts (${known}); add hosts.${stage.host}.address` });
    }
    if (stage.host !== undefined && spec.transport.kind === 'ipc') {
      findings.push({ path: ['stages', name, 'host'], message: `stage ${name} runs on host ${stage.host}, but transport.kind is ipc, which cannot cross machines: use tcp (the default when a stage has a host)` });
    }
    if (stage.endpoint === undefined) continue;
    if (stage.host !== undefined && stage.endpoint.startsWith('ipc://')) {
      findings.push({ path: ['stages', name, 'endpoint'], message: `an ipc:// endpoint cannot be reached from other machines, and stage ${name} runs on host ${stage.host}: use tcp://` });
    }
    const other = boundBy.get(stage.endpoint);
    if (other !== undefined && !stage.endpoint.endsWith(':0') && !stage.endpoint.endsWith(':*')) {
      findings.push({ path: ['stages', name, 'endpoint'], message: `${stage.endpoint} is already bound by ${other}: each stage needs its own endpoint` });
    }
    boundBy.set(stage.endpoint, `stages.${name}.endpoint`);
  }
  return findings;
}
