// The package's API for Node users (`import { Engine } from 'dbslm'`): generation on a model file
// or a store, and the pieces its requests are made of. The CLI (cli/main.ts) is built on the same.
export { Engine, type EngineOptions, type GenerateRequest, type Generated } from './generate/engine.js';
export type { GeneratedWord } from './generate/generate_text.js';
export { FRAME_MODES, type FrameMode } from './generate/prompt_frame.js';
export type { TokenizerName } from './model/tokenizer.js';
export { Conversation, DEFAULT_MEMORY_OPTIONS, type MemoryOptions } from './generate/conversation.js';
export type { ConversationLog } from './generate/conversation_log.js';
