// The importer judged on the corpus in test/fixtures/playbooks-corpus: playbooks written by another
// engineer in shapes the importer was not built on, each with a manifest of what a careful SRE sees
// in it. Per playbook: the scenarios (line and title), every command as a step of its scenario at
// its line with an action the manifest allows, the placeholders as variables, the prose steps, and
// nothing imported from code that is not a step. Across the corpus: the figures issue #12 asks for.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { emit } from '../../../src/runbooks/import/emit.js';
import { inlineText } from '../../../src/runbooks/import/markdown.js';
import { cleanHeading } from '../../../src/runbooks/import/scenarios.js';
import { formatScore, scoreDirectory, scorePlaybook, type Manifest } from '../../helpers/import-score.js';
import { ROOT } from '../../helpers/cli.js';

const DIR = join(ROOT, 'test', 'fixtures', 'playbooks-corpus');
const IDS = ['SEV-0', 'SEV-1', 'SEV-2', 'SEV-3', 'SEV-4'];
const manifests = readdirSync(DIR).filter((f) => f.endsWith('.expected.yaml')).sort();

/**
 * Where the importer deliberately does something safer than the manifest allows (each a rule of the
 * importer, not a misreading): `psql -f FILE` runs a file it cannot see (print); `$(…)` runs a
 * command hidden inside another (confirmed); a command in a block of its own after "still in the
 * toolbox shell" two blocks earlier is not known to be inside that session (confirmed, not printed).
 */
const DELIBERATE: Record<string, string> = {
  '02-payments-common-incidents.expected.yaml:49': 'print',
  '02-payments-common-incidents.expected.yaml:97': 'destructive',
  '08-storage-troubleshooting.expected.yaml:94': 'destructive',
};

const norm = (s: string) => inlineText(s).replace(/[`*_\\—–:.,;()]/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase();

describe('the corpus', () => {
  it('has at least 14 playbooks', () => expect(manifests.length).toBeGreaterThanOrEqual(14));

  describe.each(manifests)('%s', (file) => {
    const manifest = parse(readFileSync(join(DIR, file), 'utf8')) as Manifest;

    it('imports exactly its scenarios, each at its line with its title', async () => {
      const score = await scorePlaybook(DIR, file, IDS);
      // The runbook of general checks holds the commands outside every scenario (not_scenarios).
      expect(score.drafts.filter((d) => !d.general).map((d) => d.line)).toEqual(manifest.scenarios.map((s) => s.line));
      for (const [k, s] of manifest.scenarios.entries()) expect(norm(score.drafts[k].title), `${file}:${s.line}`).toBe(norm(cleanHeading(s.title)));
    });

    it('makes every command a step of its scenario, at its line, with an action the manifest allows', async () => {
      const score = await scorePlaybook(DIR, file, IDS);
      const wrong = score.steps.filter((r) => r.made === 'missing' || r.elsewhere || (!r.expected.includes(r.made) && DELIBERATE[`${file}:${r.line}`] !== r.made));
      expect(wrong.map((r) => `${file}:${r.line} ${r.command}: ${r.made}${r.elsewhere ? ' (in another runbook)' : ''}, allowed ${r.expected.join('|')}`)).toEqual(
        // Commands in sections that are not scenarios (General diagnostics, Quick reference) are
        // named as "not imported"; the manifest still counts them.
        score.steps.filter((r) => r.made === 'missing' && manifest.not_scenarios?.some((n) => n.title === r.scenario)).map((r) => `${file}:${r.line} ${r.command}: missing, allowed ${r.expected.join('|')}`),
      );
      expect(score.mutatingAsRun).toEqual([]);
    });

    it('declares the placeholders of each scenario as variables', async () => {
      const score = await scorePlaybook(DIR, file, IDS);
      for (const [k, s] of manifest.scenarios.entries()) {
        // Variables with a default are names the playbook wrote out and repeats (-n payments); the
        // placeholders a responder fills in have none.
        const placeholders = score.drafts[k].variables.filter((v) => v.default === undefined).map((v) => v.name);
        expect(placeholders.sort(), `${file}:${s.line}`).toEqual([...(s.variables ?? [])].sort());
      }
    });

    it('keeps each prose instruction as a note or checklist step of its scenario', async () => {
      const score = await scorePlaybook(DIR, file, IDS);
      for (const [k, s] of manifest.scenarios.entries()) {
        const d = score.drafts[k];
        // A prose step is kept when its words are in the runbook: a note or checklist (title and
        // text), a step's description, the verify or follow-up lists, or the scenario's description.
        const texts = d.phases.flatMap((p) => p.steps).flatMap((st) => [`${st.title} ${st.text ?? ''}`, st.text ?? '', st.description ?? '', ...(st.items ?? [])]);
        const all = [...texts, ...d.verify, ...d.followUp, d.description ?? ''].map(norm).join('\n');
        for (const st of s.steps ?? []) if (st.prose !== undefined) expect(all, `${file}:${st.line} ${st.prose}`).toContain(norm(st.prose).slice(0, 30));
      }
    });

    it('imports no code that is not a step (mentions, HTML comments, output)', async () => {
      const score = await scorePlaybook(DIR, file, IDS);
      // One disagreement, kept visible: "Undo temporary settings … with `kafka-configs.sh --alter
      // --delete-config`" is a prose step to the manifest and a confirmed (destructive) step here.
      const disputed = (x: { line: number }) => file === '10-kafka-scenarios.expected.yaml' && x.line === 123;
      expect(score.ignoredImported.filter((x) => !disputed(x))).toEqual([]);
    });

    it('writes runbooks that load', async () => {
      const score = await scorePlaybook(DIR, file, IDS);
      for (const d of score.drafts) expect(emit(d, { source: file, schemaComment: false, severityIds: IDS, displayName: `${d.id}.yaml`, path: `/tmp/${d.id}.yaml` }).problems, d.id).toEqual([]);
    });
  });

  it('across the corpus: every scenario, at least 95% of commands as steps, no mutating command as a plain run', async () => {
    const score = await scoreDirectory(DIR);
    console.log(formatScore(score).join('\n'));
    expect(score.scenariosFound).toBe(score.scenariosExpected);
    expect(score.commandsImported / score.commandsExpected).toBeGreaterThanOrEqual(0.95);
    expect(score.mutatingAsRun).toBe(0);
  });
});
