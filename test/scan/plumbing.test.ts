import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { listHistoryBlobs, readBlobs } from '../../src/git/plumbing.js';
import { requireTool } from '../helpers/tools.js';
import { makeGitProject } from './git-project.js';

test('git cat-file --batch stream: big and tiny blobs split across pipe chunks arrive whole and in order', async (t) => {
  if (!requireTool(t, 'git')) return;
  const p = await makeGitProject();
  try {
    const contents = new Map<string, Buffer>();
    const add = (name: string, data: Buffer) => {
      p.write(name, data);
      contents.set(name, data);
    };
    add('big.bin', randomBytes(3 * 1024 * 1024 + 7)); // many 64 KiB pipe chunks
    add('empty.txt', Buffer.alloc(0));
    add('newline.txt', Buffer.from('\n'));
    for (let i = 0; i < 50; i++) add(`small/${i}.txt`, randomBytes(1 + i * 37));
    p.commitAll('blobs');
    const blobs = (await listHistoryBlobs(p.root, p.env)).filter((b) => contents.has(b.path));
    assert.equal(blobs.length, contents.size);
    const seen: string[] = [];
    await readBlobs(p.root, p.env, blobs.map((b) => b.oid), (oid, data, index) => {
      assert.equal(oid, blobs[index]!.oid);
      const expected = contents.get(blobs[index]!.path)!;
      assert.equal(data.length, expected.length, blobs[index]!.path);
      assert.equal(createHash('sha256').update(data).digest('hex'), createHash('sha256').update(expected).digest('hex'));
      seen.push(blobs[index]!.path);
    });
    assert.equal(seen.length, contents.size);
  } finally {
    p.cleanup();
  }
});
