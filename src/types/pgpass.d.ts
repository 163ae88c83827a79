// Types for pgpass (node-postgres's reader of ~/.pgpass), which ships none.

declare module 'pgpass' {
  interface ConnInfo {
    host?: string;
    port?: number | string;
    database?: string;
    user?: string;
  }
  function pgpass(connInfo: ConnInfo, cb: (password: string | undefined) => void): void;
  export = pgpass;
}
