import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError, validationError } from '@stratumiops/shared/errors';
import { approve } from '../../cli/base.js';
import { ClusterCommand, clusterFlags } from '../../cli/cluster.js';
import { checkSettings, findTemplate, listTemplates, parseSettings, type TemplateInfo } from '../../core/cluster.js';
import { parseSftp, pullBackup } from '../../core/cluster-backup.js';
import { type BackupManifest, restoreCluster, verifyBackup } from '../../core/cluster-pg.js';
import type { Attrs } from '../../core/types.js';

export default class ClusterRestore extends ClusterCommand<typeof ClusterRestore> {
  static override summary = 'Restore a cluster from a backup (verified), or make a new cluster from one';
  static override description =
    'Checks every file of the backup against its manifest first (nothing is touched when one differs); a backup at sftp://HOST/path is fetched over that host’s SSH connection and checked here. Then stops every member, clears the cluster from etcd, unpacks the backup on the first member, starts it (it leads), and lets the others clone from it. Done when every member runs and the leader’s system identifier is the backup’s. Replaces the cluster’s current data. With --servers, NAME is a new cluster: made first from the backup’s template and settings (--set overrides them, e.g. other ports), then restored, its roles given its own passwords.';
  static override args = { name: Args.string({ description: 'cluster name', required: true }) };
  static override flags = {
    ...clusterFlags,
    from: Flags.string({ description: 'a backup folder (with manifest.json), or sftp://HOST/path', required: true }),
    servers: Flags.string({
      description: 'members of a new cluster to restore into, in order',
      delimiter: ',',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<name,...>',
    }),
    template: Flags.string({
      description:
        'with --servers: the template of the new cluster, a name or a folder with template.ncl (default: the backup’s, which must be a name of the installed templates)',
    }),
    set: Flags.string({
      description: 'with --servers: a template setting over the backup’s, key=value (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<key=value>',
    }),
    'auto-approve': Flags.boolean({ char: 'y', description: 'restore without asking' }),
  };
  static override examples = [
    '<%= config.bin %> cluster restore pg-prod --from ./backups/2026-12-07T10-00-00/ -y',
    '<%= config.bin %> cluster restore pg-prod --from sftp://backup-1/srv/backups/pg-prod/2026-12-07T10-00-00 -y',
    '<%= config.bin %> cluster restore pg-new --from ./backups/2026-12-07T10-00-00/ --servers db-4,db-5 --set pg_port=5433 -y',
  ];

  async run() {
    if ((this.flags.set || this.flags.template) && !this.flags.servers)
      throw usageError(`${this.flags.set ? '--set' : '--template'} goes with --servers (a new cluster)`);
    const remote = parseSftp(this.flags.from);
    const fetched = remote ? mkdtempSync(join(tmpdir(), 'prov-restore-')) : undefined;
    try {
      let dir = resolve(this.flags.from);
      let manifest: BackupManifest;
      if (remote) {
        const ctx = await this.clusterContext();
        try {
          const [host] = await ctx.runtime.targets([remote.host]);
          manifest = await pullBackup(await ctx.runtime.executor(), host!, remote.path, fetched!);
        } finally {
          await ctx.runtime.close();
        }
        dir = fetched!;
      } else manifest = await verifyBackup(dir);
      if (manifest.kind !== 'postgresql-ha' || manifest.method !== 'pg_basebackup')
        throw validationError(`${this.flags.from} is a ${manifest.method} backup of a ${manifest.kind} cluster`, {
          hint: 'restores are for PostgreSQL backups so far',
        });
      const log = (s: string) => {
        if (!this.jsonEnabled()) this.log(s);
      };
      const fresh = Boolean(this.flags.servers?.length);
      if (fresh) {
        const { template, version, settings } = this.newClusterParams(manifest);
        log(`The new cluster ${this.args.name}, on ${this.flags.servers!.join(',')}:`);
        log(`  template    ${template.name}${this.flags.template ? '' : ' (the backup’s)'}`);
        log(`  PostgreSQL  ${version}`);
        for (const [k, v] of Object.entries(settings)) log(`  setting     ${k} = ${JSON.stringify(v)}`);
        await approve(
          `Make cluster ${this.args.name} on ${this.flags.servers!.join(',')} from the backup of ${manifest.cluster} taken ${manifest.created_at}?`,
          this.flags['auto-approve'],
          this.jsonEnabled(),
        );
        const ctx = await this.clusterContext();
        log(`creating ${this.args.name} (${template.name}, PostgreSQL ${version})`);
        await this.createCluster(ctx, {
          name: this.args.name,
          template,
          servers: this.flags.servers!,
          version,
          settings,
          parallelism: 10,
          rollback: true,
          autoApprove: true,
        });
      }
      const ctx = await this.clusterContext();
      try {
        const rec = await ctx.clusters.get(this.args.name);
        if (rec.spec.kind !== 'postgresql-ha') throw usageError(`cluster ${rec.name} is not a PostgreSQL cluster`);
        if (!fresh)
          await approve(
            `Replace all data of ${rec.name} with the backup of ${manifest.cluster} taken ${manifest.created_at}?`,
            this.flags['auto-approve'],
            this.jsonEnabled(),
          );
        const exec = await ctx.runtime.executor();
        const members = await this.pgMembers(ctx, rec);
        const r = await restoreCluster(exec, rec, members, dir, this.memberPhase(ctx.runtime, exec), log, { fresh });
        log(
          `Restored ${rec.name} from ${this.flags.from}: leader ${r.leader}, system identifier ${r.system_identifier} (as backed up).`,
        );
        return {
          cluster: rec.name,
          from: this.flags.from,
          created: fresh,
          leader: r.leader,
          system_identifier: r.system_identifier,
        };
      } finally {
        await ctx.runtime.close();
      }
    } finally {
      if (fetched) rmSync(fetched, { recursive: true, force: true });
    }
  }

  /**
   * What a new cluster is made with: the template (given here, else the backup's, which must be one of the
   * installed templates: a manifest never names a folder to load), the PostgreSQL version, and the backup's
   * settings held to what --set accepts, with --set over them.
   */
  private newClusterParams(manifest: BackupManifest): { template: TemplateInfo; version: string; settings: Attrs } {
    const source = `${this.flags.from}: manifest.json`;
    let template: TemplateInfo;
    if (this.flags.template) template = findTemplate(this.flags.template, this.templateDirs());
    else {
      const name: unknown = manifest.template;
      const found =
        typeof name === 'string' && /^[a-z][a-z0-9-]{0,62}$/.test(name)
          ? listTemplates(this.templateDirs()).find((t) => t.name === name)
          : undefined;
      if (!found)
        throw validationError(`${source}: template ${JSON.stringify(name)} is not one of the installed templates`, {
          hint: 'name the template of the new cluster with --template',
        });
      template = found;
    }
    const version = String(manifest.params?.version ?? manifest.versions?.postgresql_major ?? '');
    if (!/^\d{1,3}(\.\d{1,3})?$/.test(version))
      throw validationError(`${source}: ${JSON.stringify(version)} is not a PostgreSQL version`);
    const settings = { ...checkSettings(manifest.params?.settings, source), ...parseSettings(this.flags.set) };
    return { template, version, settings };
  }
}
