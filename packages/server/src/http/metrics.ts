import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Engine } from '../engine/engine.js';

/** The server's Prometheus metrics, in a registry of its own (several servers may share a process). */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly sessionsOpen: Gauge;
  private readonly sessionsTotal: Counter<'protocol'>;
  private readonly results: Counter<'kind'>;
  private readonly errors: Counter<'code'>;
  private readonly rejections: Counter<'reason'>;
  private readonly cuts: Counter<'reason'>;
  private readonly modelLoad: Gauge<'language' | 'model'>;

  constructor(engine: Engine) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.sessionsOpen = new Gauge({ name: 'asr_sessions_open', help: 'WebSocket sessions open now', registers });
    this.sessionsTotal = new Counter({
      name: 'asr_sessions_total',
      help: 'Sessions opened since start',
      labelNames: ['protocol'],
      registers,
    });
    this.results = new Counter({ name: 'asr_results_total', help: 'Results sent to clients', labelNames: ['kind'], registers });
    this.errors = new Counter({ name: 'asr_errors_total', help: 'Errors reported to clients, by code', labelNames: ['code'], registers });
    this.rejections = new Counter({
      name: 'asr_rejected_total',
      help: 'Clients refused before a session started, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.cuts = new Counter({
      name: 'asr_clients_cut_total',
      help: 'Sessions the server closed because their client broke a limit (slow_reader, ...), by reason',
      labelNames: ['reason'],
      registers,
    });
    this.modelLoad = new Gauge({
      name: 'asr_model_load_seconds',
      help: 'Time each model took to load',
      labelNames: ['language', 'model'],
      registers,
    });
    // Engine figures are read at scrape time: the decode path stays free of metric bookkeeping.
    new Counter({
      name: 'asr_audio_seconds_total',
      help: 'Seconds of audio decoded, once per recognizer (automatic language: once per language)',
      registers,
      collect() {
        this.reset();
        this.inc(engine.stats.audioSecondsDecoded);
      },
    });
    new Counter({
      name: 'asr_decode_seconds_total',
      help: 'Wall time of libvosk decode calls on their decode thread',
      registers,
      collect() {
        this.reset();
        this.inc(engine.stats.decodeSeconds);
      },
    });
    new Counter({
      name: 'asr_decode_stream_moves_total',
      help: 'Streams moved with their backlog from a busy decode thread to an idle one',
      registers,
      collect() {
        this.reset();
        this.inc(engine.stats.streamMoves);
      },
    });
    new Gauge({
      name: 'asr_native_calls_in_flight',
      help: 'Recognizers with libvosk calls running or queued on a decode thread now (saturation)',
      registers,
      collect() {
        this.set(engine.stats.nativeCallsInFlight);
      },
    });
    new Gauge({
      name: 'asr_recognizers',
      help: 'libvosk recognizers allocated now',
      registers,
      collect() {
        this.set(engine.stats.liveRecognizers);
      },
    });
    new Gauge({
      name: 'asr_sessions_auto_language',
      help: 'Sessions in automatic language now: each costs one recognizer and one decode per loaded language',
      registers,
      collect() {
        this.set(engine.stats.automaticStreams);
      },
    });
  }

  sessionOpened(protocol: string): void {
    this.sessionsOpen.inc();
    this.sessionsTotal.inc({ protocol });
  }

  /** A client refused before its session started (limit, auth, allowlist), by reason. */
  rejected(reason: string): void {
    this.rejections.labels(reason).inc();
  }

  /** A session closed by the server because its client broke a limit, by reason. */
  clientCut(reason: string): void {
    this.cuts.labels(reason).inc();
  }

  sessionClosed(): void {
    this.sessionsOpen.dec();
  }

  resultSent(kind: 'partial' | 'final'): void {
    this.results.inc({ kind });
  }

  errorReported(code: string): void {
    this.errors.inc({ code });
  }

  modelLoaded(language: string, model: string, seconds: number): void {
    this.modelLoad.set({ language, model }, seconds);
  }
}
