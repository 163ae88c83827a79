// Parses a Mermaid gantt block with the real mermaid library (in a jsdom window) and returns its tasks.

let ready: Promise<typeof import('mermaid').default> | undefined;

async function mermaid() {
  ready ??= (async () => {
    // jsdom ships no types; only its JSDOM constructor is used.
    const { JSDOM } = (await import('jsdom' as string)) as { JSDOM: new (html: string) => { window: { document: unknown } } };
    const dom = new JSDOM('<!doctype html><html><body></body></html>');
    Object.assign(globalThis, { window: dom.window, document: dom.window.document });
    const m = (await import('mermaid')).default;
    m.initialize({ startOnLoad: false });
    return m;
  })();
  return ready;
}

export interface GanttTask {
  name: string;
  start: string;
  end: string;
}

export async function parseGantt(text: string): Promise<{ type: string; tasks: GanttTask[] }> {
  const m = await mermaid();
  const parsed = await m.parse(text);
  if (!parsed) throw new Error('mermaid did not parse the diagram');
  const diagram = await m.mermaidAPI.getDiagramFromText(text);
  const db = diagram.db as unknown as { getTasks(): { task: string; startTime: Date; endTime: Date }[] };
  const iso = (d: Date) => (Number.isNaN(d.getTime()) ? 'invalid' : d.toISOString());
  return { type: parsed.diagramType, tasks: db.getTasks().map((t) => ({ name: t.task.trim(), start: iso(t.startTime), end: iso(t.endTime) })) };
}
