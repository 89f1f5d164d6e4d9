// The test page's script (bundled into page/index.html by page-build.ts): the page's view of the
// one asrctl protocol client, AsrctlSession, which Node's AsrctlClient builds on too.
import { AsrctlSession } from '../client/asrctl-session.js';
import type { ClientCommand, ServerMessage } from '../protocol/asrctl-messages.js';

// The AudioWorklet: mono mix, windowed-sinc low-pass resampling to 16 kHz, 100 ms PCM16
// frames, and the level. Loaded from a data: URL: file:// pages cannot load module files
// or Blob URLs into a worklet.
const WORKLET = `
class Pcm16Resampler extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / 16000;          // input samples per output sample
    this.cutoff = Math.min(1, 1 / this.ratio) * 0.9; // below 7.2 kHz at any input rate
    this.half = Math.ceil(12 * Math.max(1, this.ratio)); // taps each side, in input samples
    this.history = new Float32Array(0);
    this.position = 0;                         // next output's position in history
    this.frame = new Int16Array(1600);
    this.filled = 0;
    this.sumSquares = 0;
    this.counted = 0;
    // The low-pass kernel, tabulated (64 points per input sample) and linearly interpolated:
    // computing sin and cos per tap costs more than real time at 44.1 kHz.
    this.steps = 64;
    this.table = new Float32Array(this.half * this.steps + 2);
    for (let i = 0; i < this.table.length; i++) {
      const x = i / this.steps;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * this.cutoff * x) / (Math.PI * this.cutoff * x);
      const window = x >= this.half ? 0 : 0.5 + 0.5 * Math.cos((Math.PI * x) / this.half);
      this.table[i] = this.cutoff * sinc * window;
    }
  }
  kernel(x) {
    const at = Math.abs(x) * this.steps;
    const i = at | 0;
    if (i >= this.table.length - 1) return 0;
    return this.table[i] + (this.table[i + 1] - this.table[i]) * (at - i);
  }
  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const n = input[0].length;
    const mono = new Float32Array(n);
    for (const channel of input) for (let i = 0; i < n; i++) mono[i] += channel[i] / input.length;
    const merged = new Float32Array(this.history.length + n);
    merged.set(this.history);
    merged.set(mono, this.history.length);
    while (this.position + this.half < merged.length) {
      const centre = Math.floor(this.position);
      let acc = 0;
      for (let k = centre - this.half + 1; k <= centre + this.half; k++) {
        if (k >= 0) acc += merged[k] * this.kernel(this.position - k);
      }
      const s = Math.max(-1, Math.min(1, acc));
      this.frame[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
      this.sumSquares += s * s;
      this.counted++;
      if (this.filled === this.frame.length) {
        this.port.postMessage({ pcm: this.frame.buffer, rms: Math.sqrt(this.sumSquares / this.counted) }, [this.frame.buffer]);
        this.frame = new Int16Array(1600);
        this.filled = 0;
        this.sumSquares = 0;
        this.counted = 0;
      }
      this.position += this.ratio;
    }
    const keepFrom = Math.max(0, Math.floor(this.position) - this.half);
    this.history = merged.slice(keepFrom);
    this.position -= keepFrom;
    return true;
  }
}
registerProcessor('pcm16-resampler', Pcm16Resampler);
`;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  url: $<HTMLInputElement>('url'),
  connect: $<HTMLButtonElement>('connect'),
  status: $('status'),
  language: $<HTMLSelectElement>('language'),
  model: $<HTMLSelectElement>('model'),
  start: $<HTMLButtonElement>('start'),
  stop: $<HTMLButtonElement>('stop'),
  reset: $<HTMLButtonElement>('reset'),
  level: $('level'),
  partial: $('partial'),
  finals: $('finals'),
  error: $('error'),
  hint: $('hint'),
};
let session: AsrctlSession | null = null;
let wanted = false; // the user wants a connection (reconnect after a server restart)
// What the user chose, asked for again after a reconnect (a restart must not reset it).
let chosen: ClientCommand | undefined;
let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
let audio: { context: AudioContext; stream: MediaStream; node: AudioWorkletNode } | null = null;
let streaming = false;

ui.url.value =
  location.protocol === 'http:' || location.protocol === 'https:'
    ? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`
    : 'ws://localhost:8765/';

function setStatus(state: string, text: string): void {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}
function showError(text: string): void {
  ui.error.textContent = text;
}
function refreshButtons(): void {
  const open = session !== null && session.open;
  ui.connect.textContent = wanted ? 'Disconnect' : 'Connect';
  ui.language.disabled = !open;
  ui.model.disabled = !open || ui.model.options.length < 2;
  ui.start.disabled = !open || streaming || !microphoneAvailable();
  ui.stop.disabled = !streaming;
  ui.reset.disabled = !open;
}
function microphoneAvailable(): boolean {
  return window.isSecureContext && !!navigator.mediaDevices && typeof AudioWorkletNode === 'function';
}

if (!microphoneAvailable()) {
  ui.hint.textContent = window.isSecureContext
    ? 'This browser has no microphone access (no getUserMedia or AudioWorklet). Try a current Chrome, Edge, Firefox or Safari.'
    : `Browsers allow the microphone only on https:// pages or on localhost, and this page came over plain http from ${location.host}. ` +
      'To fix it: serve it over https (asrctl deploy --tls-cert FILE --tls-key FILE), or save this page and open the file from disk, ' +
      `then enter ws://${location.host}/ as the server.`;
}

function connect(): void {
  clearTimeout(reconnectTimer);
  const url = ui.url.value.trim();
  let socket: WebSocket;
  try {
    socket = new WebSocket(url);
  } catch {
    setStatus('error', 'Invalid server address');
    showError(`"${ui.url.value}" is not a WebSocket address: use ws://host:8765/ or wss://host/.`);
    wanted = false;
    refreshButtons();
    return;
  }
  const current = new AsrctlSession(url, socket);
  session = current;
  setStatus('connecting', `Connecting to ${url}…`);
  current.onMessage((m) => onMessage(current, m as ServerMessage));
  // A refused upgrade (origin, token, limits) looks the same as no server here: the log tells them apart.
  socket.addEventListener('error', () =>
    showError(
      `Cannot reach ${url}. Is the server running, and is the address right? If it is, it may refuse this page (its origin or a missing token): its log says why (upgrade_refused).`,
    ),
  );
  void current.closed.then((code) => {
    if (session !== current) return;
    session = null;
    stopAudio();
    if (!wanted) {
      setStatus('disconnected', 'Not connected');
    } else if (code === 1012 || code === 1001 || code === 1006 || code === 1013) {
      const why = code === 1012 ? 'The server is restarting' : code === 1013 ? 'The server is busy' : 'The connection dropped';
      setStatus('reconnecting', `${why} (code ${code}); reconnecting…`);
      reconnectTimer = setTimeout(connect, 1000);
    } else {
      wanted = false;
      setStatus('disconnected', `Disconnected (code ${code}${current.closeReason ? `: ${current.closeReason}` : ''})`);
    }
    refreshButtons();
  });
  refreshButtons();
}

function onMessage(current: AsrctlSession, m: ServerMessage): void {
  if ('is_final' in m) {
    if (m.is_final) {
      ui.partial.textContent = '';
      if (m.text) {
        const li = document.createElement('li');
        const time = document.createElement('time');
        // The language each final came in (with auto, the one the server chose).
        time.textContent = `${new Date().toLocaleTimeString()} · ${m.language}`;
        const text = document.createElement('span');
        text.textContent = m.text; // text, never HTML
        li.append(time, text);
        ui.finals.prepend(li);
      }
    } else {
      ui.partial.textContent = m.text;
    }
  } else if (m.type === 'connection_established') {
    showError('');
    const languages = m.supported_languages || [];
    // `auto`: the server picks each utterance's language; offered when there is a choice.
    const choices = languages.length > 1 ? [...languages, 'auto'] : languages;
    for (const option of [...ui.language.options]) if (!choices.includes(option.value)) option.remove();
    for (const code of languages) {
      if (![...ui.language.options].some((o) => o.value === code)) ui.language.add(new Option(code, code));
    }
    ui.language.value = m.current_language;
    // Several models per language (small and standard Chinese, say): each by its name.
    ui.model.replaceChildren(...(m.available_models || []).map((x) => new Option(`${x.name} (${x.language})`, x.name)));
    ui.model.value = m.current_model || '';
    refreshButtons();
    setStatus('connected', `Connected · ${languages.join(', ')}`);
    if (chosen) current.send(chosen);
  } else if (m.type === 'language_switched' || m.type === 'model_switched') {
    ui.language.value = m.language;
    if (m.model) ui.model.value = m.model;
    const what = m.type === 'model_switched' ? `Model: ${m.model} (${m.language})` : `Language: ${m.language}`;
    setStatus(streaming ? 'streaming' : 'connected', what);
  } else if (m.type === 'reset_complete') {
    ui.partial.textContent = '';
    setStatus(streaming ? 'streaming' : 'connected', 'Reset: the recognizer starts afresh');
  } else if (m.type === 'eof_complete') {
    ui.partial.textContent = '';
    setStatus('connected', 'Stopped · the last final is shown');
  } else if (m.type === 'error') {
    showError(`The server refused something: ${m.message} (${m.code})`);
  }
  refreshButtons();
}

async function start(): Promise<void> {
  showError('');
  streaming = true;
  refreshButtons();
  try {
    const context = new AudioContext();
    const module = `data:text/javascript;base64,${btoa(WORKLET)}`;
    await context.audioWorklet.addModule(module);
    const node = new AudioWorkletNode(context, 'pcm16-resampler', { numberOfInputs: 1, numberOfOutputs: 0 });
    node.port.onmessage = (event: MessageEvent<{ pcm: ArrayBuffer; rms: number }>) => {
      ui.level.style.width = `${Math.min(100, Math.round(Math.sqrt(event.data.rms) * 160))}%`;
      if (session && session.open) session.sendFrame(event.data.pcm);
    };
    // The microphone last: audio before the graph is connected would be lost.
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
    });
    context.createMediaStreamSource(stream).connect(node);
    audio = { context, stream, node };
    setStatus('streaming', `Listening · ${context.sampleRate} Hz → 16 kHz`);
  } catch (err) {
    streaming = false;
    stopAudio();
    const name = err instanceof Error || err instanceof DOMException ? err.name : undefined;
    showError(
      name === 'NotAllowedError'
        ? 'The microphone was blocked. Allow it for this page (the icon in the address bar) and press Start again.'
        : name === 'NotFoundError'
          ? 'No microphone was found. Plug one in and press Start again.'
          : `The microphone could not start: ${err instanceof Error && err.message ? err.message : String(err)}`,
    );
  }
  refreshButtons();
}

function stopAudio(): void {
  streaming = false;
  ui.level.style.width = '0';
  if (!audio) return;
  audio.stream.getTracks().forEach((t) => t.stop());
  audio.node.port.onmessage = null;
  void audio.context.close();
  audio = null;
}

ui.connect.onclick = () => {
  if (wanted) {
    wanted = false;
    clearTimeout(reconnectTimer);
    if (session) void session.close();
    stopAudio();
    setStatus('disconnected', 'Not connected');
    refreshButtons();
  } else {
    wanted = true;
    connect();
  }
};
ui.start.onclick = start;
ui.stop.onclick = () => {
  stopAudio();
  if (session && session.open) session.send({ command: 'eof' });
  setStatus('connected', 'Finishing…');
  refreshButtons();
};
ui.reset.onclick = () => session && session.send({ command: 'reset' });
const choose = (command: ClientCommand): void => {
  chosen = command;
  if (session) session.send(command);
};
ui.language.onchange = () => choose({ command: 'switch_language', language: ui.language.value });
ui.model.onchange = () => choose({ command: 'switch_model', model: ui.model.value });
// Served by the server itself: its address is known, so connect at once.
if (location.protocol === 'http:' || location.protocol === 'https:') {
  wanted = true;
  connect();
}
refreshButtons();
