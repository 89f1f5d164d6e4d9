import type { Writable } from 'node:stream';
import type Docker from 'dockerode';
import type { EngineFacts } from '../docker/engine.js';
import type { DeployConfig, DeployInput } from '../deployment/deploy-config.js';
import type { DeploymentNames } from '../deployment/deployment-names.js';
import type { Color } from '../edge/haproxy-config.js';
import type { CliError } from '../cli-error.js';

export type Say = (line: string) => void;

/** What is deployed under a project name on a target, in the words every target shares. */
export type DeploymentKind = 'fresh' | 'update' | 'broken';

/**
 * Where and how asrctl runs a deployment (containers on one engine, services on a Swarm, ...).
 * The deploy phases and the commands only call this; each target lives in its own folder and is
 * registered in targets/index.ts.
 */
export interface DeploymentTarget {
  /** The --target value that selects it. */
  readonly name: string;
  /** What it is, in --target's help: "containers on this engine". */
  readonly help: string;
  /** How a project deployed there is described in errors: "containers on this engine". */
  readonly runsAs: string;
  /** The deploy settings that only this target takes; another target refuses them. */
  readonly options: ReadonlyArray<keyof DeployInput>;
  /** Why this target does not take a setting of another target, where a reason helps: "on Swarm, ...". */
  readonly refuses?: Readonly<Partial<Record<keyof DeployInput, string>>>;
  /** Whether the project has anything deployed on this target on this engine. */
  isDeployed(docker: Docker, names: DeploymentNames): Promise<boolean>;
  /**
   * Why this engine cannot tell whether the project is deployed on this target (a Swarm worker
   * sees no services): the commands that act on a deployment then refuse rather than take it for
   * nothing deployed, or for another target's. Undefined when it can tell.
   */
  unseenFrom?(docker: Docker, names: DeploymentNames): Promise<CliError | undefined>;
  /** One deploy (or restart) with these settings. */
  deployment(docker: Docker, config: DeployConfig, names: DeploymentNames): TargetDeployment;
  /** What `asrctl status` shows. */
  status(docker: Docker, names: DeploymentNames): Promise<TargetStatus>;
  /** Stops and removes what runs (sessions get their finals); returns the names removed. */
  stop(docker: Docker, names: DeploymentNames, say: Say): Promise<string[]>;
  /** Copies the serving app's (or the edge's) logs. */
  logs(docker: Docker, names: DeploymentNames, request: LogsRequest): Promise<void>;
  /** The recorded-settings labels of what runs, the serving app's first. */
  settingsLabels(docker: Docker, names: DeploymentNames): Promise<{ deployed: boolean; labels: string[] }>;
  /** Images this target's deployment runs or would roll back to, and what else `asrctl cleanup` may remove. */
  cleanup(docker: Docker, names: DeploymentNames): Promise<{ imagesInUse: string[]; items: CleanupItem[] }>;
  /** Sets the number of app replicas; absent where a target runs one app. */
  scale?(docker: Docker, names: DeploymentNames, replicas: number, say: Say): Promise<void>;
}

/** One deploy on a target: the phases call these in order (see deploy/deploy.ts). */
export interface TargetDeployment {
  /** How the new version replaces the running one (blue-green, recreate, swarm). */
  readonly strategy: string;
  /** What a rollback leaves behind, for the error that reports it. */
  readonly rollBackOutcome: string;
  /** Where the port check before the deploy looks, when that is not everywhere the ports are published: " on this node (...)". */
  readonly portsCheckedHere?: string;
  /** Undefined when this deploy runs no edge (recreate: the app holds the port itself). */
  readonly edge?: {
    /** The name the edge runs under, given the id of the image just built as `<edgeImage>:latest`. */
    imageFor(builtId: string): string;
  };
  /** The target's own checks (Swarm membership, ...), first; throws CliError environment_unfit. Returns its capacity check. */
  checkEnvironment(request: { engine: EngineFacts; warnings: string[]; say: Say }): Promise<TargetCapacity>;
  /** Finds what runs (after the deploy lock is taken); says what it found, warns when it is broken. */
  assess(say: Say, warnings: string[]): Promise<DeploymentKind>;
  /** restart: the images that serve now. */
  reuseImages(say: Say): Promise<DeployImages>;
  /** Puts the new version in front of clients; cleans up after its own failures. */
  swap(request: SwapRequest): Promise<SwappedDeployment>;
  /** Where a client on this host reaches a port published on every address (verify probes it). */
  probeHost(): Promise<string>;
}

/** Whether the target has the memory for the app containers or tasks this deploy runs at once. */
export interface TargetCapacity {
  /** Throws CliError environment_unfit when `appMemoryBytes` per app does not fit. */
  checkMemory(appMemoryBytes: number): void;
}

export interface DeployImages {
  appImage: string;
  appLabels: Record<string, string>;
  edgeImage?: string;
}

export interface SwapRequest extends DeployImages {
  /** The deployment's settings with what the environment check found (the memory limit). */
  config: DeployConfig;
  say: Say;
  /** What the deploy's summary warns of: the swap adds what serves but not everywhere (a node whose edge cannot start). */
  warnings: string[];
  /** Aborted: the swap stops waiting, undoes what it started (as after its own failure) and throws the signal's reason. */
  signal: AbortSignal;
}

/** A swap that has put the new app in front of clients, not yet verified from outside. */
export interface SwappedDeployment {
  /** The colour now serving (container targets; a Swarm service has none). */
  newColor?: Color;
  oldColor?: Color;
  /** What serves now, for the deploy's summary. */
  serving: string;
  /** The image the app runs, when it is not the one built (Swarm with a registry: the app with its models as layers). */
  image?: string;
  /** After verification: the old app finishes its sessions (up to the drain timeout, or until `signal` aborts) and goes. */
  retire(say: Say, signal: AbortSignal): Promise<void>;
  /** Verification failed: the old app serves again (or keeps serving) and the new one goes. */
  rollBack(say: Say): Promise<void>;
}

/** `asrctl status`: the target's own facts (its JSON) and their text. */
export interface TargetStatus {
  kind: DeploymentKind;
  json: object;
  text: string;
}

export interface LogsRequest {
  service: 'app' | 'edge';
  follow: boolean;
  tail?: number;
  timestamps: boolean;
  stdout: Writable;
  stderr: Writable;
  signal: AbortSignal;
}

export interface CleanupItem {
  kind: string;
  name: string;
  /** Why it may go. */
  why: string;
  remove(): Promise<void>;
}
