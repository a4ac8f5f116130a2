// A coordinator in a process of its own, so a test can kill it mid-run (SIGKILL) and run it again:
// node dist/test/helpers/runtime_child.js PLAN.json. Prints one JSON line per progress tick
// ({"batches": N}) and the summary at the end ({"summary": ...}).
import fs from 'node:fs';
import { Coordinator } from '../../pipeline/runtime/coordinator.js';
import type { RuntimePlan } from '../../pipeline/runtime/plan.js';

const plan = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as RuntimePlan;
const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);
const summary = await new Coordinator(plan, { progressMs: 50, onProgress: (p) => out({ batches: p.batches }), onNotice: (line) => out({ notice: line }) }).run();
out({ summary });
