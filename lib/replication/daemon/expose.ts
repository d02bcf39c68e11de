/**
 * Making the configured `device` path a real block device on a Primary.
 *
 * - `nbd`: the kernel NBD client: `nbd-client -unix SOCK /dev/nbdN` (N = minor), where
 *   /dev/nbd0 exists (the nbd module is loaded) and nbd-client is installed.
 * - `fuse`: nbdfuse exposes the export as a file in a FUSE mount, `losetup` turns it
 *   into /dev/loopN. Works wherever /dev/fuse exists.
 * The device path (e.g. /dev/drbd0) becomes a symlink to /dev/nbdN or /dev/loopN.
 * `DRBD_TS_EXPOSE=nbd|fuse|none` overrides the choice (`none`: no block device,
 * the NBD socket only).
 *
 * Everything here is asynchronous on purpose: the kernel may read the new device
 * (partition scan, udev's blkid) through FUSE into our own NBD server, which must
 * keep serving meanwhile.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { HbError } from '../../shared/errors.js';

const run = promisify(execFile);

export type ExposeMethod = 'nbd' | 'fuse' | 'none';

export function chooseMethod(env: NodeJS.ProcessEnv = process.env): ExposeMethod {
  const forced = env.DRBD_TS_EXPOSE;
  if (forced === 'nbd' || forced === 'fuse' || forced === 'none') return forced;
  if (fs.existsSync('/dev/nbd0') && onPath('nbd-client')) return 'nbd';
  return 'fuse';
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((d) => {
    try {
      fs.accessSync(path.join(d, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface Exposure {
  readonly method: ExposeMethod;
  /** /dev/loopN or /dev/nbdN; undefined for `none`. */
  readonly blockDevice?: string;
  readonly devicePath: string;
  /** Why something holds the block device (mounted, or opened exclusively), or false. */
  heldOpen(): Promise<'mounted' | 'open' | false>;
  /** Tears it down; throws DEVICE_IN_USE when held open. */
  remove(): Promise<void>;
}

async function waitFor(cond: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new HbError('EXPOSE_TIMEOUT', `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Why the block device is busy: `mounted` (in the mount table or with holders
 * such as device-mapper), `open` (an exclusive open: mkfs, a mount on its way
 * in or out), or false.
 */
export async function blockDeviceBusy(dev: string): Promise<'mounted' | 'open' | false> {
  try {
    const st = await fsp.stat(dev);
    const mm = `${Math.floor(st.rdev / 256)}:${st.rdev % 256}`;
    const mi = await fsp.readFile('/proc/self/mountinfo', 'utf8');
    if (mi.split('\n').some((l) => l.split(' ')[2] === mm)) return 'mounted';
    const holders = await fsp.readdir(`/sys/class/block/${path.basename(dev)}/holders`).catch(() => []);
    if (holders.length > 0) return 'mounted';
  } catch {
    /* no such device: not busy */
  }
  try {
    const fh = await fsp.open(dev, fs.constants.O_RDONLY | fs.constants.O_EXCL);
    await fh.close();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EBUSY') return 'open';
  }
  return false;
}

async function placeSymlink(devicePath: string, target: string): Promise<void> {
  await fsp.mkdir(path.dirname(devicePath), { recursive: true });
  try {
    const st = await fsp.lstat(devicePath);
    if (!st.isSymbolicLink()) throw new HbError('DEVICE_PATH_TAKEN', `${devicePath} exists and is not a symlink of ours; refusing to replace it`);
    await fsp.unlink(devicePath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await fsp.symlink(target, devicePath);
}

async function removeSymlink(devicePath: string, target: string | undefined): Promise<void> {
  try {
    const st = await fsp.lstat(devicePath);
    if (st.isSymbolicLink() && (target === undefined || (await fsp.readlink(devicePath)) === target)) await fsp.unlink(devicePath);
  } catch {
    /* gone */
  }
}

export interface ExposeOptions {
  readonly minor: number;
  readonly devicePath: string;
  readonly socketPath: string;
  /** Folder for the FUSE mount point. */
  readonly runDir: string;
  readonly method?: ExposeMethod;
  readonly log?: (msg: string) => void;
  /** Also link /dev/drbd/by-res/RESOURCE/VOLUME (8.4's udev rule), when given. */
  readonly byRes?: { readonly resource: string; readonly vnr: number };
}

function byResPath(o: ExposeOptions): string | undefined {
  return o.byRes === undefined ? undefined : devicePathFor(`/dev/drbd/by-res/${o.byRes.resource}/${o.byRes.vnr}`);
}

async function placeLinks(o: ExposeOptions, target: string): Promise<void> {
  await placeSymlink(o.devicePath, target);
  const br = byResPath(o);
  if (br !== undefined) await placeSymlink(br, target).catch((e: Error) => o.log?.(`cannot create ${br}: ${e.message}`));
}

async function removeLinks(o: ExposeOptions, target: string): Promise<void> {
  await removeSymlink(o.devicePath, target);
  const br = byResPath(o);
  if (br !== undefined) {
    await removeSymlink(br, target);
    await fsp.rmdir(path.dirname(br)).catch(() => {});
  }
}

/**
 * Where the configured device path really goes: `DRBD_TS_DEVICE_ROOT` replaces a leading
 * `/dev` (for containers and tests that must not touch the host's /dev).
 */
export function devicePathFor(configured: string, env: NodeJS.ProcessEnv = process.env): string {
  const root = env.DRBD_TS_DEVICE_ROOT;
  if (root === undefined || root === '' || !configured.startsWith('/dev/')) return configured;
  return path.join(root, configured.slice('/dev/'.length));
}

export async function exposeDevice(o0: ExposeOptions): Promise<Exposure> {
  const o = { ...o0, devicePath: devicePathFor(o0.devicePath) };
  const method = o.method ?? chooseMethod();
  if (method === 'none') {
    return { method, devicePath: o.devicePath, heldOpen: async () => false as const, remove: async () => {} };
  }
  if (method === 'nbd') {
    const dev = `/dev/nbd${o.minor}`;
    await run('nbd-client', ['-unix', o.socketPath, dev, '-b', '4096', '-t', '0']);
    await placeLinks(o, dev);
    return {
      method,
      blockDevice: dev,
      devicePath: o.devicePath,
      heldOpen: () => blockDeviceBusy(dev),
      async remove() {
        if ((await blockDeviceBusy(dev)) !== false) throw new HbError('DEVICE_IN_USE', `${dev} is in use`);
        await run('nbd-client', ['-d', dev]);
        await removeLinks(o, dev);
      },
    };
  }
  const mnt = path.join(o.runDir, 'fuse', `drbd${o.minor}`);
  await fsp.mkdir(mnt, { recursive: true });
  // A leftover mount from a killed daemon: lazily unmount it first.
  await run('fusermount3', ['-u', '-z', mnt]).catch(() => {});
  const file = path.join(mnt, 'nbd');
  const child: ChildProcess = spawn('nbdfuse', [mnt, '--unix', o.socketPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', (e) => {
    exited = true;
    stderr += e.message;
  });
  try {
    await waitFor(() => {
      if (exited) throw new HbError('EXPOSE_FAILED', `nbdfuse failed: ${stderr.trim()}`);
      try {
        return fs.statSync(file).isFile();
      } catch {
        return false;
      }
    }, 15_000, `nbdfuse to mount ${mnt}`);
  } catch (e) {
    child.kill();
    throw e;
  }
  let loop: string;
  try {
    loop = (await run('losetup', ['-f', '--show', file])).stdout.trim();
  } catch (e) {
    await run('fusermount3', ['-u', mnt]).catch(() => {});
    child.kill();
    throw new HbError('EXPOSE_FAILED', `losetup failed: ${(e as Error).message}`);
  }
  await placeLinks(o, loop);
  o.log?.(`device ${o.devicePath} -> ${loop} (nbdfuse ${file})`);
  return {
    method,
    blockDevice: loop,
    devicePath: o.devicePath,
    heldOpen: () => blockDeviceBusy(loop),
    async remove() {
      if ((await blockDeviceBusy(loop)) !== false) throw new HbError('DEVICE_IN_USE', `${loop} is in use`);
      await removeLinks(o, loop);
      await run('losetup', ['-d', loop]).catch(() => {});
      // The loop device lets go of the file asynchronously; retry the unmount briefly.
      await waitFor(async () => {
        try {
          await run('fusermount3', ['-u', mnt]);
          return true;
        } catch {
          return exited;
        }
      }, 10_000, `unmount of ${mnt}`).catch(async () => {
        await run('fusermount3', ['-u', '-z', mnt]).catch(() => {});
      });
      if (!exited) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(t);
      }
      await fsp.rmdir(mnt).catch(() => {});
    },
  };
}
