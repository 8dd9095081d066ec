import KvPut from './put.js';

export default class KvPatch extends KvPut {
  static override summary = 'Change some keys of a secret, keeping the others (new version)';
  static override examples = ['<%= config.bin %> kv patch secret/db password=n3w'];
  protected override patch = true;
}
