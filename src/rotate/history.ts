/** What `init` and `set` call after writing a vault, so `status` knows each secret's age. */
export { recordSecretChanges, readHistory, historyPath, type ChangeKind, type History, type SecretHistory } from './state-files.js';
