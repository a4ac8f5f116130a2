// `dbslm chat`: a conversation with a model, as a REPL (one line per message) or, with --prompt,
// one answer. Conversations persist in the store with --connect (resume with --conversation ID);
// with a model file (or the exact mixture of several: --model more than once, --weights) they live
// in this process only. Commands inside the REPL: :history,
// :summary and :corrections (templates filled from the conversation), :correct WRONG => RIGHT, :exit. Level 2 (generate/conversation.ts): the last turns fill a session
// cache, corrections become a logit bias for the next answers.
import readline from 'node:readline';
import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../model/errors.js';
import { Conversation, DEFAULT_MEMORY_OPTIONS } from '../../generate/conversation.js';
import { DEFAULT_MEMORY } from '../../store/memory/conversation_keys.js';
import { generationModelOptions, modelLabel, openEngine, requireModel, samplingOptions, samplingRequest, type GenerationModelArgs, type SamplingArgs } from '../generation_options.js';
import { runCommand } from '../run_command.js';

interface ChatArgs extends GenerationModelArgs, SamplingArgs {
  conversation?: string;
  user: string;
  agent: string;
  instruction?: string;
  prompt?: string;
  'max-turns'?: number;
  memory: string;
  'memory-turns': number;
  'cache-weight': number;
  'cache-decay': number;
  'correction-turns': number;
}

const CORRECT_RE = /^:correct\s+(.+?)\s*=>\s*(.+)$/;

export const chatCommand: CommandModule<object, ChatArgs> = {
  command: 'chat',
  describe: 'Chat with a model: a REPL (:history, :summary, :corrections, :correct WRONG => RIGHT, :exit), or one answer with --prompt',
  builder: (y: Argv) =>
    y
      .options(generationModelOptions)
      .option('conversation', { type: 'string', describe: 'Resume this conversation (its id is printed when it starts); needs --connect' })
      .option('user', { type: 'string', default: 'user', describe: 'Who speaks to the model (kept with the conversation)' })
      .option('agent', { type: 'string', default: 'dbslm', describe: 'The name the model answers as' })
      .option('instruction', { type: 'string', describe: 'An instruction framed before every message (|INSTRUCTION|:), kept with the conversation' })
      .option('prompt', { type: 'string', describe: 'Send this one message, print the answer, and exit' })
      .option('max-turns', { type: 'number', describe: 'Exit after this many answers' })
      .option('memory', { type: 'string', default: DEFAULT_MEMORY, describe: 'The store namespace family conversations are kept in (NAME.conv, NAME.msg, NAME.corr)' })
      .option('memory-turns', { type: 'number', default: DEFAULT_MEMORY_OPTIONS.turns, describe: 'Earlier turns whose words fill the session cache' })
      .option('cache-weight', { type: 'number', default: DEFAULT_MEMORY_OPTIONS.cache!.weight, describe: 'The session cache\'s share of the distribution (0: no cache)' })
      .option('cache-decay', { type: 'number', default: DEFAULT_MEMORY_OPTIONS.cache!.decay, describe: 'Per-word decay of older words in the session cache' })
      .option('correction-turns', { type: 'number', default: DEFAULT_MEMORY_OPTIONS.correctionTurns, describe: 'Answers a :correct applies to' })
      .options(samplingOptions)
      .conflicts('arpa', 'connect')
      .check(requireModel)
      .example('$0 chat --connect tcp://127.0.0.1:5555 --model pairs', 'a REPL with a model trained on prompt/response pairs')
      .example('$0 chat --connect tcp://127.0.0.1:5555 --model pairs --conversation c-lx2k-1a2b3c --prompt "And then?"', 'one more answer in a saved conversation')
      .example('$0 chat --model a.arpa --model b.arpa --weights 0.3,0.7', 'a REPL answering from the exact mixture of two model files') as unknown as Argv<ChatArgs>,
  handler: (args) =>
    runCommand('chat', async () => {
      if (args.conversation !== undefined && args.connect === undefined) throw new InputError('--conversation resumes a conversation kept in a store: add --connect ENDPOINT');
      const request = samplingRequest(args);
      const engine = await openEngine(args);
      try {
        const log = await engine.conversationLog(args.memory);
        const options = {
          ...DEFAULT_MEMORY_OPTIONS,
          turns: args['memory-turns'],
          cache: args['cache-weight'] > 0 ? { weight: args['cache-weight'], decay: args['cache-decay'] } : null,
          correctionTurns: args['correction-turns'],
        };
        const conversation =
          args.conversation !== undefined
            ? await Conversation.resume(engine, log, args.conversation, options)
            : await Conversation.start(engine, log, { user: args.user, agent: args.agent, model: modelLabel(args), instruction: args.instruction }, options);
        process.stderr.write(log.persistent ? `conversation ${conversation.id} (resume it with --conversation ${conversation.id})\n` : `conversation ${conversation.id}, kept in ${log.where}\n`);
        const answer = async (text: string) => {
          const { text: reply } = await conversation.respond(text, request);
          process.stdout.write(`${reply}\n`);
        };
        if (args.prompt !== undefined) return await answer(args.prompt);
        const tty = process.stdin.isTTY === true;
        const lines = readline.createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty, prompt: `${conversation.record.user}> ` });
        if (tty) lines.prompt();
        let answers = 0;
        for await (const raw of lines) {
          const line = raw.trim();
          if (line === ':exit') break;
          if (line === ':history') process.stdout.write(`${conversation.historyLines().join('\n')}\n`);
          else if (line === ':summary' || line === ':corrections') {
            await engine.loadUnigrams();
            process.stdout.write(`${conversation.template(line === ':summary' ? 'summary' : 'corrections')}\n`);
          }
          else if (line.startsWith(':correct')) {
            const m = CORRECT_RE.exec(line);
            if (!m) process.stdout.write('usage: :correct WRONG => RIGHT\n');
            else {
              const c = await conversation.correct(m[1]!, m[2]!);
              process.stdout.write(`noted: "${c.right}", not "${c.wrong}", for the next ${c.turns} answers\n`);
            }
          } else if (line.startsWith(':')) process.stdout.write('commands: :history, :summary, :corrections, :correct WRONG => RIGHT, :exit\n');
          else if (line !== '') {
            await answer(line);
            if (args['max-turns'] !== undefined && ++answers >= args['max-turns']) break;
          }
          if (tty) lines.prompt();
        }
        lines.close();
      } finally {
        engine.close();
      }
    }),
};
