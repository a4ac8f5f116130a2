// Where the stage implementations come from: stages/index.ts (STAGE_MODULES: stage name -> module
// URL), read's listReadTasks, and stages/tasks.ts (the piscina task module). Loaded by URL at run
// time, so the runtime builds and runs with any set of stages (a test's, or another module given
// to `pipeline run --stage-modules`, which exports the same three things).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StageModules } from './definition_plan.js';

const STAGES_INDEX = new URL('../../stages/index.js', import.meta.url);
const STAGE_TASKS = new URL('../../stages/tasks.js', import.meta.url);

/** Loads the stage set: from `url` (a module exporting STAGE_MODULES, listReadTasks and optionally TASK_MODULE), else the built-in stages. */
export async function loadStageModules(url?: string): Promise<StageModules> {
  if (url) {
    const m = (await import(url)) as { STAGE_MODULES: StageModules['modules']; listReadTasks: StageModules['listReadTasks']; TASK_MODULE?: string };
    return { modules: m.STAGE_MODULES, listReadTasks: m.listReadTasks, taskModule: m.TASK_MODULE ?? null };
  }
  if (!fs.existsSync(fileURLToPath(STAGES_INDEX))) throw new Error(`this dbslm has no stage implementations (${fileURLToPath(STAGES_INDEX)} is missing); build it with npm run build`);
  const { STAGE_MODULES } = (await import(STAGES_INDEX.href)) as { STAGE_MODULES: StageModules['modules'] };
  if (!STAGE_MODULES.read) throw new Error('stages/index.ts names no read stage module');
  const read = (await import(STAGE_MODULES.read)) as { listReadTasks?: StageModules['listReadTasks'] };
  if (typeof read.listReadTasks !== 'function') throw new Error(`${STAGE_MODULES.read} exports no listReadTasks(inputs, generation, batch)`);
  return { modules: STAGE_MODULES, listReadTasks: read.listReadTasks, taskModule: fs.existsSync(fileURLToPath(STAGE_TASKS)) ? STAGE_TASKS.href : null };
}
