/**
 * Where the time goes: a summary of a V8 CPU profile (`node --cpu-prof`), by self time per function
 * and per module (our bundle mapped back to its source files through the bundle's source map; each
 * package in node_modules; Node's internals; the idle time when the process waits on disk or network).
 */
import { readdir, readFile } from 'node:fs/promises';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface CostEntry {
  name: string;
  milliseconds: number;
  share: number;
}

export interface ProfileSummary {
  file: string;
  totalMilliseconds: number;
  functions: CostEntry[];
  modules: CostEntry[];
}

const sourceMaps = new Map<string, SourceMap | null>();

async function sourceMapFor(url: string): Promise<SourceMap | null> {
  if (sourceMaps.has(url)) return sourceMaps.get(url) ?? null;
  let map: SourceMap | null;
  try {
    const file = fileURLToPath(url);
    const payload = JSON.parse(await readFile(`${file}.map`, 'utf8')) as SourceMapPayload;
    map = new SourceMap(payload);
  } catch {
    map = null;
  }
  sourceMaps.set(url, map);
  return map;
}

/** "main/store/maildir.ts", "mailparser", "node:internal", "(idle)", … */
async function locate(node: ProfileNode): Promise<{ module: string; where: string }> {
  const { url, functionName, lineNumber, columnNumber } = node.callFrame;
  // "(idle)", "(garbage collector)", "(program)" are V8's own; other frames without a file are native calls.
  if (url === '')
    return { module: functionName.startsWith('(') ? functionName : `(native) ${functionName}`, where: '' };
  if (url.startsWith('node:')) return { module: 'node (built-in modules)', where: url };
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (packageMatch)
    return { module: packageMatch[1], where: `${packageMatch[1]}/${packageMatch[2]}:${lineNumber + 1}` };
  const map = url.startsWith('file:') ? await sourceMapFor(url) : null;
  const entry = map?.findEntry(lineNumber, columnNumber) as
    { originalSource?: string; originalLine?: number } | undefined;
  if (entry?.originalSource) {
    const source = entry.originalSource.replace(/^.*?\/((?:main|shared|node_modules)\/)/, '$1');
    const packageInSource = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(source);
    return {
      module: packageInSource ? packageInSource[1] : source,
      where: `${source}:${(entry.originalLine ?? 0) + 1}`,
    };
  }
  return { module: path.basename(url), where: `${path.basename(url)}:${lineNumber + 1}` };
}

function top(costs: Map<string, number>, total: number, count: number): CostEntry[] {
  return [...costs.entries()]
    .sort((left, right) => right[1] - left[1])
    .slice(0, count)
    .map(([name, milliseconds]) => ({ name, milliseconds, share: milliseconds / total }));
}

export async function summarizeProfile(file: string, count = 10): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const totalMilliseconds = (profile.endTime - profile.startTime) / 1000;
  const selfMilliseconds = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    // Each sample's time is the delta to the next one (V8's own accounting).
    for (let index = 0; index < profile.samples.length; index += 1) {
      const delta = (profile.timeDeltas[index + 1] ?? 0) / 1000;
      selfMilliseconds.set(profile.samples[index], (selfMilliseconds.get(profile.samples[index]) ?? 0) + delta);
    }
  }
  const functions = new Map<string, number>();
  const modules = new Map<string, number>();
  for (const node of profile.nodes) {
    const milliseconds = selfMilliseconds.get(node.id) ?? 0;
    if (milliseconds === 0) continue;
    const { module, where } = await locate(node);
    const name = where === '' ? module : `${node.callFrame.functionName || '(anonymous)'} ${where}`;
    functions.set(name, (functions.get(name) ?? 0) + milliseconds);
    modules.set(module, (modules.get(module) ?? 0) + milliseconds);
  }
  return {
    file,
    totalMilliseconds,
    functions: top(functions, totalMilliseconds, count),
    modules: top(modules, totalMilliseconds, count),
  };
}

/**
 * The newest main-thread .cpuprofile in a folder. Node names them CPU.date.time.pid.thread.seq; a
 * worker thread (the MIME parse worker, thread 1 and up) writes its own, which is not the one wanted.
 */
export async function newestProfile(directory: string): Promise<string | null> {
  const names = (await readdir(directory).catch(() => [] as string[])).filter((name) =>
    /\.0\.\d+\.cpuprofile$/.test(name),
  );
  if (names.length === 0) return null;
  names.sort();
  return path.join(directory, names[names.length - 1]);
}

export function formatProfile(summary: ProfileSummary): string {
  const line = (entry: CostEntry): string =>
    `| ${entry.name.replace(/\|/g, '\\|')} | ${entry.milliseconds.toFixed(0)} | ${(entry.share * 100).toFixed(1)} % |`;
  return [
    `Profile ${path.basename(summary.file)}: ${(summary.totalMilliseconds / 1000).toFixed(2)} s of wall time.`,
    '',
    '| by module (self time) | ms | share |',
    '|---|---:|---:|',
    ...summary.modules.map(line),
    '',
    '| by function (self time) | ms | share |',
    '|---|---:|---:|',
    ...summary.functions.map(line),
  ].join('\n');
}
