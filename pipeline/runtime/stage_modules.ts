// Where the stage implementations come from: stages/index.ts (STAGE_MODULES: stage name -> module
// URL; STAGE_TASKS_MODULE: the piscina task module) and stages/read_tasks.ts (listReadTasks).
// Loaded by URL at run time, so the runtime builds and runs with any set of stages (a test's, or
// another module given to `pipeline run --stage-modules`, which exports STAGE_MODULES,
// listReadTasks and optionally STAGE_TASKS_MODULE).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StageModules } from './definition_plan.js';

const STAGES_INDEX = new URL('../../stages/index.js', import.meta.url);
const READ_TASKS = new URL('../../stages/read_tasks.js', import.meta.url);

interface StageSet {
  STAGE_MODULES?: StageModules['modules'];
  STAGE_TASKS_MODULE?: string;
  listReadTasks?: StageModules['listReadTasks'];
}

/** Loads the stage set from `url`, else the built-in stages. */
export async function loadStageModules(url?: string): Promise<StageModules> {
  if (!url && !fs.existsSync(fileURLToPath(STAGES_INDEX))) throw new Error(`this dbslm has no stage implementations (${fileURLToPath(STAGES_INDEX)} is missing); build it with npm run build`);
  const where = url ?? STAGES_INDEX.href;
  const set = (await import(where)) as StageSet;
  if (!set.STAGE_MODULES?.read) throw new Error(`${where} names no read stage module (STAGE_MODULES.read)`);
  let listReadTasks = set.listReadTasks;
  if (!listReadTasks && !url && fs.existsSync(fileURLToPath(READ_TASKS))) listReadTasks = ((await import(READ_TASKS.href)) as StageSet).listReadTasks;
  if (typeof listReadTasks !== 'function') throw new Error(`${where} has no listReadTasks(inputs, generation, batch) (nor stages/read_tasks.js)`);
  return { modules: set.STAGE_MODULES, listReadTasks, taskModule: set.STAGE_TASKS_MODULE ?? null };
}
