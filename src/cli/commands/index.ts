import type { Command } from '../context.js';

/**
 * The command registry. Each command lives in its own file and is imported only when it runs, so
 * start-up compiles just what that command needs (a small `view` starts in about the time of Node
 * itself). `name`, `aliases` and `summary` repeat the command's own and are checked to agree by
 * test/cli.test.ts. The order is the order in --help.
 */
export interface CommandEntry {
  name: string;
  aliases?: string[];
  summary: string;
  load(): Promise<Command>;
}

export const commands: CommandEntry[] = [
  { name: 'create', summary: 'create a new vault file in $EDITOR (ansible-vault create)', load: async () => (await import('./create.js')).createCommand },
  { name: 'view', summary: 'print decrypted vault files, or YAML with inline !vault values decrypted', load: async () => (await import('./view.js')).viewCommand },
  { name: 'edit', summary: 'edit a vault file in $EDITOR through a private temp file (ansible-vault edit)', load: async () => (await import('./edit.js')).editCommand },
  { name: 'encrypt', summary: 'encrypt files with a vault password (ansible-vault encrypt)', load: async () => (await import('./encrypt.js')).encryptCommand },
  { name: 'decrypt', summary: 'decrypt vault files (ansible-vault decrypt)', load: async () => (await import('./decrypt.js')).decryptCommand },
  { name: 'rekey', summary: 're-encrypt vault files with a new password (ansible-vault rekey)', load: async () => (await import('./rekey.js')).rekeyCommand },
  { name: 'encrypt_string', aliases: ['encrypt-string'], summary: 'encrypt strings into \'!vault |\' YAML values (ansible-vault encrypt_string)', load: async () => (await import('./encrypt-string.js')).encryptStringCommand },
  { name: 'decrypt-string', aliases: ['decrypt_string'], summary: 'print the plaintext of a \'!vault |\' value or bare vault text', load: async () => (await import('./decrypt-string.js')).decryptStringCommand },
  { name: 'init', summary: 'create vaultsmith.yaml, password files and encrypted vaults for each environment', load: async () => (await import('./init.js')).initCommand },
  { name: 'check', summary: 'check vaults against the manifest: placeholders, formats, shared values, password files', load: async () => (await import('./check.js')).checkCommand },
  { name: 'get', summary: 'print one vault key or variable of an environment', load: async () => (await import('./get.js')).getCommand },
  { name: 'set', summary: 'set a vault key (generated, from stdin or a file), keeping comments and order', load: async () => (await import('./set.js')).setCommand },
  { name: 'unset', summary: 'remove a key from an environment vault', load: async () => (await import('./unset.js')).unsetCommand },
  { name: 'env', summary: 'render an environment\'s variables (dotenv, shell, systemd, json), optionally masked', load: async () => (await import('./env.js')).envCommand },
  { name: 'exec', summary: 'run a command with an environment\'s variables in its environment', load: async () => (await import('./exec.js')).execCommand },
  { name: 'demo', summary: 'run init, check, set, check, env on a scratch copy of the Senex Trader project', load: async () => (await import('./demo.js')).demoCommand },
  { name: 'rotate', summary: 'rotate a secret against its service (PostgreSQL, Redis, Django, Fernet), crash-safe', load: async () => (await import('./rotate.js')).rotateCommand },
  { name: 'status', summary: 'secret ages, rotation periods and due dates (table, JSON, Prometheus)', load: async () => (await import('./status.js')).statusCommand },
  { name: 'audit', summary: 'list and verify the tamper-evident audit trail', load: async () => (await import('./audit.js')).auditCommand },
  { name: 'scan', summary: 'find plaintext secret values and vault hygiene problems in the tree, index or history', load: async () => (await import('./scan.js')).scanCommand },
  { name: 'git', summary: 'git integration: pre-commit leak guard, decrypted diffs, key-wise vault merges', load: async () => (await import('./git.js')).gitCommand },
  { name: 'gen', aliases: ['generate'], summary: 'generate Django keys, Fernet keys, random tokens and passwords', load: async () => (await import('./gen.js')).genCommand },
  { name: 'fernet', summary: 'encrypt, decrypt and rotate Fernet tokens (Django encrypted fields) in bulk', load: async () => (await import('./fernet.js')).fernetCommand },
  { name: 'podman', summary: 'deliver secrets to Podman (sync the secret store, Quadlet Secret= drop-ins)', load: async () => (await import('./podman.js')).podmanCommand },
];
