// `ir note -` reads stdin; a bare `ir note` on a terminal opens the responder's editor, like git commit.

import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ir, json } from '../helpers/cli.js';
import { haveTmux, terminalSuite, type TmuxSession } from '../helpers/tty.js';

type Events = { events: { type: string; data: { text?: string } }[] };
const notes = (home: string) => json<Events>(ir(home, ['timeline', '--json'])).events.filter((e) => e.type === 'note.added').map((e) => e.data.text);

describe('ir note from stdin and from $EDITOR', () => {
  it('has tmux', () => expect(haveTmux()).toBe(true));
  const term = terminalSuite();
  let session: TmuxSession;
  let editor: string;

  beforeAll(() => {
    expect(ir(term.home, ['declare', '-t', 'Checkout 500s', '-s', 'SEV-2']).code).toBe(0);
    // The "editor": keeps a copy of the template it was given, then writes what NOTE_TEXT says.
    editor = join(term.home, 'fake-editor.sh');
    writeFileSync(editor, '#!/bin/sh\ncp "$1" "$(dirname "$0")/template-seen.txt"\nprintf "%s\\n" "$NOTE_TEXT" >> "$1"\n');
    chmodSync(editor, 0o755);
  });

  it('`ir note -` records stdin as the note, lines and all', () => {
    const r = ir(term.home, ['note', '-'], { input: 'pods restarting:\napi-7f9 CrashLoopBackOff\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(notes(term.home)).toContain('pods restarting:\napi-7f9 CrashLoopBackOff');
  });

  it('`ir note -` with empty stdin is a usage error and records nothing', () => {
    const before = notes(term.home).length;
    const r = ir(term.home, ['note', '-'], { input: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/stdin was empty; nothing recorded/);
    expect(notes(term.home)).toHaveLength(before);
  });

  it('`ir note` with no text and no terminal is a usage error, not a hang', () => {
    const r = ir(term.home, ['note']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a note needs text/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('`ir note` on a terminal opens $EDITOR on a commented template and records what was written', async () => {
    session = term.open(['note'], { VISUAL: undefined, EDITOR: editor, NOTE_TEXT: 'failover to eu-west done by hand' });
    expect(await session.exitCode()).toBe(0);
    expect(notes(term.home)).toContain('failover to eu-west done by hand');
    const template = readFileSync(join(term.home, 'template-seen.txt'), 'utf8');
    expect(template).toMatch(/^# The note for INC-\d{8}-001/m);
    // Comment lines of the template stay out of the record.
    expect(notes(term.home).some((t) => t?.includes('#'))).toBe(false);
  });

  it('VISUAL wins over EDITOR', async () => {
    session = term.open(['note'], { VISUAL: editor, EDITOR: '/bin/false', NOTE_TEXT: 'visual editor note' });
    expect(await session.exitCode()).toBe(0);
    expect(notes(term.home)).toContain('visual editor note');
  });

  it('an empty note from the editor aborts with exit 2 and records nothing', async () => {
    const before = notes(term.home).length;
    session = term.open(['note'], { VISUAL: undefined, EDITOR: editor, NOTE_TEXT: '' });
    expect(await session.exitCode()).toBe(2);
    expect(session.screen()).toMatch(/empty note; nothing recorded/);
    expect(notes(term.home)).toHaveLength(before);
  });
});
