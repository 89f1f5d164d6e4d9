import { catalogModel } from './model-catalog.js';

/**
 * What an operator can do when a model cannot be downloaded here (air-gapped hosts are a main
 * use): every way in that needs no network from this host.
 */
export function offlineWaysIn(name: string, modelsDir: string): string {
  // The models directory a deploy reads: a pull into another would not help it.
  const into = `--models-dir ${modelsDir}`;
  const language = catalogModel(name)?.language;
  const lang = language ?? 'LANG';
  const synthLang = language === 'cn' || language === 'en' ? language : 'cn|en';
  return [
    '  ways in without this download:',
    `    - a model directory at hand: asrctl deploy --model ${lang}=/path/to/model (asrctl serve takes the same --model)`,
    `    - the zip or unpacked model copied to this host: asrctl models pull ${name} --from /path/to/${name}.zip ${into} (or the directory)`,
    `    - a mirror serving ${name}.zip: asrctl deploy --mirror URL (ASRCTL_MODEL_MIRROR), or asrctl models pull ${name} --mirror URL ${into}`,
    `    - a smoke test with no real model: asrctl models synth models/${lang} --lang ${synthLang}, then --model ${lang}=models/${lang}`,
  ].join('\n');
}
