// The loader dist/bin/main.cjs uses for the program's CommonJS pieces: scripts/bundle.mjs writes the
// source of pieceLoader into main.cjs (so it must use nothing from this module's scope), and
// scripts/code-cache.mjs runs ir with IR_BUILD_CODE_CACHE=1 to have it write the code caches.
//
// Node 20 compiles every CommonJS file from source at each start (module.enableCompileCache came in
// Node 22), which costs `ir note` about a tenth of its time, counting the functions compiled lazily
// as they first run. So the loader compiles a piece itself, as Node's loader does (the same wrapper
// function, the same file name for stack traces, the same require cache), handing V8 the code cache
// the build wrote beside it: `<piece>.cache`, made after the build's own runs of the common commands,
// so it holds the functions those runs compiled too.
//
// A cache file is: a line naming its format, two 32-bit little-endian words — the piece's size in
// bytes and the size of V8's data — then a copy of the piece, V8's data and a second copy of that.
// V8 checks its data only for its version, its flags and the length of the source (not its text,
// and in release builds not its own bytes either), so the loader first compares the piece with its
// copy and the data with its own (memcmp: a checksum would need node:zlib, whose load and Node's
// stream classes behind it cost a note more than all of this): a piece edited since the build, or a
// cache file damaged, is compiled from source as if it had no cache. Nothing about a cache can make
// a command fail: any problem reading it means compiling as usual.

/**
 * A require for main.cjs's pieces (`./name.cjs`), each loaded once into Node's require cache. The
 * pieces get a require of their own that loads other pieces the same way and anything else
 * (built-in modules, packages) with Node's require from the piece's path; and, as `require.irImport`,
 * a dynamic import that works from code compiled with vm (an `import()` there needs a flag in
 * Node 20): main.cjs's own, which resolves as the piece would, both being in dist/bin.
 * IR_CODE_CACHE=0 compiles from source; IR_DEBUG=code-cache says on stderr what became of each cache.
 */
export function pieceLoader(mainUrl, dynamicImport) {
  const Module = process.getBuiltinModule('node:module');
  const fs = process.getBuiltinModule('node:fs');
  const { Script } = process.getBuiltinModule('node:vm');
  const { dirname, join } = process.getBuiltinModule('node:path');
  const dir = dirname(process.getBuiltinModule('node:url').fileURLToPath(mainUrl));
  const cache = Module.createRequire(mainUrl).cache;
  const env = process.env;
  const use = env.IR_CODE_CACHE !== '0';
  const say = (name, what) => {
    if (env.IR_DEBUG === 'code-cache') fs.writeSync(2, `ir: code cache: ${name}: ${what}\n`);
  };
  // The first bytes of a cache file: its format, so a later format is never read as this one.
  const magic = Buffer.from('ir-v8-code-cache-2\n');
  const header = magic.length + 8;
  const PIECE = /^\.\/[\w.-]+\.cjs$/;
  const cacheFile = (filename) => filename.replace(/\.cjs$/, '.cache');

  /** V8's data for this source, or undefined (and why) when there is none to trust. */
  function cachedDataFor(name, filename, source) {
    if (!use) return say(name, 'off (IR_CODE_CACHE=0)');
    let file;
    try {
      file = fs.readFileSync(cacheFile(filename));
    } catch {
      return say(name, 'none');
    }
    if (file.length < header || !file.subarray(0, magic.length).equals(magic)) return say(name, 'not a cache file of this format');
    const size = file.readUInt32LE(magic.length);
    const dataSize = file.readUInt32LE(magic.length + 4);
    if (file.length !== header + size + 2 * dataSize) return say(name, 'damaged');
    if (size !== source.length || !file.subarray(header, header + size).equals(source)) return say(name, 'stale (the piece changed since the cache was made)');
    const data = file.subarray(header + size, header + size + dataSize);
    if (!data.equals(file.subarray(header + size + dataSize))) return say(name, 'damaged');
    return data;
  }

  // The build's runs write the caches at exit, when the functions the command ran are compiled.
  const made = [];
  if (env.IR_BUILD_CODE_CACHE === '1') {
    process.on('exit', () => {
      for (const { filename, source, script } of made) {
        const data = script.createCachedData();
        const sizes = Buffer.alloc(8);
        sizes.writeUInt32LE(source.length, 0);
        sizes.writeUInt32LE(data.length, 4);
        // Whole or not at all: a reader never sees half a file (it would only ignore it). A directory
        // ir cannot write to (an installed copy) keeps the caches it has: they are only a speed-up.
        const temp = `${cacheFile(filename)}.${process.pid}.tmp`;
        try {
          fs.writeFileSync(temp, Buffer.concat([magic, sizes, source, data, data]));
          fs.renameSync(temp, cacheFile(filename));
        } catch {
          fs.rmSync(temp, { force: true });
        }
      }
    });
  }

  function load(id) {
    const filename = join(dir, id);
    const loaded = cache[filename];
    if (loaded) return loaded.exports;
    const name = id.slice(2);
    const source = fs.readFileSync(filename);
    const cachedData = cachedDataFor(name, filename, source);
    const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source.toString('utf8')}\n});`, { filename, cachedData });
    if (cachedData) say(name, script.cachedDataRejected ? 'rejected by V8 (another Node or other V8 flags)' : 'used');
    if (env.IR_BUILD_CODE_CACHE === '1') made.push({ filename, source, script });
    const module = new Module(filename);
    module.filename = filename;
    let nodeRequire;
    const own = () => (nodeRequire ??= Module.createRequire(filename));
    const require = (request) => (PIECE.test(request) ? load(request) : own()(request));
    require.resolve = (request, options) => own().resolve(request, options);
    require.cache = cache;
    require.irImport = dynamicImport;
    // In the cache before it runs, as Node does; out again if it throws, so nothing sees it half made.
    cache[filename] = module;
    try {
      script.runInThisContext().call(module.exports, module.exports, require, module, filename, dir);
    } catch (err) {
      delete cache[filename];
      throw err;
    }
    module.loaded = true;
    return module.exports;
  }
  return load;
}
