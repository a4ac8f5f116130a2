// `dbslm generate`: text drawn from a model, in a file or in a store, or from the exact linear
// mixture of several model files (--model more than once, --weights), with the sampling controls
// of generate/controls.ts. One sample per line, detokenized, markers hidden; --json prints one
// JSON object per sample with its words.
import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../model/errors.js';
import { FRAME_MODES, type FrameMode } from '../../generate/prompt_frame.js';
import { generationModelOptions, openEngine, requireModel, samplingOptions, samplingRequest, type GenerationModelArgs, type SamplingArgs } from '../generation_options.js';
import { runCommand } from '../run_command.js';

interface GenerateArgs extends GenerationModelArgs, SamplingArgs {
  prompt?: string;
  instruction?: string;
  n: number;
  frame: string;
  json: boolean;
}

export const generateCommand: CommandModule<object, GenerateArgs> = {
  command: 'generate',
  describe: 'Generate text from a model file, the exact mixture of several, or a model in a store, with sampling controls',
  builder: (y: Argv) =>
    y
      .options(generationModelOptions)
      .option('prompt', { type: 'string', describe: 'Text to continue or, for a model trained on prompt/response pairs, to answer. Without it generation starts at <s>' })
      .option('instruction', { type: 'string', describe: 'An instruction framed before the prompt (|INSTRUCTION|:), for models trained with one' })
      .option('n', { type: 'number', default: 1, describe: 'Independent samples, one per line' })
      .options(samplingOptions)
      .option('frame', { type: 'string', default: 'auto', describe: 'auto: frame the prompt as |USER|: ... |RESPONSE|: when the model was trained on pairs; chat: always; text: never' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON object per sample: text and words' })
      .conflicts('arpa', 'connect')
      .check(requireModel)
      .example('$0 generate --model kjv5.arpa --prompt "In the beginning" --n 3 --seed 7', 'three repeatable continuations')
      .example('$0 generate --connect tcp://127.0.0.1:5555 --model kjv5 --top-p 0.9 --temperature 0.8', 'from a store, nucleus sampling')
      .example('$0 generate --model a.arpa --model b.arpa --weights 0.3,0.7 --seed 1', 'from the exact mixture 0.3 p_a + 0.7 p_b, every control applied to the mixture') as unknown as Argv<GenerateArgs>,
  handler: (args) =>
    runCommand('generate', async () => {
      if (!(Number.isInteger(args.n) && args.n >= 1)) throw new InputError(`--n must be a whole number >= 1, got ${args.n}`);
      if (!(FRAME_MODES as readonly string[]).includes(args.frame)) throw new InputError(`--frame must be one of ${FRAME_MODES.join(', ')}, got ${args.frame}`);
      const request = { ...samplingRequest(args), prompt: args.prompt, instruction: args.instruction, frame: args.frame as FrameMode };
      const engine = await openEngine(args);
      try {
        for (const sample of await engine.generateMany(request, args.n)) {
          process.stdout.write(args.json ? `${JSON.stringify({ text: sample.text, words: sample.words.map((w) => w.token) })}\n` : `${sample.text}\n`);
        }
      } finally {
        engine.close();
      }
    }),
};
