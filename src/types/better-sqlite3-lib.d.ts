// better-sqlite3's entry file by its path, which src/store/sqlite/driver.ts imports so that the
// build bundles it: the same module as 'better-sqlite3'.
declare module 'better-sqlite3/lib/index.js' {
  import Database from 'better-sqlite3';
  export default Database;
}
