// Many processes writing one incident at once: nothing lost, nothing busy, the chain still verifies.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ir, irAsync, irEnv, json, tempHome } from '../helpers/cli.js';

function writer(home: string, incident: string, worker: number, count: number): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'test/helpers/note-writer.mjs'), incident, String(worker), String(count)], {
      env: irEnv(home),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

describe('concurrent writers', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('8 processes × 200 notes → 1600 note events, no SQLITE_BUSY, chain verifies', async () => {
    const inc = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'load test', '-s', 'SEV-2']));
    const results = await Promise.all(Array.from({ length: 8 }, (_, w) => writer(home, inc.id, w, 200)));
    for (const r of results) {
      expect(r.stderr).not.toMatch(/SQLITE_BUSY|database is locked/);
      expect(r.code, r.stderr).toBe(0);
    }
    const timeline = json<{ events: { type: string; data: { text: string } }[] }>(ir(home, ['timeline', inc.id, '--json']));
    const notes = timeline.events.filter((e) => e.type === 'note.added').map((e) => e.data.text);
    expect(notes).toHaveLength(1600);
    expect(new Set(notes).size).toBe(1600);
    for (let w = 0; w < 8; w++) {
      // Each writer's notes appear in the order it wrote them.
      const mine = notes.filter((t) => t.startsWith(`worker ${w} `)).map((t) => Number(t.split(' ').pop()));
      expect(mine).toEqual(Array.from({ length: 200 }, (_, i) => i));
    }
    const verify = ir(home, ['timeline', '--verify', '--json']);
    expect(verify.code).toBe(0);
    expect(json(verify)).toMatchObject({ ok: true, events: 1601 });
  });

  it('real `ir` processes declaring and noting at once get distinct ids and lose nothing', async () => {
    const declared = await Promise.all(Array.from({ length: 6 }, (_, i) => irAsync(home, ['declare', '--json', '-t', `parallel ${i}`, '-s', 'SEV-3'])));
    const ids = declared.map((r) => json<{ id: string }>(r).id);
    expect(new Set(ids).size).toBe(6);
    const noted = await Promise.all(ids.flatMap((id) => [1, 2, 3].map((n) => irAsync(home, ['note', `n${n}`, '--incident', id]))));
    for (const r of noted) expect(r.code, r.stderr).toBe(0);
    for (const id of ids) {
      const events = json<{ events: { type: string }[] }>(ir(home, ['timeline', id, '--json'])).events;
      expect(events.filter((e) => e.type === 'note.added')).toHaveLength(3);
    }
    expect(ir(home, ['timeline', '--verify']).code).toBe(0);
  });
});
