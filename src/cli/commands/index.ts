import type { Command } from '../context.js';
import { createCommand } from './create.js';
import { viewCommand } from './view.js';
import { editCommand } from './edit.js';
import { encryptCommand } from './encrypt.js';
import { decryptCommand } from './decrypt.js';
import { rekeyCommand } from './rekey.js';
import { encryptStringCommand } from './encrypt-string.js';
import { decryptStringCommand } from './decrypt-string.js';
import { auditCommand } from './audit.js';
import { scanCommand } from './scan.js';
import { gitCommand } from './git.js';
import { genCommand } from './gen.js';
import { fernetCommand } from './fernet.js';
import { rotateCommand } from './rotate.js';
import { statusCommand } from './status.js';
import { podmanCommand } from './podman.js';
import { initCommand } from './init.js';
import { checkCommand } from './check.js';
import { getCommand } from './get.js';
import { setCommand } from './set.js';
import { unsetCommand } from './unset.js';
import { envCommand } from './env.js';
import { execCommand } from './exec.js';
import { demoCommand } from './demo.js';
// Each command lives in its own file; add it to this list (the order is the order in --help).

export const commands: Command[] = [
  createCommand,
  viewCommand,
  editCommand,
  encryptCommand,
  decryptCommand,
  rekeyCommand,
  encryptStringCommand,
  decryptStringCommand,
  initCommand,
  checkCommand,
  getCommand,
  setCommand,
  unsetCommand,
  envCommand,
  execCommand,
  demoCommand,
  rotateCommand,
  statusCommand,
  auditCommand,
  scanCommand,
  gitCommand,
  genCommand,
  fernetCommand,
  podmanCommand,
];
