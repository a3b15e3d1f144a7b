// Starts one of our CLIs. The TypeScript sources are bundled by esbuild into .cache/dist/ (one ES module per
// entry plus shared chunks; npm packages stay in node_modules) and the bundle is run, because loading ~250
// modules through tsx costs about a second per process and per worker thread. The bundle is rebuilt when a
// source it was built from is newer than it; without esbuild, or with UKIBPF_FROM_SOURCE=1, the sources run
// through tsx (UKIBPF_DEBUG_LAUNCH=1 says on stderr which it ran). Each module keeps its own import.meta.url (the .ts file's), so paths next to sources resolve
// as they do unbundled.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** UKIBPF_DIST: another directory for the bundle, inside the repository (its npm imports resolve from there). */
const DIST = resolve(ROOT, process.env.UKIBPF_DIST ?? '.cache/dist');
const MANIFEST = join(DIST, 'manifest.json');

/** Output name → source entry. kexec-bpf-threads is the loader threads' entry (kexec-bpf/mailbox.ts). */
export const ENTRIES = {
  ukibpf: 'kexec-tools-shim/ukibpf.ts',
  'kexec-bpf': 'kexec-tools-shim/kexec-bpf/main.ts',
  'kexec-bpf-threads': 'kexec-tools-shim/kexec-bpf/threads.ts',
  'kexec-bpfd': 'kexec-tools-shim/kexec-bpfd/main.ts',
};

/**
 * The manifest of a bundle built from this checkout and no older than any of its inputs (this file
 * included), else undefined. (The bundle holds its sources' paths, so a copied .cache/dist is stale.)
 */
const freshManifest = () => {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    if (manifest.root !== ROOT) return undefined;
    for (const input of manifest.inputs) if (statSync(join(ROOT, input)).mtimeMs > manifest.builtAt) return undefined;
  } catch {
    return undefined;
  }
  return manifest;
};

/** esbuild plugin: `import.meta.url` in a source becomes that source's own file URL. */
const sourceUrls = {
  name: 'source-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replaceAll(
        'import.meta.url',
        JSON.stringify(pathToFileURL(args.path).href),
      ),
      loader: 'ts',
    }));
  },
};

/** Writes a file by rename, so a process starting meanwhile sees the old file or the new one, never half of one. */
const writeAtomic = (path, contents) => {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
};

/** Bundles every entry; concurrent builders write identical files. Returns false when esbuild is missing. */
export const buildBundle = async () => {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return false;
  }
  const startedAt = Date.now();
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([out, src]) => [out, join(ROOT, src)])),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir: DIST,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    metafile: true,
    write: false,
    logLevel: 'silent',
    plugins: [sourceUrls],
    define: {
      'process.env.UKIBPF_THREADS_BUNDLE': JSON.stringify(pathToFileURL(join(DIST, 'kexec-bpf-threads.mjs')).href),
    },
  });
  // chunks before the entries that import them, the manifest last
  const entryPaths = new Set(Object.keys(ENTRIES).map((n) => join(DIST, `${n}.mjs`)));
  const files = [...result.outputFiles].sort((a, b) => Number(entryPaths.has(a.path)) - Number(entryPaths.has(b.path)));
  for (const f of files) writeAtomic(f.path, f.contents);
  const inputs = Object.keys(result.metafile.inputs).concat(relative(ROOT, fileURLToPath(import.meta.url)));
  writeAtomic(
    MANIFEST,
    `${JSON.stringify({ root: ROOT, builtAt: startedAt, esbuild: esbuild.version, inputs }, null, 1)}\n`,
  );
  pruneChunks(new Set(files.map((f) => f.path)));
  return true;
};

/** How long a replaced chunk stays: a process started on the older bundle may still import it lazily. */
const CHUNK_GRACE_MS = 60 * 60 * 1000;

/** Removes the chunks of earlier builds (their names carry a content hash, so each build adds its own). */
const pruneChunks = (current) => {
  const dir = join(DIST, 'chunks');
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (current.has(path)) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > CHUNK_GRACE_MS) rmSync(path, { force: true });
    } catch {
      // removed meanwhile by another builder
    }
  }
};

/** Runs CLI `name`: the bundle when it is (or can be made) fresh, else the sources through tsx. */
export const launch = async (name) => {
  const say = process.env.UKIBPF_DEBUG_LAUNCH === '1' ? (m) => process.stderr.write(`launch: ${m}\n`) : () => {};
  if (process.env.UKIBPF_FROM_SOURCE !== '1') {
    const fresh = freshManifest() !== undefined;
    if (fresh || (await buildBundle())) {
      say(`${fresh ? 'bundle' : 'rebuilt bundle'} ${relative(ROOT, DIST)}/${name}.mjs`);
      await import(pathToFileURL(join(DIST, `${name}.mjs`)).href);
      return;
    }
  }
  say(`sources ${ENTRIES[name]} through tsx`);
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(ROOT, ENTRIES[name])).href);
};
