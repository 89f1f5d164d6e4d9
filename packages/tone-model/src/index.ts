export {
  CHINESE_TONE_WORDS,
  firstAndLastWordsClip,
  ENGLISH_TONE_WORDS,
  parseToneWords,
  readToneWords,
  toneModelFiles,
  toneWordsFor,
  writeToneModel,
  type ToneModelSpec,
  type ToneWord,
} from './tone-model.js';
export { encodeWav, lowHighClip, pcmBytes, synthesize, toneSequenceClip, type Segment, type SynthOptions } from './test-audio.js';
