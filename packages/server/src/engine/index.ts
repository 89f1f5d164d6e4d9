export { Engine, type EngineState, type EngineStats } from './engine.js';
export { EngineError } from './errors.js';
export { bundledLibvoskPath } from './libvosk-locator.js';
export { describeModelProblems, inspectModelDirectory, type ModelDirectoryProblem } from './model-directory.js';
export type { VoskModel } from './model.js';
export type { DecodeEvent, Recognizer, RecognizerOptions } from './recognizer.js';
export { resultText, type VoskAlternative, type VoskPartial, type VoskResult, type VoskWord } from './vosk-result.js';
